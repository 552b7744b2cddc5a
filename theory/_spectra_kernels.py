"""Numba kernels of the free-probability spectrum solver (private).

The squared singular values lambda of a product of free factors are found from
the subordination equation of theory.md 5.3, written in logarithms so that
lambda may span thousands of e-folds:

.. math::

    F(a) = K\\,(a + \\log t - \\log z) + (\\log z - \\log t)
           - M\\,(\\log c + \\log(1 + v z)) + \\log\\lambda' = 0,

with ``x = e^a`` the subordination variable, ``z = psi_y(x)`` the moment
generating function of a one-factor law ``y`` (normalised to mean 1), ``t = 1+z``,
``K`` free copies of ``y`` and ``M`` free copies of a Marchenko-Pastur-type
factor with S-transform ``1/(c (1 + v z))`` (``v = 1, c = 1``: a square Gaussian
``WW^T``). Then ``lambda' G(lambda') = t`` and the density per unit log lambda is
``-Im(t - atoms)/pi`` at ``lambda' = lambda (1 + i eta)``.

``psi_y`` is a trapezoid sum in the Gaussian variable zeta of the one-factor law
(nodes ``zeta_j = j h``) **plus the exact correction for the poles** of the
integrand ``y x / (1 - y x)`` near the real zeta-axis: by Poisson summation a
simple pole at zeta_p with residue c_p makes the trapezoid sum exceed the
integral by ``+-2 pi i c_p q_p / (1 - q_p)``, ``q_p = exp(+-2 pi i zeta_p / h)``.
With it the quadrature stays exact (to ~1e-12) even when x approaches the real
axis, which is where the density lives. Laws: ``LAW_DISCRETE`` (atoms only, no
poles: relu, linear), ``LAW_TANH`` (y = C sech^4(mu + s zeta)), ``LAW_ERF``
(y = C exp(-2 (mu + s zeta)^2)) and ``LAW_SIGMOID`` (y = C sigmoid(mu + s zeta)^2).
"""

import cmath
import math

import numpy as np
from numba import njit

LAW_DISCRETE = 0
LAW_TANH = 1
LAW_ERF = 2
LAW_SIGMOID = 3  # y = C sigmoid(mu + s zeta)^2 (the minimalRNN gate)

_TWO_PI_I = 2j * math.pi
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
POLE_REACH = 12.0  # poles farther than POLE_REACH * h from the axis change psi by < e^-75
SCALED_BELOW = -30.0  # every |r_j| < e^-30: evaluate t = 1 + z in scaled form
MAX_EXP = 700.0
NEWTON_TOL = 1e-11  # |step in ln x|: the density is then accurate to ~1e-11 relative
_ROOTS4 = np.array([1.0 + 0j, 1j, -1.0 + 0j, -1j])


@njit(cache=True, nogil=True)
def _pole_terms(zeta, dl, ddl, a_sign_h):
    """Correction (and its a-derivative) of one pole at ``zeta`` (trapezoid minus integral).

    ``dl``/``ddl`` are l'(zeta), l''(zeta) with l = log y; the residue of
    phi(zeta) k(l(zeta) + a), k(s) = e^s / (1 - e^s), is -phi(zeta_p) / l'(zeta_p).
    """
    h = a_sign_h
    phi = _INV_SQRT_2PI * cmath.exp(-0.5 * zeta * zeta)
    c = -phi / dl
    dc = (zeta * phi / dl) + phi * ddl / (dl * dl)  # d c / d zeta
    if zeta.imag > 0.0:
        sgn = 1.0
    else:
        sgn = -1.0
    q = cmath.exp(sgn * _TWO_PI_I * zeta / h)
    Q = q / (1.0 - q)
    dQ = sgn * (_TWO_PI_I / h) * q / ((1.0 - q) * (1.0 - q))  # dQ / d zeta
    dzeta_da = -1.0 / dl
    err = sgn * _TWO_PI_I * c * Q
    derr = sgn * _TWO_PI_I * (dc * Q + c * dQ) * dzeta_da
    return err, derr


