"""End-to-end: the real server (``python app.py``) driven by Debian's Chromium.

The server is started the way the README starts it, on a free port through the
``PORT`` variable, and is ready when ``GET /healthz`` answers. Every request of
the page is routed through Playwright and any host other than localhost is
recorded (and blocked): the list must stay empty. A panel counts as redrawn
for a state when the state it reports (``rnnPanelState`` in assets/app.js) has
the permalink in the address bar as its key; its numbers are then compared with
the theory API at the same parameters.

Screenshots (1280x720) of the default and the minimalRNN view are written to
``test-artifacts/``.
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest

import theory
from components import url_state
from components.viewstate import ViewState

pytestmark = pytest.mark.browser
playwright_api = pytest.importorskip("playwright.sync_api")

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
GRAPHS = ("phase-graph", "memory-graph", "spectrum-graph")
EXACT = 1e-12  # the page shows the theory API's own numbers (JSON keeps 17 digits)
SERVER_START_S = 600  # a cold Numba cache compiles every kernel at start-up

SETTLED_JS = """([ids, old]) => {
  const want = window.location.search;
  if (old !== null && want === old) return false;
  return ids.every(id => {
    const state = window.rnnPanelState && window.rnnPanelState(id);
    return state && state.key === want;
  });
}"""


def _free_port() -> int:
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    """``python app.py`` on a free port (``PORT``); yields the base URL."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium not installed at /usr/bin/chromium")
    port = _free_port()
    env = {**os.environ, "PORT": str(port)}
    env.setdefault("NUMBA_CACHE_DIR", "/tmp/numba_cache")
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / "server.log", "w")
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(proc, url)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _wait_healthy(proc, url: str) -> None:
    deadline = time.time() + SERVER_START_S
    while time.time() < deadline:
        assert proc.poll() is None, "app.py exited; see test-artifacts/server.log"
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError("app.py did not answer /healthz")


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    """A 1280x720 page; ``page.outside`` lists non-localhost hosts, ``page.errors``
    console errors and uncaught exceptions, ``page.routed`` the number of requests."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    pg = context.new_page()
    pg.outside, pg.errors, pg.routed = [], [], [0]

    def route(r):
        pg.routed[0] += 1
        host = urlparse(r.request.url).hostname
        if host in ("127.0.0.1", "localhost"):
            r.continue_()
        else:
            pg.outside.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    pg.on("console", lambda m: pg.errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.base = server
    yield pg
    context.close()


def settle(pg, old: str | None = None, graphs=GRAPHS, timeout: float = 60_000) -> str:
    """Wait until ``graphs`` show the state in the address bar (and it is not ``old``).

    Only panels that depend on the changed control redraw (e.g. the sampled
    network changes only the spectrum), so callers name the ones to wait for.
    """
    pg.wait_for_function(SETTLED_JS, arg=[list(graphs), old], timeout=timeout, polling=20)
    return pg.evaluate("window.location.search")


def meta(pg, graph: str) -> dict:
    """The state ``graph`` shows (layout.meta + the phase diagram's state annotation)."""
    return pg.evaluate(f"window.rnnPanelState('{graph}')")


def thumb_value(pg, name: str) -> float:
    return float(pg.get_attribute(f"#ctl-{name} [role=slider]", "aria-valuenow"))


def test_page_loads_offline_without_console_errors(page):
    page.goto(page.base + "/")
    key = settle(page)
    assert key == url_state.encode(ViewState.default("vanilla"))
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / "default.png"))
    assert page.errors == []
    assert page.outside == []
    assert page.routed[0] > 10  # the route saw the page's scripts and callbacks
    # and the browser's own list of everything it fetched agrees
    hosts = page.evaluate("[...new Set(performance.getEntriesByType('resource')"
                          ".map(e => new URL(e.name).hostname))]")
    assert hosts == ["127.0.0.1"]
    assert page.is_hidden("#notice")


def test_keyboard_change_of_sigma_w_redraws_every_panel_with_theory_values(page):
    page.goto(page.base + "/")
    old = settle(page)
    page.focus("#ctl-sigma_w [role=slider]")
    page.keyboard.press("ArrowRight")
    key = settle(page, old)
    state = url_state.decode(key)[0]
    assert state.sigma_w == pytest.approx(1.21) and thumb_value(page, "sigma_w") == 1.21
    p = state.params("vanilla")
    ref, tr, sp = theory.point(p), theory.trajectory(p, state.T), theory.spectrum(p, state.T)
    phase, memory, spec = (meta(page, g) for g in GRAPHS)
    assert phase["x"] == 1.21 and phase["points"][0]["xi"] == pytest.approx(ref.xi_jac, rel=EXACT)
    star = page.evaluate("document.querySelector('#phase-graph .js-plotly-plot').layout"
                         ".annotations[0].x")
    assert star == 1.21
    mp = memory["points"][0]
    assert mp["xi_c"] == pytest.approx(ref.xi_c, rel=EXACT)
    assert mp["C_T"] == pytest.approx(tr.C[-1], rel=EXACT)
    assert spec["points"][0]["m1"] == pytest.approx(sp.m1, rel=EXACT)
    assert spec["points"][0]["m2"] == pytest.approx(sp.m2, rel=EXACT)
    assert f"{ref.xi_jac:.5g}" in page.inner_text("#readout")
    page.reload()  # the state lives in the URL
    assert settle(page) == key and thumb_value(page, "sigma_w") == 1.21
    assert page.errors == []


