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
from _page_watchdog import PageWatchdog
from test_browser import ARTIFACTS, browser, meta, page, server, settle, thumb_value  # noqa: F401

import theory
from components import explain, export, url_state
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


@pytest.fixture
def watchdog(page):
    """Presentation tests fail fast, saying why, if the page's renderer stops answering
    (a figure restyle loop once hung one here until the suite's timeout)."""
    with PageWatchdog(what="the presentation-mode page") as dog:
        yield dog
    dog.check()


@pytest.mark.browser
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_presentation_mode_hides_what_the_link_names(page, theme, watchdog):
    s = ViewState.default("minimal")
    link = url_state.encode(s) + f"&present=1&theme={theme}&hide=explanations,spectrum,sigma_b,seed"
    page.goto(page.base + "/" + link)
    page.wait_for_function(PANELS_SHOW_JS, arg=[["phase-graph", "memory-graph"],
                                                url_state.encode(s)], timeout=60_000)
    assert page.is_hidden("#sidebar")  # presentation mode: the controls are in a drawer
    page.click("#controls-button")
    page.wait_for_selector("#sidebar", state="visible")
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
    page.keyboard.press("Escape")  # closes the drawer (the thumb keeps the key from the mode)
    page.wait_for_selector("#sidebar", state="hidden")
    assert "present" in page.evaluate("document.documentElement.className")
    page.wait_for_timeout(400)
    page.screenshot(path=str(ARTIFACTS / f"present-hide-{theme}.png"))
    assert page.errors == [] and page.outside == []


GRAPH_IDS = ("phase-graph", "spectrum-graph", "memory-graph")
BOXES_JS = """(ids) => ids.map(id => {
  const r = document.querySelector('#' + id + ' .js-plotly-plot').getBoundingClientRect();
  return [r.left, r.top, r.width, r.height];
})"""
READOUT_LEFT_JS = "() => document.querySelector('.p-readout').getBoundingClientRect().left"
CARD_JS = """(panel) => {
  const r = document.querySelector('#explain-' + panel + ' .explain-card').getBoundingClientRect();
  return [r.left, r.top, r.right, r.bottom];
}"""


@pytest.mark.browser
@pytest.mark.parametrize("present", [False, True])
def test_open_explanations_leave_the_plots_their_size(page, present, watchdog):
    """At 1280x720 an open explanation sits beside the plots (a drawer over the
    side bar), so no graph loses more than 5 % of its height (in fact none
    moves), and the card covers no graph. In presentation mode (no side bar) the
    card opens at the right, clear of the phase diagram; the read-out's at the
    left, clear of the read-out; Escape closes it and leaves the mode on."""
    link = url_state.encode(ViewState.default("vanilla"))
    page.goto(page.base + "/" + link + ("&present=1" if present else ""))
    page.wait_for_function(PANELS_SHOW_JS, arg=[list(GRAPH_IDS), link], timeout=60_000)
    closed = page.evaluate(BOXES_JS, list(GRAPH_IDS))

    def check(when: str) -> None:
        page.wait_for_timeout(250)  # a Plotly resize would come within a frame or two
        for g, before, now in zip(GRAPH_IDS, closed, page.evaluate(BOXES_JS, list(GRAPH_IDS)),
                                  strict=True):
            assert now[3] >= 0.95 * before[3], (when, g, before, now)

    for panel in explain.TEXT:
        page.click(f"#explain-{panel} summary")
        page.wait_for_selector(f"#explain-{panel} mjx-container", timeout=30_000)
        check(panel)
        left, top, right, bottom = page.evaluate(CARD_JS, panel)
        assert bottom - top > 200, (panel, top, bottom)
        if not present:
            assert right <= min(b[0] for b in closed), (panel, right)
        else:
            if panel == "readout":
                assert right <= page.evaluate(READOUT_LEFT_JS), (panel, right)
            else:  # x only: the panel area may have scrolled to the summary clicked
                assert left >= closed[0][0] + closed[0][2], (panel, left, closed[0])
            # no side bar to cover here: the card lies over other panels' summaries
            # (the read-out's among them), so it is closed before the next is opened;
            # Escape closes it, not presentation mode
            page.keyboard.press("Escape")
            page.wait_for_selector(f"#explain-{panel} .explain-card", state="hidden")
            assert "present" in page.evaluate("document.documentElement.className")
    page.evaluate("() => document.querySelectorAll('details.panel-explain')"
                  ".forEach(d => { d.open = true; })")
    check("all opened")
    # one drawer at a time: opening all leaves exactly one open
    page.wait_for_function("() => document.querySelectorAll('details.panel-explain[open]')"
                           ".length === 1")
    assert page.errors == []


