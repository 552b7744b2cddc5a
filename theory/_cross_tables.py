"""Numba kernels: tabulated 2-D Gaussian expectations for phase-diagram grids (private).

The correlation maps of theory.md 3.2 and 4.2 need, at every Newton step of every
grid node, the cross moments

    E[f(a) f(b)],  E[f'(a) f'(b)]  (and, for the gate, E[(1-f(a)) (1-f(b))])

of a = mu + sqrt(q) z1, b = mu + sqrt(q) (c z1 + sqrt(1 - c^2) z2). They depend on
three numbers only, (mu, q, c), so they are tabulated once per activation on a
uniform grid in

* |mu| (the moments are even in mu for tanh and erf; for the gate, mu -> -mu
  swaps E[f f] and E[(1-f)(1-f)] since sigmoid(-x) = 1 - sigmoid(x));
* u = log q, for Q_LO <= q <= Q_HI;
* t = sqrt((1 - c) / 2), for 0 <= c <= 1 (where every fixed point c* of the maps
  lies). In t the moments are smooth up to c = 1 even at large q: for a step-like
  f they tend to (2/pi) arcsin(c) = 1 - (4/pi) arcsin(t), analytic in t, while in c
  they have a square-root singularity at c = 1. They are even in t, which gives
  the padding row below t = 0.

Entries are computed with the smoothing-table rule of ``_smooth`` (erf: its
closed-form inner integral) and read with 6-point Lagrange interpolation in each
direction (step 1/8 in |mu| and in log q, 1/64 in tau). A grid collapses the mu
direction once per distinct mu (``set_mu``, lazily per q row), so a lookup costs
a 6 x 6 stencil. Outside the table (q < Q_LO, q > Q_HI, |mu| > MU_MAX) the callers
use ``_smooth.phi_cross_fast`` / ``sigmoid_cross_fast``.
The accuracy is checked against the direct 2-D rule in tests/test_cross_tables.py.
"""

import math

import numpy as np
from numba import njit

from theory._smooth import phi_cross_fast, sigmoid_cross_fast
from theory._tables import stencil6

MU_MAX = 10.0  # theory.PARAM_RANGES: |mu_b| <= 10
D_MU = 1.0 / 8.0
N_MU = int(round(MU_MAX / D_MU)) + 6  # rows k hold mu = (k - 2) D_MU (6-point stencil)
#: Below Q_LO the direct rule is cheap (37 nodes) and the 6th mu-derivative of
#: phi(mu)^2 limits the mu interpolation (4e-6 at q = 0.016); grids reach q <= 440.
Q_LO, Q_HI = 0.25, 5e2
U_LO = math.log(Q_LO)
DU = 1.0 / 8.0
N_U = int(math.ceil((math.log(Q_HI) - U_LO) / DU)) + 6  # rows i hold u = U_LO + (i - 2) DU
T_MAX = math.sqrt(0.5)  # t at c = 0
DT = 1.0 / 64.0  # step in tau (0 at c = 1, 1 at c = 0)
N_T = int(round(1.0 / DT)) + 6  # rows j hold tau = (j - 2) DT; rows 0, 1 mirror 4, 3
#: Trapezoid step scale of the entries (``_smooth``'s 1-D outer rule): 0.35 / sqrt(q),
#: error ~exp(-pi^2 / 0.35) (theory.md 10.1), far below the interpolation error.
H_BUILD = 0.35
NO_CROSS_TABLE = np.zeros((0, 1, 1, 1))


@njit(cache=True, nogil=True)
def t_of_tau(tau, q):
    """t = sqrt((1 - c) / 2) at the stretched coordinate tau (a row of the table at q).

    tau = asinh(sqrt(q) t) / asinh(sqrt(q) T_MAX): uniform steps in tau are steps of
    ~1/sqrt(q) in t near c = 1, where E[f' f'] varies on that scale (~1/sqrt(t^2 + 1/q)).
    """
    sq = math.sqrt(q)
    return math.sinh(tau * math.asinh(sq * T_MAX)) / sq


@njit(cache=True, nogil=True)
def _entry(code, stab, gl_x, gl_w, mu, q, c, out):
    if code == 4:
        e_ff, e_gg, e_dd = sigmoid_cross_fast(mu, q, c, H_BUILD, stab)
        out[2] = e_gg
    else:
        e_ff, e_dd = phi_cross_fast(code, mu, q, c, gl_x, gl_w, H_BUILD, stab)
    out[0] = e_ff
    out[1] = e_dd


@njit(cache=True, nogil=True)
def build_mu_rows(code, stab, gl_x, gl_w, k0, k1, tab):
    """Fill rows k0 <= k < k1 (in mu) of ``tab`` (n_fields, N_MU, N_U, N_T)."""
    out = np.zeros(3)
    nf = tab.shape[0]
    for k in range(k0, k1):
        mu = (k - 2) * D_MU
        for i in range(N_U):
            q = math.exp(U_LO + (i - 2) * DU)
            for j in range(2, N_T):
                t = t_of_tau((j - 2) * DT, q)
                _entry(code, stab, gl_x, gl_w, mu, q, max(1.0 - 2.0 * t * t, -1.0), out)
                for f in range(nf):
                    tab[f, k, i, j] = out[f]
            for f in range(nf):
                tab[f, k, i, 0] = tab[f, k, i, 4]
                tab[f, k, i, 1] = tab[f, k, i, 3]


