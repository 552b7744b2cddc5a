"""Numba kernels: fixed points, slopes and trajectories (private).

One kernel per architecture returns a float64 array laid out as ``OUT_NAMES``.
Root finding is a safeguarded Newton method on a bracket (``_rtsafe``-style,
Numerical Recipes 9.4) whose derivative is the map's slope chi - 1, so a solve
costs a handful of expectation evaluations.

Which fixed point is returned (theory.md 3.2, 4.3, 10.2): the one reached from
the physical initial condition h_0 = 0. The variance maps are increasing, so the
iteration from below converges to the smallest root above the start; we bracket
that root directly (for the minimalRNN, whose Q-map can have three roots, by the
profile walk of ``_gate_walk``) and polish it. With identical later inputs
(Sigma = 1) and chi_jac <= 1 the correlation fixed point is exactly 1 and is
decided from chi_jac, not from a stalled iteration.
"""


import numpy as np
from numba import njit

from theory._cross_solve import MAXIT, XTOL, _c_solve, newton_step
from theory._cross_tables import point_state
from theory._gate_walk import N_PROFILE, fill_profile, low_profile_at_mu, walk_gate_Q
from theory._gauss import (
    H_SCALE,
    H_SCALE_GATE,
    LINEAR,
    RELU,
    gate_moments,
    vanilla_moments,
)
from theory._smooth import NO_TABLE, gate_cross_fast, vanilla_cross_fast
from theory._table_solve import _solve
from theory._tables import MU_TAB_MAX, NO_GATE_TABLE, scan_gate_Q, table_rows_at_mu

OUT_NAMES = (
    "q_star", "Q_star", "c_star", "C_star", "chi_q", "chi_c", "chi_jac",
    "exists", "q_converged", "c_converged", "iterations", "bistable", "n_stable",
)
N_OUT = len(OUT_NAMES)
Q_UNBOUNDED = 1e12  # a variance beyond this means "no finite fixed point"
#: Trajectories use the direct 2-D rule above this correlation: the smoothing rule's
#: ~1e-9 absolute error would distort the geometric decay of 1 - C_t below ~1e-5.
C_DIRECT = 1.0 - 1e-5
N_SCAN = 64  # scan points of the minimalRNN Q-map on (0, R]


@njit(cache=True, nogil=True, inline="always")
def units_driven(sw2, v, mu):
    """False when nothing drives the units (sigma_w = 0, or no input variance and mu = 0).

    For a bounded phi (tanh, erf: phi^2 < 1, phi = 0 only at 0) the variance map's
    residual is then f(v) = sw2 E[phi^2] > 0 and f(sw2 + v) = sw2 (E[phi^2] - 1) < 0,
    so [v, sw2 + v] brackets q* without evaluating f; otherwise q* = v.
    """
    return sw2 > 0.0 and (v > 0.0 or mu != 0.0)


@njit(cache=True, nogil=True)
def _vanilla_q_residual(code, sw2, v, mu, q):
    m0, m1, m2 = vanilla_moments(code, mu, q)
    return sw2 * m0 + v - q, sw2 * m2 - 1.0, m0, m1


@njit(cache=True, nogil=True)
def _vanilla_c_residual(code, sw2, const, mu, qs, x, gl_x, gl_w, hscale, stab):
    c = min(max(x / qs, -1.0), 1.0)
    e_ff, e_dd = vanilla_cross_fast(code, mu, qs, c, gl_x, gl_w, hscale, stab)
    return sw2 * e_ff + const - x, sw2 * e_dd - 1.0, e_ff, e_dd


@njit(cache=True, nogil=True)
def _minimal_Q_residual(sw2, v, mu, R, Q):
    q = sw2 * Q + v
    e_uu, e_vv, e_dd, a3, a4, _ = gate_moments(mu, q)
    chi_q = e_uu + sw2 * (Q * a3 - R * a4)
    return e_uu * Q + e_vv * R - Q, chi_q - 1.0, e_uu, e_dd


