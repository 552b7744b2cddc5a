"""The GRU: h_t = z h_{t-1} + (1 - z) n (gated-cells.md 1.2, 2, 3, 5, 6.1).

Everything specific to this cell lives here, next to the spec's equation numbers
(the untied mean field of gated-cells.md 2.2, which is exact for the GRU; symmetric
case mu_n = mu'_n = 0, so the state has no mean):

* the gate variances (2.1) and the candidate: ``reset_before`` (2.2, u_n Gaussian with
  q_n = sigma_{w,n}^2 E[r^2] Q + ...) or ``reset_after`` (2.3, u_n = a + r s Gaussian
  given the reset gate r: a 1-D integral over r of the zero-mean tanh moments);
* the Q-map (3.2) with its roots (the branch reached from h_0 = 0, bistability 3.6),
  the slope chi_q (3.4) and chi_jac (3.5)-(3.6);
* the covariance map (3.7) and its slope chi_c (3.8); for ``reset_after`` the candidate
  cross moment E[n^a n^b] is a 4-D integral: 2-D over the reset-gate pair, 2-D over
  the candidate pair with unequal variances (``_smooth.tanh_cross_unequal``);
* rho_tied (2.5) and the critical line chi_jac = 1 (6.1).

Gate order: z, r, n. A gate's parameters are packed in a (3, 5) array ``gp``: rows z,
r, n; columns sigma_w^2, v = sigma_v^2 R + sigma_b^2, v_ab = sigma_v^2 R Sigma +
sigma_b^2, mu, sigma_b^2. ``sbh2`` is the variance of the reset_after bias b'_n.
Kernels return rows laid out as ``_solve.OUT_NAMES`` followed by ``EXTRA_NAMES``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from theory._cross_tables import NO_CROSS_TABLE, point_state, set_mu, set_q
from theory._gauss import GL_W, GL_X, H_SCALE, H_SCALE_GATE, SIGMOID, TANH, sigmoid_moments
from theory._grid import extrapolate, push
from theory._smooth import NO_TABLE, phi_cross_fast, sigmoid_cross_fast, tanh_cross_unequal
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
from theory._tables import MU_TAB_MAX, lookup, stencil6, table_rows_at_mu, tanh0_lookup
from theory.cells import Cell
from theory.types import GATES, Params, check_int, check_number, check_positive

#: Extra slots of a GRU kernel row after ``_solve.OUT_NAMES``.
EXTRA_NAMES = ("rho_tied", "q_z", "q_r", "q_n")
N_ROW = N_OUT + len(EXTRA_NAMES)
N_SCAN = 64  # log-spaced scan points of the Q-map on (0, 1] (theory.point)
Z_OUT = 8.0  # the reset-gate integrals run over |z| <= 8 (Gaussian weight beyond: 1e-14)
H_OUT = 0.8  # their step scale: error ~exp(-2 pi^2 / 0.8) from the sigmoid's poles
H_INNER = 0.4  # the candidate pair's 1-D rule: error ~exp(-pi^2 / 0.4) (tanh's poles)
_NO_GATE_TAB = np.zeros((0, 6))

# --- one sequence (gated-cells.md 2.1-2.3, 3.1-3.6) ------------------------------------------


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
def _after_candidate(gp, Q, sbh2, t0, out):
    """reset_after candidate (2.3): E_r over u_r ~ N(mu_r, q_r) of the zero-mean tanh moments
    at v = q_a + r^2 q_s. ``out`` <- nu2 = E[n^2], d nu2/dQ, J_n, J_r (3.6), E[r^2], q_n.

    J_r uses E[s^2 n'^2 | r] = q_s D1(v) + 2 r^2 q_s^2 D1'(v) (Stein, with Cov(u_n, s) = r q_s)
    and d/dq_r E[G(u_r)] = E[z G'(u_r)] / (2 sqrt(q_r)).
    """
    q_r = gp[1, 0] * Q + gp[1, 1]
    q_a = gp[2, 1]
    q_s = gp[2, 0] * Q + sbh2
    s = math.sqrt(max(q_r, 0.0))
    h = min(0.5, H_SCALE_GATE / s) if s > 0.0 else 1.0
    n = int(2.0 * Z_OUT / h) + 1 if s > 0.0 else 1
    z0 = -0.5 * (n - 1) * h
    m = np.empty(4)
    nu2 = dnu_s = dnu_r = jn = jr = er2 = wsum = 0.0
    for k in range(n):
        z = z0 + k * h
        w = math.exp(-0.5 * z * z)
        r = 0.5 * (1.0 + math.tanh(0.5 * (gp[1, 3] + s * z)))
        rp = r * (1.0 - r)
        tanh0_lookup(t0, q_a + r * r * q_s, m)
        nu2 += w * m[0]
        dnu_s += w * r * r * m[2]
        dnu_r += w * z * m[2] * 2.0 * r * rp * q_s
        jn += w * r * r * m[1]
        jr += w * rp * rp * (q_s * m[1] + 2.0 * r * r * q_s * q_s * m[3])
        er2 += w * r * r
        wsum += w
    out[0] = nu2 / wsum
    out[1] = (gp[2, 0] * dnu_s + (gp[1, 0] * dnu_r / (2.0 * s) if s > 0.0 else 0.0)) / wsum
    out[2], out[3], out[4] = jn / wsum, jr / wsum, er2 / wsum
    out[5] = q_a + out[4] * q_s


#: The reset_after candidate table of a grid (``build_candidate_table``): its moments as
#: functions of y = sigma_w^2 Q (the recurrent variance, shared by W_n and W_r) at y_k =
#: exp(CT_U0 + k CT_DU), read with 6-point Lagrange interpolation in log y (error
#: ~CT_DU^6 / 720 relative, checked against the direct sums in the tests).
CT_DU = 1.0 / 8.0
CT_U0 = math.log(1e-8) - 3.0 * CT_DU
CT_N = int(math.ceil((math.log(200.0) - CT_U0) / CT_DU)) + 6
NO_CANDIDATE_TABLE = np.zeros((0, 6))


@njit(cache=True, nogil=True)
def build_candidate_table(gp, sbh2, t0):
    """``_after_candidate`` at y_k with q_s = y + sbh2, q_r = y + v_r (sigma_{w,n} = sigma_{w,r}).

    Columns: nu2, d nu2/dy, J_n, J_r, E[r^2] (the grid scales d nu2/dy by sigma_w^2).
    """
    g1 = gp.copy()
    g1[1, 0] = 1.0
    g1[2, 0] = 1.0
    tab = np.zeros((CT_N, 6))
    out = np.empty(6)
    for k in range(CT_N):
        _after_candidate(g1, math.exp(CT_U0 + k * CT_DU), sbh2, t0, out)
        for j in range(5):
            tab[k, j] = out[j]
    return tab


@njit(cache=True, nogil=True, inline="always")
def _candidate_lookup(ctab, gp, Q, sbh2, out):
    """The reset_after candidate's moments at Q from ``ctab`` into ``out``; False if not there."""
    y = gp[2, 0] * Q
    x = (math.log(y) - CT_U0) / CT_DU if y > 0.0 else -1.0
    if ctab.shape[0] == 0 or x < 2.0 or x > CT_N - 4.0:
        return False
    k, w = stencil6(x, CT_N)
    for j in range(5):
        acc = 0.0
        for a in range(6):
            acc += w[a] * ctab[k + a, j]
        out[j] = acc
    out[1] *= gp[2, 0]  # d nu2/dQ = sigma_w^2 d nu2/dy
    out[5] = gp[2, 1] + out[4] * (y + sbh2)
    return True


@njit(cache=True, nogil=True)
def _moments(gp, Q, after, sbh2, tb, g):
    """Every one-sequence moment at Q into ``g`` (length 16).

    g[0..4] = E[z^2], E[(1-z)^2], E[z'^2], dE[z^2]/dq, dE[(1-z)^2]/dq; g[5..7] = E[r^2],
    dE[r^2]/dq, E[r'^2]; g[8..12] = nu2 = E[n^2], d nu2/dQ, J_n, J_r (3.6), q_n (the
    candidate's pre-activation variance).
    """
    tz, tr, t0, ctab = tb
    m = np.empty(6)
    _sig(tz, gp[0, 3], gp[0, 0] * Q + gp[0, 1], m)
    g[0], g[1], g[2], g[3], g[4] = m[0], m[1], m[2], m[3], -m[4]
    _sig(tr, gp[1, 3], gp[1, 0] * Q + gp[1, 1], m)
    g[5], g[6], g[7] = m[0], m[3], m[2]
    if after:
        c = np.empty(6)
        if not _candidate_lookup(ctab, gp, Q, sbh2, c):
            _after_candidate(gp, Q, sbh2, t0, c)
        g[8], g[9], g[10], g[11], g[12] = c[0], c[1], c[2], c[3], c[5]
    else:  # reset_before (2.2): u_n Gaussian
        q_n = gp[2, 0] * g[5] * Q + gp[2, 1]
        tanh0_lookup(t0, q_n, m)
        g[8] = m[0]
        g[9] = m[2] * gp[2, 0] * (g[5] + gp[1, 0] * Q * g[6])
        # the reset path W_n (h r' W_r) carries sigma_{w,n}^2 too: J_r has it (the spec's
        # eq. 3.6 leaves it out; an untied simulation and chi_c(C = 1) = chi_jac confirm it)
        g[10], g[11], g[12] = m[1] * g[5], gp[2, 0] * m[1] * Q * g[7], q_n


@njit(cache=True, nogil=True, inline="always")
def _residual(gp, Q, g):
    """Q-map residual (3.2) and chi_q - 1 (3.4)."""
    chi_q = g[0] + gp[0, 0] * (Q * g[3] + g[8] * g[4]) + g[1] * g[9]
    return g[0] * Q + g[1] * g[8] - Q, chi_q - 1.0


@njit(cache=True, nogil=True, inline="always")
def _chi_jac(gp, Q, g):
    """chi_jac (3.6), symmetric case (M* = nu_1 = 0)."""
    return g[0] + gp[0, 0] * g[2] * (Q + g[8]) + g[1] * (gp[2, 0] * g[10] + gp[1, 0] * g[11])


@njit(cache=True, nogil=True)
def _F(gp, Q, after, sbh2, tb, g):
    _moments(gp, Q, after, sbh2, tb, g)
    return _residual(gp, Q, g)[0]


@njit(cache=True, nogil=True)
def _hidden_pair(gp, after, sbh2, tb, g, a, b):
    """Minimise F on [a, b] (golden section in log Q); (x, F) at the first F <= 0 or the minimum."""
    gr = 0.5 * (math.sqrt(5.0) - 1.0)
    la = math.log(a) if a > 0.0 else math.log(b) - 25.0
    lb = math.log(b)
    c, d = lb - gr * (lb - la), la + gr * (lb - la)
    fc = _F(gp, math.exp(c), after, sbh2, tb, g)
    fd = _F(gp, math.exp(d), after, sbh2, tb, g)
    for _ in range(60):
        if fc <= 0.0:
            return math.exp(c), fc
        if fd <= 0.0:
            return math.exp(d), fd
        if fc < fd:
            lb, d, fd = d, c, fc
            c = lb - gr * (lb - la)
            fc = _F(gp, math.exp(c), after, sbh2, tb, g)
        else:
            la, c, fc = c, d, fd
            d = la + gr * (lb - la)
            fd = _F(gp, math.exp(d), after, sbh2, tb, g)
        if lb - la < 1e-12:
            break
    return (math.exp(c), fc) if fc < fd else (math.exp(d), fd)


@njit(cache=True, nogil=True)
def _Q_bracket(gp, after, sbh2, tb, n_scan, g):
    """Roots of the Q-map on [0, 1) (3.2, 3.6): (lo, hi, n_stable, undriven).

    F at 0 and ``n_scan`` points log-spaced from 1e-10 to 1; a sign change + -> - is a
    stable root; a positive local minimum of the samples is minimised (a root pair next
    to the saddle-node may hide between samples). [lo, hi] brackets the first root, the
    one the zero state reaches.
    """
    xs, fs = np.empty(n_scan + 1), np.empty(n_scan + 1)
    xs[0] = 0.0
    ratio = 10.0 ** (10.0 / (n_scan - 1))
    x = 1e-10
    for k in range(n_scan):
        xs[k + 1] = x if k < n_scan - 1 else 1.0
        x *= ratio
    for k in range(n_scan + 1):
        fs[k] = _F(gp, xs[k], after, sbh2, tb, g)
    if fs[0] <= 0.0:
        return 0.0, 0.0, 1, True  # nothing drives the units: h stays 0
    n_stable, lo, hi = 0, 0.0, 1.0
    for k in range(1, n_scan + 1):
        if fs[k - 1] > 0.0 >= fs[k]:
            n_stable += 1
            if n_stable == 1:
                lo, hi = xs[k - 1], xs[k]
        elif k < n_scan and fs[k] > 0.0 and fs[k - 1] > fs[k] and fs[k + 1] > fs[k]:
            xm, fm = _hidden_pair(gp, after, sbh2, tb, g, xs[k - 1], xs[k + 1])
            if fm <= 0.0:
                n_stable += 1
                if n_stable == 1:
                    lo, hi = xs[k - 1], xm
    return lo, hi, max(n_stable, 1), False


@njit(cache=True, nogil=True)
def _Q_solve(gp, lo, hi, x0, after, sbh2, tb, g, tol):
    """Safeguarded Newton for the Q-map root in [lo, hi] (F(lo) > 0 >= F(hi))."""
    x = x0 if lo < x0 < hi else 0.5 * (lo + hi)
    n = 0
    for _ in range(MAXIT):
        _moments(gp, x, after, sbh2, tb, g)
        f, df = _residual(gp, x, g)
        n += 1
        if f == 0.0:
            return x, True, n
        x_new, lo, hi = newton_step(x, f, df, lo, hi)
        if abs(x_new - x) <= tol * max(abs(x_new), 1e-12) or hi - lo <= tol * abs(hi):
            return x_new, True, n
        x = x_new
    return x, False, n


# --- two sequences (gated-cells.md 2.2-2.3, 3.7-3.9) ----------------------------------------


@njit(cache=True, nogil=True)
def _after_pair(gp, qk, Qs, x, sbh2, stab_t, h_out=H_OUT, z_out=Z_OUT, h_in=H_INNER):
    """E[n^a n^b] of reset_after (2.3) at Q^ab = x, and its Price term E[r^a r^b n'^a n'^b].

    2-D trapezoid over the reset pair (u_r^a, u_r^b) (in its two standard normals); given
    r, the candidate pair is Gaussian with variances q_a + r^2 q_s and covariance
    q_a^ab + r^a r^b q_s^ab (``_smooth.tanh_cross_unequal``). d E[n n] / d q_s^ab is the
    Price term; the reset pair's own covariance adds a second term (see ``_pair``).
    ``h_out``, ``z_out``, ``h_in``: the rule (step scales and range; defaults for 1e-10).
    """
    q_r, mu_r = qk[1], gp[1, 3]
    c_r = min(max((gp[1, 0] * x + gp[1, 2]) / q_r, -1.0), 1.0) if q_r > 0.0 else 1.0
    q_a, qab_a = gp[2, 1], gp[2, 2]
    q_s, qab_s = gp[2, 0] * Qs + sbh2, gp[2, 0] * x + sbh2
    s = math.sqrt(max(q_r, 0.0))
    w2 = math.sqrt(max(1.0 - c_r * c_r, 0.0))
    h_cap = 0.7 if h_out <= H_OUT else 1.0
    h1 = min(h_cap, h_out / s) if s > 0.0 else 1.0
    n1 = int(2.0 * z_out / h1) + 1 if s > 0.0 else 1
    h2 = min(h_cap, h_out / (s * w2)) if s * w2 > 0.0 else 1.0
    n2 = int(2.0 * z_out / h2) + 1 if s * w2 > 0.0 else 1
    z01, z02 = -0.5 * (n1 - 1) * h1, -0.5 * (n2 - 1) * h2
    acc = price = wsum = 0.0
    for i in range(n1):
        z1 = z01 + i * h1
        wa = math.exp(-0.5 * z1 * z1)
        ra = 0.5 * (1.0 + math.tanh(0.5 * (mu_r + s * z1)))
        for j in range(n2):
            z2 = z02 + j * h2
            w = wa * math.exp(-0.5 * z2 * z2)
            rb = 0.5 * (1.0 + math.tanh(0.5 * (mu_r + s * (c_r * z1 + w2 * z2))))
            tt, dd = tanh_cross_unequal(stab_t, q_a + ra * ra * q_s, q_a + rb * rb * q_s,
                                        qab_a + ra * rb * qab_s, h_in)
            acc += w * tt
            price += w * ra * rb * dd
            wsum += w
    return acc / wsum, price / wsum


#: The reset_after pair table of a grid (``build_pair_table``): E[n^a n^b] as a function of
#: y = sigma_w^2 Q* and rho = Q^ab / Q* (shared sigma_w for W_n and W_r), on rows
#: u = log y (step PT_DU) and columns tau = asinh(sqrt(y) t) / asinh(sqrt(y) / sqrt(2)),
#: t = sqrt((1 - rho) / 2) (step PT_DT; the stretch of ``_cross_tables``), read with 6x6
#: Lagrange interpolation. Its entries use the coarser rule PT_RULE (error ~1e-8): the
#: table serves grids (1e-4), never theory.point.
PT_DU = 1.0 / 3.0
PT_DT = 1.0 / 24.0
PT_NT = int(round(1.0 / PT_DT)) + 6
PT_TMAX = math.sqrt(0.5)
PT_RULE = (1.2, 6.5, 0.6)  # outer step scale, outer range, inner step scale
MAX_PAIR_TABLE_ROWS = 120


@njit(cache=True, nogil=True)
def _pt_t(tau, y):
    """t = sqrt((1 - rho)/2) at the stretched coordinate tau of a row at y."""
    sq = math.sqrt(y)
    return math.sinh(tau * math.asinh(sq * PT_TMAX)) / sq


@njit(cache=True, nogil=True)
def build_pair_table(gp, sbh2, stab_t, u0, n_u):
    """(n_u, PT_NT) table of E[n^a n^b]: row i at y = exp(u0 + (i - 2) PT_DU), column j at
    tau = (j - 2) PT_DT (columns 0, 1 mirror 4, 3: even in t). ``gp``: one node's gates."""
    g1 = gp.copy()
    g1[1, 0] = 1.0
    g1[2, 0] = 1.0
    tab = np.zeros((n_u, PT_NT))
    qk = np.zeros(3)
    for i in range(n_u):
        y = math.exp(u0 + (i - 2) * PT_DU)
        qk[1] = y + gp[1, 1]
        for j in range(2, PT_NT):
            t = _pt_t((j - 2) * PT_DT, y)
            tab[i, j] = _after_pair(g1, qk, y, (1.0 - 2.0 * t * t) * y, sbh2, stab_t,
                                    PT_RULE[0], PT_RULE[1], PT_RULE[2])[0]
        tab[i, 0], tab[i, 1] = tab[i, 4], tab[i, 3]
    return tab


@njit(cache=True, nogil=True, inline="always")
def _pt_value(ptab, u0, y, rho):
    xu = (math.log(y) - u0) / PT_DU + 2.0
    ku, wu = stencil6(xu, ptab.shape[0])
    sq = math.sqrt(y)
    t = math.sqrt(max(0.5 * (1.0 - rho), 0.0))
    tau = math.asinh(sq * t) / math.asinh(sq * PT_TMAX)
    kt, wt = stencil6(tau / PT_DT + 2.0, PT_NT)
    acc = 0.0
    for a in range(6):
        row = 0.0
        for b in range(6):
            row += wt[b] * ptab[ku + a, kt + b]
        acc += wu[a] * row
    return acc


@njit(cache=True, nogil=True, inline="always")
def _pt_covers(pt, y):
    """Whether the pair table's rows cover y (its 6-point stencil stays inside)."""
    xu = (math.log(y) - pt[1][0]) / PT_DU + 2.0 if y > 0.0 else -1.0
    return 2.0 <= xu <= pt[0].shape[0] - 4.0


@njit(cache=True, nogil=True, inline="always")
def _pt_lookup(pt, gp, Qs, x):
    """E[n n] and d E[n n]/dx at Q^ab = x from the pair table ``pt`` = (table, [u0, on]);
    the derivative by a central difference of the interpolant (step 1e-4 in rho)."""
    ptab, u0 = pt[0], pt[1][0]
    y = gp[2, 0] * Qs
    rho = x / Qs
    d = 1e-4
    v = _pt_value(ptab, u0, y, rho)
    dv = (_pt_value(ptab, u0, y, rho + d) - _pt_value(ptab, u0, y, rho - d)) / (2.0 * d)
    return v, dv / Qs


@njit(cache=True, nogil=True)
def _no_pair_table():
    """The pair-table argument meaning "no table" (the 4-D integral is used)."""
    return np.zeros((0, PT_NT)), np.zeros(2)


@njit(cache=True, nogil=True)
def _after_mean_slope(gp, q_r, Qs, t0):
    """E_r[r (1 - E[tanh^2])] at v = q_a + r^2 q_s: E[r n'] of the reset_after candidate (2.3)."""
    q_a, q_s = gp[2, 1], gp[2, 0] * Qs
    s = math.sqrt(max(q_r, 0.0))
    h = min(0.5, H_SCALE_GATE / s) if s > 0.0 else 1.0
    n = int(2.0 * Z_OUT / h) + 1 if s > 0.0 else 1
    z0 = -0.5 * (n - 1) * h
    m = np.empty(4)
    acc = wsum = 0.0
    for k in range(n):
        z = z0 + k * h
        w = math.exp(-0.5 * z * z)
        r = 0.5 * (1.0 + math.tanh(0.5 * (gp[1, 3] + s * z)))
        tanh0_lookup(t0, q_a + r * r * q_s, m)
        acc += w * r * (1.0 - m[0])
        wsum += w
    return acc / wsum


@njit(cache=True, nogil=True)
def _pair(gp, qk, Qs, x, after, sbh2, direct, stabs, ts, e, t0, pt, slope=True):
    """Covariance-map residual (3.7) at Q^ab = x and chi_c - 1 (3.8).

    ``qk`` = q_z, q_r, q_n at the fixed point. ``e`` (length 8) <- E[z z], E[(1-z)(1-z)],
    E[z'z'], E[n n], d E[n n]/dx, c_z. ``direct``: the smoothing rule (``stabs`` = sigmoid,
    tanh smoothing tables); otherwise the cross tables of the states ``ts`` (z, r, n).
    reset_after: the 4-D integral of ``_after_pair``; with ``slope`` its derivative by a
    central difference (step 1e-4 Q*, error ~1e-8 relative), else only its Price term
    (the solver's first slope; the secant takes over). On grids, the pair table ``pt``
    (``build_pair_table``) when its flag ``pt[1][1]`` is set.
    """
    c = min(max((gp[0, 0] * x + gp[0, 2]) / qk[0], 0.0), 1.0) if qk[0] > 0.0 else 1.0
    e[5] = c
    if direct:
        e[0], e[1], e[2] = sigmoid_cross_fast(gp[0, 3], qk[0], c, H_SCALE_GATE, stabs[0])
    else:
        cross_moments(SIGMOID, gp[0, 3], qk[0], c, GL_X, GL_W, stabs[0], ts[0])
        e[0], e[1], e[2] = ts[0][5][0], ts[0][5][2], ts[0][5][1]
    if after and x == 0.0 and gp[2, 2] == 0.0 and gp[1, 2] == 0.0 and sbh2 == 0.0:
        # independent pair (no shared input or bias at Q^ab = 0): E[n n] = E[n]^2 = 0 and
        # only the Price term of the candidates' recurrent covariance survives (1-D)
        e[3] = 0.0
        e[4] = gp[2, 0] * _after_mean_slope(gp, qk[1], Qs, t0) ** 2
    elif after and pt[1][1] > 0.0 and _pt_covers(pt, gp[2, 0] * Qs):  # the grid's table
        e[3], e[4] = _pt_lookup(pt, gp, Qs, x)
    elif after:
        e[3], price = _after_pair(gp, qk, Qs, x, sbh2, stabs[1])
        e[4] = gp[2, 0] * price  # the Price term only: a first slope for the solver
        dx = 1e-4 * Qs
        if slope and dx > 0.0:
            e[4] = (_after_pair(gp, qk, Qs, x + dx, sbh2, stabs[1])[0]
                    - _after_pair(gp, qk, Qs, x - dx, sbh2, stabs[1])[0]) / (2.0 * dx)
    else:  # reset_before: E[r r], then the Gaussian candidate pair (2.2)
        cr = min(max((gp[1, 0] * x + gp[1, 2]) / qk[1], 0.0), 1.0) if qk[1] > 0.0 else 1.0
        if direct:
            err, _, erd = sigmoid_cross_fast(gp[1, 3], qk[1], cr, H_SCALE_GATE, stabs[0])
        else:
            cross_moments(SIGMOID, gp[1, 3], qk[1], cr, GL_X, GL_W, stabs[0], ts[1])
            err, erd = ts[1][5][0], ts[1][5][1]
        cn = min(max((gp[2, 0] * err * x + gp[2, 2]) / qk[2], 0.0), 1.0) if qk[2] > 0.0 else 1.0
        if direct:
            e[3], enn = phi_cross_fast(TANH, 0.0, qk[2], cn, GL_X, GL_W, H_SCALE,
                                       stabs[1] if cn < C_DIRECT else NO_TABLE)
        else:
            cross_moments(TANH, 0.0, qk[2], cn, GL_X, GL_W, stabs[1], ts[2])
            e[3], enn = ts[2][5][0], ts[2][5][1]
        e[4] = gp[2, 0] * enn * (err + gp[1, 0] * x * erd)
    chi_c = e[0] + gp[0, 0] * e[2] * (x + e[3]) + e[1] * e[4]
    return e[0] * x + e[1] * e[3] - x, chi_c - 1.0


@njit(cache=True, nogil=True)
def _pair_solve(gp, qk, Qs, same_inputs, chi_jac, x0, after, sbh2, direct, stabs, ts, e, tol,
                t0, pt):
    """Stable Q^ab* in [0, Q*] reached from 0; (x, converged, evaluations)."""
    if Qs <= 0.0 or (same_inputs and chi_jac <= 1.0):
        return Qs, True, 0  # identical inputs when ordered: C* = 1 exactly (3.9)
    hi = Qs
    if same_inputs:
        found = False
        for k in range(3, 13, 2):
            hi = Qs * (1.0 - 10.0 ** (-k))
            if _pair(gp, qk, Qs, hi, after, sbh2, direct, stabs, ts, e, t0, pt, False)[0] < 0.0:
                found = True
                break
        if not found:
            return Qs, True, 0
    lo, n = 0.0, 0
    if not 0.0 < x0 < hi:
        n += 1
        if _pair(gp, qk, Qs, 0.0, after, sbh2, direct, stabs, ts, e, t0, pt, False)[0] <= 0.0:
            return 0.0, True, n
        x0 = 0.5 * hi
    x, x_prev, f_prev = x0, -1.0, 0.0
    for _ in range(MAXIT):
        f, df = _pair(gp, qk, Qs, x, after, sbh2, direct, stabs, ts, e, t0, pt,
                      not after or pt[1][1] > 0.0)
        n += 1
        if f == 0.0:
            return x, True, n
        if after and pt[1][1] == 0.0 and x_prev >= 0.0 and x != x_prev:  # secant slope
            df = (f - f_prev) / (x - x_prev)
        x_prev, f_prev = x, f
        x_new, lo, hi = newton_step(x, f, df, lo, hi)
        if abs(x_new - x) <= tol * max(abs(x_new), 1e-6 * Qs) or hi - lo <= XTOL * hi:
            return x_new, True, n
        x = x_new
    return x, False, n


@njit(cache=True, nogil=True, inline="always")
def _finish_pair(gp, qk, Qs, same_inputs, out, x0, after, sbh2, direct, stabs, ts, e, tol, t0,
                 pt):
    """Covariance fixed point and its outputs C*, c*, chi_c into ``out``."""
    xs, cconv, cit = _pair_solve(gp, qk, Qs, same_inputs, out[6], x0, after, sbh2, direct,
                                 stabs, ts, e, tol, t0, pt)
    if cit > 0:
        df = _pair(gp, qk, Qs, xs, after, sbh2, direct, stabs, ts, e, t0, pt)[1]
        out[5] = df + 1.0
        out[2] = e[5]
    else:  # C* = 1 (identical inputs, ordered, or no variance): chi_c = chi_jac (3.9)
        out[5] = out[6]
        out[2] = 1.0
    out[3] = xs / Qs if Qs > 0.0 else 1.0
    out[9] = 1.0 if cconv else 0.0


# --- the fixed point (theory.point) ------------------------------------------------------------


@njit(cache=True, nogil=True)
def _fill_one(gp, Qs, g, out):
    """One-sequence outputs at the fixed point Q* (``_moments`` in ``g``)."""
    out[0] = gp[0, 0] * Qs + gp[0, 1]
    out[1] = Qs
    out[4] = _residual(gp, Qs, g)[1] + 1.0
    out[6] = _chi_jac(gp, Qs, g)
    out[7] = 1.0
    xi_mem = -1.0 / math.log(g[0]) if 0.0 < g[0] < 1.0 else math.inf
    out[N_OUT] = xi_mem * gp[2, 0] * Qs / g[12] if g[12] > 0.0 else 0.0  # rho_tied (2.5)
    out[N_OUT + 1] = gp[0, 0] * Qs + gp[0, 1]
    out[N_OUT + 2] = gp[1, 0] * Qs + gp[1, 1]
    out[N_OUT + 3] = g[12]


@njit(cache=True, nogil=True)
def point_kernel(gp, Sigma, after, sbh2, tb, stabs, cts):
    """Fixed points and slopes (gated-cells.md 3) as a row of ``N_ROW``.

    The tables ``tb`` (see ``_moments``) scan the Q-map for its roots and give a first
    guess that the direct rule polishes to a relative step 1e-14 (the zero-mean tanh table
    is accurate to ~1e-12 and stays); the covariance fixed point starts from the cross
    tables ``cts`` (reset_before) and is polished with the smoothing rule.
    """
    out = np.full(N_ROW, np.nan)
    g = np.zeros(16)
    t0 = tb[2]
    direct = (np.zeros((0, 6)), np.zeros((0, 6)), t0, np.zeros((0, 6)))
    lo, hi, n_stable, undriven = _Q_bracket(gp, after, sbh2, tb, N_SCAN, g)
    if undriven:
        Qs, conv, it = 0.0, True, 1
    else:
        x0, _, _ = _Q_solve(gp, lo, hi, 0.5 * (lo + hi), after, sbh2, tb, g, C_TOL)
        Qs, conv, it = _Q_solve(gp, lo, hi, x0, after, sbh2, direct, g, XTOL)
    _moments(gp, Qs, after, sbh2, direct, g)
    _fill_one(gp, Qs, g, out)
    out[8] = 1.0 if conv else 0.0
    out[11] = 1.0 if n_stable > 1 else 0.0
    out[12] = n_stable
    qk = np.array([out[N_OUT + 1], out[N_OUT + 2], out[N_OUT + 3]])
    e = np.zeros(8)
    x0 = -1.0
    st = table_state(NO_CROSS_TABLE)
    same = identical_inputs(gp, Sigma)
    if cts[0].shape[0] > 0 and Qs > 0.0 and not after:
        ts = (point_state(cts[0], SIGMOID, gp[0, 3], qk[0]),
              point_state(cts[0], SIGMOID, gp[1, 3], qk[1]), point_state(cts[1], TANH, 0.0, qk[2]))
        x0 = _pair_solve(gp, qk, Qs, same, out[6], -1.0, after, sbh2, False, stabs, ts,
                         e, C_TOL, t0, _no_pair_table())[0]
    _finish_pair(gp, qk, Qs, same, out, x0, after, sbh2, True, stabs, (st, st, st), e,
                 XTOL, t0, _no_pair_table())
    out[10] = it + N_SCAN + 1
    return out


@njit(cache=True, nogil=True)
def trajectory_kernel(gp, T, after, sbh2, t0, stabs):
    """q_t (update gate), Q_t, c_t (update-gate correlation), C_t: rows of (4, T + 1).

    Iterates (3.2) and (3.7) from h_0 = 0 for two sequences with independent inputs at
    t = 1 (gate covariance sigma_{b,k}^2, column 4 of ``gp``) and correlation Sigma later.
    """
    out = np.full((4, T + 1), np.nan)
    out[1, 0], out[3, 0] = 0.0, 1.0
    Q = Qab = 0.0
    g = np.zeros(16)
    e = np.zeros(8)
    st = table_state(NO_CROSS_TABLE)
    gpt = gp.copy()
    direct = (np.zeros((0, 6)), np.zeros((0, 6)), t0, np.zeros((0, 6)))
    for t in range(1, T + 1):
        if t == 1:
            gpt[:, 2] = gp[:, 4]  # independent first inputs: only the biases are shared
        else:
            gpt[:, 2] = gp[:, 2]
        _moments(gpt, Q, after, sbh2, direct, g)
        qk = np.array([gpt[0, 0] * Q + gpt[0, 1], gpt[1, 0] * Q + gpt[1, 1], g[12]])
        f_ab = _pair(gpt, qk, Q, Qab, after, sbh2, True, stabs, (st, st, st), e, t0,
                     _no_pair_table(), False)[0]
        out[0, t], out[2, t] = qk[0], e[5]
        Qab = f_ab + Qab
        Q = g[0] * Q + g[1] * g[8]
        out[1, t] = Q
        out[3, t] = Qab / Q if Q > 0.0 else 1.0
    return out


# --- grids -------------------------------------------------------------------------------------


@njit(cache=True, nogil=True, inline="always")
def _node_params(ov, sw, sb, sv, mu_z, mu_r, R, Sigma, gp):
    """Per-gate parameters of one node into ``gp`` (3, 5); ``ov`` (3, 3) overrides (NaN: shared)."""
    for k in range(3):
        w = sw if math.isnan(ov[k, 0]) else ov[k, 0]
        v = sv if math.isnan(ov[k, 1]) else ov[k, 1]
        b = sb if math.isnan(ov[k, 2]) else ov[k, 2]
        gp[k, 0] = w * w
        gp[k, 1] = v * v * R + b * b
        gp[k, 2] = v * v * R * Sigma + b * b
        gp[k, 4] = b * b
    gp[0, 3], gp[1, 3], gp[2, 3] = mu_z, mu_r, 0.0


@njit(cache=True, nogil=True)
def _grid_Q(gp, guess, after, sbh2, tb, g):
    """Q* at a grid node on the tables: (Q*, converged, n_stable).

    Newton in [0, 1] from the row's extrapolated root, then two checks: F > 0 below the
    root (else an earlier root exists: a full scan decides) and F <= 0 above it at a few
    points (else a second stable root exists above: the node is bistable, 3.6).
    """
    if _F(gp, 0.0, after, sbh2, tb, g) <= 0.0:
        return 0.0, True, 1
    Qs, conv, _ = _Q_solve(gp, 0.0, 1.0, guess, after, sbh2, tb, g, C_TOL)
    for frac in (0.5, 0.1, 0.01):
        if _F(gp, frac * Qs, after, sbh2, tb, g) <= 0.0:
            lo, hi, n_stable, _ = _Q_bracket(gp, after, sbh2, tb, N_SCAN, g)
            Qs, conv, _ = _Q_solve(gp, lo, hi, 0.5 * (lo + hi), after, sbh2, tb, g,
                                   C_TOL)
            return Qs, conv, n_stable
    x = Qs * 1.5
    while x < 1.0:
        if _F(gp, x, after, sbh2, tb, g) > 0.0:
            return Qs, conv, 2
        x *= 2.0
    return Qs, conv, 1


@njit(cache=True, nogil=True)
def grid_kernel(SW, SB, SV, MU, ov, mu_r, R, Sigma, after, sbh2, tabs, tab_idx, tr, t0, ctabs,
                c_idx, want_c, stabs, cts, pt, pre, out):
    """Fill ``out[:, j, i]`` (``N_ROW`` rows) for every node of the (ny, nx) parameter arrays.

    The update gate's table is ``tabs[tab_idx[j, i]]`` (mu_z = mu_b of the node), the
    reset_after candidate's ``ctabs[c_idx[j, i]]`` (``build_candidate_table``; an empty one
    means the direct sums). Each node's root starts from the one extrapolated along its row
    (``_grid_Q``). ``pt``: the reset_after pair table (``build_pair_table``) or none;
    ``pre``: the rows of an earlier pass without the correlation fields (the one-sequence
    results are taken from it) or an empty array.
    """
    ny, nx = SW.shape
    gp = np.zeros((3, 5))
    g = np.zeros(16)
    e = np.zeros(8)
    res = np.zeros(N_ROW)
    ts = (table_state(cts[0]), table_state(cts[0]), table_state(cts[1]))
    if want_c:
        set_mu(cts[0], SIGMOID, mu_r, ts[1][1], ts[1][2])
        set_mu(cts[1], TANH, 0.0, ts[2][1], ts[2][2])
    mu_set = math.nan
    for j in range(ny):
        qh = np.full(3, -1.0)
        ch = np.full(3, -1.0)
        for i in range(nx):
            _node_params(ov, SW[j, i], SB[j, i], SV[j, i], MU[j, i], mu_r, R, Sigma, gp)
            if pre.shape[0] > 0:
                res[:] = pre[:, j, i]
                Qs = res[1]
            else:
                tb = (tabs[tab_idx[j, i]], tr, t0, ctabs[c_idx[j, i]])
                Qs, conv, n_stable = _grid_Q(gp, extrapolate(qh), after, sbh2, tb, g)
                _moments(gp, Qs, after, sbh2, tb, g)
                res[:] = np.nan
                _fill_one(gp, Qs, g, res)
                res[8] = 1.0 if conv else 0.0
                res[11], res[12] = (1.0 if n_stable > 1 else 0.0), n_stable
                push(qh, Qs)
            if want_c:
                if MU[j, i] != mu_set:
                    mu_set = MU[j, i]
                    set_mu(cts[0], SIGMOID, mu_set, ts[0][1], ts[0][2])
                qk = np.array([res[N_OUT + 1], res[N_OUT + 2], res[N_OUT + 3]])
                for k in range(3):
                    set_q(qk[k], ts[k][4])
                same = identical_inputs(gp, Sigma)
                _finish_pair(gp, qk, Qs, same, res, extrapolate(ch) * Qs, after, sbh2,
                             after and pt[1][1] == 0.0, stabs, ts, e, C_TOL, t0, pt)
                push(ch, res[3])
            out[:, j, i] = res


# --- finite networks: the sampler's Jacobians and the simulator (gated-cells.md 1.2, 3.5) ------


def _draw(p: Params, N: int, n: int, rng: np.random.Generator) -> dict:
    """W_k, V_k, b_k (k = z, r, n) and b'_n of gated-cells.md 1.3 for n networks."""
    from theory._networks import draw_gate_matrices

    gates = [p.gate(k) for k in GATES["gru"]]
    W = draw_gate_matrices(p.weights, [g.sigma_w for g in gates], N, n, rng)
    V = [rng.standard_normal((n, N, N)) * (g.sigma_v / math.sqrt(N)) for g in gates]
    b = [g.mu + g.sigma_b * rng.standard_normal((n, N)) for g in gates]
    return {"W": W, "Vt": [np.swapaxes(v, 1, 2) for v in V], "b": b,
            "bh": p.sigma_bh_n * rng.standard_normal((n, N))}


def _redraw(p: Params, net: dict, N: int, rng: np.random.Generator) -> None:
    """Untied ensemble (gated-cells.md 2.2): fresh W_k and biases; V_k stays."""
    from theory._networks import draw_gate_matrices

    gates = [p.gate(k) for k in GATES["gru"]]
    n = net["b"][0].shape[0]
    net["W"] = draw_gate_matrices(p.weights, [g.sigma_w for g in gates], N, n, rng)
    net["b"] = [g.mu + g.sigma_b * rng.standard_normal((n, N)) for g in gates]
    net["bh"] = p.sigma_bh_n * rng.standard_normal((n, N))


def _gru_step(p: Params, W, h, dz, dr, dn, bh):
    """One GRU step (1.2) of states ``h`` (..., N) given each gate's input drive V x + b.

    Returns (u_z, z, r, s, n, h'): ``s`` = W_n h + b'_n (reset_after; None otherwise).
    ``W`` maps (matrix, vectors) -> matrix-vector products.
    """
    from theory._networks import sigmoid

    uz = W(0, h) + dz
    z, r = sigmoid(uz), sigmoid(W(1, h) + dr)
    if p.gru_variant == "reset_after":
        s = W(2, h) + bh
        n = np.tanh(dn + r * s)
    else:
        s = None
        n = np.tanh(dn + W(2, r * h))
    return uz, z, r, s, n, z * h + (1.0 - z) * n


class _Network:
    """A tied GRU run from h_0 = 0 whose steps yield the Jacobian J_t of eq. (3.5)."""

    def __init__(self, p: Params, N: int, rng: np.random.Generator) -> None:
        d = _draw(p, N, 1, rng)
        self.p, self.dim, self.rng = p, N, rng
        self.W = [w[0] for w in d["W"]]
        self.Vt = [v[0] for v in d["Vt"]]
        self.b = [b[0] for b in d["b"]]
        self.bh = d["bh"][0]
        self.state = np.zeros(N)
        self.sqrtR = math.sqrt(p.R)
        self._norms = None

    def step(self):
        """Advance one step; return its Jacobian factor (``_networks.SumFactor``)."""
        from theory._networks import SumFactor

        if self._norms is None:
            self._norms = [float(np.linalg.norm(w, 2)) for w in self.W]
        x = self.sqrtR * self.rng.standard_normal(self.dim)
        h = self.state
        dz, dr, dn = (x @ vt + b for vt, b in zip(self.Vt, self.b, strict=True))
        _, z, r, s, n, self.state = _gru_step(self.p, lambda k, v: self.W[k] @ v, h, dz, dr,
                                              dn, self.bh)
        zp, rp, npr = z * (1.0 - z), r * (1.0 - r), (1.0 - n * n) * (1.0 - z)
        (Wz, Wr, Wn), (nz, nr, nn) = self.W, self._norms
        terms = [(zp * (h - n), Wz, nz, None)]
        if s is not None:  # reset_after: J_n r W_n + J_n s r' W_r
            terms += [(npr * r, Wn, nn, None), (npr * s * rp, Wr, nr, None)]
        else:  # reset_before: (1-z) n' W_n [diag(r) + diag(h r') W_r]
            terms += [(npr, Wn, nn, (r, h * rp, Wr, nr))]
        return SumFactor(z, terms)


class _Simulator:
    """Stepping functions of ``theory.montecarlo`` for n GRUs at once (the update gate's
    pre-activation is the reported q_t, c_t). The one-step trace is not computed (NaN):
    the perturbation growth measures chi_jac."""

    @staticmethod
    def dim(N: int) -> int:
        return N

    draw = staticmethod(_draw)
    redraw = staticmethod(_redraw)

    @staticmethod
    def drive(p: Params, net: dict, xa: np.ndarray, xb: np.ndarray) -> list:
        """V_k x + b_k of the rows (a, b, copy of a) per gate: three (n, L, 3, N) arrays."""
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

        uz, *_, h = _gru_step(p, W, H, drive[0][:, s], drive[1][:, s], drive[2][:, s],
                              net["bh"][:, None, :])
        return uz, h, np.full(H.shape[0], np.nan)

    @staticmethod
    def hidden(H: np.ndarray) -> np.ndarray:
        return H


# --- the spectrum of the T-step Jacobian (gated-cells.md 5.1-5.3) ------------------------------

METHOD = (
    "approximate (gated-cells.md 5.3, free-factor approximation): the T one-step Jacobians "
    "J = diag(z) + sum_k diag(B_k) W_k are treated as free copies of one step whose law is "
    "law(z^2) (exact), free-multiplied by a Marchenko-Pastur factor fitted to the exact "
    "single-step m1 = chi_jac and m2 of eq. (5.1) (untied mean field{before}); "
    "m1 = chi_jac^T is exact for the untied ensemble, m2 is the free-factor value. "
    "Tied networks forget 15-30 % more slowly (gated-cells.md 2.3): compare with a sample.")


def _grid1(mu: float, q: float, scale: float = 0.12, z_max: float = 10.0, h_max: float = 0.05):
    """Trapezoid nodes e = mu + sqrt(q) zeta and normalised weights (theory.md 10.1)."""
    h = min(h_max, scale / math.sqrt(q)) if q > 0.0 else 1.0
    zeta = np.arange(-int(z_max / h), int(z_max / h) + 1) * h if q > 0.0 else np.zeros(1)
    w = np.exp(-0.5 * zeta**2)
    return mu + math.sqrt(max(q, 0.0)) * zeta, w / w.sum()


def single_step_moments(p: Params, pr) -> tuple[float, float]:
    """Single-step m1, m2 of eq. (5.1) at the fixed point ``pr`` (untied, N -> inf).

    A = z, B_z = sigma_wz z'(h - n), B_n = sigma_wn (1 - z) n' r, B_r = sigma_wr (1 - z) n' s r'
    (reset_after); h is independent of the gates with E[h^2] = Q* and E[h^4] from the
    stationary recursion h' = z h + (1 - z) n. reset_before has a product of two matrices in
    its candidate term; it enters as one factor with the same mean square (approximate).
    """
    gz, gr, gn = (p.gate(k) for k in GATES["gru"])
    Q, qz, qr = pr.Q_star, pr.q_gates["z"], pr.q_gates["r"]
    ez, wz = _grid1(gz.mu, qz)
    z = 0.5 * (1.0 + np.tanh(0.5 * ez))
    zp, v = z * (1.0 - z), 1.0 - z
    Z = {k: float(np.sum(wz * f)) for k, f in (("z2", z**2), ("z4", z**4), ("zp2", zp**2),
                                              ("zp4", zp**4), ("z2zp2", z**2 * zp**2),
                                              ("z2v2", z**2 * v**2), ("zp2v2", zp**2 * v**2),
                                              ("v2", v**2), ("v4", v**4))}
    X = _candidate_moments(p, Q, qr, gr.mu, gn)
    h4 = (6.0 * Z["z2v2"] * Q * X["n2"] + Z["v4"] * X["n4"]) / (1.0 - Z["z4"])
    P1, P2 = Q + X["n2"], h4 + 6.0 * Q * X["n2"] + X["n4"]  # E[(h - n)^2], E[(h - n)^4]
    PY = {k: Q * X[k] + X["n2" + k] for k in ("Rn", "Rr")}  # E[(h - n)^2 R]
    sz, sn, sr = gz.sigma_w**2, gn.sigma_w**2, gr.sigma_w**2
    a2 = Z["z2"]
    b2 = [sz * Z["zp2"] * P1, sn * Z["v2"] * X["Rn"], sr * Z["v2"] * X["Rr"]]
    sq = (Z["z4"] + 2.0 * sz * Z["z2zp2"] * P1 + 2.0 * Z["z2v2"] * (sn * X["Rn"] + sr * X["Rr"])
          + sz**2 * Z["zp4"] * P2 + Z["v4"] * (sn**2 * X["RnRn"] + sr**2 * X["RrRr"]
                                                + 2.0 * sn * sr * X["RnRr"])
          + 2.0 * sz * Z["zp2v2"] * (sn * PY["Rn"] + sr * PY["Rr"]))
    m2 = sq + 2.0 * a2 * sum(b2) + sum(bk * bl for i, bk in enumerate(b2)
                                        for j, bl in enumerate(b2) if i != j)
    excess = {"gaussian": 1.0, "orthogonal": 0.0, "block-orthogonal": 1.0 - 1.0 / 3.0}
    m2 += excess[p.weights] * sum(bk * bk for bk in b2)
    return a2 + sum(b2), m2


def _candidate_moments(p: Params, Q: float, qr: float, mu_r: float, gn) -> dict[str, float]:
    """Moments of n, n'^2 r^2 (Rn) and n'^2 s^2 r'^2 (Rr) over the candidate's inputs.

    reset_after: n = tanh(a + r s), a ~ N(0, q_a), s ~ N(0, q_s), r = sigmoid(u_r), all
    independent (2.3); a 3-D trapezoid. reset_before: u_n ~ N(0, q_n) independent of r;
    the product term is folded into Rn = n'^2 (r^2 + sigma_wr^2 h^2 r'^2) with h^2 -> Q
    (and Rr = 0).
    """
    # 3-D tensor rule: steps up to 0.25 (Gaussian error ~exp(-2 pi^2 / 0.25^2)), and
    # 0.3 / sqrt(q) against the poles of tanh and the sigmoid (~exp(-2 pi (pi/2) / 0.3))
    er, wr = _grid1(mu_r, qr, 0.3, 8.0, 0.25)
    r = 0.5 * (1.0 + np.tanh(0.5 * er))
    rp = r * (1.0 - r)
    q_a = gn.sigma_v**2 * p.R + gn.sigma_b**2
    if p.gru_variant == "reset_after":
        q_s = gn.sigma_w**2 * Q + p.sigma_bh_n**2
        ea, wa = _grid1(0.0, q_a, 0.3, 8.0, 0.25)
        es, ws = _grid1(0.0, q_s, 0.3, 8.0, 0.25)
        W = wr[:, None, None] * wa[None, :, None] * ws[None, None, :]
        n = np.tanh(ea[None, :, None] + r[:, None, None] * es[None, None, :])
        npr2 = (1.0 - n * n) ** 2
        Rn = npr2 * (r**2)[:, None, None]
        Rr = npr2 * (es**2)[None, None, :] * (rp**2)[:, None, None]
    else:
        sr2 = p.gate("r").sigma_w**2
        qn = gn.sigma_w**2 * float(np.sum(wr * r * r)) * Q + q_a
        en, wn = _grid1(0.0, qn, 0.3, 8.0, 0.25)
        W = wr[:, None, None] * wn[None, :, None] * np.ones((1, 1, 1))
        n = np.tanh(en)[None, :, None] * np.ones((r.size, 1, 1))
        Rn = (1.0 - n * n) ** 2 * (r**2 + sr2 * Q * rp**2)[:, None, None]
        Rr = np.zeros_like(Rn)
    E = lambda f: float(np.sum(W * f))  # noqa: E731
    return {"n2": E(n**2), "n4": E(n**4), "Rn": E(Rn), "Rr": E(Rr), "n2Rn": E(n**2 * Rn),
            "n2Rr": E(n**2 * Rr), "RnRn": E(Rn * Rn), "RrRr": E(Rr * Rr), "RnRr": E(Rn * Rr)}


def spectrum(p: Params, T: int, n: int, pr):
    """Singular-value law of the T-step Jacobian: free-factor approximation (gated-cells.md 5.3)."""
    from theory.spectra import free_factor_spectrum

    nu1, nu2 = single_step_moments(p, pr)
    before = "; reset_before: its W_n (diag r + diag(h r') W_r) term as one factor"
    method = METHOD.format(before="" if p.gru_variant == "reset_after" else before)
    return free_factor_spectrum(p, T, n, pr.chi_jac, p.mu_b, pr.q_gates["z"], nu1, nu2, method)


# --- critical initialisation (gated-cells.md 6.1) ----------------------------------------------

MAX_T = 100_000
MAX_REFINE = 60


def critical_init(T: int, delta: float = 0.1, sigma_v: float = 1.0, R: float = 1.0,
                  sigma_b: float = 0.0, gru_variant: str = "reset_after"):
    """Update-gate bias and weight scale with memory ~T/delta on the low branch (6.1).

    Design rule (6.1): mu_z = ln(2T/delta) + q_z/2, q_z ~ sigma_v^2 R + sigma_b^2, orthogonal
    W_k with sigma_w = 1; refined on the mean field: sigma_w is halved while the point
    reached from h_0 = 0 is chaotic or past the saddle-node (high branch), mu_z is raised
    by ln 2 while 1 - chi_jac > delta/T. Returns a ``theory.critical.GatedCriticalInit``.
    """
    from theory.critical import GatedCriticalInit
    from theory.meanfield import point

    T, delta = check_int("T", T, MAX_T), check_positive("delta", delta, 1.0)
    sigma_v, R, sigma_b = (check_number(n, v) for n, v in
                           (("sigma_v", sigma_v), ("R", R), ("sigma_b", sigma_b)))
    mu0 = math.log(2.0 * T / delta) + 0.5 * (sigma_v**2 * R + sigma_b**2)
    mu, sw, tol = mu0, 1.0, delta / T
    base = Params(arch="gru", gru_variant=gru_variant, sigma_v=sigma_v, R=R, sigma_b=sigma_b,
                  Sigma=1.0, sigma_w=1.0)
    p, r, ok = base, None, False
    for _ in range(MAX_REFINE):
        if mu > 10.0:
            break
        p = base.replace(mu_b=mu, sigma_w=sw)
        r = point(p)
        if r.chi_jac > 1.0 or r.branch == "high":
            sw *= 0.5
        elif 1.0 - r.chi_jac > tol:
            mu += math.log(2.0)
        else:
            ok = True
            break
    msg = "" if ok else f"no point with 1 - chi_jac <= {tol:.3g} and mu_b <= 10 found"
    return GatedCriticalInit(arch="gru", T=T, delta=delta, params=p, closed_form_mu_b=mu0,
                             chi_jac=r.chi_jac, xi_jac=r.xi_jac, Q_star=r.Q_star,
                             branch=r.branch or "low", converged=ok, in_range=mu <= 10.0,
                             message=msg)


# --- the public cell interface (theory.cells.Cell) --------------------------------------------


def gate_params(p: Params) -> np.ndarray:
    """The (3, 5) gate array of ``p`` (rows z, r, n; see the module docstring)."""
    gp = np.zeros((3, 5))
    for k, name in enumerate(GATES["gru"]):
        gate = p.gate(name)
        gp[k] = (gate.sigma_w**2, gate.sigma_v**2 * p.R + gate.sigma_b**2,
                 gate.sigma_v**2 * p.R * p.Sigma + gate.sigma_b**2, gate.mu, gate.sigma_b**2)
    return gp


def _gate_table(mu: float) -> np.ndarray:
    """1-D sigmoid table rows at ``mu`` from the moment stack (empty beyond its range)."""
    if abs(mu) > MU_TAB_MAX:
        return _NO_GATE_TAB
    return table_rows_at_mu(moment_stack(SIGMOID), mu, 0.0, 1e3)


def _stabs():
    return smoothing_table(SIGMOID), smoothing_table(TANH)


def point_row(p: Params) -> np.ndarray:
    """``point_kernel`` at ``p`` with every speed-up table (a row of ``N_ROW``)."""
    after = p.gru_variant == "reset_after"
    tb = (_gate_table(p.mu_b), _gate_table(p.mu_r), tanh0_table(), NO_CANDIDATE_TABLE)
    return point_kernel(gate_params(p), p.Sigma, after, p.sigma_bh_n**2, tb, _stabs(),
                        (cross_table(SIGMOID), cross_table(TANH)))


def trajectory_rows(p: Params, T: int) -> np.ndarray:
    """(4, T + 1) rows q, Q, c, C of ``trajectory_kernel``."""
    return trajectory_kernel(gate_params(p), T, p.gru_variant == "reset_after", p.sigma_bh_n**2,
                             tanh0_table(), _stabs())


def overrides_array(p: Params) -> np.ndarray:
    """(3, 3) per-gate sigma_w, sigma_v, sigma_b overrides of ``p`` (NaN: the shared value)."""
    ov = np.full((3, 3), np.nan)
    d = dict(p.overrides)
    for k, name in enumerate(GATES["gru"]):
        for c, kind in enumerate(("sigma_w", "sigma_v", "sigma_b")):
            ov[k, c] = d.get(f"{kind}_{name}", np.nan)
    return ov


def grid_raw(p: Params, plane, want_c: bool, tables) -> np.ndarray:
    """Kernel rows on the grid ``plane`` (``theory.grids.Plane``)."""
    out = np.full((N_ROW,) + plane.shape, np.nan)
    tabs = tables(SIGMOID, plane.mus)
    stabs = _stabs() if want_c else (NO_TABLE, NO_TABLE)
    cts = ((cross_table(SIGMOID), cross_table(TANH)) if want_c
           else (NO_CROSS_TABLE, NO_CROSS_TABLE))
    ctabs, c_idx = _candidate_tables(p, plane)
    args = (plane.sigma_w, plane.sigma_b, plane.sigma_v, plane.mu_b, overrides_array(p), p.mu_r,
            p.R, p.Sigma, p.gru_variant == "reset_after", p.sigma_bh_n**2, tabs, plane.tab_idx,
            _gate_table(p.mu_r), tanh0_table(), ctabs, c_idx)
    none = _no_pair_table()
    if want_c and _pair_table_applies(p, plane):  # two passes: Q*, then the table, then C*
        pre = np.full_like(out, np.nan)
        grid_kernel(*args, False, stabs, cts, none, np.zeros((0, 1, 1)), pre)
        grid_kernel(*args, True, stabs, cts, _pair_table(p, plane, pre), pre, out)
    else:
        grid_kernel(*args, want_c, stabs, cts, none, np.zeros((0, 1, 1)), out)
    return out


def _pair_table_applies(p: Params, plane) -> bool:
    """A reset_after grid whose candidate pairs are correlated at Q^ab = 0 (shared input or
    bias) and whose nodes share the input-side variances: one pair table serves them all."""
    ov = dict(p.overrides)
    if p.gru_variant != "reset_after" or "sigma_w_n" in ov or "sigma_w_r" in ov:
        return False
    one_input_side = (np.ptp(plane.sigma_v) == 0.0 and np.ptp(plane.sigma_b) == 0.0)
    gp = gate_params(p)
    independent = gp[2, 2] == 0.0 and gp[1, 2] == 0.0 and p.sigma_bh_n == 0.0
    return one_input_side and not independent


def _pair_table(p: Params, plane, pre: np.ndarray):
    """The reset_after pair table over the y = sigma_w^2 Q* of the grid's nodes."""
    gp = gate_params(p)  # sigma_v, sigma_b are not on the plane's axes (_pair_table_applies)
    y = plane.sigma_w**2 * pre[1]
    y = y[np.isfinite(y) & (y > 0.0)]
    if y.size == 0:
        return _no_pair_table()
    u0 = math.log(y.min()) - PT_DU
    n_u = int(math.ceil((math.log(y.max()) - u0) / PT_DU)) + 6
    if n_u > MAX_PAIR_TABLE_ROWS:  # y over more than ~40 e-folds: keep the top of the range
        u0 += (n_u - MAX_PAIR_TABLE_ROWS) * PT_DU
        n_u = MAX_PAIR_TABLE_ROWS
    tab = build_pair_table(gp, p.sigma_bh_n**2, smoothing_table(TANH), u0, n_u)
    return tab, np.array([u0, 1.0])


MAX_CANDIDATE_TABLES = 400


def _candidate_tables(p: Params, plane) -> tuple[np.ndarray, np.ndarray]:
    """reset_after: one candidate table (``build_candidate_table``) per distinct input-side
    variance pair (v_n, v_r) of the plane's nodes, and each node's index into them.

    Needs W_n and W_r to share sigma_w (no per-gate override of either); otherwise, or with
    more than ``MAX_CANDIDATE_TABLES`` pairs, the nodes use the direct sums (empty table).
    """
    none = np.zeros((1, 0, 6)), np.zeros(plane.shape, dtype=np.int64)
    ov = dict(p.overrides)
    if p.gru_variant != "reset_after" or "sigma_w_n" in ov or "sigma_w_r" in ov:
        return none

    def v(k: str) -> np.ndarray:
        sv = ov.get(f"sigma_v_{k}", plane.sigma_v)
        sb = ov.get(f"sigma_b_{k}", plane.sigma_b)
        return np.broadcast_to(np.asarray(sv) ** 2 * p.R + np.asarray(sb) ** 2, plane.shape)

    keys = np.stack((v("n").ravel(), v("r").ravel()), axis=1)
    uniq, inv = np.unique(keys, axis=0, return_inverse=True)
    if len(uniq) > MAX_CANDIDATE_TABLES:
        return none
    gp = gate_params(p)
    tabs = np.empty((len(uniq), CT_N, 6))
    for k, (vn, vr) in enumerate(uniq):
        gp[2, 1], gp[1, 1] = vn, vr
        tabs[k] = build_candidate_table(gp, p.sigma_bh_n**2, tanh0_table())
    return tabs, inv.reshape(plane.shape).astype(np.int64)


def extras(p: Params, row: np.ndarray) -> dict:
    """The GRU fields of :class:`~theory.types.PointResult` from a kernel row."""
    x = dict(zip(EXTRA_NAMES, row[N_OUT:].tolist(), strict=True))
    return {"rho_tied": x["rho_tied"], "q_gates": {k: x[f"q_{k}"] for k in GATES["gru"]}}


CELL = Cell(name="gru", label="GRU", point_row=point_row, trajectory_rows=trajectory_rows,
            grid_raw=grid_raw, has_branches=True, extras=extras, network=_Network,
            simulator=_Simulator, spectrum=spectrum, extra_names=EXTRA_NAMES)
