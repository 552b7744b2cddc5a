"""Finite-width simulations of tied random RNNs against the mean-field theory.

``theory.simulate`` (theory/montecarlo.py) runs real networks of width N; these
tests compare what it measures with ``theory.point`` / ``theory.trajectory``
(theory.md sections 3 and 4) and with closed forms.

How the tolerances are built (written again next to each assertion):

* Every simulated number comes with a standard error ``se`` over ``n`` independent
  networks. Stationary values are time averages over the window after burn-in, so
  ``se`` contains both the O(1/sqrt(N)) network-to-network (quenched) spread and
  the time noise.
* Issue 2 asks for agreement within 2 % at N >= 1000: relative for q*, Q* and the
  chi's; for the correlations c*, C* (numbers in [0, 1], C* ~ 0.1 in the chaotic
  phase) 2 % of their range, i.e. 0.02 absolute. With ``scale`` = |theory| or 1
  accordingly, each such test asserts (i) |sim - theory| <= 0.02 scale, (ii)
  se <= 0.02 scale / 3, so that a 2 % discrepancy would lie >= 3 se away and could
  not hide in the noise, and (iii) |sim - theory| <= 5 se + (5/N) scale: the theory
  is the N -> infinity limit and the estimators have O(1/N) biases (the (N-1)/N of
  a variance over N units; the Jensen bias of a log-fit, -(3 mu_2/mu_1^2 - 1)/(2N)
  < 4/N at the points used); 5 se because se comes from few (4-8) networks.
* The network-to-network spread dominates se: at N = 1000 near chi_1 = 1 one
  network's C* differs from the mean field by ~0.016 (measured), so C* needs 8
  networks for (ii); the time window only has to cover a few relaxation times.
* Where the mean field is known to be approximate, the tests assert the measured
  deviation (larger than 4-10 se) and its documented size, not agreement.

Numbers measured with these seeds are quoted in the docstrings where they document
a deviation.
"""

from __future__ import annotations

import functools
import json
import math

import numpy as np
import pytest
from scipy import optimize
from scipy.special import expit

import theory
from theory.types import ParameterError, Params

pytestmark = pytest.mark.mc

N = 1000  # issue 2: "within 2 % at N >= 1000"
SPEC = 0.02  # issue 2: relative agreement asked for
BIAS_N = 5.0 / N  # bound on the O(1/N) estimator biases listed in the module docstring
VANILLA = dict(arch="vanilla", sigma_b=0.2, sigma_v=0.5, R=1.0, Sigma=0.5)


@functools.cache
def run(p: Params, T: int, n: int, seed: int, width: int = N) -> theory.Simulation:
    """One cached simulation (several tests read the same run)."""
    return theory.simulate(p, width, T, np.random.default_rng(seed), n_pairs=n)


@functools.cache
def critical_sigma_w(phi: str) -> float:
    """sigma_w on chi_1 = 1 for the VANILLA point, by brentq on theory.point."""

    def f(sw: float) -> float:
        return theory.point(Params(phi=phi, sigma_w=sw, **VANILLA)).chi_jac - 1.0

    return optimize.brentq(f, 0.8, 4.0, xtol=1e-12)


def vanilla_params(phi: str, phase: str, **changes) -> Params:
    sw = {"ordered": 0.8, "chaotic": 2.5}.get(phase) or critical_sigma_w(phi)
    return Params(phi=phi, sigma_w=sw, **{**VANILLA, **changes})  # weights: orthogonal default


def assert_spec(name: str, sim: float, se: float, th: float) -> None:
    """The three checks (i)-(iii) of the module docstring."""
    scale = 1.0 if name in ("c_star", "C_star") else abs(th)  # correlations: absolute
    dev = abs(sim - th)
    msg = f"{name}: sim {sim:.6g} +- {se:.2g}, theory {th:.6g}"
    assert dev <= SPEC * scale, msg  # (i) issue 2: within 2 %
    assert se <= SPEC / 3 * scale, msg  # (ii) a 2 % error would be >= 3 se: the test has power
    assert dev <= 5 * se + BIAS_N * scale, msg  # (iii) statistics (few networks) + O(1/N) bias


# ----------------------------------------------------------------------------- vanilla


