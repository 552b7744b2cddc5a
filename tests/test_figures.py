"""Pure figure builders, fed hand-made theory results (no theory calls).

Every figure must validate as a Plotly figure, draw exactly the numbers it was
given (rounded to the digits a plot can show), mark special regions, and carry
the state in ``layout.meta`` (the phase diagram: in a hidden annotation). The phase
diagram's partial updates (used as a Dash ``Patch``) must give the same figure
as a rebuild.
"""

import copy
import json
import math
from types import SimpleNamespace

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from components.figures import (
    as_array,
    contour_updates,
    memory_figure,
    message_figure,
    phase_figure,
    plain,
    point_updates,
    spectrum_figure,
)
from components.figures.memory import crossings, predicted_decay
from components.figures.phase import (
    BISTABLE,
    CRIT,
    HEATMAP,
    TK_LINE,
    TRACES_PER_PANEL,
    XI_LOG_RANGE,
    Z_INFINITE,
    Z_NO_FIXED_POINT,
)
from components.figures.spectrum import log_histogram, sample_summary
from components.viewstate import ViewState
from theory import CriticalLine, GridResult, PointResult, Trajectory

F32 = 1e-5  # plain() keeps 6 significant digits: relative error <= 5e-6


def make_point(params, **kw):
    base = dict(q_star=0.8, Q_star=0.35, c_star=0.12, C_star=0.11, chi_q=0.32, chi_c=0.6,
                chi_jac=0.73, xi_q=0.88, xi_c=1.97, xi_jac=3.14, phase="ordered")
    base.update(kw)
    return PointResult(params=params, **base)


def make_grid(params, x_name="sigma_w", y_name="sigma_b", nx=6, ny=4):
    """log10 xi_jac = x - 1 (so xi = 10^(x-1)); special cells set by hand."""
    x = np.linspace(0.5, 3.0, nx)
    y = np.linspace(0.0, 1.0, ny)
    xi = np.tile(10.0 ** (x - 1.0), (ny, 1))
    exists = np.ones((ny, nx))
    bistable = np.zeros((ny, nx))
    xi[0, -1] = np.inf  # chi >= 1
    exists[1, -1] = 0.0  # no fixed point
    xi[1, -1] = np.nan
    bistable[2, 0] = 1.0
    fields = {"xi_jac": xi, "xi_c": xi / 2, "xi_q": xi / 3, "exists": exists,
              "bistable": bistable, "chi_jac": np.exp(-1 / xi), "branch_high": 0 * exists}
    return GridResult(params=params, x_name=x_name, x=x, y_name=y_name, y=y, fields=fields)


def phase_panel(view, arch="vanilla", **point_kw):
    p = view.params(arch)
    line = CriticalLine("chi_jac", view.x, view.y, [np.array([[1.5, 0.0], [1.6, 1.0]])])
    saddle = CriticalLine("saddle_node", view.x, view.y, [])
    return SimpleNamespace(arch=arch, grid=make_grid(p, view.x, view.y), lines=[line, saddle],
                           point=make_point(p, **point_kw))


def valid(fig):
    """Plotly validates every property (raises on a bad one)."""
    return go.Figure(fig)


def test_plain_lists_keep_six_digits_and_turn_specials_into_gaps():
    a = np.array([[1.0, np.inf], [np.nan, -2.5123456789]])
    out = plain(a)
    assert out == [[1.0, None], [None, -2.51235]]
    back = as_array(out)
    assert np.isnan(back[0, 1]) and back[1, 1] == -2.51235


def phase_state(fig):
    """The JSON of the phase figure's hidden state annotation."""
    (ann,) = [a for a in fig["layout"]["annotations"] if a.get("name") == "state"]
    assert ann["visible"] is False
    return json.loads(ann["text"])


