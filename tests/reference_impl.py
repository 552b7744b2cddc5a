"""Brute-force reference of theory.md sections 3 and 4, written with NumPy + SciPy only.

This module shares no code with :mod:`theory` (it imports nothing from it). It
is deliberately slow and simple:

* 1-D Gaussian expectations: adaptive ``scipy.integrate.quad`` (QUADPACK QAGP,
  Gauss-Kronrod 21, epsrel 1e-12) on the z-line, split where the argument of
  the nonlinearity crosses 0 (the ReLU kink, the centre of the tanh / erf /
  sigmoid transition) and at geometric distances from there.
* 2-D expectations with equal variances: adaptive ``quad`` over z1 of
  f(e^a) times the inner Gaussian smoothing over z2, done by a composite
  Gauss-Legendre rule refined at the transition (:func:`make_smoother`; not
  the trapezoid rule of the fast path, theory.md 10.1).
* fixed points as in theory.md 10.2: iterate the map from the physical start,
  bracket the root the iteration is heading to, ``scipy.optimize.brentq``
  (xtol 1e-15).

Accuracy (measured): the inner rule equals adaptive quad to <= 1e-13
(``test_reference.py::test_reference_inner_rule``); 1-D and 2-D expectations
match the erf / ReLU closed forms of theory.md 3.3 to <= 1e-12
(``test_reference_erf_closed_forms``, ``test_reference_relu_closed_forms``);
fixed points and slopes match the linear / ReLU / erf closed forms to
<= 1e-9 (``test_closed_forms.py::test_closed_form[...-reference]``, the
tolerance asserted there; observed <= 3e-14), and d E_q[tanh^2]/dq matches a
finite difference to ~5e-9 (the difference's own truncation error). So the
reference is >= 1000x tighter than the 1e-6 tolerance it checks. Runtime:
~0.1-1 s per point (most of it in the 2-D solve for c*).

Conventions (they match the contract of ``theory.point``)
---------------------------------------------------------
* q* (vanilla): fixed point of eq. (3.1) reached by iterating from
  q_1 = sigma_v^2 R + sigma_b^2 (h_0 = 0). Q* = E_{q*}[phi^2].
* c* (vanilla): first fixed point of the correlation map (3.2) at q = q*
  reached from c_0 = sigma_b^2 / q* (first inputs independent, so
  q^{ab}_1 = sigma_b^2). The map is increasing, so this is the smallest root
  >= c_0. If Sigma = 1 and chi_1 <= 1 then c* = C* = 1 exactly.
  C* = E[phi(e^a) phi(e^b)] / Q*.
* minimalRNN: Q* is the fixed point of (4.1) reached from Q_0 = 0 (low branch);
  Q^{ab*} the fixed point of (4.2) reached from Q^{ab} = 0; C* = Q^{ab*}/Q*,
  c* = q^{ab*}/q*; Sigma = 1 and chi_J <= 1 gives c* = C* = 1.
* chi_q is the slope of the variance map, chi_c the slope of the covariance
  map q^{ab} -> q^{ab} (Q^{ab} -> Q^{ab}), chi_jac = chi_1 (vanilla) or
  chi_J (eq. 4.3). xi = -1/ln chi, inf for chi >= 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import integrate, optimize, special

Z_MAX = 38.5  #: the N(0,1) density is < 1e-322 beyond, so [-Z_MAX, Z_MAX] is the whole line
EPSREL = 1e-12  #: relative tolerance requested from every quad call
LIMIT = 400  #: QUADPACK subinterval limit
SQRT_2PI = math.sqrt(2.0 * math.pi)
INV_SQRT_2PI = 1.0 / SQRT_2PI
N_GL = 20  #: Gauss-Legendre nodes per panel of the inner rule (:func:`smooth`)
GL_X, GL_W = np.polynomial.legendre.leggauss(N_GL)
X_TOL = 1e-15  #: brentq absolute tolerance on the unknown (its rtol is 1e-15)


# ---------------------------------------------------------------------------
# Scalar nonlinearities (math module; overflow-safe)
# ---------------------------------------------------------------------------
def _tanh_d1(x: float) -> float:
    s = math.exp(-2.0 * abs(x))
    return 4.0 * s / (1.0 + s) ** 2


def _erf_d1(x: float) -> float:
    return 2.0 / math.sqrt(math.pi) * math.exp(-x * x)


def sigmoid(x: float) -> float:
    """Logistic function 1/(1+e^{-x}), accurate in both tails."""
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    ex = math.exp(x)
    return ex / (1.0 + ex)


#: phi, phi', phi'' for the vanilla nonlinearities (theory.md 1.1). The ReLU
#: phi'' is the delta function; it never enters (phi * phi'' = 0 at the kink).
PHI = {
    "tanh": (math.tanh, _tanh_d1, lambda x: -2.0 * math.tanh(x) * _tanh_d1(x)),
    "erf": (math.erf, _erf_d1, lambda x: -2.0 * x * _erf_d1(x)),
    "relu": (lambda x: x if x > 0.0 else 0.0, lambda x: 1.0 if x > 0.0 else 0.0, lambda x: 0.0),
    "linear": (lambda x: x, lambda x: 1.0, lambda x: 0.0),
}


def _tanh_d1_vec(x):
    s = np.exp(-2.0 * np.abs(x))
    return 4.0 * s / (1.0 + s) ** 2


#: NumPy-vectorised phi and phi' (the inner smoothing of :func:`expect2` uses them).
PHI_VEC = {
    "tanh": (np.tanh, _tanh_d1_vec),
    "erf": (special.erf, lambda x: 2.0 / math.sqrt(math.pi) * np.exp(-x * x)),
    "relu": (lambda x: np.maximum(x, 0.0), lambda x: (x > 0.0).astype(float)),
    "linear": (lambda x: x, np.ones_like),
}


# ---------------------------------------------------------------------------
# Gaussian expectations
# ---------------------------------------------------------------------------
def _quad_z(h, half: float, breaks, epsabs: float) -> float:
    """Integral of h(z) N(z; 0, 1) over [-half, half] by QUADPACK QAGP split at ``breaks``.

    Raises RuntimeError when QUADPACK reports a problem (ier != 0) and its error
    estimate exceeds 100x the requested tolerance.
    """
    pts = sorted({0.0, *(b for b in breaks if -half < b < half)})
    val, err, info, *msg = integrate.quad(
        lambda z: h(z) * math.exp(-0.5 * z * z),
        -half,
        half,
        points=pts,
        epsabs=epsabs * SQRT_2PI,
        epsrel=EPSREL,
        limit=LIMIT,
        full_output=1,
    )
    if msg and err > 100.0 * max(epsabs * SQRT_2PI, EPSREL * abs(val)):
        raise RuntimeError(f"quad failed: value {val!r}, error {err!r}: {msg[0]}")
    return val * INV_SQRT_2PI


def _half_width(s: float) -> float:
    """Integration half-range in z for E[f(m + s z)].

    f is bounded, or decays like e^{-k|x|} (k <= 2) on one side, so the
    integrand f(m + s z) e^{-z^2/2} peaks within |z| <= 2s and is < e^{-50}
    of its peak beyond 2s + 10.
    """
    return min(Z_MAX, 2.0 * s + 10.0)


def _breaks(centre: float, width: float) -> list[float]:
    """Breakpoints at a transition ``centre`` of width ``width`` (z units):
    centre and centre +- width * 4^k, k = 0, 1, ..., up to 4 * Z_MAX away, so
    that QAGP starts with panels that resolve a narrow bump or step at centre
    and its decay (a single breakpoint pair at 3 widths let QAGP miss a
    1e-9 tail of a narrow Gaussian)."""
    out = [centre]
    d = width
    while d < 4.0 * Z_MAX:
        out += [centre - d, centre + d]
        d *= 4.0
    return out


def expect1(f, mu: float, q: float, epsabs: float = 0.0) -> float:
    """E[f(mu + sqrt(q) z)], z ~ N(0, 1) (theory.md section 2), adaptive quad.

    ``f`` is a scalar function. The transition of every nonlinearity used here
    sits at argument 0 with width ~1, i.e. at z = -mu/sqrt(q) with width
    1/sqrt(q); it is given to QAGP as breakpoints (so is the ReLU kink).
    """
    if q <= 0.0:
        return f(mu)
    s = math.sqrt(q)
    return _quad_z(lambda z: f(mu + s * z), _half_width(s), _breaks(-mu / s, 1.0 / s), epsabs)


def _gl_nodes(edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Composite Gauss-Legendre nodes and weights on the panels ``edges``."""
    mid, half = 0.5 * (edges[1:] + edges[:-1]), 0.5 * (edges[1:] - edges[:-1])
    return (mid[:, None] + half[:, None] * GL_X).ravel(), (half[:, None] * GL_W).ravel()


