"""End-to-end: the GRU and the LSTM in the real page (``python app.py``, Chromium).

Uses the server, browser and page fixtures of ``test_browser`` (one server for this
module). Checked: switching to the LSTM and the GRU draws every panel with the theory
API's numbers and the framework-default markers; the "Compare with" dropdown draws two
diagrams; the compared cell and the advanced values survive a reload of the link; the
"Simulate a real network" button adds the measured traces and Clear removes them.
"""

from __future__ import annotations

import pytest
from test_browser import GRAPHS, browser, meta, page, server, settle  # noqa: F401

import theory
from components import url_state

pytestmark = pytest.mark.browser

MARKERS_JS = """() => {
  const gd = document.querySelector('#phase-graph .js-plotly-plot');
  return gd.data.filter(t => t.name === 'framework defaults').map(t => t.text);
}"""
SIMULATED_JS = """() => {
  const gd = document.querySelector('#memory-graph .js-plotly-plot');
  return gd.data.filter(t => t.meta === 'simulated').length;
}"""


def _check_cell(pg, arch: str) -> None:
    """Every panel shows ``arch`` at the link's view, with the theory API's numbers."""
    state = url_state.decode(pg.evaluate("window.location.search"))[0]
    p = state.params(arch)
    ref = theory.point(p)
    phase, memory, spec = (meta(pg, g) for g in GRAPHS)
    assert phase["points"][0]["arch"] == arch
    assert phase["points"][0]["xi"] == pytest.approx(ref.xi_jac, rel=1e-12)
    assert memory["points"][0]["C_T"] == pytest.approx(theory.trajectory(p, state.T).C[-1],
                                                       rel=1e-12)
    assert spec["points"][0]["m1"] == pytest.approx(theory.spectrum(p, state.T).m1, rel=1e-12)
    labels = pg.evaluate(MARKERS_JS)[0]
    assert labels and any("PyTorch" in t for t in labels), labels
    assert "untied mean field" in pg.inner_text("#readout")
    assert pg.get_attribute("#wrap-phi", "title").startswith("φ applies to the vanilla RNN")


def test_lstm_and_gru_views_draw_every_panel(page):
    page.goto(page.base + "/?arch=lstm")
    old = settle(page)
    _check_cell(page, "lstm")
    assert "no theory density" in page.inner_text("#spectrum-text")
    page.click("#ctl-arch label:has-text('GRU')")
    settle(page, old)
    _check_cell(page, "gru")
    assert page.errors == [] and page.outside == []


def test_compare_and_advanced_values_survive_a_reload(page):
    page.goto(page.base + "/?arch=lstm&mu_i=1.5&cl=gc4&gv=reset_before&mu_r=-1")
    old = settle(page)
    page.click("#ctl-vs")
    page.locator("#wrap-vs").get_by_role("option", name="GRU").click()
    key = settle(page, old)
    state = url_state.decode(key)[0]
    assert state.archs == ("lstm", "gru")
    assert (state.mu_i, state.closure, state.gru_variant, state.mu_r) == (1.5, "gc4",
                                                                          "reset_before", -1.0)
    heatmaps = page.evaluate("document.querySelector('#phase-graph .js-plotly-plot').data"
                             ".filter(t => t.type === 'heatmap').length")
    assert heatmaps == 2
    points = meta(page, "phase-graph")["points"]
    assert [p["arch"] for p in points] == ["lstm", "gru"]
    assert points[1]["xi"] == pytest.approx(theory.point(state.params("gru")).xi_jac, rel=1e-12)
    page.reload()
    assert settle(page) == key
    assert page.get_attribute("#ctl-mu_i [role=slider]", "aria-valuenow") == "1.5"
    assert page.is_visible("#wrap-vs") and "GRU" in page.inner_text("#wrap-vs")
    assert page.errors == []


def test_simulate_button_adds_the_real_network_and_clear_removes_it(page):
    page.goto(page.base + "/?arch=lstm&N=100&T=40")
    old = settle(page)
    assert page.evaluate(SIMULATED_JS) == 0
    page.click("#simulate-button")
    key = settle(page, old, graphs=("memory-graph",))
    assert "sim=1" in key and page.evaluate(SIMULATED_JS) == 2
    assert meta(page, "memory-graph")["points"][0]["simulated"]["N"] == 100
    page.click("#clear-simulate-button")
    settle(page, key, graphs=("memory-graph",))
    assert page.evaluate(SIMULATED_JS) == 0 and page.errors == []