@njit(cache=True, nogil=True)
def pole_correction(a, law, c0, mu, s, h, zmax):
    """Sum over poles of (trapezoid - integral) for psi_y and its a-derivative.

    Poles solve l(zeta) + a = 2 pi i k with l = log y (normalised); only those
    within ``POLE_REACH * h`` of the real axis and inside the node range count.
    """
    err = 0j
    derr = 0j
    if law == LAW_DISCRETE or s <= 0.0:
        return err, derr
    reach = POLE_REACH * h
    if law == LAW_TANH:
        # c0 - 4 log cosh(E) + a = 2 pi i k  <=>  cosh(E)^4 = exp(c0 + a)
        g = (c0 + a) / 4.0
        if abs(g.real) > MAX_EXP:
            return err, derr
        w0 = cmath.exp(g)
        for r in range(4):
            wr = w0 * _ROOTS4[r]
            e0 = cmath.acosh(wr)
            for sg in (1.0, -1.0):
                for n in (-1, 0, 1):
                    E = sg * e0 + _TWO_PI_I * n
                    zeta = (E - mu) / s
                    if abs(zeta.imag) < reach and abs(zeta.real) < zmax:
                        th = cmath.tanh(E)
                        dl = -4.0 * s * th
                        ddl = -4.0 * s * s * (1.0 - th * th)
                        e1, e2 = _pole_terms(zeta, dl, ddl, h)
                        err += e1
                        derr += e2
    elif law == LAW_SIGMOID:
        # c0 - 2 log(1 + e^-E) + a = 2 pi i k  <=>  e^-E = +-exp((c0 + a)/2) - 1
        g = (c0 + a) / 2.0
        if abs(g.real) > MAX_EXP:
            return err, derr
        w0 = cmath.exp(g)
        for sg in (1.0, -1.0):
            base = -cmath.log(sg * w0 - 1.0)
            for n in (-1, 0, 1):
                E = base + _TWO_PI_I * n
                zeta = (E - mu) / s
                if abs(zeta.imag) < reach and abs(zeta.real) < zmax:
                    u = 1.0 / (1.0 + cmath.exp(-E))
                    dl = 2.0 * s * (1.0 - u)
                    ddl = -2.0 * s * s * u * (1.0 - u)
                    e1, e2 = _pole_terms(zeta, dl, ddl, h)
                    err += e1
                    derr += e2
    else:
        # c0 - 2 E^2 + a = 2 pi i k
        # near E_p the branches k are spaced by ~pi / (2 |E_p|) in Im E: count those in reach
        e_p = abs(cmath.sqrt((c0 + a) / 2.0))
        kmax = min(int(reach * s * (2.0 * e_p + 1.0) / math.pi) + 2, 400)
        for k in range(-kmax, kmax + 1):
            e2sq = (c0 + a - _TWO_PI_I * k) / 2.0
            e0 = cmath.sqrt(e2sq)
            for sg in (1.0, -1.0):
                E = sg * e0
                zeta = (E - mu) / s
                if abs(zeta.imag) < reach and abs(zeta.real) < zmax:
                    dl = -4.0 * s * E
                    ddl = -4.0 * s * s + 0j
                    e1, e2 = _pole_terms(zeta, dl, ddl, h)
                    err += e1
                    derr += e2
    return err, derr


