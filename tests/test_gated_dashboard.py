"""The GRU and the LSTM on the dashboard (issue "GRU and LSTM", parts 5-7), without a browser.

State and permalink (four cells, the compared cell, the advanced values, old ``arch=both``
links), the parameters each shown cell receives, the state writer's switches, and the
figures: framework-default markers (gated-cells.md 7), the tied-network outline and
warnings (2.3, eq. 2.5), the LSTM spectrum without a density (5.2), the simulated real
network (memory panel) and the cost guard of the reset-after GRU. Numbers drawn are
compared with direct calls of the theory API: the dashboard adds no numerics.
"""

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.interpolate import RegularGridInterpolator
from test_callbacks import controls_of, outputs_of

import theory
from components import compute, controls, export, ids, specs
from components.callbacks import parse, plots, state
from components.figures import as_array, markers
from components.figures.phase import FRAMEWORKS, TIED, TRACES_PER_PANEL
from components.readout import readout_html
from components.url_state import decode, encode
from components.viewstate import ViewState

LSTM = ViewState.default("lstm").replace(n=60)
GRU = ViewState.default("gru").replace(n=60)


# --- state and permalink -----------------------------------------------------------------

@st.composite
def gated_states(draw):
    mode = draw(st.sampled_from(specs.MODES))
    compare = draw(st.sampled_from([c for c in specs.COMPARE if c != mode]))
    s = ViewState.default(mode).replace(compare=compare)
    step = st.integers(0, 240).map(lambda k: -4.0 + 0.05 * k)
    return s.replace(mu_i=draw(step), mu_o=draw(step), mu_r=draw(step),
                     gru_variant=draw(st.sampled_from(theory.types.GRU_VARIANTS)),
                     closure=draw(st.sampled_from(theory.types.CLOSURES)),
                     weights=draw(st.sampled_from(specs.WEIGHTS)),
                     simulate=draw(st.booleans()), sample=draw(st.booleans()))


@settings(max_examples=150, deadline=None)
@given(gated_states())
def test_new_keys_round_trip_through_the_link(s):
    back, notices = decode(encode(s))
    assert back == s and notices == []


def test_link_carries_the_new_keys():
    s = LSTM.replace(compare="gru", mu_i=1.5, mu_r=-0.5, gru_variant="reset_before",
                     closure="gc4", simulate=True, weights="block-orthogonal")
    q = encode(s)
    for part in ("arch=lstm", "vs=gru", "mu_i=1.5", "mu_r=-0.5", "gv=reset_before", "cl=gc4",
                 "sim=1", "weights=block-orthogonal"):
        assert part in q.split("?")[1].split("&"), part
    assert "vs=none" in encode(ViewState())


def test_old_both_links_show_vanilla_beside_minimal_without_a_notice():
    s, notices = decode("?v=1&arch=both&sigma_w=3&mu_b=7&x=sigma_w&y=mu_b")
    assert notices == [] and s.archs == ("vanilla", "minimal")
    assert (s.sigma_w, s.mu_b) == (3.0, 7.0)  # the side-by-side (minimalRNN) ranges
    assert ViewState.default("both").archs == ("vanilla", "minimal")
    assert parse.parse(("mode", "compare"), ("both", "none")).archs == ("vanilla", "minimal")


@pytest.mark.parametrize("query, field, expected, fragment", [
    ("?arch=lstm&vs=lstm", "compare", "", "vs: 'lstm' is not none or one of"),
    ("?arch=gru&vs=rnn", "compare", "", "vs: 'rnn'"),
    ("?arch=gru&gv=middle", "gru_variant", "reset_after", "gv: 'middle' is not one of"),
    ("?arch=lstm&cl=exact", "closure", "gc", "cl: 'exact' is not one of"),
    ("?arch=lstm&mu_i=99", "mu_i", 8.0, "mu_i: 99 is outside [-4, 8]"),
    ("?arch=gru&mu_r=abc", "mu_r", 0.0, "mu_r: 'abc' is not a number"),
    ("?arch=lstm&sim=yes", "simulate", False, "sim: 'yes' is not 0 or 1"),
    ("?arch=vanilla&weights=block-orthogonal", "weights", "orthogonal", "applies to the GRU"),
    ("?arch=vanilla&vs=lstm&weights=block-orthogonal", "weights", "block-orthogonal", ""),
])
def test_bad_new_values_fall_back_with_a_notice(query, field, expected, fragment):
    s, notices = decode(query)
    assert getattr(s, field) == expected
    if fragment:
        assert any(fragment in n for n in notices), notices
    else:
        assert notices == []