@pytest.mark.parametrize("phi, weights", [("tanh", "orthogonal"), ("erf", "gaussian")])
@pytest.mark.parametrize("phase", ["ordered", "critical", "chaotic"])
def test_vanilla_stationary_and_decay(phi, weights, phase):
    """q*, Q*, C* and the perturbation decay of 8 networks, N = 1000, T = 160.

    Window t = 81..160 for q*, C* (the slowest relaxation, chi_c <= 0.79, takes
    xi_c < 5 steps); decay fit over t = 97..160 (16 steps of alignment skipped).
    chi_decay is the squared per-step factor of the log-fit, chi_jac the mean
    one-step squared growth, chi_trace (1/N) tr J^T J on the simulated states.
    """
    p = vanilla_params(phi, phase, weights=weights)
    th = theory.point(p)
    assert th.phase == phase
    s = run(p, 160, 8, seed=11)
    for name in ("q_star", "Q_star", "C_star"):
        assert_spec(name, getattr(s, name), getattr(s, name + "_se"), getattr(th, name))
    for name in ("chi_decay", "chi_jac", "chi_trace"):
        assert_spec(name, getattr(s, name), getattr(s, name + "_se"), th.chi_jac)


def assert_trajectory(s: theory.Simulation, tr, names=("q", "Q", "c", "C")) -> None:
    """Simulated curves against theory.trajectory for t = 1..T.

    Per step: |sim - theory| <= 5 se + |theory|/N, se over the n networks (with 15
    dof P(|t| > 5) ~ 2e-4 per point). One network's q_t or Q_t is an average over
    N units, relative sd ~ sqrt(2/N) = 4.5 %, so a single step cannot be held to 2 %;
    the issue's 2 % is asserted for the mean deviation over t = 1..T (relative for
    q, Q, absolute for the correlations), which catches any systematic offset.
    """
    t = np.arange(1, len(tr.t))
    for name in names:
        sim, se, want = getattr(s, name)[t], getattr(s, name + "_se")[t], getattr(tr, name)[t]
        dev = sim - want
        worst = int(np.argmax(np.abs(dev) / (5 * se + np.abs(want) / N)))
        msg = f"{name}_t, t={t[worst]}: sim {sim[worst]:.5f}+-{se[worst]:.1g} th {want[worst]:.5f}"
        assert np.all(np.abs(dev) <= 5 * se + np.abs(want) / N), msg  # statistics
        mean_dev = np.mean(dev / want) if name in ("q", "Q") else np.mean(dev)
        assert abs(mean_dev) <= SPEC, f"{name}: mean deviation {mean_dev:.4f}"  # issue 2


@pytest.mark.parametrize("phi", ["tanh", "erf"])
def test_vanilla_trajectory(phi):
    """q_t, Q_t, c_t, C_t for t = 1..30 from h_0 = 0, 16 Gaussian-W networks, N = 1000."""
    p = Params(phi=phi, sigma_w=1.6, weights="gaussian", **VANILLA)
    s = run(p, 30, 16, seed=12)
    assert s.Q[0] == 0.0 and s.C[0] == 1.0 and np.isnan(s.q[0]) and np.isnan(s.c[0])
    assert_trajectory(s, theory.trajectory(p, 30))


def fitted_factor(y: np.ndarray, t: np.ndarray) -> float:
    """exp of the least-squares slope of ln y(t)."""
    return math.exp(np.polyfit(t, np.log(y[t]), 1)[0])


def test_memory_of_first_input_ordered():
    """Sigma = 1 (only the first inputs differ): 1 - C_t decays like chi_1^t.

    1 - C_t = |h^a - h^b|^2 / (|h^a|^2 + |h^b|^2) (no cancellation), fitted where
    1e-25 < 1 - C_t < 1e-3 (linear regime, above round-off of |h^a - h^b|^2 ~ 1e-32):
    about 50 steps of 2 networks; the per-step slope of ln(1 - C_t) has relative
    noise ~ sqrt(2/N)/(steps * |ln chi|) ~ 1e-3, far inside the issue's 2 %.
    """
    p = vanilla_params("tanh", "ordered", Sigma=1.0)
    s = run(p, 80, 2, seed=13)
    y = s.one_minus_C
    t = np.flatnonzero((y < 1e-3) & (y > 1e-25))
    assert len(t) >= 30
    chi1 = theory.point(p).chi_jac
    assert abs(fitted_factor(y, t) / chi1 - 1) <= SPEC  # issue 2: memory decay within 2 %
    assert abs(s.chi_decay / chi1 - 1) <= SPEC  # the perturbation measures the same rate