#: What the page draws: Plotly's own layout values, the computed size of an axis
#: title's text (a CSS override would show here), the line widths, legend and
#: annotation boxes.
DRAWN_JS = """(id) => {
  const gd = document.querySelector('#' + id + ' .js-plotly-plot');
  const box = el => { const r = el.getBoundingClientRect();
                      return [r.left, r.top, r.right, r.bottom]; };
  const legend = gd.querySelector('.legend');
  const labels = [...gd.querySelectorAll('.xtick text, text.xtitle, text.x2title')];
  return {font: gd._fullLayout.font.size, paper: gd._fullLayout.paper_bgcolor,
          title_px: getComputedStyle(gd.querySelector('text.xtitle')).fontSize,
          title_font: gd._fullLayout.xaxis.title.font.size,
          axis_width: gd._fullLayout.xaxis.linewidth,
          widths: gd.data.map(t => t.line && t.line.width !== undefined ? t.line.width : null),
          colorscale: gd.data[0].colorscale || null,
          graph: box(gd), legend: legend ? box(legend) : null,
          annotations: [...gd.querySelectorAll('.annotation')].map(box),
          lowest_label: Math.max(...labels.map(el => el.getBoundingClientRect().bottom)),
          filter: getComputedStyle(gd.closest('.graph-wrap')).filter};
}"""


def _inside(inner, outer, tol=1.0) -> bool:
    return (inner[0] >= outer[0] - tol and inner[1] >= outer[1] - tol
            and inner[2] <= outer[2] + tol and inner[3] <= outer[3] + tol)


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.browser
@pytest.mark.parametrize("theme", ["light", "dark"])
def test_presentation_mode_restyles_the_figures_themselves(page, theme, watchdog):
    """present=1 scales the figures through their Plotly layout (fonts 13 -> 17 px,
    lines x1.6, 2 px axes; assets/figure_style.js), not by CSS; theme=dark gives a
    dark paper without a CSS filter (the colour map keeps its true colours).
    With both architectures the memory panel's legend lies inside its graph and
    clear of the subplot titles, and the phase legend below the x-axis labels."""
    from components.callbacks.plots import update_memory, update_phase

    s = ViewState.default("both")
    page.goto(page.base + "/" + url_state.encode(s) + f"&present=1&theme={theme}")
    page.wait_for_function(PANELS_SHOW_JS, arg=[list(GRAPH_IDS[::2]), url_state.encode(s)],
                           timeout=60_000)
    page.wait_for_timeout(500)  # the phase legend is placed after the first draw
    sent = {"memory-graph": update_memory(s), "phase-graph": update_phase(s, None)[0]}
    for graph, fig in sent.items():
        drawn = page.evaluate(DRAWN_JS, graph)
        assert fig["layout"]["font"]["size"] == 13 and drawn["font"] == 17, graph
        # Plotly draws axis titles at 1.2x the base font; no CSS rule overrides it
        assert drawn["title_font"] == round(1.2 * 17) and drawn["title_px"] == "20px"
        assert drawn["axis_width"] == 2 and drawn["filter"] == "none"
        want = [t.get("line", {}).get("width") for t in fig["data"]]
        assert drawn["widths"] == [None if w is None else pytest.approx(1.6 * w) for w in want]
        assert drawn["paper"] == ("#191d24" if theme == "dark" else "white")
        assert drawn["legend"] is not None and _inside(drawn["legend"], drawn["graph"]), graph
    memory = page.evaluate(DRAWN_JS, "memory-graph")
    assert not any(_overlap(memory["legend"], a) for a in memory["annotations"])
    phase = page.evaluate(DRAWN_JS, "phase-graph")
    assert phase["legend"][1] >= phase["lowest_label"]  # legend top below the labels
    assert phase["colorscale"] == sent["phase-graph"]["data"][0]["colorscale"]
    page.screenshot(path=str(ARTIFACTS / f"present-both-{theme}.png"))
    assert page.errors == []