@njit(cache=True, nogil=True)
def _minimal_C_residual(sw2, const, mu, R, Sigma, qs, x, hscale, stab):
    c = min(max((sw2 * x + const) / qs, -1.0), 1.0)
    e_uu, e_vv, e_dd = gate_cross_fast(mu, qs, c, hscale, stab)
    chi_c = e_uu + sw2 * e_dd * (x + R * Sigma)
    return e_uu * x + e_vv * R * Sigma - x, chi_c - 1.0, e_uu, e_dd


@njit(cache=True, nogil=True)
def _polish(kind, p, lo, f_lo, hi, gl_x, gl_w, x0, hscale, stab, aux):
    """Root of residual ``kind`` in [lo, hi] with f(lo) >= 0 > f(hi).

    kind 0: vanilla q; 1: vanilla c; 2: minimal Q; 3: minimal C. ``p`` packs the
    parameters of the residual; ``x0`` an optional first guess inside the
    bracket (ignored if outside); ``hscale``/``stab`` select the 2-D rule.
    Returns (root, converged, evaluations). ``aux`` (length 3) receives the slope
    minus 1 and the two expectations of the last evaluation (see the residuals),
    made within a relative step XTOL of the root: the callers take chi from it
    instead of evaluating the expectations once more.
    """
    x = x0 if lo < x0 < hi else lo
    scale = abs(hi)
    f = f_lo
    df = -1.0
    n = 0
    for n in range(1, MAXIT + 1):
        if kind == 0:
            f, df, aux[1], aux[2] = _vanilla_q_residual(int(p[0]), p[1], p[2], p[3], x)
        elif kind == 1:
            f, df, aux[1], aux[2] = _vanilla_c_residual(int(p[0]), p[1], p[2], p[3], p[4], x,
                                                        gl_x, gl_w, hscale, stab)
        elif kind == 2:
            f, df, aux[1], aux[2] = _minimal_Q_residual(p[0], p[1], p[2], p[3], x)
        else:
            f, df, aux[1], aux[2] = _minimal_C_residual(p[0], p[1], p[2], p[3], p[4], p[5], x,
                                                        hscale, stab)
        aux[0] = df
        if f == 0.0:
            return x, True, n
        x_new, lo, hi = newton_step(x, f, df, lo, hi)
        # absolute floor: a root at exactly 0 (c* = 0 without shared input) is only approached
        if abs(x_new - x) <= XTOL * max(abs(x_new), 1e-6 * scale) or hi - lo <= XTOL * abs(hi):
            return x_new, True, n
        x = x_new
    return x, False, n


