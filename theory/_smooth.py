"""Numba kernels: 2-D Gaussian expectations through tabulated Gaussian smoothing (private).

For equal variances q, correlation c and mean mu, write
a = mu + sqrt(q) z1 and b = mu + sqrt(q) (c z1 + r z2) with r = sqrt(1 - c^2).
Integrating z2 first,

.. math:: E[f(a) g(b)] = E_{z_1}\\big[f(a)\\, S_g(\\mu + \\sqrt q\\, c z_1,\\ \\sqrt q\\, r)\\big],
          \\qquad S_g(m, \\sigma) = E_z\\, g(m + \\sigma z),

so the 2-D rule of ``_gauss._cross_trapezoid`` becomes a 1-D sum once the
smoothed function S_g is known. S_g depends on neither mu nor q: it is
tabulated once per activation on a uniform grid in (t, rho) with
t = m / sqrt(1 + sigma^2) and rho = sigma / sqrt(1 + sigma^2), in which it is
smooth and bounded for every sigma, and read with 4-point Lagrange
interpolation in rho and 6-point in t (measured against the direct 2-D rule:
<= 2e-8 relative for tanh, where bicubic gave 1e-6 for the gate). Used by
``theory.point`` (tests/test_reference.py checks it against SciPy at 1e-6), by
the grids' fallback and to build the cross tables of ``_cross_tables``.

Tables: ``build(code)`` returns an array (2, N_RHO, N_T): S_f and
sqrt(1 + sigma^2) S_{f'} (which stays O(1) as sigma grows, where S_{f'} ~ 1/sigma)
for f = tanh (code 0) or the sigmoid gate (code 4).
"""

import math

import numpy as np
from numba import njit

from theory._gauss import (
    _TWO_OVER_SQRTPI,
    ERF,
    SIGMOID,
    TANH,
    Z_MAX,
    gauss_weight_recurrence,
    next_gauss_weight,
    phi_and_derivs,
    phi_cross,
    sigmoid_cross,
    tanh0_moments,
)
from theory._tables import lagrange4, stencil6

N_RHO = 161
RHO_MAX = 0.9995  # sigma = rho / sqrt(1 - rho^2) up to ~31.6, i.e. q (1 - c^2) <= 1000
D_RHO = RHO_MAX / (N_RHO - 2)  # rows k = 1..N_RHO-1 hold rho = (k-1) D_RHO <= RHO_MAX
T_HALF_TANH = 20.0  # beyond |t| = T_HALF, S equals its limit to < 1e-17
T_HALF_SIGMOID = 40.0
T_HALF = {TANH: T_HALF_TANH, SIGMOID: T_HALF_SIGMOID}
NO_TABLE = np.zeros((0, 1, 1))  # "no smoothing table": use the direct 2-D rule
N_T = 2401
H_SMOOTH = 0.25  # trapezoid scale for building rows (error ~exp(-2 pi (pi/2)/0.25) ~ 1e-17)


@njit(cache=True, nogil=True)
def _smooth_values(code, m, sigma):
    """S_f(m, sigma) and S_{f'}(m, sigma) by the trapezoid rule of theory.md 10.1."""
    if sigma <= 0.0:
        f, d, _ = phi_and_derivs(code, m)
        return f, d
    h = min(0.5, H_SMOOTH / sigma)
    n = int(2.0 * Z_MAX / h) + 1
    z0 = -0.5 * (n - 1) * h
    sf = 0.0
    sd = 0.0
    sw = 0.0
    for i in range(n):
        z = z0 + i * h
        w = math.exp(-0.5 * z * z)
        f, d, _ = phi_and_derivs(code, m + sigma * z)
        sf += w * f
        sd += w * d
        sw += w
    return sf / sw, sd / sw


