"""GRU and LSTM mean field against finite networks (``theory.simulate``, gated-cells.md 2).

* **Untied** networks (W_k and the biases redrawn at every step, gated-cells.md 2.2) are
  the ensemble in which the GRU's maps are exact and the LSTM's are exact up to the
  Gaussian closure and the decoupling in (4.9). Tolerance, as in test_montecarlo.py:
  |sim - theory| <= 5 se + BIAS_N * scale, with se the standard error over ``PAIRS``
  networks (each a time average over the stationary window) and BIAS_N = 5/N for the
  O(1/N) estimator biases (the (N-1)/N of a variance over N units; the Jensen bias of
  the log-growth); ``scale`` = |theory| (1 for the correlation C*). The LSTM adds the
  documented closure errors (gated-cells.md 2.2, table L-C): GC in Q* up to 2.4 %,
  chi_jac 1 % at ordered points.
* **Tied** networks (real RNNs) deviate (gated-cells.md 2.3): they forget more slowly.
  These tests measure the deviation and assert its documented direction and size, not
  agreement; the numbers are quoted in the docstrings.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

import theory
from theory import Params

pytestmark = pytest.mark.mc

N = 400
PAIRS = 4
T, BURN = 240, 120
BIAS_N = 5.0 / N


@functools.cache
def run(p: Params, tied: bool, seed: int) -> theory.Simulation:
    return theory.simulate(p.replace(weights="gaussian"), N, T, np.random.default_rng(seed),
                           n_pairs=PAIRS, burn_in=BURN, tied=tied)


UNTIED = [
    Params(arch="gru", sigma_w=1.0, sigma_v=1.0, sigma_b=0.0, mu_b=1.0, Sigma=0.5),
    Params(arch="gru", sigma_w=2.5, sigma_v=1.0, sigma_b=0.3, mu_b=0.0, Sigma=0.5,
           gru_variant="reset_before"),
    Params(arch="lstm", sigma_w=1.0, sigma_v=1.0, sigma_b=0.0, mu_b=1.0, Sigma=0.5),
    Params(arch="lstm", sigma_w=3.0, sigma_v=1.0, sigma_b=0.2, mu_b=0.0, Sigma=0.5),
]


def _agree(sim_value, se, theory_value, scale, extra=0.0):
    tol = 5.0 * se + (BIAS_N + extra) * scale
    assert abs(sim_value - theory_value) <= tol, (sim_value, theory_value, se, tol)


@pytest.mark.parametrize("p", UNTIED, ids=lambda p: f"{p.arch}-{p.gru_variant}-sw{p.sigma_w}")
def test_untied_networks_follow_the_mean_field(p):
    r, s = theory.point(p), run(p, False, 11)
    closure = 0.024 if p.arch == "lstm" else 0.0  # GC error in Q* (gated-cells.md 4.1)
    _agree(s.q_star, s.q_star_se, r.q_star, r.q_star, closure)
    _agree(s.Q_star, s.Q_star_se, r.Q_star, r.Q_star, closure)
    _agree(s.C_star, s.C_star_se, r.C_star, 1.0, 0.05 if p.arch == "lstm" else 0.0)
    # chi_jac: mean squared growth of a renormalised perturbation (of (c, h) for the LSTM)
    _agree(s.chi_jac, s.chi_jac_se, r.chi_jac, r.chi_jac, 0.021 if p.arch == "lstm" else 0.0)


@pytest.mark.parametrize("arch,key", [("gru", "pytorch"), ("lstm", "keras")])
def test_tied_networks_forget_more_slowly_at_framework_defaults(arch, key):
    """gated-cells.md 2.3 (3): at every framework default the tied memory rate is 15-28 %
    above chi_jac (LSTM 0.67 vs 0.55, GRU 0.44 vs 0.36 in the spec's runs)."""
    d = {x.key: x for x in theory.framework_defaults(arch, H=N)}[key]
    r, tied = theory.point(d.params), run(d.params, True, 5)
    ratio = tied.chi_jac / r.chi_jac
    assert 1.08 < ratio < 1.45, ratio
    assert abs(tied.Q_star / r.Q_star - 1.0) < 0.08  # forward statistics: a few per cent


def test_tied_long_memory_lstm_cell_grows():
    """gated-cells.md 2.3 (1): LSTM mu_f = 4 on the untied critical line (sigma_w = 2.07):
    the tied cell variance is many times the untied one (x35 in the spec's long runs; it
    grows over ~1/(1 - E f) steps, so a 240-step run sees part of it)."""
    p = Params(arch="lstm", sigma_w=2.07, sigma_v=1.0, sigma_b=0.0, mu_b=4.0)
    r = theory.point(p)
    assert r.tied_warning  # rho_tied > 0.3 flags it
    s = run(p, True, 3)
    assert s.Q_star > 1.1 * r.Q_star