def test_phase_figure_draws_log_xi_masks_and_lines():
    view = ViewState()
    panel = phase_panel(view)
    fig = phase_figure([panel], view, "?key")
    valid(fig)
    g = panel.grid
    z = as_array(fig["data"][HEATMAP]["z"])
    xi = g["xi_jac"]
    finite = np.isfinite(xi) & (g["exists"] == 1)
    expect = np.clip(np.log10(xi[finite]), *XI_LOG_RANGE)
    np.testing.assert_allclose(z[finite], expect, atol=5e-3 + 1e-12)  # 2 decimals
    assert z[0, -1] == Z_INFINITE and z[1, -1] == Z_NO_FIXED_POINT  # the two greys
    ticks = dict(zip(fig["data"][HEATMAP]["colorbar"]["tickvals"],
                     fig["data"][HEATMAP]["colorbar"]["ticktext"], strict=True))
    assert ticks[Z_INFINITE] == "∞" and ticks[Z_NO_FIXED_POINT] == "no f.p."
    heat = fig["data"][HEATMAP]
    text, labels = heat["text"], heat["customdata"]
    assert (labels[0][-1], text[0][-1]) == ("∞", "")  # the hover shows label + number
    assert (labels[1][-1], text[1][-1]) == ("no stable fixed point", "")  # "", never null
    assert (labels[0][0], text[0][0]) == ("", float(f"{xi[0, 0]:.4g}"))  # 4 significant digits
    hatch = fig["data"][BISTABLE]
    hx = [v for v in hatch["x"] if v is not None]
    hy = [v for v in hatch["y"] if v is not None]
    # the only bistable cell is (row 2, column 0): its outline stays within half a cell
    assert hx and max(hx) < g.x[1] and min(hy) > g.y[1] and max(hy) < g.y[3]
    assert hatch["fill"] == "toself" and hatch["name"] == "bistable"
    crit = fig["data"][CRIT]
    assert crit["x"] == [1.5, 1.6, None] and crit["y"] == [0.0, 1.0, None]
    assert "σ<sub>w</sub> = %{x:.4g}" in fig["data"][HEATMAP]["hovertemplate"]
    assert "ξ<sub>jac</sub> = %{customdata}%{text}" in fig["data"][HEATMAP]["hovertemplate"]


def test_phase_t_equals_k_xi_line_sits_on_the_level():
    # log10 xi = x - 1, so T = k xi  <=>  x = 1 + log10(T/k): a vertical line
    view = ViewState(T=50, k=5.0)
    fig = phase_figure([phase_panel(view)], view, "?k")
    xs = [v for v in fig["data"][TK_LINE]["x"] if v is not None]
    assert xs and np.allclose(xs, 1 + math.log10(50 / 5.0), atol=1e-9)
    # k = 5 is not the vanilla default (the k measured on the shipped vanilla map)
    assert fig["data"][TK_LINE]["name"].startswith("T = k·ξ (T = 50, k = 5 set, measured ")


def test_phase_star_meta_and_status():
    view = ViewState(sigma_w=1.37, sigma_b=0.42)
    fig = phase_figure([phase_panel(view, exists=False, xi_jac=math.nan)], view, "?abc")
    ann = fig["layout"]["annotations"]
    assert (ann[0]["x"], ann[0]["y"]) == (1.37, 0.42) and ann[1]["text"] == "★"
    assert any("No stable fixed point" in a["text"] for a in ann)
    state = phase_state(fig)
    assert state["key"] == "?abc" and state["x"] == 1.37 and state["y"] == 0.42
    assert state["points"][0]["exists"] is False and state["points"][0]["xi"] is None
    assert state["marker_ann"] == [[0, 1]] and "meta" not in fig["layout"]


def test_phase_star_on_log_axis_uses_log10():
    view = ViewState.default("minimal").replace(sigma_w=2.5, mu_b=1.0)
    fig = phase_figure([phase_panel(view, "minimal", bistable=True, branch="low")], view, "?")
    ann = fig["layout"]["annotations"]
    assert ann[0]["x"] == pytest.approx(math.log10(2.5)) and ann[0]["y"] == 1.0
    assert fig["layout"]["xaxis"]["type"] == "log"
    assert any("Bistable" in a["text"] for a in ann)


def test_two_architectures_get_two_subplots_sharing_one_colour_scale():
    view = ViewState.default("both")
    fig = phase_figure([phase_panel(view, "vanilla"), phase_panel(view, "minimal")], view, "?")
    valid(fig)
    second = fig["data"][TRACES_PER_PANEL + HEATMAP]
    first = fig["data"][HEATMAP]
    assert second["xaxis"] == "x2" and second["colorscale"] == first["colorscale"]
    assert (second["zmin"], second["zmax"]) == (first["zmin"], first["zmax"])
    assert first["showscale"] and not second["showscale"]  # one colour bar
    assert phase_state(fig)["marker_ann"] == [[0, 1], [2, 3]]


def _apply(fig, updates):
    fig = copy.deepcopy(fig)
    for path, value in updates:
        target = fig
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value
    return fig


def test_patch_updates_equal_a_rebuilt_figure():
    a = ViewState(sigma_w=1.2, T=50, k=6.0)
    b = a.replace(sigma_w=1.9, sigma_b=0.7, T=120, k=3.5)
    panel_a, panel_b = phase_panel(a), phase_panel(b, xi_jac=7.5)
    full_b = phase_figure([panel_b], b, "?b")
    patched = _apply(phase_figure([panel_a], a, "?a"),
                     contour_updates([panel_b], b) + point_updates([panel_b.point], b, "?b"))
    assert pio.to_json(patched, engine="json") == pio.to_json(full_b, engine="json")