@njit(cache=True, nogil=True)
def psi_parts(a, logy, iy, wy, p0, law, c0, mu, s, h, zmax):
    """z = psi_y(e^a), t = 1 + z, dz/da and log t (robust in the deep left tail).

    ``iy`` = 1/y (or 0 where it would overflow; then the scaled branch is used).
    Returns (z, t, log t, dz/da).
    """
    n = logy.size
    sig = -1e308
    for j in range(n):
        v = -a.real - logy[j]
        if v > sig:
            sig = v
    err, derr = pole_correction(a, law, c0, mu, s, h, zmax)
    z = 0j
    dz = 0j
    if sig < SCALED_BELOW:
        # all r_j = e^{-a}/y_j are tiny: t - p0 = sum w r/(r-1) is ~ e^sig, keep it scaled
        S1 = 0j
        S2 = 0j
        for j in range(n):
            rho = -a - logy[j]
            e = cmath.exp(rho - sig)
            r = cmath.exp(rho)
            d = r - 1.0
            S1 += wy[j] * e / d
            S2 += wy[j] * e / (d * d)
            z += wy[j] / d
        es = math.exp(sig)
        z -= err
        dz = es * S2 - derr
        t = p0 + es * S1 - err
        if t == 0j:
            Lt = sig + cmath.log(S1)
        else:
            Lt = cmath.log(t)
        return z, t, Lt, dz
    ema = cmath.exp(-a) if a.real > -MAX_EXP else complex(math.exp(MAX_EXP), 0.0)
    er = ema.real
    ei = ema.imag
    zr = 0.0
    zi = 0.0
    gr = 0.0
    gi = 0.0
    tr = 0.0
    ti = 0.0
    for j in range(n):
        if iy[j] > 0.0:
            rr = er * iy[j]
            ri = ei * iy[j]
        else:
            rho = -a - logy[j]
            r = cmath.exp(complex(min(rho.real, MAX_EXP), rho.imag))
            rr = r.real
            ri = r.imag
        # f = 1/(r - 1), g = f (1 + f) = r / (r - 1)^2; |r - 1|^2 may overflow -> f = 0
        dr = rr - 1.0
        inv = 1.0 / (dr * dr + ri * ri)
        fr = dr * inv
        fi = -ri * inv
        wj = wy[j]
        zr += wj * fr
        zi += wj * fi
        tr += wj * (rr * fr - ri * fi)  # r f = 1 + f without the cancellation when r -> 0
        ti += wj * (rr * fi + ri * fr)
        gr += wj * (fr * (1.0 + fr) - fi * fi)
        gi += wj * (fi * (1.0 + fr) + fr * fi)
    z = complex(zr, zi)
    dz = complex(gr, gi)
    tc = complex(tr, ti)
    z -= err
    dz -= derr
    t = p0 + tc - err
    return z, t, cmath.log(t), dz


@njit(cache=True, nogil=True)
def residual(a, w, K, M, logc, v, logy, iy, wy, p0, law, c0, mu, s, h, zmax):
    """F(a) and F'(a) of the module docstring at complex log-lambda ``w``; also t, dz/da."""
    z, t, Lt, dz = psi_parts(a, logy, iy, wy, p0, law, c0, mu, s, h, zmax)
    Lz = cmath.log(z)
    dLz = dz / z
    dLt = dz / t
    if v == 1.0:
        Lu = Lt
        dLu = dLt
    elif v == 0.0:
        Lu = 0j
        dLu = 0j
    else:
        u = 1.0 + v * z
        Lu = cmath.log(u)
        dLu = v * dz / u
    F = K * (a + Lt - Lz) + (Lz - Lt) - M * (logc + Lu) + w
    dF = K * (1.0 + dLt - dLz) + (dLz - dLt) - M * dLu
    return F, dF, t, dz


@njit(cache=True, nogil=True)
def newton(a, w, maxit, K, M, logc, v, logy, iy, wy, p0, law, c0, mu, s, h, zmax):
    """Damped Newton for F(a) = 0 keeping x = e^a in the lower half plane.

    Returns (a, F'(a), t, dz/da, converged, iterations); t, F', dz/da belong to
    the last-but-one iterate (off by the final step, < NEWTON_TOL).
    """
    dF = 1.0 + 0j
    t = 0j
    dz = 0j
    for it in range(maxit):
        F, dF, t, dz = residual(a, w, K, M, logc, v, logy, iy, wy, p0, law, c0, mu, s, h, zmax)
        if not (math.isfinite(F.real) and math.isfinite(F.imag) and dF != 0j):
            return a, dF, t, dz, False, it + 1
        da = -F / dF
        if abs(da) > 1.0:
            da = da / abs(da)
        a = a + da
        if a.imag > 0.0:
            a = complex(a.real, -1e-300)
        elif a.imag < -math.pi:
            a = complex(a.real, -math.pi)
        if abs(da) < NEWTON_TOL * (1.0 + abs(a.real)):
            return a, dF, t, dz, True, it + 1
    return a, dF, t, dz, False, maxit


@njit(cache=True, nogil=True)
def _density1(t, w, eta, atom0, atom_w, atom_m):
    """-Im(lambda G_c(lambda (1 + i eta))) / pi with the atoms removed from G."""
    tc = t - atom0
    if atom_m > 0.0:
        ratio = cmath.exp(atom_w - complex(w, math.atan(eta))) / math.sqrt(1.0 + eta * eta)
        tc -= atom_m / (1.0 - ratio)
    return -(tc / complex(1.0, eta)).imag / math.pi


