"""Numba kernels: tabulated 1-D Gaussian expectations for phase-diagram grids (private).

On a grid the 1-D expectations of theory.md 3.3 / 4.2 depend only on (mu, q),
and mu takes few distinct values (one, or one per row/column when mu_b spans
an axis). For each distinct mu we tabulate the moments once on a uniform grid in
u = log q and interpolate with 4-point Lagrange (cubic) interpolation. For the
gate the positive moments are interpolated in log space: at large mu they are
log-normal-like (E[(1-u)^2] ~ exp(-2 mu + 2 q), theory.md 4.4), whose logarithm
is smooth in log q. Below Q_TAB the
direct kernels are as cheap as a lookup (37 nodes, ``_gauss.H_MAX``) and are
used; above Q_MAX too. The interpolation error (checked against the direct
kernels in tests/test_grids.py) is below 1e-6 relative.
"""

import math

import numpy as np
from numba import njit

from theory._gauss import H_MAX, H_SCALE, SIGMOID, gate_moments, vanilla_moments

Q_TAB = (H_SCALE / H_MAX) ** 2  # below this q the direct rule has its minimum 37 nodes
Q_MAX = 1e3  # q* > 1000 needs sigma_w > 15; beyond, the direct kernels are used
DU = 1.0 / 64.0  # step in u = log q (chi_q multiplies m3, m4 by sigma_w^2 R: keep them ~1e-6)
U0 = math.log(Q_TAB) - 2.0 * DU
N_TAB = int(math.ceil((math.log(Q_MAX) - U0) / DU)) + 3
NO_GATE_TABLE = np.zeros((0, 6))  # "no table": use the direct quadrature
_LOG_COLS = (0, 1, 2, 5)  # positive gate moments, interpolated in log space
# Coarser trapezoid steps for the tables: the error exp(-2 pi d / h) (theory.md 10.1)
# with d = pi / sqrt(q) (sigmoid) or pi / (2 sqrt(q)) (tanh) is then ~1e-8.
HSCALE_GATE = 0.6
HSCALE_PHI = H_SCALE  # tanh: phi'^2 + phi phi'' cancels at large q, keep the point accuracy


@njit(cache=True, nogil=True)
def build_table(code, mu):
    """Moments at q_k = exp(U0 + k * DU): rows k, 6 columns (gate: log of cols 0,1,2,5)."""
    tab = np.zeros((N_TAB, 6))
    for k in range(N_TAB):
        q = math.exp(U0 + k * DU)
        if code == SIGMOID:
            m = gate_moments(mu, q, HSCALE_GATE)
            for j in range(6):
                tab[k, j] = m[j]
            for j in _LOG_COLS:
                tab[k, j] = math.log(max(tab[k, j], 1e-300))
        else:
            m0, m1, m2 = vanilla_moments(code, mu, q, HSCALE_PHI)
            tab[k, 0] = m0
            tab[k, 1] = m1
            tab[k, 2] = m2
    return tab


@njit(cache=True, nogil=True, inline="always")
def _direct(code, mu, q, out):
    if code == SIGMOID:
        m = gate_moments(mu, q)
        for j in range(6):
            out[j] = m[j]
    else:
        m0, m1, m2 = vanilla_moments(code, mu, q)
        out[0] = m0
        out[1] = m1
        out[2] = m2


@njit(cache=True, nogil=True)
def lagrange4(x):
    """Cubic (4-point) Lagrange weights at offset x from the stencil's first node."""
    return (-(x - 1.0) * (x - 2.0) * (x - 3.0) / 6.0, x * (x - 2.0) * (x - 3.0) / 2.0,
            -x * (x - 1.0) * (x - 3.0) / 2.0, x * (x - 1.0) * (x - 2.0) / 6.0)


@njit(cache=True, nogil=True)
def lagrange6(x):
    """6-point Lagrange weights at offset x from the stencil's first node."""
    d0, d1, d2, d3, d4, d5 = x, x - 1.0, x - 2.0, x - 3.0, x - 4.0, x - 5.0
    p01, p23, p45 = d0 * d1, d2 * d3, d4 * d5  # shared pairs; constant reciprocals, no divisions
    return (d1 * p23 * p45 * (-1.0 / 120.0), d0 * p23 * p45 * (1.0 / 24.0),
            p01 * d3 * p45 * (-1.0 / 12.0), p01 * d2 * p45 * (1.0 / 12.0),
            p01 * p23 * d5 * (-1.0 / 24.0), p01 * p23 * d4 * (1.0 / 120.0))


