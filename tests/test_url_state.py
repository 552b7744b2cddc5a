"""Permalink codec and the control table it relies on.

decode(encode(s)) must give s back for every state the controls can reach, and
any junk in a link must fall back to a clamped or default value with a notice,
never an exception.
"""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components import specs
from components.url_state import KEYS, SCHEMA_VERSION, decode, encode
from components.viewstate import ViewState, quantise
from theory import PARAM_RANGES, default_params


def test_control_table_lies_inside_the_theory_ranges():
    specs.check_table()
    for name, spec in specs.SLIDERS.items():
        assert spec.step > 0, name  # an explicit step on every slider
        for mode in specs.MODES:
            lo, hi = specs.slider_range(mode, name)
            assert lo < hi
            # the range is a whole number of steps (slider values are lo + k*step)
            n = (hi - lo) / spec.step
            assert abs(n - round(n)) < 1e-9, (mode, name)


def test_defaults_come_from_the_theory_defaults():
    for mode, arch in (("vanilla", "vanilla"), ("minimal", "minimal")):
        s = ViewState.default(mode)
        p = default_params(arch)
        for name in specs.PARAM_NAMES:
            assert getattr(s, name) == getattr(p, name)


def test_empty_link_is_the_default_view_without_notices():
    assert decode("") == (ViewState.default("vanilla"), [])
    assert decode(None) == (ViewState.default("vanilla"), [])
    assert decode("?arch=minimal") == (ViewState.default("minimal"), [])


def test_encoded_link_lists_every_key_once_with_the_schema_version():
    q = encode(ViewState())
    keys = [part.split("=")[0] for part in q.lstrip("?").split("&")]
    assert keys == list(KEYS)
    assert q.startswith(f"?v={SCHEMA_VERSION}&arch=vanilla&")


def _values(mode):
    def value(name):
        lo, hi = specs.slider_range(mode, name)
        return st.floats(lo, hi, allow_nan=False)
    return {name: value(name) for name in specs.SLIDERS}


@st.composite
def states(draw):
    mode = draw(st.sampled_from(specs.MODES))
    values = draw(st.fixed_dictionaries(_values(mode)))
    x, y = draw(st.sampled_from(specs.PLANES))
    return ViewState(
        mode=mode, phi=draw(st.sampled_from(("tanh", "erf", "relu", "linear"))),
        weights=draw(st.sampled_from(("gaussian", "orthogonal"))), x=x, y=y,
        field=draw(st.sampled_from(specs.FIELDS)), n=draw(st.sampled_from(specs.GRID_SIZES)),
        N=draw(st.integers(*specs.N_RANGE)), seed=draw(st.integers(*specs.SEED_RANGE)),
        sample=draw(st.booleans()), **values)


@settings(max_examples=200, deadline=None)
@given(states())
def test_decode_inverts_encode(s):
    back, notices = decode(encode(s))
    assert back == s and notices == []


@settings(max_examples=100, deadline=None)
@given(st.floats(-1e6, 1e6, allow_nan=False), st.sampled_from(sorted(specs.SLIDERS)))
def test_values_are_clamped_and_rounded_to_the_step(x, name):
    lo, hi = specs.slider_range("minimal", name)
    v = quantise(name, x, lo, hi)
    assert lo <= v <= hi
    k = (v - lo) / specs.SLIDERS[name].step
    assert abs(k - round(k)) < 1e-6
    if lo <= x <= hi:
        assert abs(v - x) <= specs.SLIDERS[name].step / 2 + 1e-9


@pytest.mark.parametrize("query, field, expected, fragment", [
    ("?sigma_w=abc", "sigma_w", 1.2, "sigma_w: 'abc' is not a number"),
    ("?sigma_w=nan", "sigma_w", 1.2, "is not finite"),
    ("?sigma_w=inf", "sigma_w", 1.2, "is not finite"),
    ("?sigma_w=1e300", "sigma_w", 4.0, "outside [0.1, 4]"),
    ("?sigma_w=-3", "sigma_w", 0.1, "outside"),
    ("?T=0", "T", 1, "outside [1, 500]"),
    ("?T=12.7", "T", 13, ""),
    ("?k=6.26", "k", 6.5, ""),
    ("?n=170", "n", 150, "is not one of"),
    ("?n=10000000", "n", 300, "is not one of"),
    ("?N=99999999", "N", specs.N_RANGE[1], "outside"),
    ("?seed=-5", "seed", 0, "outside"),
    ("?phi=sin", "phi", "tanh", "phi: 'sin' is not one of"),
    ("?weights=cauchy", "weights", "orthogonal", "weights"),
    ("?xi=z", "field", "xi_jac", "xi: 'z'"),
    ("?sample=yes", "sample", False, "sample"),
    ("?x=sigma_b&y=sigma_b", "x", "sigma_w", "plane (sigma_b, sigma_b)"),
    ("?x=R&y=sigma_b", "x", "sigma_w", "plane (R, sigma_b)"),
])
def test_bad_values_fall_back_with_a_notice(query, field, expected, fragment):
    state, notices = decode(query)
    assert getattr(state, field) == expected
    if fragment:
        assert any(fragment in n for n in notices), notices
    else:
        assert notices == []


def test_unknown_keys_bad_arch_and_other_version_are_reported():
    state, notices = decode("?v=7&arch=transformer&foo=1&sigma_w=2")
    assert state.mode == "vanilla" and state.sigma_w == 2.0
    text = " | ".join(notices)
    assert "unknown link key 'foo'" in text and "arch: 'transformer'" in text
    assert "version '7'" in text


def test_values_outside_a_mode_range_are_clamped_to_that_mode():
    # mu_b = 8 is fine for the minimalRNN but outside the vanilla slider
    assert decode("?arch=minimal&mu_b=8")[0].mu_b == 8.0
    state, notices = decode("?arch=vanilla&mu_b=8")
    assert state.mu_b == 2.0 and notices


def test_ranges_respect_exclusive_lower_bounds():
    # sigma_w and R are > 0 in theory.types; no slider may reach 0
    for name in ("sigma_w", "R"):
        assert PARAM_RANGES[name][2] is False
        for mode in specs.MODES:
            assert specs.slider_range(mode, name)[0] > 0
    assert not math.isclose(decode("?R=0")[0].R, 0.0)