def test_memory_power_law_at_criticality():
    """At chi_1 = 1 a finite difference decays as a power law (theory.md 10.4).

    The c-map near c = 1 is 1 - c' = chi_1 (1 - c) - a (1 - c)^2, so at chi_1 = 1,
    1 - c_t ~ 1/(a t): a log-log slope of -1, and an exponential fit over
    t in [20, 100] returns (20/100)^(1/80) = 0.980 instead of 1. The infinitesimal
    (renormalised) perturbation is not affected: its chi_decay stays within 2 % of 1.
    Measured with this seed: log-log slope -1.10, exponential fit 0.9795, while the
    renormalised chi_decay = 0.996 +- 0.004.
    """
    p = vanilla_params("tanh", "critical", Sigma=1.0)
    s = run(p, 200, 4, seed=14)
    t = np.arange(20, 101)
    slope = np.polyfit(np.log(t), np.log(s.one_minus_C[t]), 1)[0]
    assert -1.25 <= slope <= -0.75  # power law 1/t; finite-N chi_decay != 1 bends it by ~0.1
    naive = fitted_factor(s.one_minus_C, t)
    assert abs(naive - 0.980) <= 0.01  # the 1/t prediction for this window
    assert abs(s.chi_decay - 1.0) <= SPEC  # infinitesimal perturbation: chi_1 = 1 within 2 %
    assert naive < s.chi_decay - 4 * s.chi_decay_se  # the naive fit is biased, beyond the noise


def test_relu_realisation_spread():
    """Tied ReLU: q* differs between realisations far beyond the tanh spread (theory.md 10.4).

    6 orthogonal-W networks, N = 1000, sigma_w = 1.2 (chi_1 = 0.72). For tanh the
    network-to-network spread of q* is O(1/sqrt(N)) ~ 1 % or less (measured 0.7 %);
    for ReLU the documented spread is ~ +-15 % at N = 2000. Measured here: relative
    std 10 %, networks from 0.88 to 1.15 times the mean-field q* = 1.036, mean -1.6 %.
    """
    p = Params(phi="relu", sigma_w=1.2, **VANILLA)
    s = run(p, 240, 6, seed=15)
    spread = np.std(s.per_network["q_star"], ddof=1) / s.q_star
    tanh = run(vanilla_params("tanh", "ordered", weights="orthogonal"), 160, 8, seed=11)
    tanh_spread = np.std(tanh.per_network["q_star"], ddof=1) / tanh.q_star
    assert spread >= 0.05  # documented size: ~10 % (15 % at N = 2000)
    assert spread >= 5 * tanh_spread  # not the ordinary O(1/sqrt(N)) spread
    assert abs(s.q_star / theory.point(p).q_star - 1) <= 4 * spread / math.sqrt(6)  # mean: MF


# ----------------------------------------------------------------------------- minimalRNN

MINIMAL = dict(arch="minimal", sigma_b=0.0, sigma_v=1.0, R=1.0, Sigma=0.5)


