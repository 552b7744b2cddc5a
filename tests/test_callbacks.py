"""Callback logic as plain functions (no browser, no Dash server).

The state writer is called with the trigger it would get from Dash; the panel
callback runs the real theory (small grids, so this file stays fast) and its
numbers are compared with direct calls of the theory API at the same
parameters: they must be equal, since the dashboard adds no numerics.
"""

import json
import math

import numpy as np
import pytest
from dash import no_update

import theory
from components import compute, ids, url_state
from components.callbacks import parse, plots, state
from components.figures import as_array
from components.viewstate import ViewState

EXACT = 1e-12  # same code path on the same machine: equal up to rounding noise


def outputs_of(result):
    """{(component id, property): value} of a sync_state answer."""
    return {(o.component_id, o.component_property): v
            for o, v in zip(state.outputs(), result, strict=True)}


def controls_of(s):
    """Values of the State controls of sync_state (every control but the mode)."""
    values = state.control_values(s)
    names = parse.dependencies({"mode"})[0][1:]
    return [values[n] for n in names]


def test_parse_reads_every_control_and_falls_back_on_junk():
    s = ViewState.default("minimal").replace(sigma_w=3.3, x="sigma_v", y="mu_b", T=77)
    values = state.control_values(s)
    assert parse.parse(parse.NAMES, [values[n] for n in parse.NAMES]) == s
    junk = dict(values, sigma_w=None, T="abc", plane="nonsense", n=7, mode="transformer")
    parsed = parse.parse(parse.NAMES, [junk[n] for n in parse.NAMES])
    default = ViewState.default("vanilla")  # unknown mode -> vanilla defaults
    assert parsed.mode == "vanilla" and parsed.sigma_w == default.sigma_w
    assert parsed.T == default.T and parsed.n == default.n
    assert (parsed.x, parsed.y) == (default.x, default.y)
    assert parsed.mu_b == 2.0  # a valid value is kept (clamped to the vanilla range)


def test_url_load_writes_every_control_ranges_and_notices():
    s = ViewState.default("minimal").replace(sigma_w=3.5, T=80, field="xi_c", seed=9)
    out = outputs_of(state.sync_state(ids.URL, url_state.encode(s) + "&bogus=1",
                                      "vanilla", None, *controls_of(ViewState())))
    assert out[(ids.control("sigma_w"), "value")] == 3.5
    assert out[(ids.MODE, "value")] == "minimal" and out[(ids.FIELD, "value")] == "xi_c"
    assert out[(ids.control("mu_b"), "max")] == 8.0
    assert out[(ids.PHI, "disabled")] is True and "sigmoid" in out[(ids.PHI_WRAP, "title")]
    assert "unknown link key 'bogus'" in out[(ids.NOTICE, "children")]
    assert out[(ids.NOTICE, "hidden")] is False and out[(ids.READY, "data")] is True
    assert out[(ids.PANELS, "className")] == "panels mode-minimal"


def test_switching_architecture_loads_its_defaults_and_plane():
    old = ViewState().replace(T=120, k=4.0, field="xi_q", seed=3)
    out = outputs_of(state.sync_state(ids.MODE, "", "minimal", None, *controls_of(old)))
    d = ViewState.default("minimal")
    assert out[(ids.control("mu_b"), "value")] == d.mu_b
    assert out[(ids.PLANE, "value")] == "sigma_w,mu_b"
    assert out[(ids.control("T"), "value")] == 120 and out[(ids.FIELD, "value")] == "xi_q"
    assert out[(ids.control("sigma_w"), "max")] == 10.0
    assert out[(ids.PHI, "disabled")] is True
    back = outputs_of(state.sync_state(ids.MODE, "", "vanilla", None, *controls_of(d)))
    assert back[(ids.PHI, "disabled")] is False and back[(ids.PLANE, "value")] == "sigma_w,sigma_b"
    assert back[(ids.NOTICE, "hidden")] is True