def make_smoother(g_vec, s: float):
    """Return m -> E[g(m + s z)], z ~ N(0, 1), by composite Gauss-Legendre (N_GL per panel).

    Panels: unit width on [-L, L] (L = :func:`_half_width`); when the transition
    of g (argument 0, at z = -m/s, width 1/s) is in range and sharp (s > 1/4),
    unit panels aligned on it, refined geometrically next to it (widths 0.25/s,
    0.5/s, ... < 1). The integrands (tanh, erf, sigmoid and derivatives, times
    the Gaussian) are analytic in a strip of half-width >= pi/(2s) about the
    transition, where panels are 0.25/s wide, so each panel converges
    geometrically; the ReLU kink is a panel edge. Checked against adaptive quad
    in ``test_reference.py::test_reference_inner_rule``.
    """
    if s <= 0.0:
        return lambda m: float(g_vec(np.array([m]))[0])
    L = _half_width(s)
    n = int(math.ceil(2.0 * L))
    z_plain, w_plain = _gl_nodes(np.linspace(-L, L, n + 1))
    w_plain = w_plain * np.exp(-0.5 * z_plain**2) * INV_SQRT_2PI
    fine = 0.25 / s * 2.0 ** np.arange(0, 60)
    fine = fine[fine < 1.0]
    side = np.concatenate((fine, np.arange(1.0, n + 2.0)))
    z_rel, w_rel = _gl_nodes(np.concatenate((-side[::-1], [0.0], side)))

    def smoother(m: float) -> float:
        centre = -m / s
        if abs(centre) > L + 1.0:
            return float(np.dot(w_plain, g_vec(m + s * z_plain)))
        i, j = np.searchsorted(z_rel, (-L - centre, L - centre))
        z = centre + z_rel[i:j]
        return float(np.dot(w_rel[i:j] * np.exp(-0.5 * z * z), g_vec(m + s * z))) * INV_SQRT_2PI

    return smoother


