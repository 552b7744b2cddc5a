"""Gaussian expectations for the gated-cell reference (``reference_gated.py``), NumPy + SciPy only.

Contract: every function returns an expectation over Gaussian variables of smooth bounded
functions of sigmoids and tanh (times low-degree polynomials), to ~1e-12 relative or better.
Nothing here knows about GRU or LSTM; nothing is shared with ``theory/``.

* :func:`expect1` -- E[F(mu + sqrt(q) z)], adaptive QUADPACK (QAGP) on the z-line, split at the
  transition of F (argument 0, width 1 in argument units) and at geometric distances from it,
  as ``reference_impl.expect1`` does.
* :func:`gl_rule` -- a composite Gauss-Legendre rule for N(0, 1) refined at a transition; the
  inner rule of every nested integral (vectorised; checked against :func:`expect1` in the tests).
* :func:`expect2` -- E[F(u^a) G(u^b)] over a bivariate Gaussian with equal means and variances:
  adaptive quad over z1 of F(u^a) times the inner Gauss-Legendre smoothing of G.
* :func:`mix_expect` -- E over u_r ~ N(mu_r, q_r) (adaptive quad) of an inner expectation over
  U ~ N(0, q_a + r^2 q_s), r = sigmoid(u_r) (Gauss-Legendre): the GRU ``reset_after`` candidate,
  gated-cells.md eq. (2.3).
* :func:`trap_rule`, :func:`bivariate_trap` -- plain trapezoid rules for N(0, 1) and for a
  zero-mean bivariate Gaussian (exponentially convergent for integrands analytic in a strip);
  :func:`cheb_nodes`, :func:`lagrange_matrix` -- Chebyshev interpolation on [0, 1]. Both serve
  the 4-D reset_after cross term (``reference_gated_gru.cross_nn``).

Example
-------
>>> round(expect1(lambda x: sig(x), 0.0, 2.0), 15)
0.5
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import integrate, special

Z_MAX = 10.5  #: integrands are bounded by a polynomial times N(z); the tail beyond is < 1e-24
EPSREL = 1e-12  #: relative tolerance asked of every quad call
LIMIT = 400  #: QUADPACK subinterval limit
SQRT_2PI = math.sqrt(2.0 * math.pi)
N_GL = 10  #: Gauss-Legendre nodes per panel of :func:`gl_rule`
GL_X, GL_W = np.polynomial.legendre.leggauss(N_GL)
Z_TRAP = 8.6  #: half-range of the trapezoid rules: 2 P(z > 8.6) = 8e-18


# ---------------------------------------------------------------------------
# Nonlinearities (scalar: math module; vector: NumPy). All are overflow-safe.
# ---------------------------------------------------------------------------
def sig(x: float) -> float:
    """Logistic sigmoid 1/(1 + e^{-x}), accurate in both tails."""
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def dsig(x: float) -> float:
    """sigma'(x) = sigma(x) sigma(-x)."""
    return sig(x) * sig(-x)


def sech2(x: float) -> float:
    """tanh'(x) = sech^2(x) = 1 - tanh^2(x), without cancellation at large |x|."""
    e = math.exp(-2.0 * abs(x))
    return 4.0 * e / (1.0 + e) ** 2


sig_v = special.expit


def dsig_v(x):
    """Vectorised sigma'(x)."""
    return special.expit(x) * special.expit(-x)


def sech2_v(x):
    """Vectorised sech^2(x)."""
    e = np.exp(-2.0 * np.abs(x))
    return 4.0 * e / (1.0 + e) ** 2


# ---------------------------------------------------------------------------
# 1-D: adaptive quad
# ---------------------------------------------------------------------------
def merged(pts) -> list[float]:
    """Sorted breakpoints inside (-Z_MAX, Z_MAX), dropping any within 1e-6 of the previous one
    (QUADPACK flags near-empty subintervals as bad integrand behaviour)."""
    out: list[float] = []
    for b in sorted(b for b in pts if -Z_MAX < b < Z_MAX):
        if not out or b - out[-1] > 1e-6:
            out.append(b)
    return out