def test_minimal_small_sigma_w():
    """mu_b = 0, sigma_w = 0.5 (chi_J = 0.31): the untied closure is accurate.

    4 networks, N = 1000, T = 300, window t = 151..300. q*, Q*, C*, chi_J from the
    Jacobian trace and from the mean one-step growth: checks (i)-(iii).
    The log-fit factor (the Lyapunov factor of the perturbation) is lower: with the
    diagonal part diag(u_t) dominating J_t the perturbation concentrates on few
    units, g_t^2 fluctuates strongly and E ln g^2 < ln E g^2. Measured: chi_decay
    0.2964 +- 0.0020 vs chi_J 0.3121 (-5.0 %), while chi_jac 0.3118 +- 0.0044 and
    chi_trace 0.3126 +- 0.0003 agree; asserted: 1 % to 8 % below, beyond 4 se.
    """
    p = Params(sigma_w=0.5, mu_b=0.0, **MINIMAL)
    th, s = theory.point(p), run(p, 300, 4, seed=21)
    for name in ("q_star", "Q_star", "C_star"):
        assert_spec(name, getattr(s, name), getattr(s, name + "_se"), getattr(th, name))
    assert_spec("chi_trace", s.chi_trace, s.chi_trace_se, th.chi_jac)
    assert abs(s.chi_jac / th.chi_jac - 1) <= SPEC  # issue 2 accuracy
    assert abs(s.chi_jac - th.chi_jac) <= 5 * s.chi_jac_se + BIAS_N * th.chi_jac  # statistics
    deficit = 1 - s.chi_decay / th.chi_jac
    assert 0.01 <= deficit <= 0.08  # documented localisation deficit (measured 5.0 %)
    assert th.chi_jac - s.chi_decay > 4 * s.chi_decay_se  # larger than the statistical error


def gauss(f, mu: float, q: float, c: float | None = None, g=None) -> float:
    """E f(e) (or E f(e^a) g(e^b) with correlation c): 120-node Gauss-Hermite.

    Used only for the smooth sigmoid at q ~ 1, where 120 nodes are exact to ~1e-12.
    """
    x, w = np.polynomial.hermite_e.hermegauss(120)
    w = w / w.sum()
    if c is None:
        return float(np.sum(w * f(mu + math.sqrt(q) * x)))
    ea = mu + math.sqrt(q) * x[:, None]
    eb = mu + math.sqrt(q) * (c * x[:, None] + math.sqrt(1 - c * c) * x[None, :])
    return float(np.sum(w[:, None] * w[None, :] * f(ea) * g(eb)))


def self_coupling_correction(p: Params, th) -> tuple[float, float]:
    r"""Finite-N shift of (Q*, C*) caused by the diagonal of V (minimalRNN).

    Unit i's gate sees its own input: e_i = V_ii z_i + (rest). By Stein's lemma
    E[(1-u) z] = -V_ii R E[u'], so h_i gets a mean m_i = -V_ii R E[u'] / (1 - E[u]),
    and E[h^2] gains 2 m E[u(1-u) z] / (1 - E[u^2]) with E[u(1-u) z] = V_ii R E[u'(1-2u)].
    Averaged over units (E V_ii^2 = sigma_v^2 / N):
    dQ = F_Q sigma_v^2 R^2 / N with F_Q = -2 E[u'] E[u'(1-2u)] / ((1-E[u])(1-E[u^2])),
    and likewise dQ^ab with F_ab = 2 E[u'] (E[u^a u'^b] - Sigma E[(1-u^a) u'^b])
    / ((1 - E[u]) (1 - E[u^a u^b])). It is O(1/N) but relative to Q* ~ e^{-mu_b} it
    grows like e^{mu_b}/N. Returns the corrected (Q*, C*).
    """
    q, c, mu = th.q_star, th.c_star, p.mu_b

    def up(e):
        return expit(e) * (1 - expit(e))

    Eu, Eu2, Eup = gauss(expit, mu, q), gauss(lambda e: expit(e) ** 2, mu, q), gauss(up, mu, q)
    Eup12 = gauss(lambda e: up(e) * (1 - 2 * expit(e)), mu, q)
    Euu = gauss(expit, mu, q, c, expit)
    A = gauss(up, mu, q, c, expit)
    B = gauss(up, mu, q, c, lambda e: 1 - expit(e))
    F_Q = -2 * Eup * Eup12 / ((1 - Eu) * (1 - Eu2))
    F_ab = 2 * Eup * (A - p.Sigma * B) / ((1 - Eu) * (1 - Euu))
    d = p.sigma_v**2 * p.R**2 / N
    Q = th.Q_star + F_Q * d
    return Q, (th.C_star * th.Q_star + F_ab * d) / Q