def test_click_moves_the_point_to_the_clicked_cell_rounded_to_the_steps():
    s = ViewState()
    line_vertex = {"x": 1.9, "y": 0.5, "curveNumber": 4}  # reported first by Plotly
    click = {"points": [line_vertex, {"x": 2.123456, "y": 0.456789, "z": 1.2,
                                      "curveNumber": 0}]}
    out = outputs_of(state.sync_state(ids.PHASE_GRAPH, "", "vanilla", click, *controls_of(s)))
    assert out[(ids.control("sigma_w"), "value")] == 2.12
    assert out[(ids.control("sigma_b"), "value")] == 0.46
    assert out[(ids.control("T"), "value")] is no_update  # nothing else is rewritten
    assert out[(ids.control("sigma_w"), "min")] is no_update


@pytest.mark.parametrize("click", [None, {}, {"points": []}, {"points": [{"x": "a", "y": 1}]}])
def test_bad_click_payload_changes_nothing(click):
    out = outputs_of(state.sync_state(ids.PHASE_GRAPH, "", "vanilla", click,
                                      *controls_of(ViewState())))
    values = [out[(i, p)] for _, i, p in parse.CONTROLS]
    assert all(v is no_update for v in values)


def test_sample_buttons_switch_the_overlay():
    s = ViewState()
    on = outputs_of(state.sync_state(ids.SAMPLE_BUTTON, "", "vanilla", None, *controls_of(s)))
    assert on[(ids.SAMPLE, "data")] is True
    off = outputs_of(state.sync_state(ids.CLEAR_BUTTON, "", "vanilla", None,
                                      *controls_of(s.replace(sample=True))))
    assert off[(ids.SAMPLE, "data")] is False


def test_fired_names_maps_component_ids_to_controls():
    assert plots.fired_names({"ctl-sigma_w.value": "ctl-sigma_w"}) == {"sigma_w"}
    assert plots.fired_names({}) is None


SMALL = ViewState().replace(n=60)


def test_panel_callback_skips_panels_whose_inputs_did_not_fire():
    out = plots.update_panels(SMALL, {"seed"}, None)
    assert out[0] is no_update and out[4] is no_update and isinstance(out[5], dict)
    out = plots.update_panels(SMALL, {"k"}, None)
    assert isinstance(out[0], dict) and isinstance(out[4], dict) and out[5] is no_update


def test_phase_numbers_equal_the_theory_api():
    s = SMALL.replace(sigma_w=1.37, sigma_b=0.31)
    fig, drawn, table, status = plots.update_phase(s, None)
    p = theory.Params(sigma_w=1.37, sigma_b=0.31, sigma_v=0.5)
    ref = theory.point(p)
    (ann,) = [a for a in fig["layout"]["annotations"] if a.get("name") == "state"]
    shown = json.loads(ann["text"])
    assert shown["key"] == url_state.encode(s)
    assert shown["points"][0]["xi"] == pytest.approx(ref.xi_jac, rel=EXACT)
    assert shown["points"][0]["chi_jac"] == pytest.approx(ref.chi_jac, rel=EXACT)
    xs = np.linspace(0.1, 4.0, 60)
    ys = np.linspace(0.0, 1.0, 60)
    g = theory.grid(p, x=("sigma_w", xs), y=("sigma_b", ys))
    z = as_array(fig["data"][0]["z"])
    ok = np.isfinite(g["xi_jac"])
    # z (colour only) is log10 xi rounded to 2 decimals and clipped to the colour range
    np.testing.assert_allclose(z[ok], np.clip(np.log10(g["xi_jac"][ok]), -1, 3),
                               atol=5e-3 + 1e-12)
    # the hover reads xi itself, to 4 significant digits
    text = fig["data"][0]["text"]
    hover = [text[i][j] for i, j in np.argwhere(ok).tolist()]
    assert hover == [float(f"{v:.4g}") for v in g["xi_jac"][ok].tolist()]
    assert "ordered" in status or "chaotic" in status
    assert drawn["tk"] == [s.T, s.k]


