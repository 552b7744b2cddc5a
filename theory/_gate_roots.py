"""Numba kernels: the roots of a gated second-moment map (private).

A gate u = sigmoid(e), e ~ N(mu, q), that mixes a unit's state with an input of
second moment R gives the map Q' = E[u^2] Q + E[(1-u)^2] R with q = sigma_w^2 Q + v
(the minimalRNN, theory.md eq. 4.1; in ``theory.cells``). Its roots decide which
fixed-point branch the zero state reaches and whether the map is bistable
(theory.md 4.3). At fixed mu the sign of the residual

    F(Q) = E[u^2] Q + E[(1-u)^2] R - Q = (1 - E[u^2]) (R a(q) - Q),
    a(q) = E[(1-u)^2] / (1 - E[u^2]),   q = sigma_w^2 Q + v,

depends on the node's parameters only through the line Q = (q - v) / sigma_w^2:
a(q) is one function of q per mu. A *profile* holds a on the nodes of the 1-D
table (``_tables``, 64 per e-fold of q) and on a coarser extension down to
q = ``Q_PROFILE_MIN`` (direct quadrature, read from a stack over mu like the
tables), with the min and max of a over blocks of ``BLOCK`` nodes. A node then
finds every sign change of F on the profile nodes between q = v (Q = 0) and
q = v + sigma_w^2 R (Q = R) by a walk that skips every block whose bounds certify
one sign, instead of evaluating F at 31 (grid) or 64 (point) scan points
(``scan_gate_Q``, also here). The node values resolve root pairs ~1.6 % apart in q
(table region), far finer than such scans; at
(mu_b, v, R, sigma_w^2) = (7.5, 0, 1, 45.0) the 64-point scan misses a second
stable root at Q = 0.33 that the walk finds.

Where q = v + sigma_w^2 R lies beyond the profile the caller falls back to
``scan_gate_Q``; ``theory.point`` re-checks the bracket with the direct rule.
"""

import math

import numpy as np
from numba import njit

from theory._gauss import sigmoid_moments
from theory._tables import (
    D_MU_TAB,
    DU,
    MU_PAD,
    N_MU_TAB,
    N_TAB,
    U0,
    gate_map_terms,
    stencil6,
)

BLOCK = 8  # profile nodes per certified block
Q_PROFILE_MIN = 1e-6  # first node; below it a(q) = a(0) (1 + O(q)) is taken as constant
DU_LOW = 0.5  # node step in log q below the table (a varies by O(q) there)
N_LOW = int(math.ceil((U0 - math.log(Q_PROFILE_MIN)) / DU_LOW))
N_PROFILE = N_LOW + N_TAB
N_BLOCKS = (N_PROFILE - 1 + BLOCK - 1) // BLOCK
#: The profile nodes q_k (increasing): N_LOW below the table, then the table's rows.
Q_NODES = np.concatenate((np.exp(U0 - DU_LOW * np.arange(N_LOW, 0, -1)),
                          np.exp(U0 + DU * np.arange(N_TAB))))
NO_LOW_STACK = np.zeros((0, N_LOW))  # "no low-q profile stack": the point solver scans
#: Relative widening of the block bounds: far above what a can do between two nodes
#: (~h^2 a''/8 ~ 3e-5 a for |d^2 a / d(log q)^2| ~ a), so a certified block has no sign
#: change in the interpolant; blocks it leaves uncertified are checked node by node.
BOUND_SLACK = 1e-2


@njit(cache=True, nogil=True, inline="always")
def _gate_F(tab, sw2, v, mu, R, x):
    """F(Q) = E[u^2] Q + E[(1-u)^2] R - Q at q = sigma_w^2 Q + v (eq. 4.1); table or direct."""
    q = sw2 * x + v
    if tab.shape[0] > 0:
        e_uu, e_vv = gate_map_terms(tab, mu, q)
    else:
        m = sigmoid_moments(mu, q)
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


