"""Numba kernels: the safeguarded Newton step and the shared solver conventions (private).

Every fixed-point solve of every cell (``theory.cells``) is a safeguarded Newton
method on a bracket (``rtsafe``-style, Numerical Recipes 9.4) whose derivative is
the map's slope minus one, so a solve costs a handful of expectation evaluations.
This module holds what those solves share and nothing cell-specific:

* the tolerances (``MAXIT``, ``XTOL`` for point polishes, ``C_TOL`` for grid solves
  that read tables) and ``newton_step``;
* the layout of a kernel's output row (``OUT_NAMES``), which every cell's point and
  grid kernels fill;
* ``table_state`` / ``cross_moments``: a cross moment of one activation read from the
  3-D tables of ``_cross_tables`` when it lies inside them, else computed by the
  smoothing-table rule of ``_smooth`` (step scale ``GRID_HSCALE_2D``).
"""

import math

import numpy as np
from numba import njit

from theory._cross_tables import cross_lookup
from theory._gauss import SIGMOID
from theory._smooth import phi_cross_fast, sigmoid_cross_fast

MAXIT = 200  # iterations of a safeguarded Newton solve (bisection guarantees progress)
XTOL = 1e-14  # relative step tolerance of the point solvers' root polish

#: Trapezoid step scale of the 2-D expectations on grids (point rule: 0.4). Measured
#: worst case against the point rule for tanh, q in [0.1, 100], c in [-0.5, 0.9999]:
#: 1.1e-5 absolute in E[phi' phi'] (at q = 4, c -> 1), below the 1e-4 grid tolerance,
#: with 1.6x fewer nodes.
GRID_HSCALE_2D = 0.5

#: Relative Newton step at which a grid's solve stops. Newton converges quadratically,
#: so the root is then ~C_TOL^2 accurate, far below the tables' ~1e-7.
C_TOL = 1e-8

#: Layout of a point/grid kernel's output row (every cell fills the same slots).
OUT_NAMES = (
    "q_star", "Q_star", "c_star", "C_star", "chi_q", "chi_c", "chi_jac",
    "exists", "q_converged", "c_converged", "iterations", "bistable", "n_stable",
)
N_OUT = len(OUT_NAMES)
Q_UNBOUNDED = 1e12  # a variance beyond this means "no finite fixed point"
#: Trajectories use the direct 2-D rule above this correlation: the smoothing rule's
#: ~1e-9 absolute error would distort the geometric decay of 1 - C_t below ~1e-5.
C_DIRECT = 1.0 - 1e-5


@njit(cache=True, nogil=True, inline="always")
def newton_step(x, f, df, lo, hi):
    """One safeguarded Newton step for a root with f > 0 below it and f <= 0 above.

    Returns the next iterate and the narrowed bracket (lo, hi); bisects when the
    Newton step leaves the bracket.
    """
    if f > 0.0:
        lo = x
    else:
        hi = x
    x_new = x - f / df if df != 0.0 else math.inf
    if not (lo < x_new < hi) or not math.isfinite(x_new):
        x_new = 0.5 * (lo + hi)
    return x_new, lo, hi


@njit(cache=True, nogil=True, inline="always")
def identical_inputs(gp, Sigma):
    """Whether two sequences drive every gate identically (a gated cell's ``gp`` rows:
    column 1 the one-sequence offset sigma_v^2 R + sigma_b^2, column 2 the pair's
    sigma_v^2 R Sigma + sigma_b^2): Sigma = 1, or no gate sees the input (sigma_v = 0 or
    R = 0). Then C = 1 is a fixed point and chi_c there is chi_jac (gated-cells.md 3.9, 4.5).
    """
    if Sigma >= 1.0:
        return True
    for k in range(gp.shape[0]):
        if gp[k, 1] != gp[k, 2]:
            return False
    return True


@njit(cache=True, nogil=True)
def table_state(ct):
    """Work arrays of the cross-table lookups (``_cross_tables``) plus the moment buffer.

    (table, mu state, done rows, mu-collapsed slab, q state, moments out[3]).
    """
    return (ct, np.zeros(9), np.zeros(ct.shape[2] if ct.shape[0] > 0 else 1, dtype=np.bool_),
            np.zeros((3, ct.shape[2], ct.shape[3])), np.zeros(10), np.zeros(3))


@njit(cache=True, nogil=True, inline="always")
def cross_moments(code, mu, qs, c, gl_x, gl_w, stab, ts):
    """Cross moments of activation ``code`` at (mu, qs, c) into ts[5]: table, else direct.

    ts[5] = [E f f, E f'f', E (1-f)(1-f)] (the third for the sigmoid only).
    """
    ct, ms, done, slab, ns, e = ts
    if cross_lookup(ct, ms, done, slab, ns, c, e):
        return
    if code == SIGMOID:
        e[0], e[2], e[1] = sigmoid_cross_fast(mu, qs, min(c, 1.0), GRID_HSCALE_2D, stab)
    else:
        e[0], e[1] = phi_cross_fast(code, mu, qs, min(c, 1.0), gl_x, gl_w, GRID_HSCALE_2D,
                                    stab)
