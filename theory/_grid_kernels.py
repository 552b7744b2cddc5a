"""Numba kernels: whole phase-diagram grids (private).

Same mathematics and the same branch selection as ``_solvers`` (theory.md 3, 4,
10.2), but the 1-D expectations come from the per-mu tables of ``_tables`` and
each node's variance solve starts from the root extrapolated from its three left
neighbours (minimalRNN: inside the bracket of the ``_gate_walk`` profile walk). The
2-D (correlation) quantities are computed only when asked (``want_c``): the same
safeguarded Newton as ``_solvers``, started from the extrapolated c*, reads
the cross moments from the 3-D tables of ``_cross_tables`` (outside them: the
smoothing-table rule of ``_smooth``).
"""

import math

import numpy as np
from numba import njit

from theory._cross_solve import _c_solve, _cross, table_state
from theory._cross_tables import set_mu, set_q
from theory._gate_walk import walk_gate_Q
from theory._gauss import LINEAR, RELU
from theory._solvers import N_OUT, units_driven, vanilla_point
from theory._table_solve import _q_residual, _solve
from theory._tables import NO_STACK, scan_gate_Q_into
from theory.types import xi_from_chi

#: Scan points of the minimalRNN Q-map where a node's profile walk (``_gate_walk``)
#: cannot decide: 3 per decade over 1e-10 R .. R (root pairs closer than that are found
#: by ``scan_gate_Q``'s local-minimum refinement); the point solver uses ``_solvers.N_SCAN``.
N_SCAN_GRID = 31

@njit(cache=True, nogil=True, inline="always")
def _extrapolate(h):
    """Next value along a row from the last three ``h`` = [x_{i-1}, x_{i-2}, x_{i-3}]:
    quadratic (error O(step^3)) when all three are known (>= 0), else lower order."""
    if h[2] >= 0.0:
        return 3.0 * h[0] - 3.0 * h[1] + h[2]
    if h[1] >= 0.0:
        return 2.0 * h[0] - h[1]
    return h[0]


@njit(cache=True, nogil=True, inline="always")
def _push(h, x):
    """Shift the row history ``h`` and put ``x`` first."""
    h[2], h[1], h[0] = h[1], h[0], x


@njit(cache=True, nogil=True, inline="always")
def _vanilla_node(code, tab, sw, sb, sv, mu, R, Sigma, guess, c_guess, want_c, gl_x, gl_w,
                  res, m, stab, ts):
    sw2 = sw * sw
    v = sv * sv * R + sb * sb
    if units_driven(sw2, v, mu):  # bounded phi: [v, sw2 + v] brackets q*
        qs, conv = _solve(code, tab, sw2, v, mu, R, v, sw2 + v, guess, m)
    else:
        qs, conv = v, True
        _q_residual(code, tab, sw2, v, mu, R, v, m)  # m: the moments at q = v
    res[:] = np.nan
    res[0] = qs
    res[1] = m[0]
    res[4] = sw2 * m[2]
    res[6] = sw2 * m[1]
    res[7] = 1.0
    res[8] = 1.0 if conv else 0.0
    res[11] = 0.0
    res[12] = 1.0
    if want_c:
        const = sv * sv * R * Sigma + sb * sb
        set_q(qs, ts[4])
        xs, cconv, fresh = _c_solve(False, code, sw2, const, mu, R, Sigma, qs, qs,
                                    v - const <= 0.0, res[6], c_guess * qs, gl_x, gl_w, stab, ts)
        c = xs / qs if qs > 0.0 else 1.0
        if not fresh:
            _cross(False, code, mu, qs, min(c, 1.0), gl_x, gl_w, stab, ts)
        e = ts[5]
        res[2] = c
        res[3] = e[0] / res[1] if res[1] > 0.0 else 1.0
        res[5] = sw2 * e[1]
        res[9] = 1.0 if cconv else 0.0
    return qs


@njit(cache=True, nogil=True)
def vanilla_grid(code, SW, SB, SV, MU, R, Sigma, tabs, tab_idx, want_c, gl_x, gl_w, stab, ct,
                 out):
    """Fill ``out[:, j, i]`` for every node of the (ny, nx) parameter arrays.

    ``ct``: the cross-moment table of ``_cross_tables`` (or ``NO_CROSS_TABLE``).
    """
    ny, nx = SW.shape
    m = np.zeros(6)
    res = np.zeros(N_OUT)
    ts = table_state(ct)
    mu_set = math.nan
    for j in range(ny):
        qh = np.full(3, -1.0)  # roots at the previous three nodes of the row
        ch = np.full(3, -1.0)
        for i in range(nx):
            # extrapolation along the row (first guesses; the solves are bracketed)
            guess = _extrapolate(qh)
            c_guess = _extrapolate(ch)
            if code == RELU or code == LINEAR:
                res[:] = vanilla_point(code, SW[j, i], SB[j, i], SV[j, i], MU[j, i],
                                       R, Sigma, gl_x, gl_w, stab, ct, NO_STACK)
                if not want_c:
                    res[2] = res[3] = res[5] = np.nan
            else:
                if want_c and MU[j, i] != mu_set:
                    mu_set = MU[j, i]
                    set_mu(ct, code, mu_set, ts[1], ts[2])
                _push(qh, _vanilla_node(code, tabs[tab_idx[j, i]], SW[j, i], SB[j, i], SV[j, i],
                                        MU[j, i], R, Sigma, guess, c_guess, want_c, gl_x, gl_w,
                                        res, m, stab, ts))
                _push(ch, res[2] if want_c else -1.0)
            out[:, j, i] = res


