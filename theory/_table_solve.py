"""Numba kernels: variance fixed points from the 1-D moment tables (private).

Safeguarded Newton on the variance maps (theory.md 3.1, 4.1) with the moments
read from a ``_tables`` table: every grid node, and the first guess of the
minimalRNN point solver (whose direct-rule polish then takes one or two steps).
"""


from numba import njit

from theory._cross_solve import C_TOL, MAXIT, XTOL, newton_step
from theory._tables import lookup


@njit(cache=True, nogil=True, inline="always")
def _q_residual(code, tab, sw2, v, mu, R, x, m):
    """Residual and slope-1 of the variance map at x (vanilla: q, minimal: Q)."""
    if code == 4:
        q = sw2 * x + v
        lookup(tab, code, mu, q, m)
        chi_q = m[0] + sw2 * (x * m[3] - R * m[4])
        return m[0] * x + m[1] * R - x, chi_q - 1.0
    lookup(tab, code, mu, x, m)
    return sw2 * m[0] + v - x, sw2 * m[2] - 1.0


@njit(cache=True, nogil=True, inline="always")
def _solve(code, tab, sw2, v, mu, R, lo, hi, guess, m):
    """Safeguarded Newton for the root in [lo, hi] (f(lo) > 0 >= f(hi)), from ``guess``.

    Stops at a relative step of ``C_TOL``: Newton is quadratic, so the root is then
    far more accurate than the tables (~1e-7), whose rounding noise would stall a
    tighter test. On return ``m`` holds the moments at the last evaluated x, within
    ``C_TOL`` (relative) of the root: the callers read the slopes from it.
    """
    x = guess if lo < guess < hi else 0.5 * (lo + hi)
    for _ in range(MAXIT):
        f, df = _q_residual(code, tab, sw2, v, mu, R, x, m)
        if f == 0.0:
            return x, True
        x_new, lo, hi = newton_step(x, f, df, lo, hi)
        if abs(x_new - x) <= C_TOL * abs(x_new) or hi - lo <= 1e3 * XTOL * abs(hi):
            return x_new, True
        x = x_new
    return x, False