def expect2(
    f, g_vec, mu: float, q: float, c: float, epsabs: float = 0.0, kink: bool = False
) -> float:
    """E[f(e^a) g(e^b)] for means mu, equal variances q and correlation c in [0, 1].

    Written as e^a = mu + sqrt(q) z1, e^b = mu + sqrt(q) (c z1 + sqrt(1-c^2) z2):
    an adaptive outer quad over z1 of f(e^a) (scalar ``f``) times the inner
    Gaussian smoothing (:func:`make_smoother` of ``g_vec``) at
    m = mu + sqrt(q) c z1, s^2 = q (1 - c^2). c = 1 is the 1-D expectation.
    The smoothed inner function changes over a width ~max(1, s) in m, or ~s if
    g has a kink (``kink=True``, ReLU); the outer breakpoints start there.
    """
    s_q = math.sqrt(q)
    if c >= 1.0:
        return expect1(lambda x: f(x) * float(g_vec(np.array([x]))[0]), mu, q, epsabs)
    s_in = math.sqrt(q * (1.0 - c * c))
    inner = make_smoother(g_vec, s_in)

    def outer(z1: float) -> float:
        fa = f(mu + s_q * z1)
        return 0.0 if fa == 0.0 else fa * inner(mu + s_q * c * z1)

    brk = _breaks(-mu / s_q, 1.0 / s_q)
    if c * s_q > 1e-12:  # where the inner mean crosses 0
        width = max(s_in if kink else math.sqrt(1.0 + s_in * s_in), 1e-12)
        brk += _breaks(-mu / (s_q * c), width / (s_q * c))
    return _quad_z(outer, _half_width(s_q), brk, epsabs)