@njit(cache=True, nogil=True)
def vanilla_point(code, sigma_w, sigma_b, sigma_v, mu, R, Sigma, gl_x, gl_w, stab, ct,
                  mstack):
    """Fixed points and slopes of the vanilla RNN (theory.md 3.1-3.3).

    ``stab`` (a smoothing table of ``_smooth`` or ``NO_TABLE``): the correlation
    expectations use its 1-D outer rule (<= 2e-8 relative to the direct 2-D rule,
    tests/test_reference.py checks the results against SciPy), else the direct rule.
    ``ct`` (a cross table of ``_cross_tables`` or ``NO_CROSS_TABLE``) gives the
    correlation solve a first guess accurate to ~1e-7, so one or two steps of the
    accurate rule finish it; ``mstack`` (a moment stack of ``_tables`` or
    ``NO_STACK``) does the same for the variance solve.
    """
    out = np.full(N_OUT, np.nan)
    sw2 = sigma_w * sigma_w
    v = sigma_v * sigma_v * R + sigma_b * sigma_b
    p = np.array([float(code), sw2, v, mu, 0.0, 0.0])
    aux = np.zeros(3)
    lo = v
    bounded = code != RELU and code != LINEAR
    if bounded:  # the bracket needs no evaluation (``units_driven``)
        hi = sw2 + v
        f_lo = 1.0 if units_driven(sw2, v, mu) else 0.0
        f_hi = -1.0
    else:
        f_lo = _vanilla_q_residual(code, sw2, v, mu, lo)[0]
        hi = 2.0 * lo + 1.0
        f_hi = _vanilla_q_residual(code, sw2, v, mu, hi)[0]
    while f_hi >= 0.0 and not bounded and hi < Q_UNBOUNDED:
        lo, f_lo = hi, f_hi
        hi *= 4.0
        f_hi = _vanilla_q_residual(code, sw2, v, mu, hi)[0]
    if f_hi > 0.0:
        out[7] = 0.0
        out[8] = 0.0
        out[9] = 0.0
        return out
    if f_lo <= 0.0:
        qs, conv, it = lo, True, 1
        _, aux[0], aux[1], aux[2] = _vanilla_q_residual(code, sw2, v, mu, qs)
    else:
        x0 = -1.0
        if bounded and mstack.shape[0] > 0 and abs(mu) <= MU_TAB_MAX:  # guess from the tables
            tab = table_rows_at_mu(mstack, mu, lo, hi)
            x0, _ = _solve(code, tab, sw2, v, mu, R, lo, hi, 0.5 * (lo + hi), np.zeros(6))
        qs, conv, it = _polish(0, p, lo, f_lo, hi, gl_x, gl_w, x0, H_SCALE, NO_TABLE, aux)
    m0, m1 = aux[1], aux[2]
    out[0] = qs
    out[1] = m0
    out[4] = aux[0] + 1.0
    out[6] = sw2 * m1
    out[7] = 1.0
    out[8] = 1.0 if conv else 0.0
    out[11] = 0.0
    out[12] = 1.0
    const = sigma_v * sigma_v * R * Sigma + sigma_b * sigma_b
    x0 = -1.0
    if ct.shape[0] > 0 and code != RELU and code != LINEAR:  # first guess from the tables
        x0, _, _ = _c_solve(False, code, sw2, const, mu, R, Sigma, qs, qs, v - const <= 0.0,
                            out[6], -1.0, gl_x, gl_w, stab, point_state(ct, code, mu, qs))
    xs, cconv, cit = _vanilla_c_solve(code, sw2, const, mu, qs, v - const, out[6], gl_x, gl_w,
                                      x0, H_SCALE, stab, aux)
    out[2] = xs / qs if qs > 0.0 else 1.0
    if cit > 0:  # aux: the last evaluation, within XTOL of xs
        e_ff, e_dd = aux[1], aux[2]
    else:  # c* = 1: the cross moments are the 1-D ones (chi_c = chi_1 exactly)
        e_ff, e_dd = m0, m1
    out[3] = e_ff / m0 if m0 > 0.0 else 1.0
    out[5] = sw2 * e_dd
    out[9] = 1.0 if cconv else 0.0
    out[10] = it + cit
    return out


@njit(cache=True, nogil=True)
def _vanilla_c_solve(code, sw2, const, mu, qs, input_diff, chi1, gl_x, gl_w, x0, hscale,
                     stab, aux):
    """Stable fixed point x = q^{ab*} of eq. (3.2) reached from c = 0.

    Returns (x, converged, evaluations); when evaluations > 0, ``aux`` holds the
    last evaluation (``_polish``), made at x.
    """
    if qs <= 0.0:
        return qs, True, 0
    if input_diff <= 0.0 and chi1 <= 1.0:
        return qs, True, 0  # identical inputs, ordered: c* = 1 exactly (10.2)
    p = np.array([float(code), sw2, const, mu, qs, 0.0])
    hi = qs
    if input_diff <= 0.0:
        found = False
        for k in range(3, 13, 2):
            hi = qs * (1.0 - 10.0 ** (-k))
            f_hi = _vanilla_c_residual(code, sw2, const, mu, qs, hi, gl_x, gl_w, hscale, stab)[0]
            if f_hi < 0.0:
                found = True
                break
        if not found:
            return qs, True, 0  # chi1 within rounding of 1: c* = 1
    if not 0.0 < x0 < hi:
        f_lo, aux[0], aux[1], aux[2] = _vanilla_c_residual(code, sw2, const, mu, qs, 0.0, gl_x,
                                                           gl_w, hscale, stab)
        if f_lo <= 0.0:
            return 0.0, True, 1
    return _polish(1, p, 0.0, 1.0, hi, gl_x, gl_w, x0, hscale, stab, aux)


