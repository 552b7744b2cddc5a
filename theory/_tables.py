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

from theory._gauss import H_MAX, H_SCALE, SIGMOID, phi_moments, sigmoid_moments, tanh0_moments

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
            m = sigmoid_moments(mu, q, HSCALE_GATE)
            for j in range(6):
                tab[k, j] = m[j]
            for j in _LOG_COLS:
                tab[k, j] = math.log(max(tab[k, j], 1e-300))
        else:
            m0, m1, m2 = phi_moments(code, mu, q, HSCALE_PHI)
            tab[k, 0] = m0
            tab[k, 1] = m1
            tab[k, 2] = m2
    return tab


@njit(cache=True, nogil=True, inline="always")
def _direct(code, mu, q, out):
    if code == SIGMOID:
        m = sigmoid_moments(mu, q)
        for j in range(6):
            out[j] = m[j]
    else:
        m0, m1, m2 = phi_moments(code, mu, q)
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
        m = sigmoid_moments(mu, q)
        return m[0], m[1]
    k, w0, w1, w2, w3 = _stencil(q)
    a = w0 * tab[k, 0] + w1 * tab[k + 1, 0] + w2 * tab[k + 2, 0] + w3 * tab[k + 3, 0]
    b = w0 * tab[k, 1] + w1 * tab[k + 1, 1] + w2 * tab[k + 2, 1] + w3 * tab[k + 3, 1]
    return math.exp(a), math.exp(b)


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


#: The zero-mean tanh table (GRU/LSTM candidates, LSTM cell state): the four moments of
#: ``_gauss.tanh0_moments`` at v_k = exp(T0_U0 + k T0_DU), v from ~1e-8 to ~1e4, read
#: with 6-point Lagrange interpolation in log v. Every column is a smooth function of
#: log v whose derivatives scale like the column itself, so the interpolation error is
#: ~T0_DU^6 / 720 relative (~1e-12; checked against the direct rule in the tests).
T0_DU = 1.0 / 32.0
T0_U0 = math.log(1e-8) - 3.0 * T0_DU
T0_N = int(math.ceil((math.log(1e4) - T0_U0) / T0_DU)) + 6
T0_HSCALE = 0.2  # trapezoid of the entries: error ~exp(-2 pi (pi/2) / 0.2) ~ 1e-21
NO_TANH0_TABLE = np.zeros((0, 4))  # "no table": direct quadrature


@njit(cache=True, nogil=True)
def build_tanh0_table():
    """The zero-mean tanh table (T0_N, 4): E[t^2], E[t'^2], d/dv E[t^2], d/dv E[t'^2]."""
    tab = np.zeros((T0_N, 4))
    for k in range(T0_N):
        m = tanh0_moments(math.exp(T0_U0 + k * T0_DU), T0_HSCALE)
        for j in range(4):
            tab[k, j] = m[j]
    return tab


@njit(cache=True, nogil=True, inline="always")
def tanh0_lookup(tab, v, out):
    """The four zero-mean tanh moments at variance ``v`` into ``out[:4]`` (table or direct)."""
    x = (math.log(v) - T0_U0) / T0_DU if v > 0.0 else -1.0
    if tab.shape[0] == 0 or x < 2.0 or x > T0_N - 4.0:
        if v <= 0.0:
            out[0], out[1], out[2], out[3] = 0.0, 1.0, 1.0, -4.0  # the limits at v -> 0
        else:
            out[0], out[1], out[2], out[3] = tanh0_moments(v)
        return
    k, w = stencil6(x, T0_N)
    for j in range(4):
        acc = 0.0
        for a in range(6):
            acc += w[a] * tab[k + a, j]
        out[j] = acc