@njit(cache=True, nogil=True)
def _ratio(m1, m5):
    """a = E[(1-u)^2] / (1 - E[u^2]), with 1 - E[u^2] = 2 E[1-u] - E[(1-u)^2] (no cancellation)."""
    return m1 / (2.0 * m5 - m1)


@njit(cache=True, nogil=True)
def low_profile(mu):
    """a(q) at the N_LOW profile nodes below the table, by direct quadrature."""
    out = np.empty(N_LOW)
    for k in range(N_LOW):
        m = sigmoid_moments(mu, Q_NODES[k])
        out[k] = _ratio(m[1], m[5])
    return out


@njit(cache=True, nogil=True)
def build_low_stack(stack):
    """``low_profile`` at every mu row of the moment stack (``_tables.build_mu_stack``)."""
    for k in range(N_MU_TAB):
        stack[k] = low_profile((k - MU_PAD) * D_MU_TAB)


@njit(cache=True, nogil=True)
def low_profile_at_mu(stack, mu):
    """``low_profile(mu)`` interpolated from ``build_low_stack`` (|mu| <= MU_TAB_MAX)."""
    k, w = stencil6(mu / D_MU_TAB + MU_PAD, N_MU_TAB)
    out = np.zeros(N_LOW)
    for a in range(6):
        out += w[a] * stack[k + a]
    return out


@njit(cache=True, nogil=True)
def fill_profile(tab, low, prof, q_lo, q_hi):
    """Profile of a(q) from a gate table and its ``low_profile``, for q in [q_lo, q_hi].

    ``prof`` (3, N_PROFILE): row 0 a(q_k) at the nodes ``Q_NODES``; rows 1 and 2
    (first N_BLOCKS entries) the widened min and max of a over the nodes
    BLOCK b .. BLOCK (b + 1), both ends included. Only the nodes from the one below
    q_lo to the one above q_hi are filled (``tab`` may hold only the rows those
    need, ``_tables.table_rows_at_mu``); a block with a node outside gets bounds
    that certify nothing.
    """
    k0 = max(_first_node_above(Q_NODES, q_lo) - 1, 0)
    k1 = min(_first_node_above(Q_NODES, q_hi), N_PROFILE - 1)
    for k in range(k0, k1 + 1):
        if k < N_LOW:
            prof[0, k] = low[k]
        else:
            prof[0, k] = _ratio(math.exp(tab[k - N_LOW, 1]), math.exp(tab[k - N_LOW, 5]))
    for b in range(N_BLOCKS):
        j0, j1 = b * BLOCK, min(b * BLOCK + BLOCK, N_PROFILE - 1)
        if j0 < k0 or j1 > k1:
            prof[1, b], prof[2, b] = -math.inf, math.inf
            continue
        lo = hi = prof[0, j0]
        for k in range(j0 + 1, j1 + 1):
            lo = min(lo, prof[0, k])
            hi = max(hi, prof[0, k])
        prof[1, b] = lo * (1.0 - BOUND_SLACK)
        prof[2, b] = hi * (1.0 + BOUND_SLACK)
    return prof


@njit(cache=True, nogil=True, inline="always")
def _first_node_above(qn, q):
    """Index of the first profile node > q (bisection; N_PROFILE if none)."""
    lo, hi = 0, qn.shape[0]
    while lo < hi:
        mid = (lo + hi) // 2
        if qn[mid] > q:
            hi = mid
        else:
            lo = mid + 1
    return lo


@njit(cache=True, nogil=True, inline="always")
def _sign_D(a, k, scale, v):
    """D = sigma_w^2 R a(q_k) + v - q_k at profile node k: the sign of F there."""
    return scale * a[k] + v - Q_NODES[k]