# ---------------------------------------------------------------------------
# Fixed points
# ---------------------------------------------------------------------------
def _bracket_and_solve(g, x: float, gx: float, step: float, hi: float):
    """Walk from x (g(x) != 0) in the direction of sign(g) with doubling steps
    until g changes sign, then brentq. Returns the root or None if ``hi`` is
    reached without a sign change (upward walks only need ``hi``)."""
    direction = 1.0 if gx > 0.0 else -1.0
    step = max(step, 1e-14 * max(abs(x), 1e-300))
    while True:
        y = x + direction * step
        if direction > 0 and y >= hi:
            y = hi
        gy = g(y)
        if gy == 0.0:
            return y
        if (gy > 0.0) != (gx > 0.0):
            return _brent(g, x, y)
        if y == hi:
            return None
        x, gx, step = y, gy, 2.0 * step


def _brent(g, a: float, b: float) -> float:
    lo, hi = (a, b) if a < b else (b, a)
    return optimize.brentq(g, lo, hi, xtol=X_TOL, rtol=1e-15, maxiter=500)


def _try_quadratic(g, hist, hi: float):
    """Try to bracket the root ahead of the last iterate from the quadratic
    through three iterates spread over the recent history (consecutive ones
    are too close for a well-conditioned fit): probe y = x + 2 (r1 - x), but
    not past the midpoint of its two roots (so a nearby pair of roots, as next
    to a saddle-node, is never jumped over). Returns the root or None."""
    m = max(1, (len(hist) - 1) // 4)
    (x0, g0), (x1, g1), (x, gx) = hist[-1 - 2 * m], hist[-1 - m], hist[-1]
    a, b, c = np.polyfit([x0 - x, x1 - x, 0.0], [g0, g1, gx], 2)
    roots = np.roots([a, b, c]) if abs(a) > 0.0 else np.array([-c / b])
    ahead = sorted(r.real for r in roots if abs(r.imag) == 0.0 and r.real * gx > 0.0)
    if not ahead:
        return None
    step = 2.0 * ahead[0]
    if len(ahead) > 1:
        step = min(step, 0.5 * (ahead[0] + ahead[1]), key=abs)
    y = min(x + step, hi)
    gy = g(y)
    return _brent(g, x, y) if gy * gx <= 0.0 else None


def solve_from(g, x0: float, hi: float, n_iter: int, x_tol_rel: float = 1e-11):
    """Fixed point of x -> x + g(x) reached from x0 (theory.md 10.2).

    Iterates the map (at most ``n_iter`` steps; slow near chi = 1 or a
    saddle-node). Every 5 steps a quadratic model of the last three iterates
    proposes a bracket of the root ahead (:func:`_try_quadratic`). Once the
    iterates accelerate (g increasing: divergence or past a saddle-node
    bottleneck) or the step is below ``x_tol_rel``, walk ahead with doubling
    steps to a sign change (:func:`_bracket_and_solve`). brentq polishes.
    Returns None when no root lies ahead below ``hi`` (divergence).
    """
    x, gx = x0, g(x0)
    hist = [(x, gx)]
    for k in range(n_iter):
        if gx == 0.0:
            return x
        if abs(gx) <= x_tol_rel * abs(x) or x + gx >= hi:
            break
        if k >= 2 and abs(hist[-1][1]) >= abs(hist[-2][1]) and gx > 0.0:
            break  # not contracting
        if k >= 2 and k % 5 == 2:
            r = _try_quadratic(g, hist, hi)
            if r is not None:
                return r
        x = x + gx
        gx = g(x)
        hist.append((x, gx))
    if gx == 0.0:
        return x
    return _bracket_and_solve(g, x, gx, 2.0 * abs(gx), hi)


def xi_of(chi: float) -> float:
    """xi = -1/ln chi for 0 < chi < 1, inf for chi >= 1 (theory.md 3.3, 10.3)."""
    if chi >= 1.0:
        return math.inf
    return -1.0 / math.log(chi) if chi > 0.0 else 0.0


@dataclass(frozen=True)
class RefPoint:
    """Reference fixed points and slopes; ``exists`` False means no finite q*."""

    q_star: float
    Q_star: float
    c_star: float
    C_star: float
    chi_q: float
    chi_c: float
    chi_jac: float
    exists: bool = True

    def xi(self, name: str) -> float:
        """xi_q / xi_c / xi_jac from the matching chi."""
        return xi_of(getattr(self, "chi_" + name))


NAN_POINT = RefPoint(*(math.nan,) * 7, exists=False)


# ---------------------------------------------------------------------------
# Vanilla RNN (theory.md section 3)
# ---------------------------------------------------------------------------
Q_DIVERGE = 1e12  #: a variance iterate above this means "no finite fixed point"


def _vanilla_epsabs(phi: str, q: float) -> float:
    """Absolute quad tolerance: 1e-15 of the size of phi^2 (tanh/erf are bounded by 1)."""
    return 1e-15 * (1.0 if phi in ("tanh", "erf") else 1.0 + q)


def vanilla_q_star(phi: str, sigma_w, sigma_b, sigma_v, mu_b, R):
    """q* of eq. (3.1) reached from q_1 = sigma_v^2 R + sigma_b^2; None if it diverges."""
    f = PHI[phi][0]
    q1 = sigma_v**2 * R + sigma_b**2

    def g(q):
        return sigma_w**2 * expect1(lambda x: f(x) ** 2, mu_b, q, _vanilla_epsabs(phi, q)) + q1 - q

    return solve_from(g, q1, Q_DIVERGE, n_iter=5000)


def vanilla_c_star(phi, sigma_w, sigma_b, sigma_v, mu_b, R, Sigma, q, chi_1):
    """c* of the correlation map (eq. 3.2 divided by q*) reached from c_0 = sigma_b^2/q*."""
    identical = Sigma == 1.0 or sigma_v**2 * R == 0.0
    if identical and chi_1 <= 1.0:
        return 1.0
    f = PHI[phi][0]
    eps = _vanilla_epsabs(phi, q)
    cross = sigma_v**2 * R * Sigma + sigma_b**2

    def g(c):
        return (
            sigma_w**2 * expect2(f, PHI_VEC[phi][0], mu_b, q, c, eps, phi == "relu") + cross
        ) / q - c

    c = solve_from(g, sigma_b**2 / q, 1.0 - 1e-9 if identical else 1.0, n_iter=0)
    return 1.0 if c is None else c


def vanilla_point(phi="tanh", sigma_w=1.2, sigma_b=0.2, sigma_v=0.5, mu_b=0.0, R=1.0, Sigma=0.0):
    """Reference q*, Q*, c*, C*, chi_q, chi_c, chi_1 of the vanilla RNN (theory.md 3.2-3.3)."""
    f, d1, d2 = PHI[phi]
    sw2 = sigma_w**2
    q = vanilla_q_star(phi, sigma_w, sigma_b, sigma_v, mu_b, R)
    if q is None:
        return NAN_POINT
    eps = _vanilla_epsabs(phi, q)
    Q = expect1(lambda x: f(x) ** 2, mu_b, q, eps)
    # chi_q = sigma_w^2 dE_q[phi^2]/dq = sigma_w^2 E[phi'^2 + phi phi''] (Price / heat equation)
    chi_q = sw2 * expect1(lambda x: d1(x) ** 2 + f(x) * d2(x), mu_b, q, eps)
    chi_1 = sw2 * expect1(lambda x: d1(x) ** 2, mu_b, q, eps)
    c = vanilla_c_star(phi, sigma_w, sigma_b, sigma_v, mu_b, R, Sigma, q, chi_1)
    if c == 1.0:
        return RefPoint(q, Q, 1.0, 1.0, chi_q, chi_1, chi_1)
    Qab = expect2(f, PHI_VEC[phi][0], mu_b, q, c, eps, phi == "relu")
    chi_c = sw2 * expect2(d1, PHI_VEC[phi][1], mu_b, q, c, eps, phi == "relu")
    return RefPoint(q, Q, c, Qab / Q, chi_q, chi_c, chi_1)


def vanilla_trajectory(phi, sigma_w, sigma_b, sigma_v, mu_b, R, Sigma, T):
    """Lists q, Q, c, C for t = 0..T from h_0 = 0 (eqs. 3.1-3.2; Sigma_1 = 0, Sigma_t = Sigma)."""
    f = PHI[phi][0]
    sw2, vR, b2 = sigma_w**2, sigma_v**2 * R, sigma_b**2
    out = {"q": [math.nan], "Q": [0.0], "c": [math.nan], "C": [1.0]}
    Q = Qab = 0.0
    for t in range(1, T + 1):
        q = sw2 * Q + vR + b2
        c = (sw2 * Qab + vR * (Sigma if t > 1 else 0.0) + b2) / q
        eps = _vanilla_epsabs(phi, q)
        Q = expect1(lambda x: f(x) ** 2, mu_b, q, eps)
        Qab = expect2(f, PHI_VEC[phi][0], mu_b, q, c, eps, phi == "relu")
        for k, v in zip("qQcC", (q, Q, c, Qab / Q), strict=True):
            out[k].append(v)
    return out


# ---------------------------------------------------------------------------
# minimalRNN (theory.md section 4), gate u = sigmoid(e), v = 1 - u = sigmoid(-e)
# ---------------------------------------------------------------------------
def _u(x):
    return sigmoid(x)


def _v(x):
    return sigmoid(-x)


def _du(x):
    return sigmoid(x) * sigmoid(-x)


def _u_vec(x):
    return special.expit(x)


def _v_vec(x):
    return special.expit(-x)


def _du_vec(x):
    return special.expit(x) * special.expit(-x)


def minimal_Q_star(sigma_w, sigma_b, sigma_v, mu_b, R):
    """Q* of eq. (4.1) on the branch reached from Q_0 = 0.

    The residual is written as E[(1-u)^2] R - E[(1-u)(1+u)] Q (no cancellation
    in 1 - E[u^2] at large mu_b). Q* lies in (0, R): g(0) > 0 > g(R).
    """
    sw2, inp = sigma_w**2, sigma_v**2 * R + sigma_b**2

    def g(Q):
        q = sw2 * Q + inp
        B = expect1(lambda x: _v(x) ** 2, mu_b, q)
        A_bar = expect1(lambda x: _v(x) * (1.0 + _u(x)), mu_b, q)
        return B * R - A_bar * Q

    return solve_from(g, 0.0, R, n_iter=20000)


def minimal_X_star(sigma_w, sigma_b, sigma_v, mu_b, R, Sigma, q, Q, chi_J):
    """Q^{ab*} of eq. (4.2) at q = q*, reached from Q^{ab} = 0 (first inputs independent)."""
    identical = Sigma == 1.0 or sigma_v**2 * R == 0.0
    if identical and chi_J <= 1.0:
        return Q
    sw2, cross, RS = sigma_w**2, sigma_v**2 * R * Sigma + sigma_b**2, R * Sigma
    Ev = expect1(_v, mu_b, q)

    def g(X):
        # G(X) - X = R Sigma E[v^a v^b] - X (E[v] + E[u^a v^b]) in one outer quad
        c = (sw2 * X + cross) / q
        t = expect2(lambda x: RS * _v(x) - X * _u(x), _v_vec, mu_b, q, c, 1e-14 * X * Ev)
        return t - X * Ev

    X = solve_from(g, 0.0, Q * (1.0 - 1e-9) if identical else Q, n_iter=0)
    return Q if X is None else X


def minimal_point(sigma_w=2.0, sigma_b=0.0, sigma_v=1.0, mu_b=2.0, R=1.0, Sigma=0.0):
    """Reference Q*, q*, C*, c*, chi_q, chi_c, chi_J of the minimalRNN (theory.md 4.1-4.2)."""
    sw2 = sigma_w**2
    Q = minimal_Q_star(sigma_w, sigma_b, sigma_v, mu_b, R)
    q = sw2 * Q + sigma_v**2 * R + sigma_b**2
    A = expect1(lambda x: _u(x) ** 2, mu_b, q)
    D = expect1(lambda x: _du(x) ** 2, mu_b, q)
    # dE[u^2]/dq = E[u'^2 + u u''] = E[u' u (2 - 3u)]; dE[(1-u)^2]/dq = E[u' (1-u) (3u - 1)]
    dA = expect1(lambda x: _du(x) * _u(x) * (2.0 - 3.0 * _u(x)), mu_b, q, 1e-20)
    dB = expect1(lambda x: _du(x) * _v(x) * (3.0 * _u(x) - 1.0), mu_b, q, 1e-20)
    chi_q = A + sw2 * (dA * Q + dB * R)
    chi_J = A + sw2 * D * (Q + R)  # eq. (4.3)
    X = minimal_X_star(sigma_w, sigma_b, sigma_v, mu_b, R, Sigma, q, Q, chi_J)
    if X == Q:
        return RefPoint(q, Q, 1.0, 1.0, chi_q, chi_J, chi_J)
    qab = sw2 * X + sigma_v**2 * R * Sigma + sigma_b**2
    c = qab / q
    chi_c = expect2(_u, _u_vec, mu_b, q, c) + sw2 * expect2(_du, _du_vec, mu_b, q, c) * (
        X + R * Sigma
    )
    return RefPoint(q, Q, c, X / Q, chi_q, chi_c, chi_J)


def minimal_trajectory(sigma_w, sigma_b, sigma_v, mu_b, R, Sigma, T):
    """Lists q, Q, c, C for t = 0..T from h_0 = 0 (eqs. 4.1-4.2; Sigma_1 = 0, Sigma_t = Sigma)."""
    sw2, vR, b2 = sigma_w**2, sigma_v**2 * R, sigma_b**2
    out = {"q": [math.nan], "Q": [0.0], "c": [math.nan], "C": [1.0]}
    Q = X = 0.0
    for t in range(1, T + 1):
        S = Sigma if t > 1 else 0.0
        q = sw2 * Q + vR + b2
        c = (sw2 * X + vR * S + b2) / q
        Q = expect1(lambda x: _u(x) ** 2, mu_b, q) * Q + expect1(lambda x: _v(x) ** 2, mu_b, q) * R
        X = expect2(_u, _u_vec, mu_b, q, c) * X + expect2(_v, _v_vec, mu_b, q, c) * R * S
        for k, v in zip("qQcC", (q, Q, c, X / Q), strict=True):
            out[k].append(v)
    return out


# ---------------------------------------------------------------------------
# Closed forms of theory.md 3.3 (mu_b = 0), equal variances q, covariance q c
# ---------------------------------------------------------------------------
def erf_pp(q: float, c: float) -> float:
    """E[erf(e^a) erf(e^b)] = (2/pi) arcsin(2 q c / (1 + 2 q))."""
    return 2.0 / math.pi * math.asin(2.0 * q * c / (1.0 + 2.0 * q))


def erf_dd(q: float, c: float) -> float:
    """E[erf'(e^a) erf'(e^b)] = (4/pi) [(1 + 2q)^2 - 4 q^2 c^2]^(-1/2)."""
    return 4.0 / math.pi / math.sqrt((1.0 + 2.0 * q) ** 2 - 4.0 * q * q * c * c)


def erf_dq_pp(q: float) -> float:
    """d/dq E_q[erf^2] = (4/pi) / ((1 + 2q) sqrt(1 + 4q)) (derivative of the arcsin form)."""
    return 4.0 / math.pi / ((1.0 + 2.0 * q) * math.sqrt(1.0 + 4.0 * q))


def relu_pp(q: float, c: float) -> float:
    """E[relu(e^a) relu(e^b)] = q/(2 pi) (sin t + (pi - t) cos t), t = arccos c."""
    t = math.acos(min(1.0, max(-1.0, c)))
    return q / (2.0 * math.pi) * (math.sin(t) + (math.pi - t) * c)


def relu_dd(c: float) -> float:
    """E[relu'(e^a) relu'(e^b)] = (pi - arccos c) / (2 pi)."""
    return (math.pi - math.acos(min(1.0, max(-1.0, c)))) / (2.0 * math.pi)
