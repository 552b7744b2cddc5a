"""Finite-width simulation of tied random RNNs: the independent check of the mean field.

:func:`simulate` draws ``n_pairs`` real networks of width N (weights W, V, b shared
across time, theory.md section 1.3), runs each on two input sequences a, b from
h_0 = 0 and measures, for t = 0..T, the order parameters of theory.md 1.3:

* ``q_t``: variance over units of the pre-activation e_t (about its mean over units),
  averaged over the two sequences;
* ``Q_t = |h_t|^2 / N``, averaged over the two sequences;
* ``c_t = q^{ab}_t / q_t`` (covariance over units of e^a, e^b divided by q_t);
* ``C_t = Q^{ab}_t / Q_t`` with ``Q^{ab}_t = h^a_t . h^b_t / N``.

Index 0 follows :class:`theory.types.Trajectory`: Q_0 = 0, C_0 = 1, q_0 = c_0 = NaN.
At t = 1 the two sequences get independent inputs; from t = 2 on their inputs have
correlation ``params.Sigma``. It also measures the decay rate of an infinitesimal
perturbation, whose square estimates ``chi_jac`` (see :func:`simulate`, Notes), and
(1/N) tr J^T J of the one-step Jacobian on the simulated states. The stepping loop
lives in :mod:`theory._mc_kernels`.

Example
-------
>>> import numpy as np, theory
>>> p = theory.Params(arch="vanilla", phi="linear", sigma_w=0.5, sigma_b=0.0)
>>> s = theory.simulate(p, N=200, T=60, rng=np.random.default_rng(0), n_pairs=2)
>>> bool(abs(s.q_star / (0.25 / 0.75) - 1) < 0.2)   # q* = sigma_v^2 R / (1 - sigma_w^2)
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from theory import cells
from theory._mc_kernels import OBS, RECORDED, run_batch
from theory.types import ParameterError, Params

#: Upper bounds that keep a call from exhausting memory or running for hours.
MAX_N = 8192
MAX_T = 100_000
MAX_PAIRS = 1000
#: Bound on n_pairs * T * N^2 (about 6 multiply-adds each: minutes on 2 cores).
MAX_WORK = 1e11
#: Networks are processed in batches holding at most this many entries of W (32 MB).
_BATCH_ENTRIES = 2**22


@dataclass(frozen=True)
class Simulation:
    """Order parameters measured on finite tied networks.

    Arrays indexed by t = 0..T are means over the ``n_pairs`` networks; ``*_se`` are
    their standard errors (std over networks / sqrt(n_pairs); NaN if n_pairs = 1).

    Attributes
    ----------
    params : Params
    N, T, n_pairs, burn_in : int
        Width, steps, number of networks, and last step excluded from the
        stationary window (the window is t = burn_in + 1 .. T).
    t, q, Q, c, C, one_minus_C : ndarray, shape (T + 1,)
        ``one_minus_C = |h^a - h^b|^2 / (|h^a|^2 + |h^b|^2)`` equals 1 - C_t but is
        accurate far below 1e-16 (no cancellation); use it for memory decay fits.
    q_se, Q_se, c_se, C_se, one_minus_C_se : ndarray, shape (T + 1,)
    q_star, Q_star, c_star, C_star : float
        Stationary estimates: mean over networks of each network's time average over
        the stationary window. ``*_se``: std over networks / sqrt(n_pairs); with one
        network, a batch-means error over 10 blocks of the window, which misses the
        network-to-network (quenched) spread.
    decay_factor, decay_factor_se : float
        Per-step growth factor of an infinitesimal perturbation: exp of the slope of
        ln|delta_t| over the decay window (see simulate, Notes).
    chi_decay, chi_decay_se : float
        ``decay_factor**2`` averaged over networks: the squared per-step factor, i.e.
        the measured memory decay of |delta|^2 (and of 1 - C_t) per step.
    chi_jac, chi_jac_se : float
        Mean over the window of the one-step squared growth ``g_t**2`` of the
        renormalised perturbation: a direct estimate of the mean squared singular
        value of the one-step Jacobian (chi_jac), free of the Jensen bias of the log.
    chi_trace, chi_trace_se : float
        Stationary mean of (1/N) tr(J_t^T J_t) computed from the Jacobian of sequence a
        (theory.md 5.1) on the simulated states: chi_jac measured without a
        perturbation, so it tests the closure of the state statistics alone.
    decay_window : (int, int)
        The fit uses the steps t with ``decay_window[0] < t <= decay_window[1]``.
    log_delta : ndarray, shape (T + 1,)
        Mean over networks of ln(|delta_t| / |delta_0|) of the linearised perturbation
        (NaN before it starts at t = burn_in).
    per_network : dict of ndarray, shape (n_pairs,)
        The stationary estimates, decay_factor and chi_jac of each network.
    finite : bool
        False if a network's state overflowed (no finite fixed point, e.g. linear phi
        with sigma_w >= 1); its run stops there and the estimates are NaN or inf.
    tied : bool
        Whether W and b were the same at every step (a real network) or redrawn.
    """

    params: Params
    N: int
    T: int
    n_pairs: int
    burn_in: int
    t: np.ndarray
    q: np.ndarray
    Q: np.ndarray
    c: np.ndarray
    C: np.ndarray
    one_minus_C: np.ndarray
    q_se: np.ndarray
    Q_se: np.ndarray
    c_se: np.ndarray
    C_se: np.ndarray
    one_minus_C_se: np.ndarray
    q_star: float
    Q_star: float
    c_star: float
    C_star: float
    q_star_se: float
    Q_star_se: float
    c_star_se: float
    C_star_se: float
    decay_factor: float
    decay_factor_se: float
    chi_decay: float
    chi_decay_se: float
    chi_jac: float
    chi_jac_se: float
    chi_trace: float
    chi_trace_se: float
    decay_window: tuple[int, int]
    log_delta: np.ndarray
    per_network: dict[str, np.ndarray] = field(default_factory=dict)
    finite: bool = True
    tied: bool = True

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: parameters, sizes, curves and estimates; NaN/inf -> None."""

        def clean(v: Any) -> Any:
            if isinstance(v, np.ndarray):
                return [clean(float(x)) for x in v]
            if isinstance(v, float):
                return v if math.isfinite(v) else None
            return v

        out: dict[str, Any] = {"params": self.params.to_dict()}
        for f in fields(self):
            if f.name not in ("params", "per_network"):
                out[f.name] = clean(getattr(self, f.name))
        out["decay_window"] = list(self.decay_window)
        out["per_network"] = {k: clean(v) for k, v in self.per_network.items()}
        return out