def test_each_cell_gets_only_the_parameters_that_apply_to_it():
    s = LSTM.replace(compare="vanilla", mu_i=1.0, mu_o=-1.0, mu_r=2.0, closure="gc4",
                     gru_variant="reset_before", weights="block-orthogonal", phi="relu")
    lstm, van = s.params("lstm"), s.params("vanilla")
    assert (lstm.mu_i, lstm.mu_o, lstm.closure, lstm.weights) == (1.0, -1.0, "gc4",
                                                                  "block-orthogonal")
    assert lstm.mu_r == 0.0 and lstm.gru_variant == "reset_after" and lstm.phi == "tanh"
    assert van.weights == "orthogonal" and van.phi == "relu" and van.mu_i == 0.0
    gru = s.replace(compare="gru").params("gru")
    assert (gru.mu_r, gru.gru_variant, gru.mu_i, gru.closure) == (2.0, "reset_before", 0.0,
                                                                  "gc")
    with pytest.raises(ValueError):
        LSTM.replace(compare="lstm")


def test_compare_widens_the_ranges_and_mode_switch_keeps_it():
    s = ViewState.default("vanilla").replace(compare="lstm", mu_b=6.0)
    assert s.ranges == "compare" and s.mu_b == 6.0
    out = outputs_of(state.sync_state(ids.COMPARE, "", "vanilla", None, *controls_of(s)))
    assert out[(ids.control("mu_b"), "max")] == 8.0
    assert out[(ids.MODE, "value")] == "vanilla" and out[(ids.COMPARE, "value")] == "lstm"
    options = [o["value"] for o in out[(ids.COMPARE, "options")]]
    assert options == ["none", "minimal", "gru", "lstm"]
    # switching the cell keeps the comparison, unless it is the new cell
    sw = outputs_of(state.sync_state(ids.MODE, "", "gru", None, *controls_of(s)))
    assert sw[(ids.MODE, "value")] == "gru" and sw[(ids.COMPARE, "value")] == "lstm"
    sw = outputs_of(state.sync_state(ids.MODE, "", "lstm", None, *controls_of(s)))
    assert sw[(ids.COMPARE, "value")] == "none"


@pytest.mark.parametrize("archs, disabled, enabled", [
    (("lstm",), {"phi", "mu_r", "gru_variant"}, {"mu_i", "mu_o", "closure"}),
    (("gru",), {"phi", "mu_i", "mu_o", "closure"}, {"mu_r", "gru_variant"}),
    (("vanilla", "gru"), {"mu_i", "mu_o", "closure"}, {"phi", "mu_r", "gru_variant"}),
    (("minimal",), {"phi", "mu_i", "mu_o", "mu_r", "gru_variant", "closure"}, set()),
])
def test_controls_that_apply_to_no_cell_shown_are_disabled_with_a_reason(archs, disabled,
                                                                          enabled):
    s = ViewState.default(archs[0]).replace(compare=archs[1] if len(archs) > 1 else "")
    out = outputs_of(state.sync_state(ids.URL, encode(s), archs[0], None,
                                      *controls_of(ViewState())))
    for name, control, wrapper in state.SWITCHED:
        assert out[(control, "disabled")] is (name in disabled), name
        assert out[(wrapper, "title")], name
        if name in disabled:
            assert "only" in out[(wrapper, "title")], name
    assert disabled | enabled == {n for n, _, _ in state.SWITCHED}
    block = next(o for o in out[(ids.WEIGHTS, "options")] if o["value"] == "block-orthogonal")
    assert block["disabled"] is not s.gated


def test_sim_buttons_switch_the_overlay():
    on = outputs_of(state.sync_state(ids.SIMULATE_BUTTON, "", "lstm", None,
                                     *controls_of(LSTM)))
    assert on[(ids.SIMULATE, "data")] is True
    off = outputs_of(state.sync_state(ids.SIMULATE_CLEAR, "", "lstm", None,
                                      *controls_of(LSTM.replace(simulate=True))))
    assert off[(ids.SIMULATE, "data")] is False


def test_framework_presets_are_in_the_menu_with_their_labels():
    labels = [o["label"] for o in controls.preset_dropdown().options]
    for label in ("PyTorch LSTM default", "Keras LSTM (forget bias 1)", "PyTorch GRU default",
                  "Likely paper critical point (minimalRNN)"):
        assert label in labels
    assert any(lab.startswith("Flax") and "GRU" in lab for lab in labels)


