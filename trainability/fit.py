"""Fit k in "trainable while T - 1 < k xi" from measured outcomes, with a bootstrap interval.

Contract
--------
``fit_k(u, trained, rng, n_boot)`` takes u = (T - 1)/xi at every measured network and
whether it trained, and returns a :class:`KFit`: the fitted k, a percentile bootstrap
interval, the logistic slope and the counts. NumPy and SciPy only (no JAX), so a shipped
map can be re-fitted anywhere.

Model. A logistic in ln u with threshold ln k:

.. math:: P(\\text{trained} \\mid u) = \\frac{1}{1 + e^{\\beta(\\ln u - \\ln k)}},

fitted by maximum likelihood with a weak Gaussian penalty beta^2 / (2 * 10^2) on the slope.
The penalty only matters when the outcomes are perfectly separated (a sharp transition,
the usual case): the unpenalised slope then diverges and k is undetermined inside the
gap between the largest trained u and the smallest untrained u; the penalty puts k where
the nearest points on both sides balance. u = 0 (xi infinite) predicts "trained";
ln u is clipped to [-50, 50]. The interval resamples the (T, seed, x) points with
replacement (``n_boot`` replicates; replicates without both outcomes, or whose fit ends
on a bound, are dropped and counted) and takes the 2.5 and 97.5 percentiles of k. If the
fit itself ends on a bound (trainability does not fall with u), k is NaN with a message.

Example
-------
>>> import numpy as np
>>> u = np.array([1.0, 2.0, 4.0, 8.0, 16.0, 32.0])
>>> f = fit_k(u, u < 6.0, np.random.default_rng(0), n_boot=50)
>>> 4.0 < f.k < 8.0
True
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy.optimize import minimize

#: Scale of the Gaussian penalty on the logistic slope (in units of 1/ln u).
BETA_SCALE = 10.0
LN_U_CLIP = 50.0
LN_K_BOUNDS = (-20.0, 20.0)
BETA_BOUNDS = (1e-3, 1e3)


@dataclass(frozen=True)
class KFit:
    """Result of :func:`fit_k`; ``k`` and the interval are NaN when it cannot be fitted.

    ``message`` says why (e.g. every network trained: k is then only bounded below by
    the largest u, stored in ``u_max``).
    """

    k: float
    ci_low: float
    ci_high: float
    beta: float
    n: int
    n_trained: int
    n_boot: int
    n_boot_used: int
    u_min: float
    u_max: float
    message: str = ""

    def to_dict(self) -> dict:
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in asdict(self).items()}


def _nll(theta: np.ndarray, lnu: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Penalised negative log-likelihood and its gradient in (ln k, beta)."""
    lnk, beta = theta
    s = beta * (lnu - lnk)  # s > 0 favours failure
    nll = np.sum(np.where(y, np.logaddexp(0.0, s), np.logaddexp(0.0, -s)))
    g_s = 0.5 * (1.0 + np.tanh(0.5 * s)) - (1.0 - y)  # sigmoid(s) - (1 - y)
    grad = np.array([np.sum(g_s) * -beta, np.sum(g_s * (lnu - lnk))])
    nll += 0.5 * (beta / BETA_SCALE) ** 2
    grad[1] += beta / BETA_SCALE**2
    return float(nll), grad


def _fit_once(lnu: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Penalised maximum-likelihood (ln k, beta) for one data set with both outcomes."""
    start_lnk = 0.5 * (lnu[y].max() + lnu[~y].min())
    start = np.array([np.clip(start_lnk, *LN_K_BOUNDS), 2.0])
    res = minimize(_nll, start, args=(lnu, y), jac=True, method="L-BFGS-B",
                   bounds=[LN_K_BOUNDS, BETA_BOUNDS])
    return float(res.x[0]), float(res.x[1])


def _inside(lnk: float, beta: float) -> bool:
    """The fit ended inside its bounds (a slope at its floor means no fall with u)."""
    return (LN_K_BOUNDS[0] + 1e-6 < lnk < LN_K_BOUNDS[1] - 1e-6
            and beta > 1.01 * BETA_BOUNDS[0])


def fit_k(u, trained, rng: np.random.Generator, n_boot: int = 400) -> KFit:
    """Fit k of "trainable while u = (T - 1)/xi < k" (see the module docstring).

    Parameters
    ----------
    u : array_like of float
        (T - 1)/xi at each network; 0 where xi is infinite. NaN entries are ignored.
    trained : array_like of bool
        Whether each network trained (finite and accuracy >= threshold).
    rng : numpy.random.Generator
        Draws the bootstrap resamples.
    n_boot : int
        Bootstrap replicates (0: no interval).

    Returns
    -------
    KFit
    """
    u = np.asarray(u, float).ravel()
    y = np.asarray(trained, bool).ravel()
    if u.shape != y.shape:
        raise ValueError(f"u and trained: shapes differ ({u.shape} vs {y.shape})")
    keep = ~np.isnan(u)
    u, y = u[keep], y[keep]
    with np.errstate(divide="ignore"):
        lnu = np.clip(np.log(u), -LN_U_CLIP, LN_U_CLIP)
    n, n_ok = int(y.size), int(y.sum())
    u_min, u_max = (float(u.min()), float(u.max())) if n else (math.nan, math.nan)
    if n_ok in (0, n):
        msg = ("no network trained: k < smallest u" if n_ok == 0 and n else
               "every network trained: k > largest u" if n else "no data")
        return KFit(math.nan, math.nan, math.nan, math.nan, n, n_ok, n_boot, 0, u_min, u_max,
                    msg)
    lnk, beta = _fit_once(lnu, y)
    if not _inside(lnk, beta):
        return KFit(math.nan, math.nan, math.nan, beta, n, n_ok, n_boot, 0, u_min, u_max,
                    "trainability does not fall with u here: k is not determined")
    boots = []
    for _ in range(n_boot):
        idx = rng.integers(0, n, n)
        if 0 < y[idx].sum() < n:
            fit = _fit_once(lnu[idx], y[idx])
            if _inside(*fit):
                boots.append(fit[0])
    lo, hi = (np.exp(np.percentile(boots, [2.5, 97.5])) if boots else (math.nan, math.nan))
    return KFit(float(np.exp(lnk)), float(lo), float(hi), beta, n, n_ok, n_boot, len(boots),
                u_min, u_max)