def test_predicted_decay_is_the_linearised_approach():
    t = np.arange(6.0)
    y = np.array([1.0, 0.2, 0.3, 0.35, 0.37, 0.38])
    pred = predicted_decay(t, y, 0.4, 2.0)
    assert np.isnan(pred[0])
    np.testing.assert_allclose(pred[1:], 0.4 + (0.2 - 0.4) * np.exp(-(t[1:] - 1) / 2.0))
    assert predicted_decay(t, y, 0.4, math.inf) is None


def test_crossings_interpolates_linearly():
    x = np.array([0.0, 1.0, 2.0, 3.0])
    chi = np.array([0.5, 0.8, 1.2, np.nan])
    assert crossings(x, chi) == [pytest.approx(1.5)]  # 0.8 -> 1.2 crosses 1 half-way
    assert crossings(x, np.array([0.5, 0.6, 0.7, 0.8])) == []


def memory_panel(view, arch="vanilla"):
    p = view.params(arch)
    cut_x = np.linspace(0.1, 4.0, 5)
    chi = np.array([[0.5, 0.8, 1.2, 1.4, 1.5]])
    fields = {"xi_c": np.array([[1.0, 2.0, 3.0, 4.0, 5.0]]),
              "xi_jac": np.array([[1.4, 4.5, np.inf, np.inf, np.inf]]),
              "xi_q": np.array([[0.5, 0.6, 0.7, 0.8, 0.9]]), "chi_jac": chi,
              "exists": np.ones((1, 5))}
    cut = GridResult(params=p, x_name="sigma_w", x=cut_x, y_name="sigma_b",
                     y=np.array([view.sigma_b]), fields=fields)
    T = 4
    tr = Trajectory(params=p, t=np.arange(T + 1), q=np.array([np.nan, 0.3, 0.6, 0.7, 0.75]),
                    Q=np.zeros(T + 1), c=np.zeros(T + 1), C=np.array([1, 0.2, 0.15, 0.13, 0.12]))
    return SimpleNamespace(arch=arch, cut=cut, point=make_point(p), trajectory=tr)


def test_memory_figure_draws_cut_and_trajectories():
    view = ViewState(T=4)
    fig = memory_figure([memory_panel(view)], view, "?m")
    valid(fig)
    lines = {t["name"]: t for t in fig["data"] if "name" in t}
    xi_jac = as_array(lines["ξ<sub>jac</sub>"]["y"])
    assert xi_jac[1] == pytest.approx(4.5) and np.isnan(xi_jac[2:]).all()  # inf -> gap
    c_t = as_array(lines["C<sub>t</sub>"]["y"])
    np.testing.assert_allclose(c_t, [1, 0.2, 0.15, 0.13, 0.12], rtol=F32)
    q_norm = as_array(lines["q<sub>t</sub>/q*"]["y"])
    assert q_norm[2] == pytest.approx(0.6 / 0.8, rel=F32)
    notes = " ".join(a["text"] for a in fig["layout"]["annotations"])
    # chi goes 0.8 -> 1.2 between x = 1.075 and 2.05: crosses 1 half-way, at 1.5625
    assert "= 1 at 1.56" in notes
    meta = fig["layout"]["meta"]
    assert meta["key"] == "?m" and meta["points"][0]["C_T"] == 0.12
    assert meta["points"][0]["xi_jac"] == 3.14


def spectrum_panel(view, samples=None, arch="vanilla"):
    s = np.geomspace(0.1, 3.0, 50)
    pdf_log = np.exp(-np.log(s) ** 2)
    spec = SimpleNamespace(s=s, pdf=pdf_log / s, pdf_log_s=pdf_log, atom_at_zero=0.25,
                           atoms=((0.0, 0.25),), m1=0.9, m2=1.1, exact=True,
                           cdf_log_s=lambda x: np.interp(x, np.log(s), np.linspace(0, 0.75, 50)))
    return SimpleNamespace(arch=arch, spectrum=spec, point=None, log_samples=samples)


def test_spectrum_figure_theory_curve_and_sample_histogram():
    view = ViewState()
    with np.errstate(divide="ignore"):
        logs = np.log(np.array([0.0, 0.5, 1.0, 1.0, 2.0, 4.0]))  # one exact zero
    fig = spectrum_figure([spectrum_panel(view, logs)], view, "?s")
    valid(fig)
    theory_trace, hist = fig["data"]
    np.testing.assert_allclose(as_array(theory_trace["x"]), np.geomspace(0.1, 3.0, 50), rtol=F32)
    assert hist["fill"] == "toself" and hist["name"].startswith("sampled")
    assert any("atom at s = 0" in a["text"] for a in fig["layout"]["annotations"])
    meta = fig["layout"]["meta"]["points"][0]
    assert meta["sample"]["zeros"] == pytest.approx(1 / 6)
    # P(1/2 <= s <= 2) of the samples 0.5, 1, 1, 2: 4 of 6
    assert meta["sample"]["band"] == pytest.approx(4 / 6)


