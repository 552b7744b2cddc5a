"""The exact law of the LSTM cell state (gated-cells.md 4.6), NumPy + SciPy only.

Contract: with the gates frozen at their stationary statistics, c = f c + i g in law (4.13);
:func:`char_function` solves phi(k) = phi_a(k) E_f[phi(k f)] (4.14) on a uniform k grid;
:func:`exact_averages` returns E[tanh^2 c] (4.15a) and E[sech^4 c] from it; :func:`exact_q_star`
is the fixed point of Q = E_o[o^2] E[tanh^2 c] with that exact average.

Method: phi_a(k) = E[cos(k i g)] by a tensor Gauss-Legendre rule over (u_i, u_g); phi(k f) by
Lagrange interpolation of order ``ORDER`` on the grid, stencils shifted left so that they never
use a node above k (k f < k), which makes the linear system lower triangular after its first
ORDER rows; E_f[.] by a Gauss-Legendre rule over u_f. The integrals over k use the trapezoid
rule on [0, k_max] of an even function analytic in |Im k| < 2 (exponentially accurate).
Parseval: E[g(c)] = (1/2 pi) int g^(k) phi(k) dk with the transforms
sech^2 -> pi k / sinh(pi k/2) and sech^4 -> pi k (k^2 + 4) / (6 sinh(pi k/2)).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import linalg

try:
    from tests import reference_gated_lstm as lstm
    from tests import reference_gated_quad as gq
    from tests import reference_gated_solve as gs
except ImportError:  # run as a script, or with tests/ on sys.path
    import reference_gated_lstm as lstm
    import reference_gated_quad as gq
    import reference_gated_solve as gs

DK = 0.025  #: k step x sqrt(Q_c) (the spec's recipe uses 0.05; halving it is checked in tests)
ORDER = 6  #: interpolation points per stencil (degree 5)
K_MAX = 30.0  #: sech kernels are < 1e-19 beyond


def _gate_rule(mu: float, q: float):
    """Gauss-Legendre nodes u and weights of N(mu, q), refined at the transition u = 0."""
    if q <= 0.0:
        return np.array([mu]), np.array([1.0])
    s = math.sqrt(q)
    z, w = gq.gl_rule(-mu / s, 1.0 / s)
    keep = w > 1e-22  # |z| < 9.8: the dropped mass is < 1e-21
    return mu + s * z[keep], w[keep]


def phi_a(k: np.ndarray, c, Q: float) -> np.ndarray:
    """phi_a(k) = E[cos(k i g)], i = sigmoid(u_i), g = tanh(u_g), gates at Q (eq. 4.14)."""
    ui, wi = _gate_rule(c.gate["i"].mu, c.q("i", Q))
    ug, wg = _gate_rule(c.gate["g"].mu, c.q("g", Q))
    if c.gate["g"].mu == 0.0:  # the rule is symmetric and cos is even: fold g -> |g|
        ug, wg = ug[ug > 0.0], 2.0 * wg[ug > 0.0]
    prod = np.outer(gq.sig_v(ui), np.tanh(ug)).ravel()
    w = np.outer(wi, wg).ravel()
    # k is uniform: cos((j+1) t) = 2 cos(t) cos(j t) - cos((j-1) t), re-anchored every 32 steps
    dk = k[1] - k[0]
    two_cos = 2.0 * np.cos(dk * prod)
    out = np.empty_like(k)
    prev2 = prev = None
    for j in range(len(k)):
        cur = np.cos(k[j] * prod) if j % 32 < 2 else two_cos * prev - prev2
        out[j] = cur @ w
        prev2, prev = prev, cur
    return out


def _interp_matrix(k: np.ndarray, uf: np.ndarray, wf: np.ndarray) -> np.ndarray:
    """P[j, l] = E_f[l_l(k_j f)]: Lagrange interpolation at k_j f from nodes <= j (or the
    first ORDER nodes for j < ORDER)."""
    n, dk = len(k), k[1] - k[0]
    f = gq.sig_v(uf)
    x = np.outer(k, f) / dk  # position in grid units, (n, n_f)
    j = np.arange(n)[:, None]
    start = np.floor(x).astype(int) - ORDER // 2 + 1
    start = np.minimum(np.maximum(start, 0), np.maximum(j - ORDER + 1, 0))
    P = np.zeros((n, n))
    for m in range(ORDER):
        idx = start + m
        lm = np.ones_like(x)
        for mm in range(ORDER):
            if mm != m:
                lm *= (x - (start + mm)) / (m - mm)
        np.add.at(P, (np.broadcast_to(j, idx.shape), idx), lm * wf[None, :])
    return P


def char_function(c, Q: float, dk_scale: float = DK) -> tuple[np.ndarray, np.ndarray]:
    """(k, phi(k)) of the stationary cell state with the gates at Q (eq. 4.14)."""
    m = lstm.gates(c, Q, ("2",))
    Qc = m["i2"] * m["g2"] / m["1-f2"]
    dk = dk_scale / math.sqrt(Qc)
    kmax = min(K_MAX, 40.0 / math.sqrt(Qc))
    k = np.arange(0.0, kmax + dk, dk)
    uf, wf = _gate_rule(c.gate["f"].mu, c.q("f", Q))
    A = np.eye(len(k)) - phi_a(k, c, Q)[:, None] * _interp_matrix(k, uf, wf)
    phi = np.empty(len(k))
    phi[0] = 1.0
    p = ORDER
    rhs = -A[:, 0]
    phi[1:p] = np.linalg.solve(A[1:p, 1:p], rhs[1:p])
    rest = rhs[p:] - A[p:, 1:p] @ phi[1:p]
    phi[p:] = linalg.solve_triangular(A[p:, p:], rest, lower=True)
    return k, phi


def exact_averages(c, Q: float, dk_scale: float = DK) -> dict:
    """E[tanh^2 c] (4.15a), E[sech^4 c] and Q_c = -phi''(0) under the exact law, gates at Q."""
    k, phi = char_function(c, Q, dk_scale)
    dk = k[1] - k[0]
    kk = k[1:]
    sh = np.sinh(0.5 * math.pi * kk)
    ker2 = np.concatenate(([2.0 / math.pi], kk / sh))
    ker4 = np.concatenate(([4.0 / (3.0 * math.pi)], kk * (kk * kk + 4.0) / (6.0 * sh)))
    w = np.full(len(k), dk)
    w[0] = 0.5 * dk  # trapezoid on [0, inf) of an even function
    # phi(k) = 1 - Q_c k^2/2 + E[c^4] k^4/24 - ...: fourth-order difference at 0 (phi even)
    Qc_fd = -(-phi[2] + 16.0 * phi[1] - 15.0 * phi[0]) / (6.0 * dk * dk)
    return {"Etanh2": 1.0 - float(w @ (ker2 * phi)), "Esech4": float(w @ (ker4 * phi)),
            "Qc_from_phi": Qc_fd, "n_k": len(k)}


def exact_q_star(c, Q_guess: float, dk_scale: float = DK) -> float:
    """Fixed point of Q = E_o[o^2] E_exact[tanh^2 c] near ``Q_guess`` (the GC value)."""

    def g(Q):
        return lstm.gates(c, Q, ("2",))["o2"] * exact_averages(c, Q, dk_scale)["Etanh2"] - Q

    lo, hi = 0.97 * Q_guess, 1.03 * Q_guess
    while g(lo) < 0.0:
        lo *= 0.9
    while g(hi) > 0.0:
        hi = min(1.0, hi * 1.1)
    return gs.brent(g, lo, hi)
