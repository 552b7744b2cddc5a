"""Numba kernels: Gaussian expectations of the nonlinearities (private).

Every function here takes plain floats and integer activation codes and
returns floats; no Python callables, no RNG, no globals except the read-only
Gauss-Legendre nodes passed in as arrays.

Quadrature (theory.md section 10.1): the trapezoid rule in z on [-Z_MAX, Z_MAX]
with step ``h = min(H_MAX, H_SCALE / sqrt(q))``. For an integrand analytic in a
strip of half-width d the error is ~C exp(-2 pi d / h). tanh(mu + sqrt(q) z) has
its nearest (double, for tanh^2) pole at distance pi / (2 sqrt(q)); measured
against adaptive SciPy quadrature, H_SCALE = 0.4 leaves 5e-9 relative error in
E[tanh^2] at q = 1 (an aliasing term whose sign flips with the node offset), and
H_SCALE = 0.3 leaves ~1e-12; a fourth-order pole (chi_q at q ~ 400) needs 0.25 for
3e-10. The sigmoid's poles are twice as far; erf is entire. ReLU has a kink, so its
1-D expectations use closed forms with the normal CDF and its 2-D ones a
closed-form inner integral and Gauss-Legendre outer rule.

Activation codes: 0 tanh, 1 erf, 2 relu, 3 linear, 4 sigmoid (the minimalRNN
gate u = 1 / (1 + exp(-e))).
"""

import math

import numpy as np
from numba import njit

TANH, ERF, RELU, LINEAR, SIGMOID = 0, 1, 2, 3, 4
PHI_CODES = {"tanh": TANH, "erf": ERF, "relu": RELU, "linear": LINEAR}

Z_MAX = 9.0  # exp(-81/2) ~ 2.6e-18: the Gaussian tail beyond is below double precision
H_MAX = 0.5  # trapezoid on exp(-z^2/2) alone: error ~ exp(-2 pi^2 / h^2) ~ 7e-35
H_SCALE = 0.25
#: The sigmoid's poles are twice as far from the real axis as tanh's (pi / sqrt(q)), so
#: the gate needs a step twice as long for the same error; 0.4 leaves <= 3e-12 (1-D)
#: and <= 5e-11 (2-D smoothing rule) relative to hscale 0.125, for mu in [-6, 10], q <= 440.
H_SCALE_GATE = 0.4
_SQRT2PI = math.sqrt(2.0 * math.pi)
_TWO_OVER_SQRTPI = 2.0 / math.sqrt(math.pi)

# Gauss-Legendre nodes on [-1, 1] for the ReLU 2-D outer integral (smooth there).
GL_X, GL_W = np.polynomial.legendre.leggauss(96)


@njit(cache=True, nogil=True, inline="always")
def gauss_weight_recurrence(z0, h):
    """(w, r, g) for the weights exp(-z^2/2) at z = z0, z0 + h, ... without an exp per node.

    w_{i+1} = w_i r_i and r_{i+1} = r_i g with r_0 = exp(-(z0 h + h^2/2)), g = exp(-h^2)
    is exact in exact arithmetic; ``next_gauss_weight`` steps it.
    """
    return math.exp(-0.5 * z0 * z0), math.exp(-(z0 * h + 0.5 * h * h)), math.exp(-h * h)


@njit(cache=True, nogil=True, inline="always")
def next_gauss_weight(i, z0, h, w, r, g):
    """(w, r) at node i + 1 from node i (``gauss_weight_recurrence``).

    The rounding of g makes the relative error of w grow like k^2 x 1e-16 / 2 after
    k steps, so every 64 nodes the pair is recomputed exactly (drift <= 2e-13).
    """
    if i % 64 == 63:
        z = z0 + (i + 1) * h
        return math.exp(-0.5 * z * z), math.exp(-(z * h + 0.5 * h * h))
    return w * r, r * g


@njit(cache=True, nogil=True)
def _step(q, hscale=H_SCALE):
    if q <= 0.0:
        return H_MAX
    return min(H_MAX, hscale / math.sqrt(q))


@njit(cache=True, nogil=True)
def phi_and_derivs(code, x):
    """Return (f, f', f'') of activation ``code`` at ``x``."""
    if code == TANH:
        t = math.tanh(x)
        d = 1.0 - t * t
        return t, d, -2.0 * t * d
    if code == ERF:
        g = _TWO_OVER_SQRTPI * math.exp(-x * x)
        return math.erf(x), g, -2.0 * x * g
    if code == RELU:
        return (x, 1.0, 0.0) if x > 0.0 else (0.0, 0.0, 0.0)
    if code == LINEAR:
        return x, 1.0, 0.0
    # sigmoid, written to avoid overflow for large |x|
    if x >= 0.0:
        u = 1.0 / (1.0 + math.exp(-x))
    else:
        ex = math.exp(x)
        u = ex / (1.0 + ex)
    d = u * (1.0 - u)
    return u, d, d * (1.0 - 2.0 * u)