def test_log_histogram_integrates_to_the_finite_share():
    rng = np.random.default_rng(3)
    logs = np.concatenate([rng.normal(size=500), [-np.inf] * 100])
    edges, density = log_histogram(logs)
    mass = float(np.sum(density * np.diff(np.log(edges))))
    assert mass == pytest.approx(500 / 600, rel=1e-12)


def test_sample_summary_moments():
    s = np.array([0.5, 1.0, 2.0])
    out = sample_summary(np.log(s))
    assert out["m1"] == pytest.approx(np.mean(s**2)) and out["m2"] == pytest.approx(np.mean(s**4))
    assert out["band"] == 1.0 and out["zeros"] == 0.0


def test_message_figure_says_why():
    fig = message_figure("Cannot compute", {"key": "?x"})
    valid(fig)
    assert fig["layout"]["annotations"][0]["text"] == "Cannot compute"
    long = message_figure("word " * 40, {"key": "?x"})["layout"]["annotations"][0]["text"]
    assert all(len(line) <= 48 for line in long.split("<br>"))  # wrapped to fit a panel
    assert fig["layout"]["meta"]["key"] == "?x"


def test_chaotic_side_shows_the_growth_time_and_is_not_called_trainable():
    """Vanilla tanh at sigma_w = 2.5, sigma_b = 0.2, sigma_v = 0.5 is chaotic (chi_jac = 1.54):
    gradients grow like chi_jac^T, so T = 50 is not trainable with k = 6 (tau = 1/ln 1.54 =
    2.3 steps); the xi_jac diagram shows that growth time, not a flat "infinity", and the
    T = k tau contour closes around the critical line from both sides."""
    import theory
    from components import compute
    from components.figures.phase import (
        CHAOTIC_HOVER,
        Z_INFINITE,
        heat_values,
        level_lines,
        phase_figure,
    )
    from components.readout import readout_html

    view = ViewState.default().replace(sigma_w=2.5, sigma_b=0.2, sigma_v=0.5, T=50, k=6.0)
    p = theory.point(view.params("vanilla"))
    assert p.chi_jac > 1.5 and math.isinf(p.xi_jac)
    assert p.tau_jac == pytest.approx(1 / math.log(p.chi_jac), rel=1e-12)
    html = readout_html([p], view)
    assert "k·τ<sub>jac</sub>" in html and f"no: 50 vs {6 * p.tau_jac:.4g}" in html
    g = theory.grid(view.params("vanilla"), x=("sigma_w", np.linspace(0.5, 4.0, 36)),
                    y=("sigma_b", np.linspace(0.0, 1.0, 5)), fields=compute.PHASE_FIELDS + (
                        "xi_jac",))
    chaotic = np.asarray(g["chi_jac"]) > 1.0
    z = heat_values(g, "xi_jac")
    assert chaotic.any() and not (z[chaotic] == Z_INFINITE).any()
    np.testing.assert_allclose(z[chaotic], np.clip(np.log10(g["tau_jac"][chaotic]), -1, 3))
    level = math.log10(50 / 6)
    for row, row_chaotic in zip(np.log10(g["tau_jac"]), chaotic, strict=True):
        above = row > level  # trainable band: a run of cells around sigma_c
        assert above.any() and not above[0] and not above[-1]
        assert np.diff(above.astype(int)).tolist().count(1) == 1  # one band, closed on
        assert row_chaotic[above].any() and (~row_chaotic[above]).any()  # both sides
    xs, _ = level_lines(g, "xi_jac", level)
    assert sum(x is None for x in xs) >= 2  # the contour: one line each side
    heat = phase_figure([compute.PhaseData("vanilla", g, [], p)], view, "?c")["data"][0]
    i, j = np.argwhere(chaotic)[0]
    growth = float(f"{g['tau_jac'][i, j]:.4g}")
    assert (heat["customdata"][i][j], heat["text"][i][j]) == (CHAOTIC_HOVER, growth)
    assert "%{customdata}%{text}" in heat["hovertemplate"]
    i, j = np.argwhere(~chaotic)[0]
    assert heat["customdata"][i][j] == ""
    assert heat["text"][i][j] == float(f"{g['tau_jac'][i, j]:.4g}")  # ordered: xi_jac