def test_warm_keys_name_the_gated_steps_whatever_phi():
    keys = compute.warm_keys(LSTM.replace(phi="relu", simulate=True, compare="vanilla"),
                             "memory")
    assert "grid:lstm:tanh" in keys and "simulate:lstm:tanh" in keys
    assert "trajectory:vanilla:relu" in keys


# --- figures -------------------------------------------------------------------------------

def test_framework_markers_sit_at_the_defaults_with_theory_numbers():
    view = LSTM.replace(N=128)
    fig = plots.update_phase(view, None)[0]
    tr = fig["data"][FRAMEWORKS]
    defaults = theory.framework_defaults("lstm", H=128, N_in=128)
    assert set(tr["text"]) == {"PyTorch", "Keras", "Flax", "Flax nnx"}
    for d in defaults:
        label = markers.SHORT[d.key]
        i = tr["text"].index(label)
        assert (tr["x"][i], tr["y"][i]) == (d.params.sigma_w, d.params.mu_b)
        r = theory.point(d.params)
        hover = tr["customdata"][i]
        assert d.label in hover and f"{r.chi_jac:.3g}" in hover and "untied mean field" in hover
    gru = plots.update_phase(GRU, None)[0]["data"][FRAMEWORKS]
    assert "PyTorch<br>Keras<br>Flax nnx" in gru["text"]  # three share (1/sqrt 3, 0)


def test_markers_outside_the_plane_are_skipped_and_minimal_has_none():
    view = LSTM.replace(x="sigma_b", y="sigma_v")  # PyTorch's sigma_b = 0.07 is inside
    groups = markers.marker_groups(compute.framework_points("lstm", 200), view)
    assert all(0 <= g["x"] <= 2 and 0 <= g["y"] <= 3 for g in groups)
    fig = plots.update_phase(ViewState.default("minimal").replace(n=60), None)[0]
    assert fig["data"][FRAMEWORKS]["x"] == []


def test_tied_outline_bounds_the_flagged_region():
    fig = plots.update_phase(LSTM, None)[0]
    tr = fig["data"][TIED]
    g, _ = compute._grid(*compute.grid_key(LSTM, "lstm"))
    level = markers.tied_level(g["rho_tied"], 0.0)
    assert (level > 1).any() and (level < 1).any() and tr["x"]
    # the polygons' vertices lie where the linearly interpolated indicator is 1, or on the
    # plane's edge inside the flagged region
    xs = np.array([v for v in tr["x"] if v is not None])
    ys = np.array([v for v in tr["y"] if v is not None])
    pts = np.column_stack([ys, xs])  # contourpy rounds edge points by ~1 ulp
    at = RegularGridInterpolator((g.y, g.x), level, bounds_error=False, fill_value=None)(pts)
    edge = np.isclose(xs, g.x[0]) | np.isclose(xs, g.x[-1]) | np.isclose(ys, g.y[0]) | \
        np.isclose(ys, g.y[-1])
    assert np.allclose(at[~edge], 1.0, atol=1e-6) and (at[edge] >= 1.0 - 1e-6).all()
    assert tr["fill"] == "toself" and edge.any() and (~edge).any()
    assert fig["data"][TRACES_PER_PANEL * 0 + TIED]["line"]["dash"] == "dash"
    van = plots.update_phase(ViewState().replace(n=60), None)[0]
    assert van["data"][TIED]["x"] == []


def test_tied_point_gets_the_warning_with_the_measured_sizes():
    view = LSTM.replace(mu_b=5.0, sigma_w=1.0)
    p = theory.point(view.params("lstm"))
    assert p.tied_warning and p.rho_tied > 0.3
    fig, _, table, _ = plots.update_phase(view, None)
    html = readout_html([p], view)
    assert html == table and "tied-warning" in html and "×25" in html and "×6.7" in html
    assert "15–30 %" in html and f"{p.rho_tied:.3g}" in html and "untied mean field" in html
    texts = [a.get("text", "") for a in fig["layout"]["annotations"]]
    assert any("Real (tied) networks deviate" in t for t in texts)
    assert any("LSTM (untied mean field)" in t for t in texts)
    quiet = readout_html([theory.point(LSTM.params("lstm"))], LSTM)
    assert "tied-warning" not in quiet and "untied-note" in quiet
    assert "untied" not in readout_html([theory.point(theory.Params())], ViewState())


def test_lstm_readout_shows_cell_moments_and_closure():
    view = LSTM.replace(closure="gc4", compare="gru")
    pts = [theory.point(view.params(a)) for a in view.archs]
    html = readout_html(pts, view)
    assert f"{pts[0].Qc_star:.4g}" in html and "GC4" in html and "—" in html
    assert f"{pts[1].rho_tied:.4g}" in html