@njit(cache=True, nogil=True)
def minimal_point(sigma_w, sigma_b, sigma_v, mu, R, Sigma, stab, ct, mstack, lstack):
    """Fixed points and slopes of the minimalRNN (theory.md 4.1-4.3).

    ``stab``, ``ct``: as in :func:`vanilla_point`. ``mstack``, ``lstack`` (the gate's
    moment stack of ``_tables`` and low-q profile stack of ``_gate_walk``, or empty):
    the walk over the Q-map's sign changes and a first Newton guess use them; the
    bracket is then checked with the direct rule (the Q-map is scanned directly
    if a sign disagrees) and the root polished with the direct rule.
    """
    out = np.full(N_OUT, np.nan)
    sw2 = sigma_w * sigma_w
    v = sigma_v * sigma_v * R + sigma_b * sigma_b
    p = np.array([sw2, v, mu, R, 0.0, 0.0])
    lo, f_lo, hi, n_stable, x0 = _minimal_Q_bracket(sw2, v, mu, R, mstack, lstack)
    aux = np.zeros(3)
    Qs, conv, it = _polish(2, p, lo, f_lo, hi, np.empty(0), np.empty(0), x0, H_SCALE_GATE,
                           NO_TABLE, aux)
    qs = sw2 * Qs + v
    out[0] = qs
    out[1] = Qs
    out[4] = aux[0] + 1.0  # aux: the last evaluation, within XTOL of Qs
    out[6] = aux[1] + sw2 * aux[2] * (Qs + R)
    out[7] = 1.0
    out[8] = 1.0 if conv else 0.0
    out[11] = 1.0 if n_stable > 1 else 0.0
    out[12] = n_stable
    const = sigma_v * sigma_v * R * Sigma + sigma_b * sigma_b
    x0 = -1.0
    if ct.shape[0] > 0:  # first guess from the tables
        x0, _, _ = _c_solve(True, 4, sw2, const, mu, R, Sigma, qs, Qs, Sigma >= 1.0, out[6],
                            -1.0, np.empty(0), np.empty(0), stab, point_state(ct, 4, mu, qs))
    xs, cconv, cit = _minimal_C_solve(sw2, const, mu, R, Sigma, qs, Qs, out[6], x0, H_SCALE_GATE,
                                      stab, aux)
    out[3] = xs / Qs
    out[2] = (sw2 * xs + const) / qs
    if cit > 0:  # aux: the last evaluation, within XTOL of xs
        out[5] = aux[0] + 1.0
    else:  # C* = 1 (Sigma = 1, ordered): the cross moments are the 1-D ones, chi_c = chi_J
        out[5] = out[6]
    out[9] = 1.0 if cconv else 0.0
    out[10] = it + N_SCAN + cit
    return out


@njit(cache=True, nogil=True)
def _minimal_Q_bracket(sw2, v, mu, R, mstack, lstack):
    """Bracket (lo, F(lo) > 0, hi), stable-root count and first guess of the Q-map root."""
    if mstack.shape[0] > 0 and lstack.shape[0] > 0 and abs(mu) <= MU_TAB_MAX:
        q_end = sw2 * R + v
        tab = table_rows_at_mu(mstack, mu, v, q_end)
        prof = fill_profile(tab, low_profile_at_mu(lstack, mu), np.empty((3, N_PROFILE)), v,
                            q_end)
        lo, hi, n_stable, x0, ok = walk_gate_Q(prof, tab, sw2, v, mu, R)
        if not ok:
            lo, _, hi, n_stable = scan_gate_Q(tab, sw2, v, mu, R, N_SCAN)
            x0 = 0.5 * (lo + hi)
        # F(0) = E[(1-u)^2] R > 0 and F(R) = -2 R E[u (1-u)] <= 0 need no evaluation
        f_lo_d = 1.0 if lo == 0.0 else _minimal_Q_residual(sw2, v, mu, R, lo)[0]
        f_hi_d = -1.0 if hi == R else _minimal_Q_residual(sw2, v, mu, R, hi)[0]
        if f_lo_d > 0.0 >= f_hi_d:
            x0, _ = _solve(4, tab, sw2, v, mu, R, lo, hi, x0, np.zeros(6))
            return lo, f_lo_d, hi, n_stable, x0
    lo, f_lo, hi, n_stable = scan_gate_Q(NO_GATE_TABLE, sw2, v, mu, R, N_SCAN)
    return lo, f_lo, hi, n_stable, 0.5 * (lo + hi)