def test_minimal_large_mu_b():
    """mu_b = 5, sigma_w = 1: gates near 1, xi_J ~ 47 (theory.md 4.3).

    4 networks, N = 1000, T = 900, window t = 451..900 (the slowest finite-N mode,
    the unit means m_i, relaxes in 1/E[1-u] ~ 90 steps). q* and chi_J: checks
    (i)-(iii); the memory time xi_J = -1/ln chi from the perturbation within the
    "few per cent" of theory.md 4.3 (measured 47.6 vs 46.7, +1.8 %; 5 % asserted).
    Q*, C*: the diagonal-of-V effect (self_coupling_correction) shifts them; measured
    Q* 0.01477 +- 0.00010 vs mean field 0.01396 (+5.8 %) and corrected 0.01487;
    C* 0.357 +- 0.007 vs 0.314 (+13.6 %) and corrected 0.358. Asserted: the shift
    exceeds 4 se and the corrected values agree within 5 se + 1.5 %; the 1.5 % covers
    the terms the first-order correction leaves out (O(1/N) without the e^{mu_b}
    enhancement, a few 0.1 %) and the spread of sum_i V_ii^2 / N between networks
    (4.5 %/sqrt(4) of a 6-14 % shift, < 0.3 %).
    """
    p = Params(sigma_w=1.0, mu_b=5.0, **MINIMAL)
    th, s = theory.point(p), run(p, 900, 4, seed=22)
    assert_spec("q_star", s.q_star, s.q_star_se, th.q_star)
    for name in ("chi_trace", "chi_jac", "chi_decay"):
        assert_spec(name, getattr(s, name), getattr(s, name + "_se"), th.chi_jac)
    assert abs(s.chi_trace - th.chi_jac) <= 0.02 * (1 - th.chi_jac)  # 1 - chi itself to 2 %
    xi_sim, xi_th = -1 / math.log(s.chi_decay), th.xi_jac
    assert abs(xi_sim / xi_th - 1) <= 0.05  # theory.md 4.3: "agree to a few per cent"
    Q_n, C_n = self_coupling_correction(p, th)
    for name, corrected in (("Q_star", Q_n), ("C_star", C_n)):
        sim, se, mf = getattr(s, name), getattr(s, name + "_se"), getattr(th, name)
        assert sim - mf > 4 * se  # finite-N excess, beyond the statistical error
        assert abs(sim - corrected) <= 5 * se + 0.015 * corrected  # explained by V_ii


def test_minimal_tied_deviation_near_chi_J_1():
    """mu_b = 4, sigma_w = 4 (mean-field chi_J = 0.997): tied networks sit far below MF.

    theory.md 2 / 10.4: with tied W the gate correlates with the unit's own history
    and Q* comes out up to ~3x smaller near chi_J = 1 at mu_b = 4. Measured here:
    Q*_MF / Q*_sim = 2.8, chi (log-fit) 0.969 vs 0.997. Asserted: ratio in [2, 4]
    and both deviations beyond 10 se (3 networks, N = 1000, T = 600).
    """
    p = Params(sigma_w=4.0, mu_b=4.0, **MINIMAL)
    th, s = theory.point(p), run(p, 600, 3, seed=23)
    assert 2.0 <= th.Q_star / s.Q_star <= 4.0
    assert th.Q_star - s.Q_star > 10 * s.Q_star_se
    assert th.chi_jac - s.chi_decay > 10 * s.chi_decay_se


def test_minimal_trajectory_small_sigma_w():
    """Q_t, C_t, q_t, c_t for t = 1..30 (mu_b = 0, sigma_w = 0.5), 16 networks, N = 1000."""
    p = Params(sigma_w=0.5, mu_b=0.0, weights="gaussian", **MINIMAL)
    assert_trajectory(run(p, 30, 16, seed=24), theory.trajectory(p, 30))


# ----------------------------------------------------------------------------- exact checks