def test_lstm_spectrum_draws_only_the_m1_marker():
    view = LSTM.replace(T=10)
    fig, text = plots.update_spectrum(view)
    sp = theory.spectrum(view.params("lstm"), 10)
    assert not sp.has_density
    assert not [t for t in fig["data"] if "theory" in t.get("name", "")]
    line = next(s for s in fig["layout"]["shapes"] if s.get("name") == "m1")
    assert line["x0"] == pytest.approx(math.sqrt(sp.m1), rel=1e-12)
    lo, hi = fig["layout"]["xaxis"]["range"]
    assert lo < math.log10(line["x0"]) < hi
    assert "no theory density" in text and f"{sp.m1:.4g}" in text
    sampled, _ = plots.update_spectrum(view.replace(sample=True, N=40))
    assert any(t.get("name", "").startswith("sampled LSTM") for t in sampled["data"])


def test_simulated_network_is_drawn_over_the_mean_field():
    view = GRU.replace(simulate=True, N=60, T=30, seed=3)
    fig = plots.update_memory(view)
    sim = theory.simulate(view.params("gru"), N=60, T=30, rng=np.random.default_rng(3),
                          tied=True)
    traces = [t for t in fig["data"] if t.get("meta") == "simulated"]
    assert len(traces) == 2
    c = next(t for t in traces if "C<sub>t</sub>" in t["name"])
    assert np.allclose(as_array(c["y"]), sim.C, rtol=1e-5, equal_nan=True)
    assert fig["layout"]["meta"]["points"][0]["simulated"]["N"] == 60
    names = [t.get("name", "") for t in fig["data"]]
    assert any("untied mean field" in n for n in names)
    plain = plots.update_memory(GRU)
    assert not [t for t in plain["data"] if t.get("meta") == "simulated"]


def test_simulation_over_budget_is_refused_with_a_message():
    view = LSTM.replace(simulate=True, N=1000, T=500, compare="vanilla")
    assert not compute.simulate_allowed(view)
    fig = plots.update_memory(view)
    assert not [t for t in fig["data"] if t.get("meta") == "simulated"]
    note = next(a for a in fig["layout"]["annotations"] if a.get("name") == "simulate-refused")
    assert "above the budget" in note["text"] and "lower N or T" in note["text"]


def test_costly_gru_correlation_view_answers_with_a_message():
    view = GRU.replace(field="xi_c", Sigma=0.5)
    fig, drawn, _, status = plots.update_phase(view, None)
    assert drawn is None and "Costly view" in status and fig["data"] == []
    cheap = plots.update_phase(view.replace(Sigma=0.0), None)[0]  # Sigma = 0, sigma_b = 0
    assert cheap["data"]
    mem = plots.update_memory(view)
    assert mem["data"] and any(a.get("name") == "memory-note"
                               for a in mem["layout"]["annotations"])
    assert compute.costly_c(view.params("gru"))
    assert not compute.costly_c(view.replace(gru_variant="reset_before").params("gru"))


def test_exports_carry_the_gated_fields():
    view = LSTM.replace(compare="gru", mu_i=0.5, n=60)
    data = json.loads(export.to_json(view, "phase"))
    assert data["header"]["parameters"]["compare"] == "gru"
    assert data["header"]["parameters"]["mu_i"] == 0.5 and "rho_tied" in data["columns"]
    assert data["header"]["points"]["lstm"]["tied_warning"] is False
    code = export.python_snippet(view)
    assert "mu_i=0.5" in code and "'rho_tied'" in code and "'Qc_star'" in code
    assert "gru_variant='reset_after'" in code and "untied mean field" in code
    assert export.file_stem(view).startswith("rnn_lstm-vs-gru_")


def test_costly_view_keeps_the_readout_and_gc4_grids_are_coarser():
    fig, _, table, _ = plots.update_phase(GRU.replace(field="xi_c", Sigma=0.5), None)
    assert "Costly view" in fig["layout"]["annotations"][0]["text"]
    assert "<table" in table and "untied mean field" in table
    view = LSTM.replace(closure="gc4", n=100)
    assert compute.grid_key(view, "lstm")[4] == specs.GC4_GRID_MAX
    fig = plots.update_phase(view, None)[0]
    assert len(fig["data"][0]["x"]) == specs.GC4_GRID_MAX
    assert any("GC4 closure: grid" in a.get("text", "") for a in fig["layout"]["annotations"])