@njit(cache=True, nogil=True, inline="always")
def set_mu(tab, code, mu, ms, done):
    """Select the table at ``mu`` for the following lookups (state in ``ms``, ``done``).

    ``ms`` (length 9): [usable, first mu row, 6 Lagrange weights, swap]. The gate's
    mu -> -mu symmetry swaps E[f f] and E[(1-f)(1-f)]. The mu-collapsed rows of the
    slab are computed lazily (``done`` marks them), so a node costs only the rows its q
    needs.
    """
    a = abs(mu)
    done[:] = False
    if tab.shape[0] == 0 or a > MU_MAX:
        ms[0] = 0.0
        return
    k, w = stencil6(a / D_MU + 2.0, N_MU)
    ms[0] = 1.0
    ms[1] = k
    for a in range(6):
        ms[2 + a] = w[a]
    ms[8] = 1.0 if code == 4 and mu < 0.0 else 0.0


@njit(cache=True, nogil=True)
def _fill_row(tab, ms, slab, i, i_out):
    """Row i (in log q) of the table at the mu of ``ms``, into row i_out of ``slab``."""
    k = int(ms[1])
    exact = -1  # a mu of the table's grid: one row, no interpolation
    for a in range(6):
        if ms[2 + a] == 1.0:
            exact = a
    for f in range(tab.shape[0]):
        g = 2 - f if ms[8] > 0.0 and f != 1 else f
        if exact >= 0:
            slab[g, i_out, :] = tab[f, k + exact, i, :]
            continue
        for j in range(N_T):
            acc = 0.0
            for a in range(6):
                acc += ms[2 + a] * tab[f, k + a, i, j]
            slab[g, i_out, j] = acc


@njit(cache=True, nogil=True, inline="always")
def set_q(q, ns):
    """Prepare lookups at variance ``q``: ``ns`` = [usable, u row, 6 weights, sqrt q, 1/A]."""
    if not (Q_LO <= q <= Q_HI):
        ns[0] = 0.0
        return
    ku, w = stencil6((math.log(q) - U_LO) / DU + 2.0, N_U)
    ns[0] = 1.0
    ns[1] = ku
    for a in range(6):
        ns[2 + a] = w[a]
    ns[8] = math.sqrt(q)
    ns[9] = 1.0 / math.asinh(ns[8] * T_MAX)


@njit(cache=True, nogil=True, inline="always")
def cross_lookup(tab, ms, done, slab, ns, c, out):
    """Cross moments at correlation ``c`` (mu, q from ``set_mu``/``set_q``) into ``out``.

    ``out`` = [E[f f], E[f' f'], E[(1-f)(1-f)] (gate)]. Returns False, leaving
    ``out`` untouched, outside the table (the caller uses the direct rule).
    """
    if ms[0] == 0.0 or ns[0] == 0.0 or not (0.0 <= c <= 1.0):
        return False
    ku = int(ns[1])
    for a in range(6):
        if not done[ku + a]:
            _fill_row(tab, ms, slab, ku + a, ku + a)
            done[ku + a] = True
    y = ns[8] * math.sqrt(0.5 * (1.0 - c))
    tau = math.log1p(y + y * y / (1.0 + math.sqrt(1.0 + y * y))) * ns[9]  # asinh(y), y >= 0
    kt, (w0, w1, w2, w3, w4, w5) = stencil6(tau / DT + 2.0, N_T)
    for f in range(tab.shape[0]):
        acc = 0.0
        for a in range(6):
            r = slab[f, ku + a]
            acc += ns[2 + a] * (w0 * r[kt] + w1 * r[kt + 1] + w2 * r[kt + 2] + w3 * r[kt + 3]
                                + w4 * r[kt + 4] + w5 * r[kt + 5])
        out[f] = acc
    return True


@njit(cache=True, nogil=True)
def point_state(tab, code, mu, q):
    """Lookup state for one (mu, q): only the six q rows it needs, pre-collapsed in mu.

    Same layout as a grid's state (``_solve.table_state``), 30x smaller, so
    ``theory.point`` can use the table for a first guess without a large allocation.
    """
    ms, ns, e = np.zeros(9), np.zeros(10), np.zeros(3)
    done = np.ones(6, dtype=np.bool_)
    slab = np.zeros((3, 6, N_T))
    set_mu(tab, code, mu, ms, np.zeros(0, dtype=np.bool_))
    set_q(q, ns)
    if ms[0] > 0.0 and ns[0] > 0.0:
        ku = int(ns[1])
        for a in range(6):
            _fill_row(tab, ms, slab, ku + a, a)
        ns[1] = 0.0
    return tab, ms, done, slab, ns, e