def test_phase_sends_a_patch_when_the_grid_is_unchanged():
    s = SMALL
    _, drawn, _, _ = plots.update_phase(s, None)
    moved = s.replace(sigma_w=2.0)
    fig, drawn2, _, _ = plots.update_phase(moved, drawn)
    # a Patch, in the JSON form Dash sends it in (a plain dict: see plots._patch)
    assert fig["__dash_patch_update"] == "__dash_patch_update" and drawn2["grid"] == drawn["grid"]
    ops = fig["operations"]
    assert {tuple(op["location"]) for op in ops} == {("layout", "annotations")}
    fig, _, _, _ = plots.update_phase(moved.replace(T=200), drawn)
    locations = {tuple(op["location"]) for op in fig["operations"]}
    assert ("data", 2, "x") in locations  # the T = k xi line follows T
    fig, _, _, _ = plots.update_phase(moved.replace(sigma_v=0.9), drawn)
    assert isinstance(fig, dict)  # out-of-plane: new grid, whole figure


def test_a_move_of_sigma_keeps_the_grid_unless_the_diagram_shows_xi_c():
    """xi_jac and xi_q do not depend on Sigma: moving it patches the figure; xi_c does."""
    for field, patched in (("xi_jac", True), ("xi_q", True), ("xi_c", False)):
        s = SMALL.replace(field=field, Sigma=0.2)
        _, drawn, _, _ = plots.update_phase(s, None)
        fig, drawn2, _, _ = plots.update_phase(s.replace(Sigma=0.7), drawn)
        assert ("__dash_patch_update" in fig) is patched, field
        assert (drawn2["grid"] == drawn["grid"]) is patched, field


def test_memory_numbers_equal_the_theory_api():
    s = SMALL.replace(sigma_w=1.5, T=30)
    fig = plots.update_memory(s)
    p = theory.Params(sigma_w=1.5, sigma_b=0.2, sigma_v=0.5)
    ref, tr = theory.point(p), theory.trajectory(p, 30)
    meta = fig["layout"]["meta"]["points"][0]
    assert meta["xi_c"] == pytest.approx(ref.xi_c, rel=EXACT)
    assert meta["C_T"] == pytest.approx(tr.C[-1], rel=EXACT)
    assert meta["q_T"] == pytest.approx(tr.q[-1], rel=EXACT)


def test_spectrum_numbers_and_sample_equal_the_theory_api():
    s = SMALL.replace(T=10, N=60, seed=4, sample=True)
    fig, text = plots.update_spectrum(s)
    p = s.params("vanilla")
    ref = theory.spectrum(p, 10)
    meta = fig["layout"]["meta"]["points"][0]
    assert meta["m1"] == pytest.approx(ref.m1, rel=EXACT)
    logs = theory.sample_singular_values(p, 60, 10, np.random.default_rng(4), log=True)
    assert meta["sample"]["m1"] == pytest.approx(float(np.mean(np.exp(2 * logs))), rel=EXACT)
    assert any(t["name"].startswith("sampled") for t in fig["data"])
    assert "sample m₁" in str(text)


def test_sampling_over_budget_is_skipped_with_a_message():
    s = SMALL.replace(T=500, N=1000, sample=True)
    assert not compute.sample_allowed(s)
    fig, text = plots.update_spectrum(s)
    assert not any(t.get("name", "").startswith("sampled") for t in fig["data"])
    assert "Sampling skipped" in str(text)