@njit(cache=True, nogil=True)
def build_rows(code, t_half, out):
    """Fill ``out`` (2, N_RHO, N_T): row k at rho_k = (k - 1) * D_RHO (row 0 mirrors row 2)."""
    dt = 2.0 * t_half / (N_T - 1)
    for k in range(1, N_RHO):
        rho = (k - 1) * D_RHO
        sigma = rho / math.sqrt(1.0 - rho * rho)
        scale = math.sqrt(1.0 + sigma * sigma)
        for i in range(N_T):
            t = -t_half + i * dt
            sf, sd = _smooth_values(code, t * scale, sigma)
            out[0, k, i] = sf
            out[1, k, i] = sd * scale  # ~ 2 phi(t) for large sigma: bounded, smooth in rho
    for i in range(N_T):  # S is even in rho (sigma -> -sigma): mirror for the stencil at rho = 0
        out[0, 0, i] = out[0, 2, i]
        out[1, 0, i] = out[1, 2, i]


def build(code: int) -> np.ndarray:
    """Smoothing table of activation ``code`` (takes ~1 s; cached by the caller)."""
    tab = np.zeros((2, N_RHO, N_T))
    build_rows(code, T_HALF[code], tab)
    return tab


@njit(cache=True, nogil=True)
def cross(code, tab, t_half, mu, q, c, hscale):
    """E[f(a) f(b)], E[f'(a) f'(b)], E[(1-f(a))(1-f(b))] via the smoothing table.

    Same outputs as ``_gauss._cross_trapezoid``; the third is meaningful for the gate.
    """
    s = math.sqrt(max(q, 0.0))
    r = math.sqrt(max(1.0 - c * c, 0.0))
    sigma = s * r
    rho = sigma / math.sqrt(1.0 + sigma * sigma)
    scale = 1.0 / math.sqrt(1.0 + sigma * sigma)
    xr = rho / D_RHO + 1.0
    kr = min(max(int(xr) - 1, 0), N_RHO - 4)
    wr = lagrange4(xr - kr)
    dt = 2.0 * t_half / (N_T - 1)
    h1 = min(0.5, hscale / s) if s > 0.0 else 0.5
    n1 = int(2.0 * Z_MAX / h1) + 1
    z01 = -0.5 * (n1 - 1) * h1
    e_ff = 0.0
    e_dd = 0.0
    e_gg = 0.0
    wsum = 0.0
    w1, r1, g1 = gauss_weight_recurrence(z01, h1)
    for i in range(n1):
        z1 = z01 + i * h1
        fa, da, _ = phi_and_derivs(code, mu + s * z1)
        t = (mu + s * c * z1) * scale
        if t <= -t_half or t >= t_half:
            lim = 1.0 if t > 0.0 else (-1.0 if code == TANH else 0.0)
            sf, sd = lim, 0.0
        else:
            kt, wt = stencil6((t + t_half) / dt, N_T)
            sf = 0.0
            sd = 0.0
            for a in range(4):
                rf = 0.0
                rd = 0.0
                for b in range(6):
                    rf += wt[b] * tab[0, kr + a, kt + b]
                    rd += wt[b] * tab[1, kr + a, kt + b]
                sf += wr[a] * rf
                sd += wr[a] * rd
        e_ff += w1 * fa * sf
        e_dd += w1 * da * sd * scale
        e_gg += w1 * (1.0 - fa) * (1.0 - sf)
        wsum += w1
        w1, r1 = next_gauss_weight(i, z01, h1, w1, r1, g1)
    return e_ff / wsum, e_dd / wsum, e_gg / wsum


@njit(cache=True, nogil=True)
def _erf_cross(mu, q, c, hscale):
    """Closed-form inner integral for erf: E[erf(m + s z)] = erf(m / sqrt(1 + 2 s^2))."""
    s = math.sqrt(max(q, 0.0))
    sig2 = q * max(1.0 - c * c, 0.0)
    k = math.sqrt(1.0 + 2.0 * sig2)
    h1 = min(0.5, hscale / s) if s > 0.0 else 0.5
    n1 = int(2.0 * Z_MAX / h1) + 1
    z01 = -0.5 * (n1 - 1) * h1
    e_ff = 0.0
    e_dd = 0.0
    wsum = 0.0
    for i in range(n1):
        z1 = z01 + i * h1
        w1 = math.exp(-0.5 * z1 * z1)
        fa, da, _ = phi_and_derivs(ERF, mu + s * z1)
        m = mu + s * c * z1
        e_ff += w1 * fa * math.erf(m / k)
        e_dd += w1 * da * _TWO_OVER_SQRTPI / k * math.exp(-m * m / (k * k))
        wsum += w1
    return e_ff / wsum, e_dd / wsum


