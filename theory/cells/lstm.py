"""The LSTM: c_t = f c_{t-1} + i g, h_t = o tanh(c_t) (gated-cells.md 1.1, 2, 4, 5, 6.2).

Everything specific to this cell lives here, next to the spec's equation numbers
(gated-cells.md; the untied mean field of section 2.2, symmetric case mu_g = 0):

* the gate pre-activation variances q_k = sigma_{w,k}^2 Q + sigma_{v,k}^2 R + sigma_{b,k}^2
  (2.1), the cell recursion (4.1)-(4.2) with its stationary value
  Q_c = E[i^2] E[g^2] / (1 - E[f^2]) and the hidden second moment (4.3) under the
  Gaussian closure (GC, eq. 4.4) or its fourth-cumulant correction (GC4, eq. 4.4b);
* the slope chi_q, the spectral radius of the 2x2 matrix (4.5);
* the two-sequence maps (4.6)-(4.7) under the GC, their fixed point and slope chi_c
  (spectral radius of their 2x2 Jacobian);
* chi_jac = lambda_max of the perturbation matrix M (4.9)-(4.11) and m1 (4.12);
* the tied-network indicator rho_tied (2.5) and the critical surface Delta = 0 (6.2-6.3).

Gate order everywhere: f, i, g, o (the memory gate first). A gate's parameters are
packed in a (4, 4) array ``gp``: rows f, i, g, o; columns sigma_w^2, v = sigma_v^2 R +
sigma_b^2, v_ab = sigma_v^2 R Sigma + sigma_b^2, mu. Kernels return rows laid out as
``_solve.OUT_NAMES`` followed by ``EXTRA_NAMES``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from theory._cross_tables import NO_CROSS_TABLE, point_state, set_mu, set_q
from theory._gauss import GL_W, GL_X, H_SCALE, H_SCALE_GATE, SIGMOID, TANH, sigmoid_moments
from theory._grid import extrapolate, push
from theory._smooth import NO_TABLE, phi_cross_fast, sigmoid_cross_fast
from theory._smooth_cache import cross_table, moment_stack, smoothing_table, tanh0_table
from theory._solve import (
    C_DIRECT,
    C_TOL,
    MAXIT,
    N_OUT,
    XTOL,
    cross_moments,
    identical_inputs,
    newton_step,
    table_state,
)
from theory._tables import MU_TAB_MAX, lookup, table_rows_at_mu, tanh0_lookup
from theory.cells import Cell
from theory.types import GATES, Params, check_int, check_number, check_positive

#: Extra slots of an LSTM kernel row after ``_solve.OUT_NAMES``.
EXTRA_NAMES = ("Qc_star", "Cc_star", "rho_tied", "M_cc", "M_ch", "M_hc", "M_hh",
               "q_f", "q_i", "q_g", "q_o")
N_ROW = N_OUT + len(EXTRA_NAMES)
N_SCAN = 48  # log-spaced scan points of the Q-map on (0, 1] (theory.point)
_EMPTY = np.empty(0)
_NO_GATE_TAB = np.zeros((0, 6))

# --- one sequence: gate moments, the Q-map and its slopes (gated-cells.md 2.1, 4.1-4.5) ------


@njit(cache=True, nogil=True, inline="always")
def _sig(tab, mu, q, m):
    """Sigmoid moments at (mu, q) into m[:6] (``_gauss.sigmoid_moments`` order): table or direct."""
    if tab.shape[0] > 0:
        lookup(tab, SIGMOID, mu, q, m)
    else:
        r = sigmoid_moments(mu, q)
        for j in range(6):
            m[j] = r[j]


@njit(cache=True, nogil=True)
def _moments(gp, Q, tf, ti, to, t0, g):
    """Every one-sequence moment at hidden second moment Q into ``g`` (length 16).

    g[3k..3k+2] = E[u_k^2], dE[u_k^2]/dq, E[u_k'^2] for the gates k = f, i, g, o (g: tanh
    at mean 0); g[12] = Q_c = E[i^2] E[g^2] / (1 - E[f^2]) (4.2, stationary); g[13..15] =
    E[tanh^2 c], its derivative in Q_c, E[tanh'^2 c] under the GC (4.4). Tables ``tf``,
    ``ti``, ``to`` (sigmoid, at mu_f, mu_i, mu_o) and ``t0`` (zero-mean tanh) are used when
    not empty, else the direct rule.
    """
    m = np.empty(6)
    _sig(tf, gp[0, 3], gp[0, 0] * Q + gp[0, 1], m)
    g[0], g[1], g[2] = m[0], m[3], m[2]
    _sig(ti, gp[1, 3], gp[1, 0] * Q + gp[1, 1], m)
    g[3], g[4], g[5] = m[0], m[3], m[2]
    _sig(to, gp[3, 3], gp[3, 0] * Q + gp[3, 1], m)
    g[9], g[10], g[11] = m[0], m[3], m[2]
    tanh0_lookup(t0, gp[2, 0] * Q + gp[2, 1], m)
    g[6], g[7], g[8] = m[0], m[2], m[1]
    g[12] = g[3] * g[6] / (1.0 - g[0])
    tanh0_lookup(t0, g[12], m)
    g[13], g[14], g[15] = m[0], m[2], m[1]


@njit(cache=True, nogil=True, inline="always")
def _residual(gp, Q, g):
    """Q-map residual Psi(Q) - Q (4.3, 4.4) and its derivative - 1, from ``_moments``."""
    dqc = (gp[1, 0] * g[4] * g[6] + g[3] * gp[2, 0] * g[7] + g[12] * gp[0, 0] * g[1]) / (1.0 - g[0])
    return g[9] * g[13] - Q, gp[3, 0] * g[10] * g[13] + g[9] * g[14] * dqc - 1.0


@njit(cache=True, nogil=True, inline="always")
def _radius(a, b, c, d):
    """Spectral radius of the 2x2 matrix [[a, b], [c, d]]."""
    tr, det = a + d, a * d - b * c
    disc = tr * tr - 4.0 * det
    if disc < 0.0:
        return math.sqrt(det)  # complex pair: |lambda|^2 = det
    s = math.sqrt(disc)
    return max(abs(0.5 * (tr + s)), abs(0.5 * (tr - s)))


@njit(cache=True, nogil=True)
def _slopes(gp, Q, g, out):
    """chi_q (4.5), chi_jac and M (4.9-4.11), Q_c, rho_tied (2.5), q_k at the fixed point Q."""
    a = g[0]
    b = g[12] * gp[0, 0] * g[1] + gp[1, 0] * g[4] * g[6] + gp[2, 0] * g[3] * g[7]
    a2 = g[9] * g[14]
    out[4] = _radius(a, b, a2 * a, gp[3, 0] * g[10] * g[13] + a2 * b)
    K = gp[0, 0] * g[2] * g[12] + gp[1, 0] * g[5] * g[6] + gp[2, 0] * g[3] * g[8]
    A1 = g[9] * g[15]
    B = gp[3, 0] * g[11] * g[13]
    tau = a + A1 * K + B
    out[6] = 0.5 * (tau + math.sqrt(max(tau * tau - 4.0 * a * B, 0.0)))  # (4.11)
    out[N_OUT] = g[12]
    xi_mem = -1.0 / math.log(a) if 0.0 < a < 1.0 else math.inf
    qg = gp[2, 0] * Q + gp[2, 1]
    out[N_OUT + 2] = xi_mem * gp[2, 0] * Q / qg if qg > 0.0 else 0.0
    out[N_OUT + 3], out[N_OUT + 4], out[N_OUT + 5], out[N_OUT + 6] = a, K, A1 * a, A1 * K + B
    for k in range(4):
        out[N_OUT + 7 + k] = gp[k, 0] * Q + gp[k, 1]


@njit(cache=True, nogil=True)
def _gc4(gp, Q, g):
    """Apply the fourth-cumulant correction (4.4b) to E[tanh^2 c] and E[tanh'^2 c] in ``g``.

    kappa_4 = E[c^4] - 3 Q_c^2 with the exact stationary E[c^4] (symmetric case); the
    correction of E[F(c)] is kappa_4 / (24 Q_c^2) E[F(sqrt(Q_c) z) He_4(z)].
    """
    qf, qi, qg = gp[0, 0] * Q + gp[0, 1], gp[1, 0] * Q + gp[1, 1], gp[2, 0] * Q + gp[2, 1]
    f4 = _fourth(SIGMOID, gp[0, 3], qf)
    i4 = _fourth(SIGMOID, gp[1, 3], qi)
    g4 = _fourth(TANH, 0.0, qg)
    qc = g[12]
    if qc <= 0.0:
        return
    c4 = (6.0 * g[0] * g[3] * g[6] * qc + i4 * g4) / (1.0 - f4)
    k4 = (c4 - 3.0 * qc * qc) / (24.0 * qc * qc)
    t_he, d_he = _he4_terms(qc)
    g[13] += k4 * t_he
    g[15] += k4 * d_he


@njit(cache=True, nogil=True)
def _fourth(code, mu, q):
    """E[u^4] of the sigmoid gate or of tanh, e ~ N(mu, q) (trapezoid, theory.md 10.1)."""
    return _power(code, mu, q, 4)


@njit(cache=True, nogil=True)
def _power(code, mu, q, p):
    """E[u^p] of the sigmoid gate or of tanh, e ~ N(mu, q) (trapezoid, theory.md 10.1)."""
    h = min(0.5, (H_SCALE_GATE if code == SIGMOID else H_SCALE) / math.sqrt(max(q, 1e-300)))
    n = int(18.0 / h) + 1
    z0 = -0.5 * (n - 1) * h
    s, acc, wsum = math.sqrt(max(q, 0.0)), 0.0, 0.0
    for k in range(n):
        z = z0 + k * h
        w = math.exp(-0.5 * z * z)
        e = mu + s * z
        u = 0.5 * (1.0 + math.tanh(0.5 * e)) if code == SIGMOID else math.tanh(e)
        acc += w * u**p
        wsum += w
    return acc / wsum


@njit(cache=True, nogil=True)
def _gc4_step(gp, x):
    """One step of the GC4 length recursion on the state x = (Q_c, E[c^4], Q) (symmetric case).

    Q_c' = E[f^2] Q_c + E[i^2] E[g^2] (4.2); E[c^4]' = E[f^4] E[c^4] + 6 E[f^2] E[i^2] E[g^2] Q_c
    + E[i^4] E[g^4]; Q' = E[o^2] E_GC4[tanh^2 c'] (4.3, 4.4b), gates at q_k(Q).
    """
    qc, m4, Q = x[0], x[1], x[2]
    q = np.empty(4)
    for k in range(4):
        q[k] = gp[k, 0] * Q + gp[k, 1]
    f2, i2 = _power(SIGMOID, gp[0, 3], q[0], 2), _power(SIGMOID, gp[1, 3], q[1], 2)
    g2, o2 = _power(TANH, 0.0, q[2], 2), _power(SIGMOID, gp[3, 3], q[3], 2)
    out = np.empty(3)
    out[0] = f2 * qc + i2 * g2
    out[1] = (_power(SIGMOID, gp[0, 3], q[0], 4) * m4 + 6.0 * f2 * i2 * g2 * qc
              + _power(SIGMOID, gp[1, 3], q[1], 4) * _power(TANH, 0.0, q[2], 4))
    t2 = _power(TANH, 0.0, out[0], 2)
    if out[0] > 0.0:
        t2 += (out[1] - 3.0 * out[0] ** 2) / (24.0 * out[0] ** 2) * _he4_terms(out[0])[0]
    out[2] = o2 * t2
    return out


@njit(cache=True, nogil=True)
def _gc4_chi_q(gp, Q, qc):
    """chi_q under GC4: spectral radius of the Jacobian of :func:`_gc4_step` at the fixed point.

    Under GC4 the fourth moment of c is a third dynamical variable, so the rate at which
    q_t reaches q* is that of the 3x3 linearisation, not of (4.5). Central differences at a
    relative step of 1e-4 (truncation ~1e-8; the quadratures are accurate to ~1e-12).
    """
    qf, qi, qg = gp[0, 0] * Q + gp[0, 1], gp[1, 0] * Q + gp[1, 1], gp[2, 0] * Q + gp[2, 1]
    f2 = _power(SIGMOID, gp[0, 3], qf, 2)
    i2g2 = _power(SIGMOID, gp[1, 3], qi, 2) * _power(TANH, 0.0, qg, 2)
    m4 = ((6.0 * f2 * i2g2 * qc + _fourth(SIGMOID, gp[1, 3], qi) * _fourth(TANH, 0.0, qg))
          / (1.0 - _fourth(SIGMOID, gp[0, 3], qf)))
    x = np.array([qc, m4, Q])
    jac = np.empty((3, 3))
    for j in range(3):
        d = 1e-4 * max(abs(x[j]), 1e-12)
        xp, xm = x.copy(), x.copy()
        xp[j] += d
        xm[j] -= d
        jac[:, j] = (_gc4_step(gp, xp) - _gc4_step(gp, xm)) / (2.0 * d)
    return np.max(np.abs(np.linalg.eigvals(jac.astype(np.complex128))))


@njit(cache=True, nogil=True)
def _he4_terms(qc):
    """E[tanh^2(sqrt(qc) z) He_4(z)] and E[tanh'^2(sqrt(qc) z) He_4(z)], He_4 = z^4 - 6z^2 + 3."""
    h = min(0.25, 0.25 / math.sqrt(qc))
    n = int(18.0 / h) + 1
    z0 = -0.5 * (n - 1) * h
    s, a, b, wsum = math.sqrt(qc), 0.0, 0.0, 0.0
    for k in range(n):
        z = z0 + k * h
        w = math.exp(-0.5 * z * z)
        t = math.tanh(s * z)
        he = (z * z - 6.0) * z * z + 3.0
        a += w * t * t * he
        b += w * (1.0 - t * t) ** 2 * he
        wsum += w
    return a / wsum, b / wsum


# --- two sequences (gated-cells.md 4.4, GC) ----------------------------------------------------


@njit(cache=True, nogil=True)
def _pair(gp, qk, qc, x, direct, stabs, ts, e):
    """Covariance-map residual Phi(x) - x of (4.6)-(4.7) at Q^ab = x and its slope - 1.

    ``qk`` holds q_f, q_i, q_g, q_o at the fixed point and ``qc`` = Q_c*. ``e`` (length 12)
    receives E[f f], E[f'f'], E[i i], E[i'i'], E[g g], E[g'g'], E[o o], E[o'o'], Q_c^ab,
    E[tanh c tanh c], E[tanh' tanh'] and the forget-gate correlation c_f. ``direct``:
    the accurate 2-D rule (``stabs`` = sigmoid, tanh smoothing tables); otherwise the
    cross tables of the states ``ts`` (f, i, g, o, cell).
    """
    for k in range(4):
        c = min(max((gp[k, 0] * x + gp[k, 2]) / qk[k], 0.0), 1.0) if qk[k] > 0.0 else 1.0
        if k == 0:
            e[11] = c
        if direct:
            if k == 2:
                e[4], e[5] = phi_cross_fast(TANH, 0.0, qk[2], c, GL_X, GL_W, H_SCALE, stabs[1])
            else:
                r = sigmoid_cross_fast(gp[k, 3], qk[k], c, H_SCALE_GATE, stabs[0])
                e[2 * k], e[2 * k + 1] = r[0], r[2]
        else:
            code = TANH if k == 2 else SIGMOID
            cross_moments(code, gp[k, 3], qk[k], c, GL_X, GL_W, stabs[1 if k == 2 else 0], ts[k])
            e[2 * k], e[2 * k + 1] = ts[k][5][0], ts[k][5][1]
    e[8] = e[2] * e[4] / (1.0 - e[0])
    rho = min(max(e[8] / qc, 0.0), 1.0) if qc > 0.0 else 1.0
    if direct:
        e[9], e[10] = phi_cross_fast(TANH, 0.0, qc, rho, GL_X, GL_W, H_SCALE,
                                     stabs[1] if rho < C_DIRECT else NO_TABLE)
    else:
        cross_moments(TANH, 0.0, qc, rho, GL_X, GL_W, stabs[1], ts[4])
        e[9], e[10] = ts[4][5][0], ts[4][5][1]
    dqab = (gp[1, 0] * e[3] * e[4] + e[2] * gp[2, 0] * e[5] + e[8] * gp[0, 0] * e[1]) / (1.0 - e[0])
    return e[6] * e[9] - x, gp[3, 0] * e[7] * e[9] + e[6] * e[10] * dqab - 1.0


@njit(cache=True, nogil=True, inline="always")
def _chi_c(gp, e):
    """chi_c: spectral radius of the Jacobian of (4.6)-(4.7) in (Q_c^ab, Q^ab)."""
    a = e[0]
    b = e[8] * gp[0, 0] * e[1] + gp[1, 0] * e[3] * e[4] + e[2] * gp[2, 0] * e[5]
    A = e[6] * e[10]
    return _radius(a, b, A * a, gp[3, 0] * e[7] * e[9] + A * b)


@njit(cache=True, nogil=True)
def _pair_solve(gp, qk, qc, Qs, same_inputs, chi_jac, x0, direct, stabs, ts, e, tol):
    """Stable Q^ab* in [0, Q*] reached from 0 (as the other cells); (x, converged, evals)."""
    if Qs <= 0.0 or (same_inputs and chi_jac <= 1.0):
        return Qs, True, 0  # identical inputs when ordered: C* = 1 exactly
    hi = Qs
    if same_inputs:
        found = False
        for k in range(3, 13, 2):
            hi = Qs * (1.0 - 10.0 ** (-k))
            if _pair(gp, qk, qc, hi, direct, stabs, ts, e)[0] < 0.0:
                found = True
                break
        if not found:
            return Qs, True, 0
    lo, n = 0.0, 0
    if not 0.0 < x0 < hi:
        n += 1
        if _pair(gp, qk, qc, 0.0, direct, stabs, ts, e)[0] <= 0.0:
            return 0.0, True, n
        x0 = 0.5 * hi
    x = x0
    for _ in range(MAXIT):
        f, df = _pair(gp, qk, qc, x, direct, stabs, ts, e)
        n += 1
        if f == 0.0:
            return x, True, n
        x_new, lo, hi = newton_step(x, f, df, lo, hi)
        if abs(x_new - x) <= tol * max(abs(x_new), 1e-6 * Qs) or hi - lo <= XTOL * hi:
            return x_new, True, n
        x = x_new
    return x, False, n


# --- the fixed point (theory.point, grids) ------------------------------------------------------


@njit(cache=True, nogil=True)
def _Q_solve(gp, lo, hi, x0, tf, ti, to, t0, gc4, g, tol):
    """Safeguarded Newton for the Q-map root in [lo, hi] (F(lo) > 0 >= F(hi))."""
    x = x0 if lo < x0 < hi else 0.5 * (lo + hi)
    n = 0
    for _ in range(MAXIT):
        _moments(gp, x, tf, ti, to, t0, g)
        if gc4:
            _gc4(gp, x, g)
        f, df = _residual(gp, x, g)
        n += 1
        if f == 0.0:
            return x, True, n
        x_new, lo, hi = newton_step(x, f, df, lo, hi)
        if abs(x_new - x) <= tol * max(abs(x_new), 1e-12) or hi - lo <= tol * abs(hi):
            return x_new, True, n
        x = x_new
    return x, False, n


@njit(cache=True, nogil=True)
def _Q_bracket(gp, tf, ti, to, t0, n_scan, g):
    """First sign change + -> - of F on [0, 1] (0 and ``n_scan`` points log-spaced from 1e-10)
    and the number of such changes (stable roots). Returns (lo, hi, n_stable, undriven)."""
    _moments(gp, 0.0, tf, ti, to, t0, g)
    f_prev = _residual(gp, 0.0, g)[0]
    if f_prev <= 0.0:
        return 0.0, 0.0, 1, True  # nothing drives the units: Q* = 0 (h stays 0)
    x_prev, lo, hi, n_stable = 0.0, 0.0, 1.0, 0
    ratio = 10.0 ** (10.0 / (n_scan - 1))
    x = 1e-10
    for k in range(n_scan):
        x = x if k < n_scan - 1 else 1.0
        _moments(gp, x, tf, ti, to, t0, g)
        f = _residual(gp, x, g)[0]
        if f_prev > 0.0 >= f:
            n_stable += 1
            if n_stable == 1:
                lo, hi = x_prev, x
        f_prev, x_prev = f, x
        x *= ratio
    return lo, hi, max(n_stable, 1), False


@njit(cache=True, nogil=True)
def point_kernel(gp, R, Sigma, gc4, tf, ti, to, t0, stabs, cts):
    """Fixed points and slopes (gated-cells.md 4) as a row of ``N_ROW`` (OUT_NAMES, EXTRA_NAMES).

    The tables ``tf``, ``ti``, ``to``, ``t0`` bracket the Q-map root (a scan) and give a
    first guess that the direct rule polishes to a relative step 1e-14 (the zero-mean tanh
    table ``t0`` is accurate to ~1e-12 and stays); the covariance
    fixed point starts from the cross tables ``cts`` (sigmoid, tanh) and is polished
    with the smoothing rule (``stabs``: sigmoid, tanh).
    """
    out = np.full(N_ROW, np.nan)
    g = np.zeros(16)
    none = np.zeros((0, 6))  # the direct rule for the gates (t0 is accurate to ~1e-12)
    lo, hi, n_stable, undriven = _Q_bracket(gp, tf, ti, to, t0, N_SCAN, g)
    if undriven:
        Qs, conv, it = 0.0, True, 1
    else:
        x0, _, _ = _Q_solve(gp, lo, hi, 0.5 * (lo + hi), tf, ti, to, t0, gc4, g, C_TOL)
        Qs, conv, it = _Q_solve(gp, lo, hi, x0, none, none, none, t0, gc4, g, XTOL)
    _moments(gp, Qs, none, none, none, t0, g)
    if gc4:
        _gc4(gp, Qs, g)
    _slopes(gp, Qs, g, out)
    if gc4 and g[12] > 0.0:
        out[4] = _gc4_chi_q(gp, Qs, g[12])
    out[0] = gp[0, 0] * Qs + gp[0, 1]
    out[1] = Qs
    out[7] = 1.0
    out[8] = 1.0 if conv else 0.0
    out[11] = 1.0 if n_stable > 1 else 0.0
    out[12] = n_stable
    if gc4:  # the two-sequence quantities stay GC (gated-cells.md 4.4)
        _moments(gp, Qs, none, none, none, t0, g)
    qk = out[N_OUT + 7:N_OUT + 11].copy()
    e = np.zeros(12)
    x0 = -1.0
    same = identical_inputs(gp, Sigma)
    if cts[0].shape[0] > 0 and Qs > 0.0:
        ts = (point_state(cts[0], SIGMOID, gp[0, 3], qk[0]),
              point_state(cts[0], SIGMOID, gp[1, 3], qk[1]),
              point_state(cts[1], TANH, 0.0, qk[2]), point_state(cts[0], SIGMOID, gp[3, 3], qk[3]),
              point_state(cts[1], TANH, 0.0, g[12]))
        x0 = _pair_solve(gp, qk, g[12], Qs, same, out[6], -1.0, False, stabs, ts, e,
                         C_TOL)[0]
    _finish_pair(gp, qk, g[12], Qs, same, out, x0, True, stabs, _point_states(), e, XTOL)
    out[10] = it + N_SCAN + 1
    return out


@njit(cache=True, nogil=True)
def _point_states():
    """Placeholder table states for the direct rule (never read)."""
    st = table_state(NO_CROSS_TABLE)
    return st, st, st, st, st


@njit(cache=True, nogil=True, inline="always")
def _finish_pair(gp, qk, qc, Qs, same_inputs, out, x0, direct, stabs, ts, e, tol):
    """Covariance fixed point and its outputs C*, c*, chi_c, Cc* into ``out``."""
    xs, cconv, cit = _pair_solve(gp, qk, qc, Qs, same_inputs, out[6], x0, direct, stabs, ts, e,
                                 tol)
    if cit > 0:
        _pair(gp, qk, qc, xs, direct, stabs, ts, e)  # e at the root (one more evaluation)
        out[5] = _chi_c(gp, e)
        out[2] = e[11]
        out[N_OUT + 1] = e[8] / qc if qc > 0.0 else 1.0
    else:  # C* = 1 (identical inputs, ordered, or no variance): chi_c = chi_jac
        out[5] = out[6]
        out[2] = 1.0
        out[N_OUT + 1] = 1.0
    out[3] = xs / Qs if Qs > 0.0 else 1.0
    out[9] = 1.0 if cconv else 0.0


@njit(cache=True, nogil=True)
def trajectory_kernel(gp, T, gc4, stabs, t0):
    """q_t (forget gate), Q_t, c_t (forget-gate correlation), C_t, Q_{c,t}: rows of (5, T + 1).

    Iterates (4.1)-(4.3) and (4.6)-(4.7) from c_0 = h_0 = 0 for two sequences with
    independent inputs at t = 1 (gate covariance sigma_{b,k}^2 then, column 4 of ``gp``)
    and input correlation Sigma afterwards (GC; with ``gc4`` the exact fourth moment of
    c is iterated too and Q_t uses eq. 4.4b).
    """
    out = np.full((5, T + 1), np.nan)
    out[1, 0], out[3, 0], out[4, 0] = 0.0, 1.0, 0.0
    Q = Qab = Qc = Qcab = c4 = 0.0
    m = np.empty(6)
    u2, u4, uu = np.empty(4), np.empty(4), np.empty(4)
    for t in range(1, T + 1):
        for k in range(4):
            q = gp[k, 0] * Q + gp[k, 1]
            qab = gp[k, 0] * Qab + (gp[k, 2] if t > 1 else gp[k, 4])
            c = min(max(qab / q, 0.0), 1.0) if q > 0.0 else 1.0
            if k == 0:
                out[0, t], out[2, t] = q, c
            stab = (stabs[1] if k == 2 else stabs[0]) if c < C_DIRECT else NO_TABLE
            code = TANH if k == 2 else SIGMOID
            u4[k] = _fourth(code, gp[k, 3], q) if gc4 else 0.0
            if k == 2:
                tanh0_lookup(t0, q, m)
                u2[k] = m[0]
                uu[k] = phi_cross_fast(TANH, 0.0, q, c, GL_X, GL_W, H_SCALE, stab)[0]
            else:
                u2[k] = sigmoid_moments(gp[k, 3], q)[0]
                uu[k] = sigmoid_cross_fast(gp[k, 3], q, c, H_SCALE_GATE, stab)[0]
        c4 = u4[0] * c4 + 6.0 * u2[0] * u2[1] * u2[2] * Qc + u4[1] * u4[2]
        Qc = u2[0] * Qc + u2[1] * u2[2]
        Qcab = uu[0] * Qcab + uu[1] * uu[2]
        tanh0_lookup(t0, Qc, m)
        t2 = m[0]
        if gc4 and Qc > 0.0:
            t2 += (c4 - 3.0 * Qc * Qc) / (24.0 * Qc * Qc) * _he4_terms(Qc)[0]
        Q = u2[3] * t2
        rho = min(max(Qcab / Qc, 0.0), 1.0) if Qc > 0.0 else 1.0
        tt = phi_cross_fast(TANH, 0.0, Qc, rho, GL_X, GL_W, H_SCALE,
                            stabs[1] if rho < C_DIRECT else NO_TABLE)[0]
        Qab = uu[3] * tt
        out[1, t], out[4, t] = Q, Qc
        out[3, t] = Qab / Q if Q > 0.0 else 1.0
    return out


# --- grids -------------------------------------------------------------------------------------


@njit(cache=True, nogil=True, inline="always")
def _node_params(ov, sw, sb, sv, mu_f, mu_i, mu_o, R, Sigma, gp):
    """Per-gate parameters of one node into ``gp`` (4, 5): the shared values unless ``ov``
    (4, 3: sigma_w, sigma_v, sigma_b per gate, NaN = shared) overrides them."""
    for k in range(4):
        w = sw if math.isnan(ov[k, 0]) else ov[k, 0]
        v = sv if math.isnan(ov[k, 1]) else ov[k, 1]
        b = sb if math.isnan(ov[k, 2]) else ov[k, 2]
        gp[k, 0] = w * w
        gp[k, 1] = v * v * R + b * b
        gp[k, 2] = v * v * R * Sigma + b * b
        gp[k, 4] = b * b
    gp[0, 3], gp[1, 3], gp[2, 3], gp[3, 3] = mu_f, mu_i, 0.0, mu_o


@njit(cache=True, nogil=True, inline="always")
def _grid_Q(gp, guess, tf, ti, to, t0, g):
    """Q* at a grid node on the tables: (Q*, converged, n_stable)."""
    _moments(gp, 0.0, tf, ti, to, t0, g)
    if _residual(gp, 0.0, g)[0] <= 0.0:
        return 0.0, True, 1
    Qs, conv, _ = _Q_solve(gp, 0.0, 1.0, guess, tf, ti, to, t0, False, g, C_TOL)
    for frac in (0.5, 0.1, 0.01):  # an earlier root (a second branch) would show here
        _moments(gp, frac * Qs, tf, ti, to, t0, g)
        if _residual(gp, frac * Qs, g)[0] <= 0.0:
            lo, hi, n_stable, _ = _Q_bracket(gp, tf, ti, to, t0, N_SCAN, g)
            Qs, conv, _ = _Q_solve(gp, lo, hi, 0.5 * (lo + hi), tf, ti, to, t0, False, g, C_TOL)
            return Qs, conv, n_stable
    return Qs, conv, 1


@njit(cache=True, nogil=True)
def grid_kernel(SW, SB, SV, MU, ov, mu_i, mu_o, R, Sigma, tabs, tab_idx, ti, to, t0, want_c,
                stabs, cts, out):
    """Fill ``out[:, j, i]`` (``N_ROW`` rows) for every node of the (ny, nx) parameter arrays.

    The memory gate's table is ``tabs[tab_idx[j, i]]`` (mu_f = mu_b of the node); the
    other gates' are fixed. Q* starts from the root extrapolated along the row; the
    covariance fixed point reads the cross tables ``cts`` (sigmoid, tanh).
    """
    ny, nx = SW.shape
    gp = np.zeros((4, 5))
    g = np.zeros(16)
    e = np.zeros(12)
    res = np.zeros(N_ROW)
    ts = (table_state(cts[0]), table_state(cts[0]), table_state(cts[1]), table_state(cts[0]),
          table_state(cts[1]))
    if want_c:
        set_mu(cts[0], SIGMOID, mu_i, ts[1][1], ts[1][2])
        set_mu(cts[1], TANH, 0.0, ts[2][1], ts[2][2])
        set_mu(cts[0], SIGMOID, mu_o, ts[3][1], ts[3][2])
        set_mu(cts[1], TANH, 0.0, ts[4][1], ts[4][2])
    mu_set = math.nan
    for j in range(ny):
        qh = np.full(3, -1.0)
        ch = np.full(3, -1.0)
        for i in range(nx):
            _node_params(ov, SW[j, i], SB[j, i], SV[j, i], MU[j, i], mu_i, mu_o, R, Sigma, gp)
            tf = tabs[tab_idx[j, i]]
            Qs, conv, n_stable = _grid_Q(gp, extrapolate(qh), tf, ti, to, t0, g)
            _moments(gp, Qs, tf, ti, to, t0, g)
            res[:] = np.nan
            _slopes(gp, Qs, g, res)
            res[0], res[1], res[7] = gp[0, 0] * Qs + gp[0, 1], Qs, 1.0
            res[8] = 1.0 if conv else 0.0
            res[11], res[12] = (1.0 if n_stable > 1 else 0.0), n_stable
            push(qh, Qs)
            if want_c:
                if MU[j, i] != mu_set:
                    mu_set = MU[j, i]
                    set_mu(cts[0], SIGMOID, mu_set, ts[0][1], ts[0][2])
                qk = res[N_OUT + 7:N_OUT + 11]
                for k in range(4):
                    set_q(qk[k], ts[k][4])
                set_q(g[12], ts[4][4])
                same = identical_inputs(gp, Sigma)
                _finish_pair(gp, qk.copy(), g[12], Qs, same, res, extrapolate(ch) * Qs,
                             False, stabs, ts, e, C_TOL)
                push(ch, res[3])
            out[:, j, i] = res


# --- finite networks: the sampler's Jacobians and the simulator (gated-cells.md 1.1, 4.8) ------


def _draw(p: Params, N: int, n: int, rng: np.random.Generator) -> dict:
    """W_k, V_k, b_k (k = f, i, g, o) of gated-cells.md 1.3 for n networks."""
    from theory._networks import draw_gate_matrices

    gates = [p.gate(k) for k in GATES["lstm"]]
    W = draw_gate_matrices(p.weights, [g.sigma_w for g in gates], N, n, rng)
    V = [rng.standard_normal((n, N, N)) * (g.sigma_v / math.sqrt(N)) for g in gates]
    b = [g.mu + g.sigma_b * rng.standard_normal((n, N)) for g in gates]
    return {"W": W, "Vt": [np.swapaxes(v, 1, 2) for v in V], "b": b}


def _redraw(p: Params, net: dict, N: int, rng: np.random.Generator) -> None:
    """Untied ensemble (gated-cells.md 2.2): fresh W_k and biases; V_k stays."""
    from theory._networks import draw_gate_matrices

    gates = [p.gate(k) for k in GATES["lstm"]]
    n = net["b"][0].shape[0]
    net["W"] = draw_gate_matrices(p.weights, [g.sigma_w for g in gates], N, n, rng)
    net["b"] = [g.mu + g.sigma_b * rng.standard_normal((n, N)) for g in gates]


def _lstm_step(W, c, h, drives):
    """One LSTM step (1.1): (u_f, f, i, g, o, c', h') from (c, h) and the gates' V x + b."""
    from theory._networks import sigmoid

    uf = W(0, h) + drives[0]
    f, i = sigmoid(uf), sigmoid(W(1, h) + drives[1])
    g, o = np.tanh(W(2, h) + drives[2]), sigmoid(W(3, h) + drives[3])
    c_new = f * c + i * g
    return uf, f, i, g, o, c_new, o * np.tanh(c_new)


class _Factor:
    """The LSTM one-step Jacobian (4.8) on (delta c, delta h), applied without forming it."""

    def __init__(self, f, A, d, bo, Wo, bound) -> None:
        self.f, self.A, self.d, self.bo, self.Wo, self.bound = f, A, d, bo, Wo, bound

    def apply(self, Y: np.ndarray) -> np.ndarray:
        N = self.f.shape[0]
        top = self.f[:, None] * Y[:N] + self.A.apply(Y[N:])
        return np.concatenate((top, self.d[:, None] * top + self.bo[:, None] * (self.Wo @ Y[N:])))

    def cond_bound(self) -> float:
        return self.bound


class _Network:
    """A tied LSTM run from c_0 = h_0 = 0; state (c, h), steps yield J_t of eq. (4.8)."""

    def __init__(self, p: Params, N: int, rng: np.random.Generator) -> None:
        d = _draw(p, N, 1, rng)
        self.p, self.N, self.dim, self.rng = p, N, 2 * N, rng
        self.W = [w[0] for w in d["W"]]
        self.Vt = [v[0] for v in d["Vt"]]
        self.b = [b[0] for b in d["b"]]
        self.state = np.zeros(2 * N)
        self.sqrtR = math.sqrt(p.R)

    def step(self):
        """Advance one step; return its Jacobian factor (cond bound inf: QR every step)."""
        from theory._networks import SumFactor

        N = self.N
        x = self.sqrtR * self.rng.standard_normal(N)
        c, h = self.state[:N], self.state[N:]
        drives = [x @ vt + b for vt, b in zip(self.Vt, self.b, strict=True)]
        _, f, i, g, o, c_new, h_new = _lstm_step(lambda k, v: self.W[k] @ v, c, h, drives)
        Wf, Wi, Wg, Wo = self.W
        A = SumFactor(np.zeros(N), [(c * f * (1.0 - f), Wf, 0.0, None),
                                    (g * i * (1.0 - i), Wi, 0.0, None),
                                    (i * (1.0 - g * g), Wg, 0.0, None)])
        tc = np.tanh(c_new)
        self.state = np.concatenate((c_new, h_new))
        return _Factor(f, A, o * (1.0 - tc * tc), tc * o * (1.0 - o), Wo, math.inf)


class _Simulator:
    """Stepping functions of ``theory.montecarlo`` for n LSTMs at once. The state is
    (c, h) (2N per network); q_t, c_t are the forget gate's, Q_t, C_t the hidden h's.
    The one-step trace is not computed (NaN): the perturbation growth of (c, h)
    measures chi_jac = lambda_max(M) (4.11)."""

    @staticmethod
    def dim(N: int) -> int:
        return 2 * N

    draw = staticmethod(_draw)
    redraw = staticmethod(_redraw)

    @staticmethod
    def drive(p: Params, net: dict, xa: np.ndarray, xb: np.ndarray) -> list:
        """V_k x + b_k of the rows (a, b, copy of a) per gate: four (n, L, 3, N) arrays."""
        out = []
        for vt, b in zip(net["Vt"], net["b"], strict=True):
            d = np.stack((xa @ vt, xb @ vt), axis=2) + b[:, None, None, :]
            out.append(d[:, :, (0, 1, 0)])
        return out

    @staticmethod
    def step(p: Params, net: dict, H: np.ndarray, drive: list, s: int, x: np.ndarray):
        from theory._mc_kernels import _matvec3

        def W(k, v):
            out = np.empty_like(v)
            _matvec3(net["W"][k], np.ascontiguousarray(v), out)
            return out

        N = H.shape[2] // 2
        uf, *_, c_new, h_new = _lstm_step(W, H[..., :N], H[..., N:], [d[:, s] for d in drive])
        return uf, np.concatenate((c_new, h_new), axis=2), np.full(H.shape[0], np.nan)

    @staticmethod
    def hidden(H: np.ndarray) -> np.ndarray:
        return H[..., H.shape[2] // 2:]


# --- the spectrum of the T-step Jacobian (gated-cells.md 5.2) ----------------------------------

METHOD = (
    "moments only (gated-cells.md 5.2): m1 = (1/2) (1, 1) M^T (1, 1)^T from the perturbation "
    "matrix M of eq. (4.9) (untied mean field; exact up to decoupling delta c from c in "
    "tanh'(c), about 1 % in chi_jac); the spec gives no density for the LSTM's 2x2-block "
    "Jacobian: sample a network for the histogram.")


def spectrum(p: Params, T: int, n: int, pr):
    """m1 of the T-step Jacobian of (c, h) (eq. 4.12); no density (``has_density`` False)."""
    from theory.spectra import moments_only_spectrum

    M = np.array(pr.jac_matrix)
    with np.errstate(over="ignore"):
        m1 = 0.5 * float(np.ones(2) @ np.linalg.matrix_power(M, T) @ np.ones(2))
    return moments_only_spectrum(p, T, m1 if math.isfinite(m1) else math.inf, math.nan, METHOD)


# --- critical initialisation (gated-cells.md 6.2-6.3) ------------------------------------------

MAX_T = 100_000


def critical_init(T: int, delta: float = 0.1, sigma_v: float = 1.0, R: float = 1.0,
                  sigma_b: float = 0.0, sigma_w: float = 1.0):
    """Forget-gate bias for a cell memory ~T/delta and input/candidate weights on the
    ordered side of the critical surface (6.2-6.3).

    mu_f = ln(2T/delta) + q_f/2 (so 1 - E[f^2] ~ delta/T, eq. 4.16, with q_f ~ sigma_v^2 R +
    sigma_b^2); the forget and output gates keep ``sigma_w``; sigma_{w,i} = sigma_{w,g} = s
    is ``sigma_w`` if chi_jac <= 1 - delta/(2T) there, else the root of chi_jac(s) =
    1 - delta/(2T) (Brent): the admissible loop gain shrinks like e^{-mu_f/2} (6.4), so a
    long memory needs small recurrent weights into i and g. Tied networks are less ordered
    than this untied mean field (gated-cells.md 2.3): sample one to check.
    """
    from scipy.optimize import brentq

    from theory.critical import GatedCriticalInit
    from theory.meanfield import point

    T, delta = check_int("T", T, MAX_T), check_positive("delta", delta, 1.0)
    sigma_v, R, sigma_b, sigma_w = (check_number(n, v) for n, v in (
        ("sigma_v", sigma_v), ("R", R), ("sigma_b", sigma_b), ("sigma_w", sigma_w)))
    mu0 = math.log(2.0 * T / delta) + 0.5 * (sigma_v**2 * R + sigma_b**2)
    mu = min(mu0, 10.0)
    target = 1.0 - 0.5 * delta / T
    base = Params(arch="lstm", sigma_v=sigma_v, R=R, sigma_b=sigma_b, sigma_w=sigma_w, mu_b=mu,
                  Sigma=1.0)

    def at(s: float) -> Params:
        return base.replace(overrides={"sigma_w_i": s, "sigma_w_g": s})

    s = sigma_w
    if point(at(s)).chi_jac > target:
        lo_val = point(at(0.0)).chi_jac - target
        s = brentq(lambda x: point(at(x)).chi_jac - target, 0.0, sigma_w, xtol=1e-10) \
            if lo_val < 0.0 else 0.0
    p = at(s)
    r = point(p)
    ok = 1.0 - delta / T <= r.chi_jac <= 1.0
    msg = "" if ok else (f"chi_jac = {r.chi_jac:.6g} is outside [1 - delta/T, 1]"
                         + (" (mu_b capped at 10)" if mu0 > 10.0 else ""))
    return GatedCriticalInit(arch="lstm", T=T, delta=delta, params=p, closed_form_mu_b=mu0,
                             chi_jac=r.chi_jac, xi_jac=r.xi_jac, Q_star=r.Q_star, branch="low",
                             converged=ok, in_range=mu0 <= 10.0, message=msg)


# --- the public cell interface (theory.cells.Cell) --------------------------------------------


def gate_params(p: Params) -> np.ndarray:
    """The (4, 5) gate array of ``p`` (rows f, i, g, o; see the module docstring)."""
    gp = np.zeros((4, 5))
    for k, name in enumerate(GATES["lstm"]):
        gate = p.gate(name)
        gp[k] = (gate.sigma_w**2, gate.sigma_v**2 * p.R + gate.sigma_b**2,
                 gate.sigma_v**2 * p.R * p.Sigma + gate.sigma_b**2, gate.mu, gate.sigma_b**2)
    return gp


def _gate_tables(p: Params):
    """1-D tables rows at mu_f, mu_i, mu_o (from the moment stack) and the tanh table."""
    stack, out = moment_stack(SIGMOID), []
    for mu in (p.mu_b, p.mu_i, p.mu_o):
        out.append(table_rows_at_mu(stack, mu, 0.0, 1e3) if abs(mu) <= MU_TAB_MAX
                   else _NO_GATE_TAB)
    return (*out, tanh0_table())


#: Row slots of the two-sequence quantities (c*, C*, chi_c, c_converged, Cc*): under
#: ``closure="gc4"`` they are those of the GC (gated-cells.md 4.1: GC4 corrects the
#: one-sequence quantities; the pair map and C* stay GC, so C* = 1 for identical inputs in
#: the ordered phase and C_t = Q^ab_t / Q_t of one closure).
PAIR_SLOTS = (2, 3, 5, 9, N_OUT + 1)
PAIR_ROWS = (2, 3)  # c_t and C_t of ``trajectory_rows``


def point_row(p: Params) -> np.ndarray:
    """``point_kernel`` at ``p`` with every speed-up table (a row of ``N_ROW``)."""
    tf, ti, to, t0 = _gate_tables(p)
    args = (gate_params(p), p.R, p.Sigma)
    tabs = (tf, ti, to, t0, (smoothing_table(SIGMOID), smoothing_table(TANH)),
            (cross_table(SIGMOID), cross_table(TANH)))
    row = point_kernel(*args, p.closure == "gc4", *tabs)
    if p.closure == "gc4":
        row[list(PAIR_SLOTS)] = point_kernel(*args, False, *tabs)[list(PAIR_SLOTS)]
    return row


def trajectory_rows(p: Params, T: int) -> np.ndarray:
    """(5, T + 1) rows q, Q, c, C, Q_c of ``trajectory_kernel`` (c, C: GC, see PAIR_SLOTS)."""
    gp, stabs = gate_params(p), (smoothing_table(SIGMOID), smoothing_table(TANH))
    rows = trajectory_kernel(gp, T, p.closure == "gc4", stabs, tanh0_table())
    if p.closure == "gc4":
        rows[list(PAIR_ROWS)] = trajectory_kernel(gp, T, False, stabs, tanh0_table())[
            list(PAIR_ROWS)]
    return rows


def overrides_array(p: Params) -> np.ndarray:
    """(4, 3) per-gate sigma_w, sigma_v, sigma_b overrides of ``p`` (NaN: the shared value)."""
    ov = np.full((4, 3), np.nan)
    d = dict(p.overrides)
    for k, name in enumerate(GATES["lstm"]):
        for c, kind in enumerate(("sigma_w", "sigma_v", "sigma_b")):
            ov[k, c] = d.get(f"{kind}_{name}", np.nan)
    return ov


def grid_raw(p: Params, plane, want_c: bool, tables) -> np.ndarray:
    """Kernel rows on the grid ``plane`` (``theory.grids.Plane``)."""
    if p.closure == "gc4":  # the correction needs direct quadratures: one point per node
        return _grid_by_points(p, plane, want_c)
    out = np.full((N_ROW,) + plane.shape, np.nan)
    tabs = tables(SIGMOID, plane.mus)
    _, ti, to, t0 = _gate_tables(p)
    stabs = (smoothing_table(SIGMOID), smoothing_table(TANH)) if want_c else (NO_TABLE, NO_TABLE)
    cts = ((cross_table(SIGMOID), cross_table(TANH)) if want_c
           else (NO_CROSS_TABLE, NO_CROSS_TABLE))
    grid_kernel(plane.sigma_w, plane.sigma_b, plane.sigma_v, plane.mu_b, overrides_array(p),
                p.mu_i, p.mu_o, p.R, p.Sigma, tabs, plane.tab_idx, ti, to, t0, want_c, stabs,
                cts, out)
    return out


def _grid_by_points(p: Params, plane, want_c: bool) -> np.ndarray:
    out = np.full((N_ROW,) + plane.shape, np.nan)
    for j, i in np.ndindex(plane.shape):
        q = p.replace(sigma_w=float(plane.sigma_w[j, i]), sigma_b=float(plane.sigma_b[j, i]),
                      sigma_v=float(plane.sigma_v[j, i]), mu_b=float(plane.mu_b[j, i]))
        out[:, j, i] = point_row(q)
    if not want_c:
        out[list(PAIR_SLOTS), :, :] = np.nan
    return out


def extras(p: Params, row: np.ndarray) -> dict:
    """The LSTM fields of :class:`~theory.types.PointResult` from a kernel row."""
    x = dict(zip(EXTRA_NAMES, row[N_OUT:].tolist(), strict=True))
    return {"Qc_star": x["Qc_star"], "Cc_star": x["Cc_star"], "rho_tied": x["rho_tied"],
            "jac_matrix": ((x["M_cc"], x["M_ch"]), (x["M_hc"], x["M_hh"])),
            "q_gates": {k: x[f"q_{k}"] for k in GATES["lstm"]}}


CELL = Cell(name="lstm", label="LSTM", point_row=point_row, trajectory_rows=trajectory_rows,
            grid_raw=grid_raw, extras=extras, network=_Network, simulator=_Simulator,
            spectrum=spectrum, extra_names=EXTRA_NAMES)