@njit(cache=True, nogil=True)
def _norm_cdf(x):
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


@njit(cache=True, nogil=True)
def _norm_pdf(x):
    return math.exp(-0.5 * x * x) / _SQRT2PI


@njit(cache=True, nogil=True)
def phi_moments(code, mu, q, hscale=H_SCALE):
    """E[phi^2], E[phi'^2], E[phi'^2 + phi phi''] for e ~ N(mu, q).

    The last one is d E[phi^2] / dq * 2 (Stein's lemma), so that
    chi_q = sigma_w^2 * it (theory.md 3.3).
    """
    if code == LINEAR:
        return mu * mu + q, 1.0, 1.0
    if code == RELU:
        if q <= 0.0:
            return (mu * mu, 1.0, 1.0) if mu > 0.0 else (0.0, 0.0, 0.0)
        s = math.sqrt(q)
        a = mu / s
        cdf = _norm_cdf(a)
        return (mu * mu + q) * cdf + mu * s * _norm_pdf(a), cdf, cdf
    h = _step(q, hscale)
    s = math.sqrt(max(q, 0.0))
    n = int(2.0 * Z_MAX / h) + 1
    z0 = -0.5 * (n - 1) * h
    m0 = 0.0
    m1 = 0.0
    m2 = 0.0
    wsum = 0.0
    w, r, g = gauss_weight_recurrence(z0, h)
    for i in range(n):
        z = z0 + i * h
        f, d, dd = phi_and_derivs(code, mu + s * z)
        m0 += w * f * f
        m1 += w * d * d
        m2 += w * (d * d + f * dd)
        wsum += w
        w, r = next_gauss_weight(i, z0, h, w, r, g)
    return m0 / wsum, m1 / wsum, m2 / wsum


@njit(cache=True, nogil=True)
def sigmoid_moments(mu, q, hscale=H_SCALE_GATE):
    """Moments of the gate u = sigmoid(e), e ~ N(mu, q) (theory.md 4.1-4.2).

    Returns E[u^2], E[(1-u)^2], E[u'^2], E[u'^2 + u u''], E[(1-u) u'' - u'^2],
    E[1-u]. The 4th and 5th are E[z u u'] / sqrt(q) and E[z (1-u) u'] / sqrt(q)
    by Stein's lemma (used in chi_q).
    """
    h = _step(q, hscale)
    s = math.sqrt(max(q, 0.0))
    n = int(2.0 * Z_MAX / h) + 1
    z0 = -0.5 * (n - 1) * h
    acc = np.zeros(6)
    wsum = 0.0
    w, r, g = gauss_weight_recurrence(z0, h)
    for i in range(n):
        z = z0 + i * h
        u, d, dd = phi_and_derivs(SIGMOID, mu + s * z)
        v = 1.0 - u
        acc[0] += w * u * u
        acc[1] += w * v * v
        acc[2] += w * d * d
        acc[3] += w * (d * d + u * dd)
        acc[4] += w * (v * dd - d * d)
        acc[5] += w * v
        wsum += w
        w, r = next_gauss_weight(i, z0, h, w, r, g)
    return acc[0] / wsum, acc[1] / wsum, acc[2] / wsum, acc[3] / wsum, acc[4] / wsum, acc[5] / wsum


@njit(cache=True, nogil=True)
def tanh0_moments(q, hscale=H_SCALE):
    """E[t^2], E[t'^2] and their q-derivatives for t = tanh(e), e ~ N(0, q).

    The derivatives are E[t'^2 + t t''] and E[t''^2 + t' t'''] (Stein's lemma:
    d/dq E[F(e)] = E[F''(e)] / 2). The gated cells' candidates and the LSTM cell state
    need these at zero mean (gated-cells.md 3.1-3.6, 4.1-4.5).
    """
    h = _step(q, hscale)
    s = math.sqrt(max(q, 0.0))
    n = int(2.0 * Z_MAX / h) + 1
    z0 = -0.5 * (n - 1) * h
    m0 = 0.0
    m1 = 0.0
    m2 = 0.0
    m3 = 0.0
    wsum = 0.0
    w, r, g = gauss_weight_recurrence(z0, h)
    for i in range(n):
        t = math.tanh(s * (z0 + i * h))
        d = 1.0 - t * t
        dd = -2.0 * t * d
        ddd = -2.0 * d * d + 4.0 * t * t * d
        m0 += w * t * t
        m1 += w * d * d
        m2 += w * (d * d + t * dd)
        m3 += w * (dd * dd + d * ddd)
        wsum += w
        w, r = next_gauss_weight(i, z0, h, w, r, g)
    return m0 / wsum, m1 / wsum, m2 / wsum, m3 / wsum


