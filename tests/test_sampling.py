"""Finite-network Jacobian sampler (theory.md 5.1, issue 3).

Checks: the stable QR accumulation against the explicitly multiplied product at
small T, the graded-SVD step against LAPACK dgejsv (Jacobi SVD with proven high
relative accuracy), the deflation path against the undeflated one, the one-step
Jacobian against finite differences of the network map, reproducibility and
input validation. (Agreement with the theory is in test_spectra.py.)
"""

from __future__ import annotations

import numpy as np
import pytest

import theory
from theory import cells
from theory import sampling as SM


def _net(p, N, seed, burn=20):
    net = cells.get(p.arch).network(p, N, np.random.default_rng(seed))
    for _ in range(burn):
        net.step()
    return net


@pytest.mark.parametrize("weights", ["orthogonal", "gaussian"])
@pytest.mark.parametrize("arch", ["vanilla", "minimal"])
def test_accumulation_matches_explicit_product_at_small_T(arch, weights):
    mu_b = 0.0 if arch == "vanilla" else 2.0
    p = theory.Params(arch=arch, weights=weights, sigma_w=1.5, mu_b=mu_b)
    N, T = 60, 4
    net = _net(p, N, 1)
    state = (net.rng.bit_generator.state, net.h.copy())
    logs = SM.graded_log_sv(*SM._accumulate(net, (T,))[T])[0]
    net.rng.bit_generator.state, net.h = state
    P = np.eye(N)
    for _ in range(T):
        f = net.step()  # J = diag(a) W, or diag(a) + diag(c) W (theory.md 5.1)
        a, c = f.a, f.c
        J = a[:, None] * net.W if c is None else np.diag(a) + c[:, None] * net.W
        P = J @ P
    ref = np.log(np.linalg.svd(P, compute_uv=False))[::-1]
    # explicit product: absolute error ~1e-16 ||P||, so compare where s > 1e-8 s_max
    ok = ref > ref.max() - np.log(1e8)
    np.testing.assert_allclose(logs[ok], ref[ok], atol=1e-7)


def test_graded_svd_matches_jacobi_svd_over_300_efolds():
    p = theory.Params(weights="gaussian", sigma_w=1.5)
    ell, B = SM._accumulate(_net(p, 150, 3), (60,))[60]
    assert ell.max() - ell.min() > 250  # strongly graded: a plain SVD of P would fail
    got = SM.graded_log_sv(ell, B)[0]
    o = np.argsort(-ell)
    ref = SM.log_sv_jacobi(np.exp(ell[o] - ell[o][0])[:, None] * B[o]) + ell[o][0]
    np.testing.assert_allclose(got, ref, atol=1e-9)


def test_deflation_matches_undeflated_when_gaps_are_large(monkeypatch):
    p = theory.Params(weights="gaussian", sigma_w=1.5)
    ell, B = SM._accumulate(_net(p, 12, 2), (200,))[200]
    ref, gap0 = SM.graded_log_sv(ell, B)
    assert gap0 == np.inf and ell.max() - ell.min() > 400
    monkeypatch.setattr(SM, "SPAN", 60.0)
    got, gap = SM.graded_log_sv(ell, B)
    assert gap > 10  # relative error ~ exp(-2 gap)
    np.testing.assert_allclose(got, ref, atol=1e-8)


ONE_STEP_CASES = [
    theory.Params(sigma_w=1.3), theory.Params(arch="minimal", sigma_w=2.0, mu_b=1.0),
    theory.Params(arch="gru", sigma_w=1.5, sigma_b=0.3, mu_b=1.0, mu_r=0.5),
    theory.Params(arch="gru", sigma_w=1.5, sigma_b=0.3, mu_b=1.0, gru_variant="reset_before"),
    theory.Params(arch="gru", sigma_w=1.2, weights="block-orthogonal",
                  overrides={"sigma_bh_n": 0.4}),
    theory.Params(arch="lstm", sigma_w=1.5, sigma_b=0.3, mu_b=1.0, mu_i=0.5, mu_o=-0.5),
    theory.Params(arch="lstm", sigma_w=1.0, weights="block-orthogonal"),
]


@pytest.mark.parametrize("p", ONE_STEP_CASES,
                         ids=lambda p: f"{p.arch}-{p.gru_variant}-{p.weights}")
def test_one_step_jacobian_is_the_derivative_of_the_network_map(p):
    """The factor a step returns is d state_t / d state_{t-1} (theory.md 5.1, gated-cells.md
    3.5 and 4.8), checked column by column against central differences of the map."""
    net = _net(p, 30, 4)
    s0 = net.state.copy()
    rng_state = net.rng.bit_generator.state
    J = net.step().apply(np.eye(net.dim))
    eps = 1e-6
    for j in (0, 7, net.dim - 1):
        out = []
        for sgn in (1, -1):
            net.rng.bit_generator.state = rng_state
            s = s0.copy()
            s[j] += sgn * eps
            net.state = s
            net.step()
            out.append(net.state.copy())
        np.testing.assert_allclose((out[0] - out[1]) / (2 * eps), J[:, j], atol=1e-7)


def test_reproducible_sorted_and_log_consistent():
    p = theory.Params(weights="gaussian")
    a = theory.sample_singular_values(p, 40, 6, np.random.default_rng(9))
    b = theory.sample_singular_values(p, 40, 6, np.random.default_rng(9), log=True)
    c = theory.sample_singular_values(p, 40, 6, np.random.default_rng(10))
    assert np.all(np.diff(a) >= 0) and a.shape == (40,)
    np.testing.assert_allclose(np.log(a), b, rtol=1e-12)
    assert not np.allclose(a, c)


def test_relu_network_has_half_zero_singular_values():
    p = theory.Params(phi="relu", sigma_w=1.2, weights="orthogonal")
    ls = theory.sample_singular_values(p, 200, 3, np.random.default_rng(0), log=True)
    zero = ls < ls.max() - 30  # rank deficiency: numerically zero
    # atom 1/2 (theory.md: rank of D W .. D W is #active units); binomial sd ~ 0.035
    assert abs(zero.mean() - theory.spectrum(p, 3).atom_at_zero) < 0.12


def test_bad_input_is_rejected():
    p = theory.Params()
    rng = np.random.default_rng(0)
    with pytest.raises(theory.ParameterError, match="^N"):
        theory.sample_singular_values(p, 1, 5, rng)
    with pytest.raises(theory.ParameterError, match="^T"):
        theory.sample_singular_values(p, 10, 0, rng)
    with pytest.raises(theory.ParameterError, match="^rng"):
        theory.sample_singular_values(p, 10, 5, 0)