@njit(cache=True, nogil=True)
def _minimal_C_solve(sw2, const, mu, R, Sigma, qs, Qs, chi_j, x0, hscale, stab, aux):
    """Stable fixed point x = Q^{ab*} of eq. (4.2) reached from Q^{ab} = 0.

    Returns (x, converged, evaluations); ``aux`` as in ``_vanilla_c_solve``.
    """
    if Sigma >= 1.0 and chi_j <= 1.0:
        return Qs, True, 0
    p = np.array([sw2, const, mu, R, Sigma, qs])
    hi = Qs
    if Sigma >= 1.0:
        found = False
        for k in range(3, 13, 2):
            hi = Qs * (1.0 - 10.0 ** (-k))
            f_hi = _minimal_C_residual(sw2, const, mu, R, Sigma, qs, hi, hscale, stab)[0]
            if f_hi < 0.0:
                found = True
                break
        if not found:
            return Qs, True, 0
    if not 0.0 < x0 < hi:
        f_lo, aux[0], aux[1], aux[2] = _minimal_C_residual(sw2, const, mu, R, Sigma, qs, 0.0,
                                                           hscale, stab)
        if f_lo <= 0.0:
            return 0.0, True, 1
    return _polish(3, p, 0.0, 1.0, hi, np.empty(0), np.empty(0), x0, hscale, stab, aux)


@njit(cache=True, nogil=True)
def vanilla_trajectory(code, sigma_w, sigma_b, sigma_v, mu, R, Sigma, T, gl_x, gl_w, stab):
    """q_t, Q_t, c_t, C_t for t = 0..T from h_0 = 0 (eqs. 3.1-3.2); rows of a (4, T+1) array.

    ``stab``: the smoothing table for the 2-D expectations (as in ``vanilla_point``).
    """
    out = np.full((4, T + 1), np.nan)
    sw2 = sigma_w * sigma_w
    v = sigma_v * sigma_v * R + sigma_b * sigma_b
    Q = 0.0
    Qab = 0.0
    out[1, 0] = 0.0
    out[3, 0] = 1.0
    for t in range(1, T + 1):
        sig = 0.0 if t == 1 else Sigma
        q = sw2 * Q + v
        qab = sw2 * Qab + sigma_v * sigma_v * R * sig + sigma_b * sigma_b
        c = min(qab / q, 1.0) if q > 0.0 else 1.0
        m0, _, _ = vanilla_moments(code, mu, q)
        # within 1e-5 of c = 1 the rule's ~1e-9 absolute error would show in 1 - C_t
        e_ff, _ = vanilla_cross_fast(code, mu, q, c, gl_x, gl_w, H_SCALE,
                                     stab if c < C_DIRECT else NO_TABLE)
        Q = m0
        Qab = e_ff
        out[0, t] = q
        out[1, t] = Q
        out[2, t] = c
        out[3, t] = Qab / Q if Q > 0.0 else 1.0
    return out


@njit(cache=True, nogil=True)
def minimal_trajectory(sigma_w, sigma_b, sigma_v, mu, R, Sigma, T, stab):
    """q_t, Q_t, c_t, C_t for t = 0..T from h_0 = 0 (eqs. 4.1-4.2); ``stab`` as above."""
    out = np.full((4, T + 1), np.nan)
    sw2 = sigma_w * sigma_w
    v = sigma_v * sigma_v * R + sigma_b * sigma_b
    Q = 0.0
    Qab = 0.0
    out[1, 0] = 0.0
    out[3, 0] = 1.0
    for t in range(1, T + 1):
        sig = 0.0 if t == 1 else Sigma
        q = sw2 * Q + v
        qab = sw2 * Qab + sigma_v * sigma_v * R * sig + sigma_b * sigma_b
        c = min(qab / q, 1.0)
        e_uu, e_vv, _, _, _, _ = gate_moments(mu, q)
        x_uu, x_vv, _ = gate_cross_fast(mu, q, c, H_SCALE_GATE,
                                        stab if c < C_DIRECT else NO_TABLE)
        Q = e_uu * Q + e_vv * R
        Qab = x_uu * Qab + x_vv * R * sig
        out[0, t] = q
        out[1, t] = Q
        out[2, t] = c
        out[3, t] = Qab / Q
    return out