def test_sampling_budget_counts_every_architecture_shown():
    from components import specs

    n, t = 200, int(specs.SAMPLE_BUDGET // 200**3)  # exactly at the budget for one network
    assert compute.sample_allowed(ViewState.default("minimal").replace(N=n, T=t, sample=True))
    both = ViewState.default("both").replace(N=n, T=t, sample=True)
    assert compute.sample_cost(both) == 2 * n**3 * t and not compute.sample_allowed(both)
    assert compute.sample_allowed(both.replace(T=t // 2))


@pytest.mark.parametrize("value,expected", [(True, True), (1, True), (False, False), (0, False),
                                            ("false", False), ("true", False), ([1], False),
                                            (2, False)])
def test_sample_switch_accepts_only_booleans(value, expected):
    """A forged "false" (a non-empty string) must not switch sampling on."""
    assert parse.parse(["sample"], [value]).sample is expected


def test_theory_errors_become_a_message_not_a_crash(monkeypatch):
    def boom(_state):
        raise theory.ParameterError("sigma_w: broken on purpose")
    monkeypatch.setattr(compute, "phase_data", boom)
    monkeypatch.setattr(compute, "memory_data", boom)
    fig, drawn, _, status = plots.update_phase(SMALL, None)
    def text(f):
        return f["layout"]["annotations"][0]["text"].replace("<br>", " ")
    assert drawn is None and "broken on purpose" in text(fig)
    assert "broken on purpose" in text(plots.update_memory(SMALL))


def test_readout_lists_every_number_as_text():
    _, _, table, _ = plots.update_phase(SMALL, None)
    text = str(table)
    ref = theory.point(SMALL.params("vanilla"))
    for value in (ref.q_star, ref.chi_jac, ref.xi_c):
        assert f"{value:.5g}" in text
    assert "ordered" in text and not math.isnan(ref.q_star)


def test_full_answers_go_to_orjson_in_one_call():
    """Issue 14: plotly's encoder hands a figure to orjson as it is and visits every value
    in Python only when orjson refuses a type (a NumPy string array did: ~30 ms per phase
    diagram). Every figure of a full answer, and the trainability panel's, is accepted."""
    import orjson

    from components.callbacks import trainability as tcb

    opts = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY
    for mode in ("vanilla", "minimal"):
        state = ViewState.default(mode)
        out = plots.update_panels(state, None, None)
        for value in out[:7]:
            if value is not no_update:
                orjson.dumps(value, option=opts)  # raises TypeError on a refused type
        fig, _, _ = tcb.update(state, {"map": "auto", "step": "last", "view": "map"})
        orjson.dumps(fig, option=opts)
        # a move in the plane and a change of T: the phase diagram is patched
        drawn = plots.drawn_key(state)
        for move in ({state.x: getattr(state, state.x) + 0.1}, {"T": state.T + 1}):
            out = plots.update_panels(state.replace(**move), set(move), drawn)
            assert out[0]["__dash_patch_update"]
            for value in out[:7]:
                if value is not no_update:
                    orjson.dumps(value, option=opts)


def test_parse_skips_values_the_view_already_holds_without_changing_the_result():
    """parse() applies only the controls whose value differs from the view built so far;
    applying every control one by one gives the same view (random views, junk mixed in)."""
    rng = np.random.default_rng(7)
    junk = ["junk", float("nan"), True, 1, 2.5, None, "1.5", -1e300]

    def apply_all(values):
        raw = dict(zip(parse.NAMES, values, strict=True))
        state = ViewState.default(raw["mode"])
        if raw["compare"] != parse.NO_COMPARE:
            state = parse._apply(state, "compare", raw["compare"])
        for name, value in raw.items():
            if name not in ("mode", "compare") and value is not None:
                state = parse._apply(state, name, value)
        return state

    for _ in range(60):
        mode = str(rng.choice(["vanilla", "minimal", "gru", "lstm"]))
        state = ViewState.default(mode).replace(
            sigma_w=float(rng.uniform(0.1, 4)), T=int(rng.integers(1, 500)),
            sigma_v=float(rng.uniform(0, 3)))
        d = state.to_dict()
        values = []
        for name in parse.NAMES:
            value = {"plane": f"{state.x},{state.y}",
                     "compare": state.compare or parse.NO_COMPARE}.get(name, d.get(name))
            if rng.random() < 0.15 and name not in ("mode", "compare"):
                value = junk[rng.integers(len(junk))]
            values.append(value)
        assert parse.parse(parse.NAMES, values) == apply_all(values)
