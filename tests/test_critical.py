"""Critical initialisations (theory.md 6.2, 6.3) checked by re-solving the mean field.

The critical-init code inverts chi_1 = 1 / applies the closed-form rule; these
tests feed the returned parameters back into the independent fixed-point solver
(`theory.point`) and check the defining property.
"""

import math

import pytest

import theory
from theory import Params, critical_init_minimal, critical_init_vanilla


@pytest.mark.parametrize("phi", ["tanh", "erf"])
@pytest.mark.parametrize("q_star", [0.01, 0.1, 1.0, 5.0])
def test_vanilla_critical_point_has_chi1_equal_one(phi, q_star):
    ci = critical_init_vanilla(q_star, phi=phi)
    assert ci.exists
    # Split the input variance between sigma_v (R = 1) and sigma_b = 0.
    p = Params(phi=phi, sigma_w=ci.sigma_w, sigma_b=0.0, sigma_v=math.sqrt(ci.input_variance),
               R=1.0)
    r = theory.point(p)
    assert r.q_star == pytest.approx(q_star, rel=1e-8)
    assert r.chi_jac == pytest.approx(1.0, abs=1e-8)
    assert r.phase == "critical"


def test_vanilla_small_q_matches_asymptotics():
    # theory.md 6.2: for tanh at small q*, sigma_w^2 ~ 1 + 2 q* and the input
    # variance is O(q*^3); the per-step spectral variance is O(q*^2).
    for q in (1e-3, 3e-3):
        ci = critical_init_vanilla(q)
        assert ci.sigma_w**2 == pytest.approx(1 + 2 * q, rel=5 * q)
        assert 0 < ci.input_variance < 10 * q**3
        assert ci.spectral_variance_per_step < 20 * q**2


def test_vanilla_relu_has_no_input_room():
    # relu at mu_b = 0: E[phi'^2] = 1/2, so sigma_w = sqrt 2, and
    # q* = sigma_w^2 q*/2 + v gives v = 0.
    ci = critical_init_vanilla(1.0, phi="relu")
    assert ci.sigma_w == pytest.approx(math.sqrt(2))
    assert ci.input_variance == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("T", [10, 100])
@pytest.mark.parametrize("delta", [0.1, 0.5])
def test_minimal_critical_point_is_near_isometry(T, delta):
    ci = critical_init_minimal(T, delta=delta)
    assert ci.converged and ci.in_range
    r = theory.point(Params(arch="minimal", sigma_w=ci.sigma_w, mu_b=ci.mu_b, sigma_v=1.0,
                            sigma_b=0.0, R=1.0))
    assert abs(1.0 - r.chi_jac) <= delta / T
    assert r.chi_jac < 1.0 and r.branch == "low"
    assert r.chi_jac == pytest.approx(ci.chi_jac, rel=1e-12)
    # Large-mu_b closed form (theory.md 4.4): eps = 1 - u is log-normal,
    # chi_J ~ 1 - 2 E[eps] + E[eps^2] (1 + sigma_w^2 R), E[eps^k] = exp(-k mu_b + k^2 q*/2).
    e1 = math.exp(-ci.mu_b + r.q_star / 2)
    e2 = math.exp(-2 * ci.mu_b + 2 * r.q_star)
    chi_asym = 1 - 2 * e1 + e2 * (1 + ci.sigma_w**2)
    # asymptotic: corrections of relative order E[eps] (u' = eps (1 - eps), ...): 20 %
    assert 1 - r.chi_jac == pytest.approx(1 - chi_asym, rel=0.2)


def test_minimal_out_of_range_is_reported():
    ci = critical_init_minimal(1000, delta=0.1)
    assert ci.converged and not ci.in_range and "exceeds" in ci.message


@pytest.mark.parametrize("bad", [0, -1, 1.5, "x", None, 10**9])
def test_minimal_bad_T(bad):
    with pytest.raises(theory.ParameterError, match="^T"):
        critical_init_minimal(bad)


@pytest.mark.parametrize("bad", [0.0, -0.1, float("nan"), float("inf"), "q"])
def test_vanilla_bad_q(bad):
    with pytest.raises(theory.ParameterError, match="^q_star"):
        critical_init_vanilla(bad)


def test_vanilla_out_of_range_target_is_flagged():
    ci = critical_init_vanilla(900.0)
    assert ci.exists and not ci.in_range and "outside" in ci.message
    assert critical_init_vanilla(0.5).in_range