def test_linear_orthogonal_closed_form():
    """Linear phi, orthogonal W: closed forms, and the perturbation growth is exact.

    q* = (sigma_v^2 R + sigma_b^2)/(1 - sigma_w^2), c* = (sigma_v^2 R Sigma + sigma_b^2)
    / (sigma_v^2 R + sigma_b^2) (theory.md 3.2 with phi(e) = e); |W delta| = sigma_w
    |delta| exactly, so every decay estimate equals sigma_w^2 to round-off (1e-10).
    q*, c*: 4 networks of N = 400, 5 se + 1/N.
    """
    p = Params(phi="linear", sigma_w=0.6, sigma_b=0.3, sigma_v=0.7, R=1.0, Sigma=0.5)
    s = theory.simulate(p, 400, 200, np.random.default_rng(31), n_pairs=4)
    iv = p.sigma_v**2 * p.R + p.sigma_b**2
    q_star, c_star = iv / (1 - p.sigma_w**2), (p.sigma_v**2 * p.R * p.Sigma + p.sigma_b**2) / iv
    assert abs(s.q_star - q_star) <= 5 * s.q_star_se + q_star / 400
    assert abs(s.c_star - c_star) <= 5 * s.c_star_se + 1 / 400
    for name in ("chi_decay", "chi_jac", "chi_trace"):
        assert getattr(s, name) == pytest.approx(p.sigma_w**2, rel=1e-10)
    assert s.decay_factor == pytest.approx(p.sigma_w, rel=1e-10)
    assert np.allclose(np.diff(s.log_delta[s.burn_in :]), math.log(p.sigma_w), atol=1e-10)


def test_reproducible_and_conventions():
    """Same seed -> identical result; t = 0 follows theory.Trajectory; shapes."""
    p = theory.default_params("minimal")
    a = theory.simulate(p, 50, 20, np.random.default_rng(5), n_pairs=3)
    b = theory.simulate(p, 50, 20, np.random.default_rng(5), n_pairs=3)
    assert np.array_equal(a.Q, b.Q) and a.chi_jac == b.chi_jac
    assert a.t.tolist() == list(range(21)) and a.Q.shape == a.C_se.shape == (21,)
    assert (a.Q[0], a.C[0], a.one_minus_C[0]) == (0.0, 1.0, 0.0)
    assert np.isnan(a.q[0]) and np.isnan(a.c[0]) and np.isnan(a.log_delta[: a.burn_in]).all()
    assert a.decay_window == (10 + 2, 20) and a.per_network["q_star"].shape == (3,)
    one = theory.simulate(p, 50, 20, np.random.default_rng(5))
    assert np.isnan(one.Q_se).all() and math.isfinite(one.Q_star_se)  # batch-means se


def test_divergent_network_is_flagged_and_json_ready():
    """Linear phi with sigma_w = 3 has no fixed point: the run stops, is flagged, no crash."""
    p = Params(phi="linear", sigma_w=3.0)
    s = theory.simulate(p, 30, 5000, np.random.default_rng(6), n_pairs=2)
    assert not s.finite and math.isnan(s.q_star)
    ok = theory.simulate(Params(), 30, 20, np.random.default_rng(6), n_pairs=2)
    assert ok.finite
    d = json.loads(json.dumps(ok.to_dict(), allow_nan=False))
    assert d["q"][0] is None and d["Q"][1:] == pytest.approx(ok.Q[1:].tolist())
    assert d["params"] == Params().to_dict() and d["N"] == 30


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(N=1), "N"),
        (dict(N=10.0), "N"),
        (dict(N=True), "N"),
        (dict(N=10**5), "N"),
        (dict(T=1), "T"),
        (dict(T="5"), "T"),
        (dict(n_pairs=0), "n_pairs"),
        (dict(n_pairs=10**4), "n_pairs"),
        (dict(N=8000, T=100_000, n_pairs=2), "N"),  # work cap n_pairs T N^2 <= 1e11
        (dict(rng=np.random.RandomState(0)), "rng"),
        (dict(rng=0), "rng"),
        (dict(params={"arch": "vanilla"}), "params"),
        (dict(perturbation=0.0), "perturbation"),
        (dict(perturbation=math.nan), "perturbation"),
        (dict(perturbation=0.1), "perturbation"),
        (dict(burn_in=20), "burn_in"),
        (dict(burn_in=0), "burn_in"),
        (dict(decay_skip=10), "decay_skip"),
    ],
)
def test_bad_arguments(kwargs, name):
    args = dict(params=Params(), N=20, T=20, rng=np.random.default_rng(0))
    args.update(kwargs)
    with pytest.raises(ParameterError, match=f"^{name}"):
        theory.simulate(**args)
