"""Teaching features: presets, explanations, export (CSV/JSON, Python snippet,
citation) and presentation mode. Browser tests reuse the server/page fixtures
of ``test_browser``; export formatting is also tested without a browser.
"""

from __future__ import annotations

import csv
import io
import json
import math
import subprocess
import sys

import numpy as np
import pytest
from test_browser import ARTIFACTS, browser, meta, page, server, settle, thumb_value  # noqa: F401

import theory
from components import export, url_state
from components.viewstate import ViewState
from theory import presets

ROOT = ARTIFACTS.parent
EXACT = 1e-12


def pick_preset(pg, label: str) -> None:
    pg.click("#ctl-preset")
    pg.get_by_role("option", name=label).click()


@pytest.mark.browser
def test_picking_a_preset_sets_controls_and_numbers(page):
    page.goto(page.base + "/")
    old = settle(page)
    p = presets.PRESETS["long_memory_gate"]
    pick_preset(page, p.label)
    key = settle(page, old)
    state = url_state.decode(key)[0]
    assert state.mode == "minimal" and state.mu_b == 6.0 and state.sigma_w == 2.0
    assert thumb_value(page, "mu_b") == 6.0 and page.is_checked("#ctl-arch input[value=minimal]")
    ref = theory.point(state.params("minimal"))
    assert meta(page, "phase-graph")["points"][0]["xi"] == pytest.approx(ref.xi_jac, rel=EXACT)
    assert p.caption in page.inner_text("#preset-caption")
    page.click("#reset-button")
    settle(page, key)
    assert thumb_value(page, "mu_b") == 2.0 and page.errors == []


@pytest.mark.browser
def test_explanations_open_and_typeset_maths_offline(page):
    page.goto(page.base + "/")
    settle(page)
    for panel in ("phase", "spectrum", "readout", "memory"):
        assert not page.is_visible(f"#explain-{panel} .explain-body")  # collapsed
    page.click("#explain-phase summary")
    # MathJax (served by Dash itself) replaces the TeX by rendered elements
    page.wait_for_selector("#explain-phase mjx-container", timeout=30_000)
    text = page.inner_text("#explain-phase")
    assert "Ordered" in text and "Chaotic" in text and "paper values unverified" in text
    page.click("#explain-spectrum summary")
    page.wait_for_selector("#explain-spectrum mjx-container", timeout=30_000)
    assert "approximate" in page.inner_text("#explain-spectrum")
    page.screenshot(path=str(ARTIFACTS / "explanations.png"))
    assert page.outside == [] and page.errors == []


SMALL = ViewState().replace(n=60, sigma_w=1.37, T=20)


def _same(got, want):
    """Exported value equals the API's (None/nan/inf where the API is not finite)."""
    if want is None or not math.isfinite(want):
        return got is None or (isinstance(got, float) and not math.isfinite(got)) or got == want
    return got == pytest.approx(want, rel=1e-15, abs=0)


def test_json_export_has_header_and_the_api_numbers():
    p = SMALL.params("vanilla")
    doc = json.loads(export.to_json(SMALL, "spectrum"))
    head = doc["header"]
    assert head["theory_version"] == theory.__version__ and "1806.05394" in head["reference"]
    assert head["parameters"]["sigma_w"] == 1.37 and head["permalink"] == url_state.encode(SMALL)
    sp = theory.spectrum(p, 20)
    assert doc["columns"]["s"] == sp.s.tolist() and doc["columns"]["pdf"] == sp.pdf.tolist()
    assert head["points"]["vanilla"]["m1"] == sp.m1
    g = theory.grid(p, x=("sigma_w", np.linspace(0.1, 4.0, 60)),
                    y=("sigma_b", np.linspace(0.0, 1.0, 60)), fields=("xi_jac",))
    doc = json.loads(export.to_json(SMALL, "phase"))
    got = doc["columns"]["xi_jac"]
    want = g["xi_jac"].ravel()
    assert len(got) == 3600 and all(_same(a, b) for a, b in zip(got, want, strict=True))
    assert None in got  # xi = inf on the chaotic side is null, as theory.md 11 says


def test_csv_export_parses_and_equals_the_trajectory():
    text = export.to_csv(SMALL, "trajectory")
    first, rest = text.split("\n", 1)
    head = json.loads(first[2:])
    assert head["dataset"] == "trajectory" and head["date"].startswith("20")
    rows = list(csv.DictReader(io.StringIO(rest)))
    tr = theory.trajectory(SMALL.params("vanilla"), 20)
    for name in ("t", "q", "Q", "c", "C"):  # q_0 is nan (h_0 = 0 has no pre-activation)
        np.testing.assert_array_equal([float(r[name]) for r in rows], getattr(tr, name))
    assert export.file_stem(SMALL) in "rnn_vanilla_tanh_orthogonal_sw1.37_sb0.2_mb0_sv0.5_R1_S0_T20"