@njit(cache=True, nogil=True)
def phi_cross_fast(code, mu, q, c, gl_x, gl_w, hscale, stab):
    """``_gauss.phi_cross`` with a 1-D outer rule where the inner integral is known.

    erf: closed form (always); tanh: the smoothing table ``stab`` when it is not
    empty (grids); otherwise the direct 2-D rule.
    """
    if c < 1.0:
        if code == ERF:
            return _erf_cross(mu, q, c, hscale)
        if code == TANH and stab.shape[0] > 0:
            e_ff, e_dd, _ = cross(TANH, stab, T_HALF_TANH, mu, q, c, hscale)
            return e_ff, e_dd
    return phi_cross(code, mu, q, c, gl_x, gl_w, hscale)


@njit(cache=True, nogil=True)
def sigmoid_cross_fast(mu, q, c, hscale, stab):
    """``_gauss.sigmoid_cross`` through the smoothing table ``stab`` when it is not empty."""
    if c < 1.0 and stab.shape[0] > 0:
        e_ff, e_dd, e_gg = cross(SIGMOID, stab, T_HALF_SIGMOID, mu, q, c, hscale)
        return e_ff, e_gg, e_dd
    return sigmoid_cross(mu, q, c, hscale)


@njit(cache=True, nogil=True)
def tanh_cross_unequal(stab, va, vb, cab, hscale):
    """E[t(X) t(Y)] and E[t'(X) t'(Y)], t = tanh, (X, Y) zero-mean Gaussian with variances
    ``va``, ``vb`` and covariance ``cab`` (the GRU reset_after candidate pair, gated-cells.md
    2.3), through the smoothing table ``stab`` of tanh.

    X = sqrt(va) z1 and, given z1, Y ~ N(cab z1 / sqrt(va), vb - cab^2 / va): the inner
    integral is the smoothed S_t at a spread that does not depend on z1 (as in ``cross``).
    """
    if va <= 0.0 or vb <= 0.0:  # one of them is 0: t = 0, t' = 1 = 1 - t^2 there
        return 0.0, 1.0 - tanh0_moments(max(va, vb, 0.0))[0]
    sa = math.sqrt(va)
    sigma = math.sqrt(max(vb - cab * cab / va, 0.0))
    rho = sigma / math.sqrt(1.0 + sigma * sigma)
    scale = 1.0 / math.sqrt(1.0 + sigma * sigma)
    xr = rho / D_RHO + 1.0
    kr = min(max(int(xr) - 1, 0), N_RHO - 4)
    wr = lagrange4(xr - kr)
    dt = 2.0 * T_HALF_TANH / (N_T - 1)
    h1 = min(0.5, hscale / sa)
    n1 = int(2.0 * Z_MAX / h1) + 1
    z01 = -0.5 * (n1 - 1) * h1
    slope = cab / sa
    e_ff = 0.0
    e_dd = 0.0
    wsum = 0.0
    w1, r1, g1 = gauss_weight_recurrence(z01, h1)
    for i in range(n1):
        z1 = z01 + i * h1
        t = math.tanh(sa * z1)
        d = 1.0 - t * t
        tt = slope * z1 * scale
        if tt <= -T_HALF_TANH or tt >= T_HALF_TANH:
            sf, sd = (1.0 if tt > 0.0 else -1.0), 0.0
        else:
            kt, wt = stencil6((tt + T_HALF_TANH) / dt, N_T)
            sf = 0.0
            sd = 0.0
            for a in range(4):
                rf = 0.0
                rd = 0.0
                for b in range(6):
                    rf += wt[b] * stab[0, kr + a, kt + b]
                    rd += wt[b] * stab[1, kr + a, kt + b]
                sf += wr[a] * rf
                sd += wr[a] * rd
        e_ff += w1 * t * sf
        e_dd += w1 * d * sd * scale
        wsum += w1
        w1, r1 = next_gauss_weight(i, z01, h1, w1, r1, g1)
    return e_ff / wsum, e_dd / wsum