@njit(cache=True, nogil=True)
def _relu_smooth(m, s):
    """E[relu(m + s z)] and E[relu'(m + s z)] for z ~ N(0, 1), s > 0."""
    a = m / s
    return m * _norm_cdf(a) + s * _norm_pdf(a), _norm_cdf(a)


@njit(cache=True, nogil=True)
def _relu_cross(mu, q, c, gl_x, gl_w):
    """E[relu(a) relu(b)], E[relu'(a) relu'(b)] with var q, correlation c."""
    s = math.sqrt(q)
    r = math.sqrt(max(1.0 - c * c, 0.0))
    if r * s < 1e-12 * (1.0 + abs(mu)):
        m0, m1, _ = phi_moments(RELU, mu, q)
        return m0, m1
    lo = max(-mu / s, -Z_MAX)
    hi = Z_MAX
    if lo >= hi:
        return 0.0, 0.0
    half = 0.5 * (hi - lo)
    mid = 0.5 * (hi + lo)
    e_ff = 0.0
    e_dd = 0.0
    for k in range(gl_x.shape[0]):
        z = mid + half * gl_x[k]
        w = gl_w[k] * half * _norm_pdf(z)
        ea = mu + s * z
        sm, sd = _relu_smooth(mu + s * c * z, s * r)
        e_ff += w * ea * sm
        e_dd += w * sd
    return e_ff, e_dd


@njit(cache=True, nogil=True)
def _cross_trapezoid(code, mu, q, c, hscale=H_SCALE):
    """Tensor trapezoid for E[f(a) f(b)] and E[f'(a) f'(b)] (f = phi or gate).

    a = mu + sqrt(q) z1, b = mu + sqrt(q) (c z1 + sqrt(1 - c^2) z2). For the
    gate the third entry is E[(1-u^a)(1-u^b)].
    """
    s = math.sqrt(max(q, 0.0))
    r = math.sqrt(max(1.0 - c * c, 0.0))
    h1 = _step(q, hscale)
    h2 = _step(q * r * r, hscale)
    n1 = int(2.0 * Z_MAX / h1) + 1
    n2 = int(2.0 * Z_MAX / h2) + 1
    z01 = -0.5 * (n1 - 1) * h1
    z02 = -0.5 * (n2 - 1) * h2
    w2 = np.empty(n2)
    sw = 0.0
    for j in range(n2):
        z2 = z02 + j * h2
        w2[j] = math.exp(-0.5 * z2 * z2)
        sw += w2[j]
    e_ff = 0.0
    e_dd = 0.0
    e_gg = 0.0
    wsum = 0.0
    for i in range(n1):
        z1 = z01 + i * h1
        w1 = math.exp(-0.5 * z1 * z1)
        fa, da, _ = phi_and_derivs(code, mu + s * z1)
        base = mu + s * c * z1
        sf = 0.0
        sd = 0.0
        for j in range(n2):
            fb, db, _ = phi_and_derivs(code, base + s * r * (z02 + j * h2))
            sf += w2[j] * fb
            sd += w2[j] * db
        e_ff += w1 * fa * sf / sw
        e_dd += w1 * da * sd / sw
        e_gg += w1 * (1.0 - fa) * (sw - sf) / sw
        wsum += w1
    return e_ff / wsum, e_dd / wsum, e_gg / wsum


@njit(cache=True, nogil=True)
def phi_cross(code, mu, q, c, gl_x, gl_w, hscale=H_SCALE):
    """E[phi(a) phi(b)] and E[phi'(a) phi'(b)], equal variances q, corr. c (eq. 3.2)."""
    if code == LINEAR:
        return mu * mu + c * q, 1.0
    if code == RELU:
        return _relu_cross(mu, q, c, gl_x, gl_w)
    if c >= 1.0:
        m0, m1, _ = phi_moments(code, mu, q)
        return m0, m1
    e_ff, e_dd, _ = _cross_trapezoid(code, mu, q, c, hscale)
    return e_ff, e_dd


@njit(cache=True, nogil=True)
def sigmoid_cross(mu, q, c, hscale=H_SCALE):
    """E[u^a u^b], E[(1-u^a)(1-u^b)], E[u'^a u'^b], equal variances q, corr. c (eq. 4.2)."""
    if c >= 1.0:
        e_uu, e_vv, e_dd, _, _, _ = sigmoid_moments(mu, q)
        return e_uu, e_vv, e_dd
    e_ff, e_dd, e_gg = _cross_trapezoid(SIGMOID, mu, q, c, hscale)
    return e_ff, e_gg, e_dd