def test_python_snippet_reproduces_the_numbers_in_a_fresh_interpreter():
    s = ViewState.default("both").replace(n=60, T=10, sigma_w=2.5, mu_b=3.0)
    out = subprocess.run([sys.executable, "-c", export.python_snippet(s)], cwd=ROOT,
                         capture_output=True, text=True, timeout=600, check=True).stdout
    printed = {(a, n): float(v) for a, n, v in (line.split() for line in out.splitlines())}
    for arch in ("vanilla", "minimal"):
        p = s.params(arch)
        r, sp, tr = theory.point(p), theory.spectrum(p, 10), theory.trajectory(p, 10)
        want = {**{f: getattr(r, f) for f in ("q_star", "chi_jac", "xi_jac", "xi_c", "C_star")},
                "m1": sp.m1, "m2": sp.m2, "C_T": float(tr.C[-1])}
        for name, value in want.items():
            assert _same(printed[(arch, name)], value), (arch, name)
    assert len(printed) == 2 * 13


FILENAME_JS = """([panel, want]) => {
  const gd = document.querySelector('#' + panel + '-graph .js-plotly-plot');
  return gd._context.toImageButtonOptions.filename === want;
}"""


@pytest.mark.browser
def test_download_buttons_send_the_api_numbers(page):
    page.goto(page.base + "/")
    old = settle(page)
    page.focus("#ctl-sigma_w [role=slider]")
    page.keyboard.press("ArrowRight")  # the file names follow the redrawn view
    settle(page, old)
    stem = export.file_stem(ViewState().replace(sigma_w=1.21))
    for panel in ("phase", "memory", "spectrum"):  # the modebar's SVG download name
        page.wait_for_function(FILENAME_JS, arg=[panel, f"{stem}_{panel}"], timeout=5000)
    page.click("#ctl-export-dataset label:has-text('trajectories')")
    with page.expect_download() as info:
        page.click("#export-json")
    d = info.value
    assert d.suggested_filename == stem + "_trajectory.json"
    doc = json.loads(open(d.path()).read())
    tr = theory.trajectory(ViewState().params("vanilla").replace(sigma_w=1.21), ViewState().T)
    assert doc["columns"]["C"] == tr.C.tolist()
    page.click("#snippet-box summary")
    page.click("#snippet-button")
    page.wait_for_function("() => document.getElementById('python-snippet').innerText.length > 50")
    assert "theory.point" in page.inner_text("#python-snippet")
    page.click("#cite-box summary")
    assert "PMLR 80:873-882" in page.inner_text("#cite-text") and page.errors == []


def test_presentation_flags_parse_and_do_not_disturb_old_links():
    flags, notes = url_state.flags("?present=1&theme=dark&hide=explanations,sigma_b,bogus")
    assert flags == {"present": True, "theme": "dark", "hide": ["explanations", "sigma_b"]}
    assert notes == [f"hide: 'bogus' is not one of {', '.join(url_state.HIDEABLE)}; ignored"]
    s = ViewState().replace(sigma_w=2.0)
    assert url_state.decode(url_state.encode(s) + "&present=1&hide=spectrum") == (s, [])
    assert url_state.decode("?theme=pink")[1] == [
        "theme: 'pink' is not one of light, dark; using light"]


PANELS_SHOW_JS = """([ids, want]) => ids.every(id => {
  const s = window.rnnPanelState && window.rnnPanelState(id);
  return s && s.key === want;
})"""


@pytest.mark.browser
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_presentation_mode_hides_what_the_link_names(page, theme):
    s = ViewState.default("minimal")
    link = url_state.encode(s) + f"&present=1&theme={theme}&hide=explanations,spectrum,sigma_b,seed"
    page.goto(page.base + "/" + link)
    page.wait_for_function(PANELS_SHOW_JS, arg=[["phase-graph", "memory-graph"],
                                                url_state.encode(s)], timeout=60_000)
    for sel in ("#explain-phase", ".p-spectrum", "#wrap-sigma_b", "#wrap-seed"):
        assert page.is_hidden(sel), sel
    for sel in (".p-phase", ".p-memory", "#wrap-sigma_w", "#wrap-N"):
        assert page.is_visible(sel), sel
    root = page.evaluate("document.documentElement.className")
    assert "present" in root and ("theme-dark" in root) == (theme == "dark")
    size = page.evaluate("getComputedStyle(document.body).fontSize")
    assert size == "17px" and page.is_hidden("#notice")
    # a control change keeps the flags in the address bar
    page.focus("#ctl-sigma_w [role=slider]")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => location.search.includes('sigma_w=2.01')")
    assert "present=1" in page.evaluate("location.search")
    page.wait_for_timeout(400)
    page.screenshot(path=str(ARTIFACTS / f"present-{theme}.png"))
    assert page.errors == [] and page.outside == []