def test_switching_architecture_changes_plane_and_controls(page):
    page.goto(page.base + "/")
    old = settle(page)
    page.click("#ctl-arch label:has-text('minimalRNN')")
    key = settle(page, old)
    assert url_state.decode(key)[0] == ViewState.default("minimal")
    assert meta(page, "phase-graph")["plane"] == ["sigma_w", "mu_b"]
    assert page.get_attribute("#ctl-mu_b [role=slider]", "aria-valuemax") == "8"
    assert page.get_attribute("#ctl-phi", "disabled") is not None
    assert "sigmoid" in page.get_attribute("#wrap-phi", "title")
    assert "minimalRNN" in page.inner_text("#readout")
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / "minimal.png"))
    assert page.errors == []


def test_clicking_the_phase_diagram_sets_the_sliders(page):
    page.goto(page.base + "/")
    old = settle(page)
    box = page.evaluate("""() => {
      const gd = document.querySelector('#phase-graph .js-plotly-plot');
      const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
      const r = gd.getBoundingClientRect();
      // left of the critical line (sigma_w ~ 0.5), away from every line trace
      const px = xa._offset + 0.1 * xa._length, py = ya._offset + 0.25 * ya._length;
      return {x: r.left + px, y: r.top + py, dx: xa.p2l(px - xa._offset),
              dy: ya.p2l(py - ya._offset)};
    }""")
    page.mouse.click(box["x"], box["y"])
    key = settle(page, old)
    state = url_state.decode(key)[0]
    xs, ys = np.linspace(0.1, 4.0, 150), np.linspace(0.0, 1.0, 150)
    cell_x = xs[np.argmin(abs(xs - box["dx"]))]  # the heatmap reports the cell centre
    cell_y = ys[np.argmin(abs(ys - box["dy"]))]
    assert state.sigma_w == round(cell_x, 2) and state.sigma_b == round(cell_y, 2)
    assert thumb_value(page, "sigma_w") == state.sigma_w
    assert thumb_value(page, "sigma_b") == state.sigma_b
    assert meta(page, "phase-graph")["x"] == state.sigma_w


def test_permalink_restores_the_exact_state(page):
    s = ViewState.default("minimal").replace(
        sigma_w=3.3, mu_b=4.5, sigma_v=0.8, T=80, k=4.5, field="xi_c", x="sigma_w",
        y="sigma_v", n=100, N=200, seed=7, weights="gaussian")
    link = url_state.encode(s)
    page.goto(page.base + "/" + link)
    assert settle(page) == link
    for name in ("sigma_w", "mu_b", "sigma_v", "T", "k"):
        assert thumb_value(page, name) == getattr(s, name), name
    assert page.is_checked("#ctl-arch input[value=minimal]")
    assert page.is_checked("#ctl-xi input[value=xi_c]")
    assert page.is_checked("#ctl-weights input[value=gaussian]")
    assert page.input_value("#ctl-seed") == "7" and page.input_value("#ctl-N") == "200"
    assert meta(page, "phase-graph")["plane"] == ["sigma_w", "sigma_v"]
    assert page.is_hidden("#notice")
    page.goto(page.base + "/?sigma_w=abc&foo=1&T=1e9")
    settle(page)
    notice = page.inner_text("#notice")
    assert "foo" in notice and "sigma_w" in notice and "T:" in notice
    assert thumb_value(page, "T") == 500 and page.errors == []


def test_sample_a_network_overlays_a_histogram(page):
    page.goto(page.base + "/")
    old = settle(page)
    page.click("#sample-button")
    key = settle(page, old, graphs=["spectrum-graph"])
    state = url_state.decode(key)[0]
    assert state.sample
    spec = meta(page, "spectrum-graph")
    names = page.evaluate("document.querySelector('#spectrum-graph .js-plotly-plot')"
                          ".data.map(t => t.name)")
    assert any(n.startswith("sampled") for n in names)
    logs = theory.sample_singular_values(state.params("vanilla"), state.N, state.T,
                                         np.random.default_rng(state.seed), log=True)
    m1 = float(np.mean(np.exp(2 * logs)))
    assert spec["points"][0]["sample"]["m1"] == pytest.approx(m1, rel=EXACT)
    assert "sample m₁" in page.inner_text("#spectrum-text")
    page.click("#clear-sample-button")
    settle(page, key, graphs=["spectrum-graph"])
    assert not meta(page, "spectrum-graph")["points"][0]["sampled"]
    page.click("#copy-link")
    page.wait_for_function("() => document.getElementById('copy-status').innerText.length > 0")
    assert not math.isnan(m1) and page.errors == []
