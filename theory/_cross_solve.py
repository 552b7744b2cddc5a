"""Numba kernels: correlation fixed points from the cross-moment tables (private).

The safeguarded Newton of ``_solvers`` for the correlation maps (theory.md 3.2,
4.2), with the cross moments read from the 3-D tables of ``_cross_tables``
(outside them: the smoothing-table rule of ``_smooth`` with the coarser grid step
``GRID_HSCALE_2D``). Used for every node of a grid, and by ``theory.point`` as the
first guess that the accurate 1-D rule then polishes in one or two steps.
"""

import math

import numpy as np
from numba import njit

from theory._cross_tables import cross_lookup
from theory._smooth import gate_cross_fast, vanilla_cross_fast

MAXIT = 200  # iterations of a safeguarded Newton solve (bisection guarantees progress)
XTOL = 1e-14  # relative step tolerance of the point solvers' root polish

#: Trapezoid step scale of the 2-D expectations on grids (point rule: 0.4). Measured
#: worst case against the point rule for tanh, q in [0.1, 100], c in [-0.5, 0.9999]:
#: 1.1e-5 absolute in E[phi' phi'] (at q = 4, c -> 1), below the 1e-4 grid tolerance,
#: with 1.6x fewer nodes.
GRID_HSCALE_2D = 0.5

#: Relative Newton step at which a grid's correlation solve stops. Newton converges
#: quadratically, so the root is then ~C_TOL^2 accurate, far below the tables' ~1e-7.
C_TOL = 1e-8


@njit(cache=True, nogil=True, inline="always")
def newton_step(x, f, df, lo, hi):
    """One safeguarded Newton step (Numerical Recipes 9.4) for a root with f > 0 below it.

    Returns the next iterate and the narrowed bracket (lo, hi); bisects when the
    Newton step leaves the bracket. Shared by every fixed-point solve of ``theory``.
    """
    if f > 0.0:
        lo = x
    else:
        hi = x
    x_new = x - f / df if df != 0.0 else math.inf
    if not (lo < x_new < hi) or not math.isfinite(x_new):
        x_new = 0.5 * (lo + hi)
    return x_new, lo, hi


@njit(cache=True, nogil=True)
def table_state(ct):
    """Work arrays of the cross-table lookups (``_cross_tables``) plus the moment buffer."""
    return (ct, np.zeros(9), np.zeros(ct.shape[2] if ct.shape[0] > 0 else 1, dtype=np.bool_),
            np.zeros((3, ct.shape[2], ct.shape[3])), np.zeros(10), np.zeros(3))


@njit(cache=True, nogil=True, inline="always")
def _cross(gate, code, mu, qs, c, gl_x, gl_w, stab, ts):
    """Cross moments at c into ts[5] = [E f f, E f'f', E (1-f)(1-f)]: table, else direct."""
    ct, ms, done, slab, ns, e = ts
    if cross_lookup(ct, ms, done, slab, ns, c, e):
        return
    if gate:
        e[0], e[2], e[1] = gate_cross_fast(mu, qs, min(c, 1.0), GRID_HSCALE_2D, stab)
    else:
        e[0], e[1] = vanilla_cross_fast(code, mu, qs, min(c, 1.0), gl_x, gl_w, GRID_HSCALE_2D,
                                        stab)


@njit(cache=True, nogil=True, inline="always")
def _c_residual(gate, code, sw2, const, mu, R, Sigma, qs, x, gl_x, gl_w, stab, ts):
    """Residual and slope-1 of the correlation map at x (vanilla: q^ab, minimal: Q^ab)."""
    e = ts[5]
    if gate:
        _cross(gate, code, mu, qs, min(max((sw2 * x + const) / qs, -1.0), 1.0), gl_x, gl_w,
               stab, ts)
        return e[0] * x + e[2] * R * Sigma - x, e[0] + sw2 * e[1] * (x + R * Sigma) - 1.0
    _cross(gate, code, mu, qs, min(max(x / qs, -1.0), 1.0), gl_x, gl_w, stab, ts)
    return sw2 * e[0] + const - x, sw2 * e[1] - 1.0


@njit(cache=True, nogil=True, inline="always")
def _c_solve(gate, code, sw2, const, mu, R, Sigma, qs, top, same_inputs, chi_j, x0, gl_x,
             gl_w, stab, ts):
    """Stable fixed point x in [0, top] of eq. (3.2) / (4.2) reached from 0 (as ``_solvers``).

    Returns (x, converged, fresh): ``fresh`` says that ``ts[5]`` holds the cross
    moments at an x within ``C_TOL`` (relative) of the returned one, so the caller
    need not look them up again.
    """
    if top <= 0.0 or (same_inputs and chi_j <= 1.0):
        return top, True, False  # no variance, or identical inputs when ordered: c* = 1
    hi = top
    if same_inputs:
        found = False
        for k in range(3, 13, 2):
            hi = top * (1.0 - 10.0 ** (-k))
            f_hi, _ = _c_residual(gate, code, sw2, const, mu, R, Sigma, qs, hi, gl_x, gl_w,
                                  stab, ts)
            if f_hi < 0.0:
                found = True
                break
        if not found:
            return top, True, False
    lo = 0.0
    if not 0.0 < x0 < hi:
        f_lo, _ = _c_residual(gate, code, sw2, const, mu, R, Sigma, qs, 0.0, gl_x, gl_w, stab,
                              ts)
        if f_lo <= 0.0:
            return 0.0, True, True
        x0 = 0.5 * hi
    x = x0
    for _ in range(MAXIT):
        f, df = _c_residual(gate, code, sw2, const, mu, R, Sigma, qs, x, gl_x, gl_w, stab, ts)
        if f == 0.0:
            return x, True, True
        x_new, lo, hi = newton_step(x, f, df, lo, hi)
        # absolute floor: a root at exactly 0 (no shared input) is approached, not reached
        if abs(x_new - x) <= C_TOL * max(abs(x_new), 1e-6 * top):
            return x_new, True, True
        if hi - lo <= XTOL * hi:
            return x_new, True, False
        x = x_new
    return x, False, False
