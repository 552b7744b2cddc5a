"""Root finding for the gated-cell reference: all roots of a 1-D map, the root reached from below.

Contract: :func:`all_roots` returns every sign change of a residual on a scan grid, polished by
brentq (xtol 1e-18, rtol 1e-15); :func:`root_from_below` returns the smallest root above a
start point of a residual g(x) = G(x) - x whose map G is increasing (the correlation maps of
gated-cells.md 3.5 and 4.4: iterating G from below converges monotonically to that root).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize

XTOL = 1e-18
RTOL = 1e-15
#: Scan grid for the variance maps on [0, 1): geometric from 1e-9 (low branches at large
#: memory-gate bias sit at Q* ~ 1e-5) plus a linear part, 96 points.
Q_SCAN = np.unique(
    np.concatenate(([0.0], np.geomspace(1e-9, 0.999, 72), np.linspace(0.04, 0.999, 25)))
)


def brent(g, a: float, b: float) -> float:
    """brentq on [min(a, b), max(a, b)] at the module tolerances."""
    lo, hi = (a, b) if a < b else (b, a)
    return optimize.brentq(g, lo, hi, xtol=XTOL, rtol=RTOL, maxiter=500)


def all_roots(g, grid=Q_SCAN) -> list[tuple[float, bool]]:
    """Roots of ``g`` between sign changes on ``grid`` as (root, stable) pairs, increasing.

    ``stable`` means g goes from + to - (the map's slope is < 1 there). A root pair closer
    than the grid spacing is missed; the grid is dense where the gated cells' low branches
    live (geometric near 0).
    """
    vals = [g(x) for x in grid]
    out = []
    for j in range(len(grid) - 1):
        (x0, g0), (x1, g1) = (grid[j], vals[j]), (grid[j + 1], vals[j + 1])
        if g0 == 0.0:
            out.append((float(x0), g1 < 0.0))
        elif g0 * g1 < 0.0:
            out.append((brent(g, x0, x1), g0 > 0.0))
    return out


def root_from_below(g, x0: float, hi: float, n_iter: int = 3) -> float | None:
    """Smallest root of g(x) = G(x) - x above ``x0`` (G increasing), below ``hi``.

    A few iterations x <- x + g(x) (monotone from below), then a walk with doubling steps to
    the first sign change, then brentq. Returns None if ``hi`` is reached without one.
    """
    x, gx = x0, g(x0)
    if gx <= 0.0:  # x0 is the root (e.g. Q^{ab} = 0 with uncorrelated inputs) up to round-off
        return x0
    for _ in range(n_iter):
        if gx <= 0.0 or x + gx >= hi:
            break
        x = x + gx
        gx = g(x)
    if gx == 0.0:
        return x
    if gx < 0.0:  # overshoot is impossible for an increasing G; guard against round-off
        return brent(g, x0, x)
    step = max(2.0 * gx, 1e-14 * max(x, 1e-300))
    while True:
        y = min(x + step, hi)
        gy = g(y)
        if gy <= 0.0:
            return y if gy == 0.0 else brent(g, x, y)
        if y >= hi:
            return None
        x, step = y, 2.0 * step


def xi_of(chi: float) -> float:
    """xi = -1/ln chi for 0 < chi < 1; inf for chi >= 1; 0 for chi <= 0 (theory.md 3.3)."""
    if not math.isfinite(chi):
        return math.nan
    if chi >= 1.0:
        return math.inf
    return -1.0 / math.log(chi) if chi > 0.0 else 0.0


def spectral_radius(m) -> float:
    """Largest |eigenvalue| of a small square matrix."""
    return float(np.max(np.abs(np.linalg.eigvals(np.asarray(m, dtype=float)))))