@njit(cache=True, nogil=True)
def polished(a, w, eta, atom0, atom_w, atom_m, K, M, logc, v, logy, iy, wy, p0, law, c0, mu, s,
             h, zmax):
    """Density per unit log lambda at real ``w``, extrapolated to eta -> 0.

    The density at broadening eta is d(eta) = d0 + eta d'(0) + O(eta^2) (Poisson
    smoothing); d'(eta) follows from implicit differentiation of F(a, w + ln(1 + i eta))
    = 0, so d(eta) - eta d'(eta) removes the O(eta) bias, including the eta-sized
    floor outside the support. Returns (density, a, converged).
    """
    ie = complex(1.0, eta)
    a1, dF, t, dz, ok, _ = newton(a, complex(w + 0.5 * math.log1p(eta * eta), math.atan(eta)), 40,
                                  K, M, logc, v, logy, iy, wy, p0, law, c0, mu, s, h, zmax)
    da = -1j / (ie * dF)  # da/deta
    dt = dz * da
    d1 = _density1(t, w, eta, atom0, atom_w, atom_m)
    dd = -((dt - 1j * (t - atom0) / ie) / ie).imag / math.pi
    return d1 - eta * dd, a1, ok


@njit(cache=True, nogil=True)
def trace(w_top, w_floor, w_mid, dw_max, d_scale, mass_goal, tail_tol, eta_t, eta_f, cap, atom0,
          atom_w,
          atom_m, K, M, logc, v, logy, iy, wy, p0, law, c0, mu, s, h, zmax):
    """Adaptive continuation in log lambda from ``w_top`` (above the support) downwards.

    The path is tracked at the broadening ``eta_t`` (robust against the square-root
    branch points at the support edges) and every accepted point is polished at
    ``eta_f`` (the density reported). Stops when the trapezoid mass reaches
    ``mass_goal``, at ``w_floor`` or after ``cap`` points.

    Returns (n, w[n], a_t[n], dF_t[n], dens[n], status) with status 0 = mass goal
    reached, 1 = floor reached, 2 = cap reached, 3 = step underflow.
    """
    ws = np.empty(cap)
    at = np.empty(cap, dtype=np.complex128)
    dft = np.empty(cap, dtype=np.complex128)
    dens = np.empty(cap)
    lt = math.atan(eta_t)
    lnt = 0.5 * math.log1p(eta_t * eta_t)
    a0 = complex(-w_top, -lt)
    # Newton's steps are capped at 1 and the root lies at most |w_top| away from a0:
    # 200 iterations were too few once w_top passed ~200 (long products, T > 200)
    a, dF, t, _, ok, _ = newton(a0, complex(w_top + lnt, lt), 200 + 2 * int(abs(w_top)), K, M,
                             logc, v, logy, iy, wy, p0, law, c0, mu, s, h, zmax)
    if not ok:  # no starting point: nothing can be traced
        return 1, np.full(1, w_top), np.full(1, a), np.full(1, dF), np.zeros(1), 3
    d0, _, _ = polished(a, w_top, eta_f, atom0, atom_w, atom_m, K, M, logc, v, logy, iy, wy,
                        p0, law, c0, mu, s, h, zmax)
    ws[0] = w_top
    at[0] = a
    dft[0] = dF
    dens[0] = max(d0, 0.0)
    n = 1
    mass = 0.0
    dmax = dens[0]
    step = min(0.05, dw_max)
    status = 2
    while n < cap:
        wc = ws[n - 1]
        if n >= 3 and mass >= 0.5 * mass_goal:
            # remaining tail mass ~ d * (e-folding length), from the last two points
            d1, d2 = dens[n - 2], dens[n - 1]
            if d2 <= 0.0:
                status = 0
                break
            if d2 < d1:
                fold = (ws[n - 2] - ws[n - 1]) / math.log(d1 / d2)
                if d2 * fold < tail_tol and mass >= mass_goal - 1e-3:
                    status = 0
                    break
        if wc <= w_floor:
            status = 1
            break
        lim = max(dw_max, 0.05 * abs(wc - w_mid))
        step = min(step, lim, wc - w_floor) if wc - w_floor > 1e-9 else min(step, lim)
        accepted = False
        while step > 1e-9:
            wn = wc - step
            apred = at[n - 1] + step / dft[n - 1]
            a2, dF2, t2, _, ok2, it2 = newton(apred, complex(wn + lnt, lt), 8, K, M, logc, v, logy,
                                           iy, wy, p0, law, c0, mu, s, h, zmax)
            if ok2:
                dn, _, okf = polished(a2, wn, eta_f, atom0, atom_w, atom_m, K, M, logc, v, logy,
                                      iy, wy, p0, law, c0, mu, s, h, zmax)
                if not okf:
                    dn = _density1(t2, wn, eta_t, atom0, atom_w, atom_m)
                dn = max(dn, 0.0)
                change = abs(dn - dens[n - 1])
                if change <= 0.25 * max(dn, dens[n - 1]) + 0.02 * max(dmax, d_scale) or step < 1e-7:
                    accepted = True
                    break
            step *= 0.5
        if not accepted:
            status = 3
            break
        ws[n] = wn
        at[n] = a2
        dft[n] = dF2
        dens[n] = dn
        mass += 0.5 * (dn + dens[n - 1]) * step
        dmax = max(dmax, dn)
        n += 1
        step *= 1.6 if it2 <= 4 else 1.0
    return n, ws[:n], at[:n], dft[:n], dens[:n], status