def breaks(centre: float, width: float) -> list[float]:
    """Breakpoints 0, centre, centre +- width 4^k (k >= 0) inside (-Z_MAX, Z_MAX)."""
    out = [0.0, centre]
    d = width
    while d < 4.0 * Z_MAX:
        out += [centre - d, centre + d]
        d *= 4.0
    return merged(out)


def quad_z(h, pts, epsabs: float = 0.0) -> float:
    """Integral of h(z) N(z; 0, 1) over [-Z_MAX, Z_MAX] by QUADPACK QAGP split at ``pts``.

    Raises RuntimeError when QUADPACK reports a problem and its error estimate exceeds 100x
    the requested tolerance.
    """
    val, err, _info, *msg = integrate.quad(
        lambda z: h(z) * math.exp(-0.5 * z * z),
        -Z_MAX,
        Z_MAX,
        points=pts,
        epsabs=epsabs * SQRT_2PI,
        epsrel=EPSREL,
        limit=LIMIT,
        full_output=1,
    )
    if msg and err > 100.0 * max(epsabs * SQRT_2PI, EPSREL * abs(val)):
        raise RuntimeError(f"quad failed: value {val!r}, error {err!r}: {msg[0]}")
    return val / SQRT_2PI


def expect1(F, mu: float, q: float, epsabs: float = 0.0) -> float:
    """E[F(mu + sqrt(q) z)], z ~ N(0, 1), by adaptive quad (gated-cells.md 1.6 notation E_k).

    ``F`` is a scalar function whose transition sits at argument 0 with width ~1 (sigmoid,
    tanh and their derivatives), i.e. at z = -mu/sqrt(q) with width 1/sqrt(q). ``epsabs``
    is needed only for integrands that can vanish (sign-changing ones).
    """
    if q <= 0.0:
        return F(mu)
    s = math.sqrt(q)
    return quad_z(lambda z: F(mu + s * z), breaks(-mu / s, 1.0 / s), epsabs)


def stein(Fp, mu: float, q: float, epsabs: float = 0.0) -> float:
    """d/dq E[F(mu + sqrt(q) z)] = E[z F'(mu + sqrt(q) z)] / (2 sqrt(q)) (Stein's lemma).

    ``Fp`` is F'. Equal to (1/2) E[F''] (gated-cells.md 1.6); this form needs one derivative.
    """
    s = math.sqrt(q)
    return quad_z(lambda z: z * Fp(mu + s * z), breaks(-mu / s, 1.0 / s), epsabs) / (2.0 * s)