@njit(cache=True, nogil=True)
def walk_gate_Q(prof, tab, sw2, v, mu, R):
    """Bracket of the Q-map root reached from Q = 0 and the stable-root count.

    Returns (lo, hi, n_stable, guess, ok): the bracket [lo, hi] in Q of the
    first sign change + -> - of F on the profile nodes (the reached root), the
    number of stable roots, a secant first guess, and ``ok`` (False when the
    profile does not cover Q = R: the caller then scans with
    ``scan_gate_Q``). The sign of F at a node is that of
    D = sigma_w^2 R a(q) + v - q (``_sign_D``); node values of a are the table's
    own values, so the signs are F's up to rounding at a root, and the point
    solver re-checks the bracket with the direct rule. The walk skips blocks
    whose bounds certify one sign. A positive local minimum of D on the nodes
    that is shallow for its curvature may hide a root pair between two nodes
    (next to the saddle-node): F is minimised there (``_hidden_pair``).
    """
    qn, a = Q_NODES, prof[0]
    q_end = v + sw2 * R
    if not (sw2 > 0.0 and R > 0.0) or q_end >= qn[-1]:
        return 0.0, R, 0, 0.0, False
    k_first = _first_node_above(qn, v)
    k = k_first
    # sign of F just above Q = 0 is +: F(0) = E[(1-u)^2] R > 0
    pos = True
    n_stable = 0
    lo, hi = 0.0, R  # bracket (in Q) of the first + -> - change
    d_lo, d_hi = 1.0, -1.0  # the profile's F-sign function D there (for the secant guess)
    scale = sw2 * R
    while k < N_PROFILE and qn[k] < q_end:
        b = k // BLOCK
        if k % BLOCK == 0 and b < N_BLOCKS:
            k_last = min(k + BLOCK, N_PROFILE - 1)
            if qn[k_last] < q_end:
                if pos and scale * prof[1, b] + v - qn[k_last] > 0.0:
                    k = k_last  # the whole block stays positive
                    continue
                if (not pos) and scale * prof[2, b] + v - qn[k] <= 0.0:
                    k = k_last  # the whole block stays non-positive
                    continue
        d = _sign_D(a, k, scale, v)
        if pos and d <= 0.0:
            n_stable += 1
            if n_stable == 1:
                lo = (qn[k - 1] - v) / sw2 if k > k_first else 0.0
                hi = (qn[k] - v) / sw2
                # D at lo (Q = 0: D = scale a(v), a(v) ~ a at the node above)
                d_lo = _sign_D(a, k - 1, scale, v) if k > k_first else scale * a[k]
                d_hi = d
        elif pos and k > k_first and k + 1 < N_PROFILE and qn[k + 1] < q_end:
            d_prev = _sign_D(a, k - 1, scale, v)
            d_next = _sign_D(a, k + 1, scale, v)
            # a local minimum within its curvature of 0: the interpolant may dip below
            if d_prev > d and d_next > d and d < d_prev + d_next - 2.0 * d:
                q_a, q_b = (qn[k - 1] - v) / sw2, (qn[k + 1] - v) / sw2
                xm, fm = _hidden_pair(tab, sw2, v, mu, R, q_a, q_b)
                if fm <= 0.0:
                    n_stable += 1
                    if n_stable == 1:
                        lo, hi = q_a, xm
                        d_lo = d_hi = 0.0  # guess: the midpoint
        pos = d > 0.0
        k += 1
    if pos:  # F(R) = (1 - E[u^2]) R (a - 1) <= 0: a last change just below Q = R
        n_stable += 1
        if n_stable == 1:
            j = max(k - 1, k_first)
            lo = (qn[k - 1] - v) / sw2 if k > k_first else 0.0
            hi = R
            d_lo = _sign_D(a, j, scale, v) if k > k_first else scale * a[j]
            d_hi = scale * (a[j] - 1.0)  # D at q_end, with a(q_end) ~ a at the node below
    if d_lo > 0.0 and d_hi < 0.0:
        guess = lo + (hi - lo) * d_lo / (d_lo - d_hi)  # D is linear in Q between nodes
    else:
        guess = 0.5 * (lo + hi)
    return lo, hi, n_stable, guess, True
