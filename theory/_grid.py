"""Numba kernels shared by every cell's phase-diagram grid (private).

A cell's grid kernel (``theory.cells.<arch>.grid_kernel``) sweeps the rows of the
(ny, nx) parameter arrays; each node's fixed-point solves start from the root
extrapolated along the row from the previous three nodes (``extrapolate``,
``push``). ``derive_fields`` then turns the kernel rows (``_solve.OUT_NAMES``) into
the derived fields of :class:`theory.GridResult` in one pass.
"""

import math

from numba import njit

from theory.types import tau_from_chi, xi_from_chi


@njit(cache=True, nogil=True, inline="always")
def extrapolate(h):
    """Next value along a row from the last three ``h`` = [x_{i-1}, x_{i-2}, x_{i-3}]:
    quadratic (error O(step^3)) when all three are known (>= 0), else lower order."""
    if h[2] >= 0.0:
        return 3.0 * h[0] - 3.0 * h[1] + h[2]
    if h[1] >= 0.0:
        return 2.0 * h[0] - h[1]
    return h[0]


@njit(cache=True, nogil=True, inline="always")
def push(h, x):
    """Shift the row history ``h`` and put ``x`` first."""
    h[2], h[1], h[0] = h[1], h[0], x


#: Fields ``derive_fields`` computes from a grid's kernel output, in its row order.
DERIVED = ("xi_q", "xi_c", "xi_jac", "exists", "bistable", "branch_high", "phase", "converged",
           "tau_jac")


#: xi = -1/ln chi of ``theory.types.xi_from_chi`` (theory.md 3.3, 10.3), compiled for grids
_xi = njit(cache=True, nogil=True, inline="always")(xi_from_chi)
_tau = njit(cache=True, nogil=True, inline="always")(tau_from_chi)


@njit(cache=True, nogil=True)
def derive_fields(raw, has_branches, phase_tol, out):
    """The ``DERIVED`` fields of every node from the kernel rows ``raw`` (``OUT_NAMES``).

    One pass instead of a dozen NumPy passes: xi's, the exists/bistable flags,
    ``branch_high`` (cells with two fixed-point branches: a single stable root with
    chi_jac > 1), ``phase`` (-1 ordered, 0 critical within ``phase_tol``, 1 chaotic or
    undefined), ``converged`` (both solves; c not attempted counts as converged) and
    ``tau_jac`` = 1/|ln chi_jac| (``theory.types.tau_from_chi``).
    """
    ny, nx = raw.shape[1], raw.shape[2]
    for j in range(ny):
        for i in range(nx):
            chi_jac = raw[6, j, i]
            exists = raw[7, j, i] == 1.0
            out[0, j, i] = _xi(raw[4, j, i])
            out[1, j, i] = _xi(raw[5, j, i])
            out[2, j, i] = _xi(chi_jac)
            out[3, j, i] = 1.0 if exists else 0.0
            out[4, j, i] = raw[11, j, i]
            out[5, j, i] = 1.0 if (has_branches and exists and raw[11, j, i] == 0.0
                                   and chi_jac > 1.0) else 0.0
            if abs(chi_jac - 1.0) <= phase_tol:
                out[6, j, i] = 0.0
            else:
                out[6, j, i] = -1.0 if chi_jac < 1.0 else 1.0
            c_conv = raw[9, j, i]
            out[7, j, i] = 1.0 if (raw[8, j, i] == 1.0
                                   and (c_conv == 1.0 or math.isnan(c_conv))) else 0.0
            out[8, j, i] = _tau(chi_jac)