# ---------------------------------------------------------------------------
# Composite Gauss-Legendre rule (inner integrals)
# ---------------------------------------------------------------------------
def _gl_nodes(edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mid, half = 0.5 * (edges[1:] + edges[:-1]), 0.5 * (edges[1:] - edges[:-1])
    return (mid[:, None] + half[:, None] * GL_X).ravel(), (half[:, None] * GL_W).ravel()


@functools.lru_cache(maxsize=512)
def _relative_rule(level: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and Gauss-Legendre weights (no density) relative to a transition of width
    2^{-level/8}: panels 0.25 width 2^k while < 1, then unit panels, out to 2 Z_MAX + 2."""
    width = 2.0 ** (-level / 8.0)
    fine = 0.25 * width * 2.0 ** np.arange(0, 80)
    side = np.concatenate((fine[fine < 1.0], np.arange(1.0, 2.0 * Z_MAX + 3.0)))
    return _gl_nodes(np.concatenate((-side[::-1], [0.0], side)))


def gl_rule(centre: float, width: float) -> tuple[np.ndarray, np.ndarray]:
    """Nodes z and weights w with sum(w F(z)) = E[F(z)], z ~ N(0, 1), for F with a transition
    at ``centre`` of width ``width`` (poles >= pi/2 width off the real axis).

    Panels: unit panels, refined geometrically next to the transition (widths 0.25 w,
    0.5 w, ... < 1, w = ``width`` rounded down to a power of 2^{1/8}, so the relative rule is
    cached); nodes beyond |z| = Z_MAX + 1 are dropped (Gaussian weight < 1e-31). N_GL = 10
    nodes per panel: the nearest pole is >= 3 half-widths from every panel's centre, so each
    panel converges like 5.8^{-20} (< 1e-15).
    """
    level = max(0, math.ceil(-8.0 * math.log2(width))) if width < 1.0 else 0
    z_rel, w_rel = _relative_rule(level)
    c = min(max(centre, -Z_MAX - 1.0), Z_MAX + 1.0)
    i, j = np.searchsorted(z_rel, (-Z_MAX - 1.0 - c, Z_MAX + 1.0 - c))
    z = c + z_rel[i:j]
    return z, w_rel[i:j] * np.exp(-0.5 * z * z) / SQRT_2PI


def gl_expect(Fv, mu: float, q: float) -> float:
    """E[Fv(mu + sqrt(q) z)] by :func:`gl_rule` (vectorised ``Fv``)."""
    if q <= 0.0:
        return float(Fv(np.array([mu]))[0])
    s = math.sqrt(q)
    z, w = gl_rule(-mu / s, 1.0 / s)
    return float(w @ Fv(mu + s * z))


# ---------------------------------------------------------------------------
# 2-D: bivariate Gaussian with equal means and variances
# ---------------------------------------------------------------------------
def expect2(F, Gv, mu: float, q: float, qab: float, epsabs: float = 0.0) -> float:
    """E[F(u^a) G(u^b)], (u^a, u^b) Gaussian with means mu, variances q, covariance qab.

    u^a = mu + sqrt(q) z1, u^b = mu + sqrt(q) (c z1 + sqrt(1 - c^2) z2), c = qab/q: adaptive
    quad over z1 of F(u^a) (scalar ``F``) times the Gauss-Legendre smoothing of ``Gv``
    (vectorised) over z2 at mean m = mu + sqrt(q) c z1 and spread s = sqrt(q (1 - c^2)).
    c = 1 is the 1-D expectation of F G. The smoothed G changes over ~sqrt(1 + s^2) in m; the
    outer breakpoints start there and at F's own transition.
    """
    if q <= 0.0:
        return F(mu) * float(Gv(np.array([mu]))[0])
    c = max(-1.0, min(1.0, qab / q))
    sq = math.sqrt(q)
    if c >= 1.0:
        return expect1(lambda x: F(x) * float(Gv(np.array([x]))[0]), mu, q, epsabs)
    s_in = sq * math.sqrt(1.0 - c * c)

    def outer(z1: float) -> float:
        fa = F(mu + sq * z1)
        if fa == 0.0:
            return 0.0
        m = mu + sq * c * z1
        z, w = gl_rule(-m / s_in, 1.0 / s_in)
        return fa * float(w @ Gv(m + s_in * z))

    pts = breaks(-mu / sq, 1.0 / sq)
    if abs(c) * sq > 1e-12:
        pts = merged(pts + breaks(-mu / (sq * c), math.sqrt(1.0 + s_in * s_in) / (sq * abs(c))))
    return quad_z(outer, pts, epsabs)


# ---------------------------------------------------------------------------
# 2-D mixture: outer sigmoid gate r, inner Gaussian whose variance depends on r (eq. 2.3)
# ---------------------------------------------------------------------------
def mix_expect(inner, mu_r: float, q_r: float, q_a: float, q_s: float, epsabs: float = 0.0):
    """E_r[ sum over U of inner(u, r, r', v, U) ], r = sigmoid(u), u ~ N(mu_r, q_r),
    U ~ N(0, v), v = q_a + r^2 q_s.

    ``inner(u, r, dr, v, U)`` returns the integrand's values at the array U (dr = sigma'(u)).
    Outer: adaptive quad in z_r split at the sigmoid's transition; inner: :func:`gl_rule`
    centred at U = 0 with width 1/sqrt(v).
    """

    def at(u: float) -> float:
        r, dr = sig(u), dsig(u)
        v = q_a + r * r * q_s
        if v <= 0.0:
            return float(inner(u, r, dr, 0.0, np.zeros(1))[0])
        sv = math.sqrt(v)
        z, w = gl_rule(0.0, 1.0 / sv)
        return float(w @ inner(u, r, dr, v, sv * z))

    if q_r <= 0.0:
        return at(mu_r)
    s = math.sqrt(q_r)
    return quad_z(lambda z: at(mu_r + s * z), breaks(-mu_r / s, 1.0 / s), epsabs)


# ---------------------------------------------------------------------------
# Trapezoid rules and Chebyshev interpolation (the 4-D cross term)
# ---------------------------------------------------------------------------
def trap_rule(h: float) -> tuple[np.ndarray, np.ndarray]:
    """Trapezoid nodes k h on [-Z_TRAP, Z_TRAP] with weights h N(z; 0, 1).

    For an integrand analytic in the strip |Im z| < d the error is ~ e^{-2 pi d / h}.
    """
    n = int(math.ceil(Z_TRAP / h))
    z = np.arange(-n, n + 1) * h
    return z, h * np.exp(-0.5 * z * z) / SQRT_2PI


def bivariate_trap(va: float, vb: float, kab: float, step: float, funcs):
    """E[f(Ua, Ub)] for each f in ``funcs``, (Ua, Ub) ~ N(0, [[va, kab], [kab, vb]]).

    Ua = sqrt(va) y1, Ub = (kab/sqrt(va)) y1 + sqrt(w) y2, w = vb - kab^2/va, on a tensor
    trapezoid grid. tanh(Ua), tanh(Ub) have poles pi/(2 sqrt(max(va, vb))) off the real y1 axis
    and pi/(2 sqrt(w)) off the y2 axis, so steps ``step``/sqrt(.) (capped at 0.5, where the
    Gaussian alone is exact to e^{-2 pi^2/0.25}) give errors ~ e^{-pi^2/step}.
    ``funcs(Ua, Ub)`` returns a list of arrays (broadcast over the grid).
    """
    w = max(vb - kab * kab / va, 0.0) if va > 0.0 else vb
    sa = math.sqrt(va)
    y1, w1 = trap_rule(min(0.5, step / math.sqrt(max(va, vb, 1e-300))))
    if w > 0.0:
        y2, w2 = trap_rule(min(0.5, step / math.sqrt(w)))
    else:
        y2, w2 = np.zeros(1), np.ones(1)
    ua = (sa * y1)[:, None]
    ub = ((kab / sa) * y1 if sa > 0.0 else 0.0 * y1)[:, None] + math.sqrt(w) * y2[None, :]
    return [w1 @ (np.broadcast_to(f, (len(y1), len(y2))) @ w2) for f in funcs(ua, ub)]


def cheb_nodes(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Chebyshev points of the first kind on [0, 1] and their barycentric weights."""
    j = np.arange(n)
    theta = np.pi * (2 * j + 1) / (2 * n)
    return 0.5 - 0.5 * np.cos(theta), (-1.0) ** j * np.sin(theta)


def lagrange_matrix(x: np.ndarray, nodes: np.ndarray, bw: np.ndarray) -> np.ndarray:
    """L[i, j] = l_j(x_i), the Lagrange basis at ``nodes`` (barycentric formula)."""
    d = x[:, None] - nodes[None, :]
    hit = d == 0.0
    d[hit] = 1.0
    t = bw / d
    L = t / t.sum(axis=1, keepdims=True)
    rows = hit.any(axis=1)
    L[rows] = hit[rows].astype(float)
    return L
