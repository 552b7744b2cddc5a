"""Presets (theory/presets.py) and their wiring through the single state writer.

Each preset is applied by calling ``state.sync_state`` with the trigger Dash
would give; the control values written must be the preset's numbers (rounded to
the slider steps) and the caption's numbers must be the theory API's.
"""

import math
import re

import pytest
from dash import no_update
from test_callbacks import controls_of, outputs_of

import theory
from components import ids
from components.callbacks import parse, state
from components.viewstate import ViewState
from theory import presets


def apply(name, old=ViewState()):
    out = outputs_of(state.sync_state(ids.PRESET, "", old.mode, None, *controls_of(old),
                                      preset=name))
    values = {n: out[(i, p)] for n, i, p in parse.CONTROLS}
    return parse.parse(parse.NAMES, list(values.values())), out


@pytest.mark.parametrize("name", list(presets.PRESETS))
def test_each_preset_sets_the_controls_it_names(name):
    values, caption = presets.resolve(name)
    new, out = apply(name)
    assert new.mode == values["mode"]
    for key, want in values.items():
        if key == "mode":
            continue
        got = getattr(new, key)
        if isinstance(want, float):
            spec_step = {"sigma_w": 0.01, "sigma_b": 0.01, "sigma_v": 0.01, "R": 0.01,
                         "mu_b": 0.05, "Sigma": 0.01}[key]
            assert abs(got - want) <= spec_step / 2 + 1e-9, (key, got, want)
        else:
            assert got == want, key
    text = out[(ids.PRESET_CAPTION, "children")]
    p = presets.PRESETS[name]
    assert p.label in text and p.source in text and caption in text
    assert p.caption or p.dynamic  # every static preset has a one-line caption
    if name.startswith("fig"):
        assert "paper values unverified" in text


def test_vanilla_critical_preset_uses_the_closed_form_rule():
    r = theory.critical_init_vanilla(presets.VANILLA_Q_STAR)
    new, out = apply("vanilla_critical")
    assert new.sigma_w == round(r.sigma_w, 2) and new.sigma_v == round(
        math.sqrt(r.input_variance), 2)
    assert f"{r.sigma_w:.4f}" in out[(ids.PRESET_CAPTION, "children")]
    # at the slider-rounded point chi_1 is within the phase tolerance of 1
    assert theory.point(new.params("vanilla")).phase == "critical"


@pytest.mark.parametrize("T", [10, 50, 500])
def test_minimal_critical_preset_follows_the_current_T(T):
    old = ViewState.default("minimal").replace(T=T, sigma_v=0.8)
    new, out = apply("minimal_critical", old)
    rs = [theory.critical_init_minimal(T, d, sigma_v=0.8, R=1.0, sigma_b=0.0)
          for d in presets.MINIMAL_DELTAS]
    # the first tolerance whose mu_b fits the slider, else the last one, clamped
    r = next((r for r in rs if r.mu_b <= 8.0), rs[-1])
    assert new.T == T and new.mode == "minimal" and new.sigma_v == 0.8
    assert new.mu_b == pytest.approx(min(r.mu_b, 8.0), abs=0.025)
    assert ("clamped" in out[(ids.PRESET_CAPTION, "children")]) == (r.mu_b > 8.0)
    assert new.sigma_w == pytest.approx(min(r.sigma_w, 10.0), abs=0.005)
    text = out[(ids.PRESET_CAPTION, "children")]
    assert f"μ_b = {r.mu_b:.3f}" in text and f"χ_J = {r.chi_jac:.5f}" in text
    assert re.search(r"δ = [0-9.]+", text)


def test_orthogonal_and_gaussian_presets_differ_only_in_weights():
    a, _ = apply("spectrum_orthogonal")
    b, _ = apply("spectrum_gaussian")
    assert (a.weights, b.weights) == ("orthogonal", "gaussian")
    assert a.replace(weights="gaussian") == b


def test_reset_returns_to_the_start_view_and_clears_the_dropdown():
    old = ViewState.default("minimal").replace(sigma_w=7.0, T=300)
    out = outputs_of(state.sync_state(ids.RESET, "", "minimal", None, *controls_of(old),
                                      preset="ordered"))
    values = [out[(i, p)] for _, i, p in parse.CONTROLS]
    assert parse.parse(parse.NAMES, values) == ViewState.default("minimal")
    assert out[(ids.PRESET, "value")] is None


def test_cleared_or_unknown_preset_changes_nothing():
    out = outputs_of(state.sync_state(ids.PRESET, "", "vanilla", None,
                                      *controls_of(ViewState()), preset=None))
    assert all(out[(i, p)] is no_update for _, i, p in parse.CONTROLS)
    new, out = apply("nonsense")
    assert new == ViewState() and "not applied" in out[(ids.PRESET_CAPTION, "children")]


def test_presets_module_is_plain_data():
    src = (presets.__file__ and open(presets.__file__).read())
    assert "import dash" not in src and "plotly" not in src
    with pytest.raises(theory.ParameterError):
        presets.resolve("nope")