def _check_int(name: str, value: object, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ParameterError(f"{name}: expected an integer, got {value!r}")
    if not lo <= int(value) <= hi:
        raise ParameterError(f"{name}: {value} is outside [{lo}, {hi}]")
    return int(value)


def _validate(params, N, T, rng, n_pairs, burn_in, perturbation, decay_skip):
    """Check every argument of :func:`simulate`; return (N, T, n, burn_in, skip)."""
    if not isinstance(params, Params):
        raise ParameterError(f"params: expected theory.Params, got {type(params).__name__}")
    if not isinstance(rng, np.random.Generator):
        raise ParameterError(f"rng: expected numpy.random.Generator, got {type(rng).__name__}")
    N = _check_int("N", N, 2, MAX_N)
    T = _check_int("T", T, 2, MAX_T)
    n = _check_int("n_pairs", n_pairs, 1, MAX_PAIRS)
    if float(n) * T * N * N > MAX_WORK:
        raise ParameterError(f"N: n_pairs * T * N^2 = {n * T * N * N:.3g} exceeds {MAX_WORK:g}")
    burn = T // 2 if burn_in is None else _check_int("burn_in", burn_in, 1, T - 1)
    try:
        eps = float(perturbation)
    except (TypeError, ValueError):
        raise ParameterError(f"perturbation: expected a number, got {perturbation!r}") from None
    if not (math.isfinite(eps) and 0.0 < eps <= 1e-3):
        raise ParameterError(f"perturbation: {perturbation!r} is outside (0, 1e-3]")
    span = T - burn
    skip = span // 5 if decay_skip is None else _check_int("decay_skip", decay_skip, 0, span - 1)
    return N, T, n, burn, skip


def _mean_se(x: np.ndarray, axis: int = 0):
    """Mean and standard error (ddof = 1) along ``axis``; SE is NaN for one sample."""
    m = x.mean(axis=axis)
    k = x.shape[axis]
    se = x.std(axis=axis, ddof=1) / math.sqrt(k) if k > 1 else np.full_like(m, np.nan)
    return m, se


def _window_estimate(x: np.ndarray):
    """Mean and SE of per-network window averages ``x`` (n, L).

    With one network the SE comes from 10 batch means of the window.
    """
    per = x.mean(axis=1)
    if x.shape[0] > 1:
        m, se = _mean_se(per)
        return float(m), float(se), per
    blocks = np.array_split(x[0], min(10, x.shape[1]))
    bm = np.array([blk.mean() for blk in blocks])
    se = bm.std(ddof=1) / math.sqrt(len(bm)) if len(bm) > 1 else math.nan
    return float(per[0]), float(se), per


def simulate(
    params: Params,
    N: int,
    T: int,
    rng: np.random.Generator,
    n_pairs: int = 1,
    *,
    burn_in: int | None = None,
    perturbation: float = 1e-6,
    decay_skip: int | None = None,
    tied: bool = True,
) -> Simulation:
    r"""Simulate ``n_pairs`` finite tied networks and measure the mean-field order parameters.

    Parameters
    ----------
    params : Params
        Architecture, nonlinearity, weight law and scales (theory.md 1.3).
    N : int
        Width, 2 <= N <= 8192.
    T : int
        Number of steps, 2 <= T <= 100000.
    rng : numpy.random.Generator
        Source of every random number (weights, inputs, perturbation).
    n_pairs : int, optional
        Number of independent networks (each runs the pair of sequences a, b),
        1..1000. ``n_pairs * T * N**2`` must not exceed 1e11.
    burn_in : int, optional
        The stationary window is t = burn_in + 1 .. T and the perturbation starts at
        t = burn_in. Default T // 2.
    perturbation : float, optional
        Relative size |delta| / |h^a| of the perturbation, in (0, 1e-3].
    decay_skip : int, optional
        Steps after burn_in left out of the decay fit (alignment transient).
        Default (T - burn_in) // 5.
    tied : bool, optional
        True (default): a real RNN, the same W and b at every step. False: the
        recurrent matrices and the biases are redrawn before every step (V stays),
        the untied ensemble in which the mean field is exact (theory.md 2,
        gated-cells.md 2.2); orthogonal W then costs a QR per gate per step.

    Returns
    -------
    Simulation

    Raises
    ------
    ParameterError
        For a non-Params ``params``, a non-Generator ``rng`` or an out-of-range integer.

    Notes
    -----
    Vanilla: :math:`h_t = \phi(W h_{t-1} + V x_t + b)` (theory.md 1.1). minimalRNN
    (1.2): :math:`u_t = \sigma(W h_{t-1} + V z_t + b)`,
    :math:`h_t = u_t h_{t-1} + (1-u_t) z_t`, where the mapped inputs z_t are drawn
    directly as i.i.d. N(0, R) vectors: the theory uses only their statistics, so no
    input map Phi is simulated. W is N(0, sigma_w^2/N) or sigma_w times a Haar
    orthogonal matrix; V ~ N(0, sigma_v^2/N); b ~ N(mu_b, sigma_b^2).

    **Decay rate.** At t = burn_in a copy of network state h^a gets
    :math:`h^p = h^a + \delta_0` with an isotropic random :math:`\delta_0`,
    :math:`|\delta_0| = \varepsilon |h^a|`, and then the same inputs as a. After every
    step the growth :math:`g_t = |h^p_t - h^a_t| / |\delta_{t-1}|` is recorded and the
    difference is rescaled back to :math:`\varepsilon |h^a_t|` (Benettin
    renormalisation), so the copy stays in the linear regime: it neither saturates
    (chaotic phase) nor sinks into float64 round-off (ordered phase). Hence
    :math:`\ln|\delta_t| = \sum_s \ln g_s` is the log-norm of the linearised
    perturbation :math:`\delta_t = J_t\cdots J_1\delta_0` with the state-to-state
    Jacobians of theory.md 5.1, and its slope over the window
    (burn_in + decay_skip, T], i.e. the mean of :math:`\ln g_t` (the least-squares
    slope of a path with independent increments), gives ``decay_factor``.

    Why its square estimates chi_jac: chi_jac is the mean squared singular value of
    :math:`J_t` (theory.md 3.3, 4.2, 5.2), so :math:`E|J_t v|^2 = \chi_{jac}|v|^2` for
    a direction v independent of :math:`J_t`. For the vanilla RNN the gains
    :math:`\phi'(e_t)` are refreshed by every input and :math:`W\delta` spreads over
    all units, so :math:`g_t^2` concentrates as N grows and
    :math:`\exp(2E\ln g)\to\chi_{jac}`, with the O(1/N) Jensen bias
    :math:`-(3\mu_2/\mu_1^2-1)/(2N)`, :math:`\mu_k = E\phi'^{2k}`. Three estimates
    are returned: ``chi_decay`` (the log-fit, i.e. the rate at which a difference is
    actually forgotten), ``chi_jac`` (mean of :math:`g_t^2`, no Jensen bias) and
    ``chi_trace`` (no perturbation at all). The perturbation is infinitesimal, so the
    finite-amplitude power law of theory.md 10.4 (1 - C_t ~ 1/t at chi = 1) does not
    enter; ``decay_skip`` only drops the transient in which delta aligns with the
    slowest-decaying direction.

    Where the estimates part (measured at N = 1000, see tests/test_montecarlo.py):

    * minimalRNN at small sigma_w: diag(u_t) dominates :math:`J_t`, delta gathers on
      few units and :math:`g_t^2` fluctuates strongly; ``chi_decay`` is ~4-5 % below
      chi_J while ``chi_jac`` and ``chi_trace`` agree with it.
    * tied minimalRNN at large sigma_w and moderate mu_b: all three, and Q*, differ
      from the untied mean field (theory.md 2, 10.4).
    * linear phi with Gaussian W: tied W is not normal, :math:`|W^t\delta|^2` grows
      like :math:`(t+1)\sigma_w^{2t}`, so ``chi_decay`` exceeds sigma_w^2 (+3.6 %
      over a 160-step window); nonlinear gains remove this for tanh and erf.

    Finite-N effect of the minimalRNN at large mu_b: the gate of unit i sees its own
    input through V_ii, which gives h_i a mean :math:`-V_{ii}R\,E[u']/E[1-u]` and
    raises Q* (and Q^{ab}) by about :math:`\sigma_v^2R^2/N`. Relative to
    :math:`Q^*\approx\frac R2e^{-\mu_b+3q^*/2}` that is
    :math:`2\sigma_v^2Re^{\mu_b-3q^*/2}/N`: +6 % at mu_b = 5 and +18 % at mu_b = 6
    for N = 1000 (sigma_v = R = 1). These means relax in :math:`1/E[1-u]` steps,
    longer than xi_J, so ``burn_in`` must exceed several of them.
    """
    N, T, n, burn, skip = _validate(params, N, T, rng, n_pairs, burn_in, perturbation, decay_skip)
    cells.require(params.arch, "simulator")
    if not isinstance(tied, bool):
        raise ParameterError(f"tied: expected True or False, got {tied!r}")
    sim = cells.get(params.arch).simulator
    batch = max(1, min(n, _BATCH_ENTRIES // (N * N)))
    parts = []
    with np.errstate(all="ignore"):  # overflow of a divergent network -> inf/NaN, flagged
        for k in range(0, n, batch):
            parts.append(run_batch(params, sim, N, T, min(batch, n - k), burn, perturbation, rng,
                                   tied))
        per = {k: np.concatenate([p[0][k] for p in parts]) for k in RECORDED}
        logg = np.concatenate([p[1] for p in parts])
        return _summarise(params, N, T, n, burn, skip, per, logg, tied)


def _decay_estimates(logg: np.ndarray, start: int) -> dict:
    """Per-step factor, its square and the mean squared growth over t > start.

    ``logg[k, t] = ln g_t`` of network k. Errors: std over networks / sqrt(n), or
    10 batch means of the window for one network.
    """
    rate = logg[:, start + 1 :]
    out = {}
    m, se, per_rate = _window_estimate(rate)
    if logg.shape[0] > 1:
        for name, per in (("decay_factor", np.exp(per_rate)), ("chi_decay", np.exp(2 * per_rate))):
            mm, ss = _mean_se(per)
            out[name], out[name + "_se"] = float(mm), float(ss)
    else:
        out["decay_factor"], out["decay_factor_se"] = math.exp(m), math.exp(m) * se
        out["chi_decay"], out["chi_decay_se"] = math.exp(2 * m), 2 * math.exp(2 * m) * se
    out["chi_jac"], out["chi_jac_se"], per_chi = _window_estimate(np.exp(2 * rate))
    out["per_network"] = {"decay_factor": np.exp(per_rate), "chi_jac": per_chi}
    return out


def _summarise(params, N, T, n, burn, skip, per, logg, tied) -> Simulation:
    """Means, standard errors, stationary and decay estimates (see :class:`Simulation`)."""
    curves = {}
    for k in OBS:
        curves[k], curves[k + "_se"] = _mean_se(per[k])
    win = slice(burn + 1, T + 1)
    stat = {}
    decay = _decay_estimates(logg, burn + skip)
    per_net = decay.pop("per_network")
    for k in ("q", "Q", "c", "C"):
        m, se, pn = _window_estimate(per[k][:, win])
        stat[k + "_star"], stat[k + "_star_se"], per_net[k + "_star"] = m, se, pn
    m, se, pn = _window_estimate(per["chi_trace"][:, win])
    stat["chi_trace"], stat["chi_trace_se"], per_net["chi_trace"] = m, se, pn
    log_delta = np.full(T + 1, np.nan)
    log_delta[burn] = 0.0
    log_delta[burn + 1 :] = np.cumsum(logg[:, burn + 1 :], axis=1).mean(axis=0)
    finite = bool(np.isfinite(per["Q"]).all() and np.isfinite(logg[:, burn + 1 :]).all())
    return Simulation(
        params=params,
        N=N,
        T=T,
        n_pairs=n,
        burn_in=burn,
        t=np.arange(T + 1),
        **curves,
        **stat,
        **decay,
        decay_window=(burn + skip, T),
        log_delta=log_delta,
        per_network=per_net,
        finite=finite,
        tied=tied,
    )