@njit(cache=True, nogil=True, inline="always")
def stencil6(x, n):
    """First row k of the 6-point stencil around fractional row ``x`` in a table of
    ``n`` rows (clipped to the table), and its Lagrange weights."""
    k = min(max(int(x) - 2, 0), n - 6)
    return k, lagrange6(x - k)


@njit(cache=True, nogil=True, inline="always")
def _stencil(q):
    """First table row of the interpolation stencil at ``q`` and its four weights."""
    x = (math.log(q) - U0) / DU
    k = min(max(int(x) - 1, 0), N_TAB - 4)
    w0, w1, w2, w3 = lagrange4(x - k)
    return k, w0, w1, w2, w3


@njit(cache=True, nogil=True, inline="always")
def lookup(tab, code, mu, q, out):
    """Write the moments at ``q`` into ``out`` (length 6), from the table if inside it."""
    if q < Q_TAB or q > Q_MAX:
        _direct(code, mu, q, out)
        return
    k, w0, w1, w2, w3 = _stencil(q)
    ncol = 6 if code == SIGMOID else 3
    for j in range(ncol):
        out[j] = w0 * tab[k, j] + w1 * tab[k + 1, j] + w2 * tab[k + 2, j] + w3 * tab[k + 3, j]
    if code == SIGMOID:
        for j in _LOG_COLS:
            out[j] = math.exp(out[j])


@njit(cache=True, nogil=True, inline="always")
def gate_map_terms(tab, mu, q):
    """Only E[u^2] and E[(1-u)^2] (columns 0, 1) of a gate table: the Q-map scan's needs."""
    if q < Q_TAB or q > Q_MAX:
        m = gate_moments(mu, q)
        return m[0], m[1]
    k, w0, w1, w2, w3 = _stencil(q)
    a = w0 * tab[k, 0] + w1 * tab[k + 1, 0] + w2 * tab[k + 2, 0] + w3 * tab[k + 3, 0]
    b = w0 * tab[k, 1] + w1 * tab[k + 1, 1] + w2 * tab[k + 2, 1] + w3 * tab[k + 3, 1]
    return math.exp(a), math.exp(b)


@njit(cache=True, nogil=True, inline="always")
def _gate_F(tab, sw2, v, mu, R, x):
    """F(Q) = E[u^2] Q + E[(1-u)^2] R - Q at q = sigma_w^2 Q + v (eq. 4.1); table or direct."""
    q = sw2 * x + v
    if tab.shape[0] > 0:
        e_uu, e_vv = gate_map_terms(tab, mu, q)
    else:
        m = gate_moments(mu, q)
        e_uu, e_vv = m[0], m[1]
    return e_uu * x + e_vv * R - x


@njit(cache=True, nogil=True)
def _hidden_pair(tab, sw2, v, mu, R, a, b):
    """Minimise F on [a, b] (golden section in log Q).

    Returns (x, F) at the first point with F <= 0, or at the minimum.
    """
    g = 0.5 * (math.sqrt(5.0) - 1.0)
    la = math.log(a) if a > 0.0 else math.log(b) - 25.0
    lb = math.log(b)
    c = lb - g * (lb - la)
    d = la + g * (lb - la)
    fc = _gate_F(tab, sw2, v, mu, R, math.exp(c))
    fd = _gate_F(tab, sw2, v, mu, R, math.exp(d))
    for _ in range(60):
        if fc <= 0.0:
            return math.exp(c), fc
        if fd <= 0.0:
            return math.exp(d), fd
        if fc < fd:
            lb, d, fd = d, c, fc
            c = lb - g * (lb - la)
            fc = _gate_F(tab, sw2, v, mu, R, math.exp(c))
        else:
            la, c, fc = c, d, fd
            d = la + g * (lb - la)
            fd = _gate_F(tab, sw2, v, mu, R, math.exp(d))
        if lb - la < 1e-12:
            break
    return (math.exp(c), fc) if fc < fd else (math.exp(d), fd)


@njit(cache=True, nogil=True)
def scan_gate_Q(tab, sw2, v, mu, R, n_scan):
    """Bracket of the minimalRNN Q-map root reached from Q = 0, and the stable-root count.

    Scans F(Q) (eq. 4.1) at Q = 0 and ``n_scan`` log-spaced points over [1e-10 R, R].
    A sign change + -> - is a stable root. Near a saddle-node the stable/unstable pair
    can fall between two scan points (F dips below 0 and back); every positive
    local minimum of the samples is therefore minimised by golden section and a
    non-positive minimum counts as a pair (theory.md 4.3, 10.2). ``tab`` is a gate
    table or empty (direct quadrature). Returns (lo, f_lo, hi, n_stable) with
    F(lo) > 0 >= F(hi) bracketing the reached root.
    """
    return scan_gate_Q_into(tab, sw2, v, mu, R, n_scan, np.empty(n_scan + 1),
                             np.empty(n_scan + 1))