@njit(cache=True, nogil=True, inline="always")
def _minimal_node(tab, prof, sw, sb, sv, mu, R, Sigma, want_c, res, m, Q_guess, C_guess, stab,
                  ts, xs, fs):
    sw2 = sw * sw
    v = sv * sv * R + sb * sb
    lo, hi, n_stable, guess, ok = walk_gate_Q(prof, tab, sw2, v, mu, R)
    if lo < Q_guess < hi:  # the row's extrapolation beats the secant inside the bracket
        guess = Q_guess
    if not ok:
        lo, _, hi, n_stable = scan_gate_Q_into(tab, sw2, v, mu, R, N_SCAN_GRID, xs, fs)
        guess = 0.5 * (lo + hi)
    Qs, conv = _solve(4, tab, sw2, v, mu, R, lo, hi, guess, m)
    qs = sw2 * Qs + v  # m: the moments within C_TOL of qs (``_solve``)
    res[:] = np.nan
    res[0] = qs
    res[1] = Qs
    res[4] = m[0] + sw2 * (Qs * m[3] - R * m[4])
    res[6] = m[0] + sw2 * m[2] * (Qs + R)
    res[7] = 1.0
    res[8] = 1.0 if conv else 0.0
    res[11] = 1.0 if n_stable > 1 else 0.0
    res[12] = n_stable
    if want_c:
        const = sv * sv * R * Sigma + sb * sb
        set_q(qs, ts[4])
        xs, cconv, fresh = _c_solve(True, 4, sw2, const, mu, R, Sigma, qs, Qs, Sigma >= 1.0,
                                    res[6], C_guess * Qs, np.empty(0), np.empty(0), stab, ts)
        res[3] = xs / Qs
        res[2] = (sw2 * xs + const) / qs
        if not fresh:
            _cross(True, 4, mu, qs, min(res[2], 1.0), np.empty(0), np.empty(0), stab, ts)
        e = ts[5]
        res[5] = e[0] + sw2 * e[1] * (xs + R * Sigma)
        res[9] = 1.0 if cconv else 0.0


@njit(cache=True, nogil=True)
def minimal_grid(SW, SB, SV, MU, R, Sigma, tabs, profs, tab_idx, want_c, stab, ct, out):
    """Fill ``out[:, j, i]`` for every node (minimalRNN); ``ct`` as in ``vanilla_grid``.

    ``profs[k]``: the ``_gate_walk.fill_profile`` of table ``tabs[k]``.
    """
    ny, nx = SW.shape
    m = np.zeros(6)
    res = np.zeros(N_OUT)
    ts = table_state(ct)
    xs, fs = np.empty(N_SCAN_GRID + 1), np.empty(N_SCAN_GRID + 1)
    mu_set = math.nan
    for j in range(ny):
        qh = np.full(3, -1.0)  # Q* and C* at the previous three nodes of the row
        ch = np.full(3, -1.0)
        for i in range(nx):
            if want_c and MU[j, i] != mu_set:
                mu_set = MU[j, i]
                set_mu(ct, 4, mu_set, ts[1], ts[2])
            k = tab_idx[j, i]
            _minimal_node(tabs[k], profs[k], SW[j, i], SB[j, i], SV[j, i], MU[j, i], R, Sigma,
                          want_c, res, m, _extrapolate(qh), _extrapolate(ch), stab, ts, xs,
                          fs)
            _push(qh, res[1])
            _push(ch, res[3] if want_c else -1.0)
            out[:, j, i] = res


#: Fields ``derive_fields`` computes from a grid's kernel output, in its row order.
DERIVED = ("xi_q", "xi_c", "xi_jac", "exists", "bistable", "branch_high", "phase", "converged")


#: xi = -1/ln chi of ``theory.types.xi_from_chi`` (theory.md 3.3, 10.3), compiled for grids
_xi = njit(cache=True, nogil=True, inline="always")(xi_from_chi)


@njit(cache=True, nogil=True)
def derive_fields(raw, minimal, phase_tol, out):
    """The ``DERIVED`` fields of every node from the kernel rows ``raw`` (``OUT_NAMES``).

    One pass instead of a dozen NumPy passes: xi's, the exists/bistable flags,
    ``branch_high`` (minimalRNN, single stable root, chi_jac > 1), ``phase`` (-1
    ordered, 0 critical within ``phase_tol``, 1 chaotic or undefined) and
    ``converged`` (both solves; c not attempted counts as converged).
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
            out[5, j, i] = 1.0 if (minimal and exists and raw[11, j, i] == 0.0
                                   and chi_jac > 1.0) else 0.0
            if abs(chi_jac - 1.0) <= phase_tol:
                out[6, j, i] = 0.0
            else:
                out[6, j, i] = -1.0 if chi_jac < 1.0 else 1.0
            c_conv = raw[9, j, i]
            out[7, j, i] = 1.0 if (raw[8, j, i] == 1.0
                                   and (c_conv == 1.0 or math.isnan(c_conv))) else 0.0
