"""Parameter validation and the JSON form of results (theory/types.py)."""

import json
import math

import pytest

import theory
from theory import ParameterError, Params
from theory.types import phase_of, xi_from_chi


@pytest.mark.parametrize(
    "field,value",
    [("sigma_w", 0.0), ("sigma_w", -1.0), ("sigma_w", 10.5), ("sigma_b", -0.1),
     ("sigma_v", 3.5), ("mu_b", 11.0), ("R", 0.0), ("Sigma", 1.2), ("Sigma", -0.1),
     ("sigma_w", float("nan")), ("sigma_b", float("inf")), ("R", "abc"), ("mu_b", None),
     ("sigma_w", True)],
)
def test_bad_numbers_are_rejected_with_the_name(field, value):
    with pytest.raises(ParameterError, match=f"^{field}"):
        Params(**{field: value})


@pytest.mark.parametrize("field,value", [("arch", "gpt"), ("phi", "sin"), ("weights", "uniform")])
def test_bad_choices_are_rejected(field, value):
    with pytest.raises(ParameterError, match=f"^{field}"):
        Params(**{field: value})


def test_strings_of_numbers_are_accepted_and_converted():
    assert Params(sigma_w="1.5").sigma_w == 1.5


def test_xi_and_phase_conventions():
    assert xi_from_chi(1.0) == math.inf and xi_from_chi(1.5) == math.inf
    assert xi_from_chi(math.exp(-1 / 7)) == pytest.approx(7.0)
    assert phase_of(1.0 + 5e-4) == "critical" and phase_of(0.9) == "ordered"
    assert phase_of(1.1) == "chaotic"


def test_point_to_dict_is_strict_json_with_section_11_names():
    r = theory.point(Params(sigma_w=3.0, Sigma=1.0))  # chaotic: xi_jac is infinite
    d = r.to_dict()
    text = json.dumps(d, allow_nan=False)
    back = json.loads(text)
    for name in ("q_star", "Q_star", "c_star", "C_star", "chi_q", "chi_c", "chi_jac", "xi_q",
                 "xi_c", "xi_jac", "phase", "branch", "bistable", "converged"):
        assert name in back
    assert back["xi_jac"] is None and back["phase"] == "chaotic"


def test_default_params_per_arch():
    assert theory.default_params("minimal").arch == "minimal"
    assert theory.default_params("vanilla").phi == "tanh"


def test_two_sided_timescale():
    """tau = 1/|ln chi|: finite on both sides of the critical line (trainability, part 9)."""
    from theory.types import tau_from_chi

    assert tau_from_chi(math.exp(-1 / 7)) == pytest.approx(7.0)
    assert tau_from_chi(math.exp(1 / 5)) == pytest.approx(5.0)
    assert tau_from_chi(1.0) == math.inf and tau_from_chi(0.0) == 0.0
    r = theory.point(Params(sigma_w=2.5, sigma_b=0.2, sigma_v=0.5))  # chaotic: xi_jac = inf
    assert r.xi_jac == math.inf and r.tau_jac == pytest.approx(1 / math.log(r.chi_jac))
    import numpy as np

    g = theory.grid(Params(), x=("sigma_w", np.array([0.8, 2.5])), y=("sigma_b", np.array([0.2])),
                    fields=("chi_jac", "tau_jac"))
    np.testing.assert_allclose(g["tau_jac"], 1.0 / np.abs(np.log(g["chi_jac"])), rtol=1e-12)