@njit(cache=True, nogil=True, inline="always")
def scan_gate_Q_into(tab, sw2, v, mu, R, n_scan, xs, fs):
    """``scan_gate_Q`` with caller-provided work arrays xs, fs (length n_scan + 1)."""
    xs[0] = 0.0
    ratio = 10.0 ** (10.0 / (n_scan - 1))  # one power, not one per point
    x = R * 1e-10
    for k in range(n_scan):
        xs[k + 1] = x if k < n_scan - 1 else R
        x *= ratio
    for k in range(n_scan + 1):
        fs[k] = _gate_F(tab, sw2, v, mu, R, xs[k])
    n_stable = 0
    lo, f_lo, hi = 0.0, fs[0], R
    for k in range(1, n_scan + 1):
        if fs[k - 1] > 0.0 and fs[k] <= 0.0:
            n_stable += 1
            if n_stable == 1:
                lo, f_lo, hi = xs[k - 1], fs[k - 1], xs[k]
        elif k < n_scan and fs[k] > 0.0 and fs[k - 1] > fs[k] and fs[k + 1] > fs[k]:
            xm, fm = _hidden_pair(tab, sw2, v, mu, R, xs[k - 1], xs[k + 1])
            if fm <= 0.0:
                n_stable += 1
                if n_stable == 1:
                    lo, f_lo, hi = xs[k - 1], fs[k - 1], xm
    return lo, f_lo, hi, n_stable


#: Moment tables at mu_k = (k - MU_PAD) D_MU_TAB, |mu| <= MU_TAB_MAX, for grids whose
#: axis is mu_b: a node's table is the 6-point Lagrange combination of six rows
#: (``table_at_mu``) instead of a new ``build_table`` (5 ms) per distinct mu.
D_MU_TAB = 1.0 / 16.0
MU_TAB_MAX = 10.0
MU_PAD = int(round(MU_TAB_MAX / D_MU_TAB)) + 2
N_MU_TAB = 2 * MU_PAD + 1


@njit(cache=True, nogil=True)
def build_mu_stack(code, k0, k1, stack):
    """Fill rows k0 <= k < k1 of ``stack`` (N_MU_TAB, N_TAB, 6) with ``build_table``."""
    for k in range(k0, k1):
        stack[k] = build_table(code, (k - MU_PAD) * D_MU_TAB)


@njit(cache=True, nogil=True)
def table_at_mu(stack, mu):
    """The moment table at ``mu`` interpolated from ``stack`` (|mu| <= MU_TAB_MAX)."""
    k, w = stencil6(mu / D_MU_TAB + MU_PAD, N_MU_TAB)  # |mu| <= MU_TAB_MAX: row >= 2
    out = np.zeros((N_TAB, 6))
    for a in range(6):
        out += w[a] * stack[k + a]
    return out


NO_STACK = np.zeros((0, 1, 6))  # "no moment stack": the point solver scans with the direct rule


@njit(cache=True, nogil=True)
def table_rows_at_mu(stack, mu, q_lo, q_hi):
    """``table_at_mu`` restricted to the rows that lookups in [q_lo, q_hi] read.

    The other rows stay zero: a point solve needs ~100 of the 536 rows, so this
    costs a few microseconds instead of a full table. At a mu of the stack's grid
    it is that row of the stack itself (read-only use).
    """
    k, w = stencil6(mu / D_MU_TAB + MU_PAD, N_MU_TAB)  # |mu| <= MU_TAB_MAX: row >= 2
    for a in range(6):
        if w[a] == 1.0:  # mu on the stack's grid (e.g. 0, 0.5, 2): that row as it is
            return stack[k + a]
    tab = np.zeros((N_TAB, 6))
    i0 = max(int((math.log(max(q_lo, Q_TAB)) - U0) / DU) - 3, 0)
    i1 = min(int((math.log(min(max(q_hi, Q_TAB), Q_MAX)) - U0) / DU) + 5, N_TAB)
    for i in range(i0, i1):
        for j in range(6):
            acc = 0.0
            for a in range(6):
                acc += w[a] * stack[k + a, i, j]
            tab[i, j] = acc
    return tab