@njit(cache=True, nogil=True)
def _point(w, wc, ac, dfc, eta_t, eta_f, atom0, atom_w, atom_m, K, M, logc, v, logy, iy, wy, p0,
           law, c0, mu, s, h, zmax):
    """Density at one point from the nearest traced point above it (see solve_at)."""
    nc = wc.size
    k = 0
    while k + 1 < nc and wc[k + 1] >= w:
        k += 1
    a = ac[k]
    dF = dfc[k]
    wcur = wc[k]
    lt = math.atan(eta_t)
    lnt = 0.5 * math.log1p(eta_t * eta_t)
    ok = True
    while wcur > w and ok:
        step = wcur - w
        while True:
            a2, dF2, _, _, ok, _ = newton(a + step / dF, complex(wcur - step + lnt, lt), 10, K, M,
                                          logc, v, logy, iy, wy, p0, law, c0, mu, s, h, zmax)
            if ok or step < 1e-10:
                break
            step *= 0.5
        a, dF, wcur = a2, dF2, wcur - step
    d, _, okf = polished(a, w, eta_f, atom0, atom_w, atom_m, K, M, logc, v, logy, iy, wy, p0,
                         law, c0, mu, s, h, zmax)
    return d, ok and okf


@njit(cache=True, nogil=True)
def solve_at(wq, wc, ac, dfc, eta_t, eta_f, atom0, atom_w, atom_m, K, M, logc, v, logy, iy, wy,
             p0, law, c0, mu, s, h, zmax):
    """Density (eta -> 0) at the log-lambda points ``wq`` from the traced path (wc descending).

    Each point starts from the nearest traced point above it (predictor along
    da/dw = -1/F'), is solved at ``eta_t`` (halving the step on failure) and then
    polished. Returns (dens, ok) arrays.
    """
    nq = wq.size
    out = np.zeros(nq)
    good = np.zeros(nq, dtype=np.bool_)
    for i in range(nq):
        out[i], good[i] = _point(wq[i], wc, ac, dfc, eta_t, eta_f, atom0, atom_w, atom_m, K, M,
                                 logc, v, logy, iy, wy, p0, law, c0, mu, s, h, zmax)
    return out, good


@njit(cache=True, nogil=True)
def edge(lo, hi, thr, nit, wc, ac, dfc, eta_t, eta_f, atom0, atom_w, atom_m, K, M, logc, v, logy,
         iy, wy, p0, law, c0, mu, s, h, zmax):
    """Bisection for the support edge between ``lo`` (density > thr) and ``hi`` (<= thr)."""
    for _ in range(nit):
        mid = 0.5 * (lo + hi)
        d, _ = _point(mid, wc, ac, dfc, eta_t, eta_f, atom0, atom_w, atom_m, K, M, logc, v, logy,
                      iy, wy, p0, law, c0, mu, s, h, zmax)
        if d > thr:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)
