"""The vanilla RNN h_t = phi(W h_{t-1} + V x_t + b) (theory.md 1.1, 3, 5.3, 6.2).

Everything specific to this cell lives here, next to its equation numbers:

* the variance map (3.1) and the covariance map (3.2) with their slopes chi_q,
  chi_c and chi_1 = sigma_w^2 E[phi'^2] (3.3): residuals for the direct quadrature
  (``theory.point``) and for the tables (grids);
* the fixed points reached from h_0 = 0 (3.2, 10.2): ``point_kernel``, the grid
  kernel and the trajectory kernel;
* the critical line parametrised by q* (6.2): :func:`critical_init_vanilla`;
* the one-step Jacobian J = D W, D = diag(phi'(e)) (5.1), for the sampler and the
  simulator, and the law of its factor y = sigma_w^2 phi'(e)^2 for the spectrum (5.3).

The generic machinery it stands on (Gaussian expectations ``_gauss``, tables
``_tables`` / ``_cross_tables`` / ``_smooth``, the Newton step ``_solve``, the grid
helpers ``_grid``) knows nothing of this cell. Kernels return rows laid out as
``_solve.OUT_NAMES``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from theory._cross_tables import NO_CROSS_TABLE, point_state, set_mu, set_q
from theory._gauss import (
    ERF,
    GL_W,
    GL_X,
    H_SCALE,
    LINEAR,
    PHI_CODES,
    RELU,
    TANH,
    phi_moments,
)
from theory._grid import extrapolate, push
from theory._smooth import NO_TABLE, phi_cross_fast
from theory._smooth_cache import cross_table, moment_stack, smoothing_table
from theory._solve import (
    C_DIRECT,
    C_TOL,
    MAXIT,
    N_OUT,
    Q_UNBOUNDED,
    XTOL,
    cross_moments,
    newton_step,
    table_state,
)
from theory._tables import MU_TAB_MAX, NO_STACK, lookup, table_rows_at_mu
from theory.cells import Cell
from theory.types import PHIS, Params, check_choice, check_number, check_positive

# --- maps and slopes (theory.md 3.1-3.3) -----------------------------------------------


@njit(cache=True, nogil=True, inline="always")
def units_driven(sw2, v, mu):
    """False when nothing drives the units (sigma_w = 0, or no input variance and mu = 0).

    For a bounded phi (tanh, erf: phi^2 < 1, phi = 0 only at 0) the variance map's
    residual is then f(v) = sw2 E[phi^2] > 0 and f(sw2 + v) = sw2 (E[phi^2] - 1) < 0,
    so [v, sw2 + v] brackets q* without evaluating f; otherwise q* = v.
    """
    return sw2 > 0.0 and (v > 0.0 or mu != 0.0)


@njit(cache=True, nogil=True)
def _q_residual(code, sw2, v, mu, q):
    """q-map residual of eq. (3.1), chi_q - 1 (3.3), E[phi^2], E[phi'^2] at q."""
    m0, m1, m2 = phi_moments(code, mu, q)
    return sw2 * m0 + v - q, sw2 * m2 - 1.0, m0, m1


@njit(cache=True, nogil=True)
def _c_residual(code, sw2, const, mu, qs, x, gl_x, gl_w, hscale, stab):
    """Covariance-map residual of eq. (3.2) at q^ab = x, chi_c - 1, E[phi phi], E[phi' phi']."""
    c = min(max(x / qs, -1.0), 1.0)
    e_ff, e_dd = phi_cross_fast(code, mu, qs, c, gl_x, gl_w, hscale, stab)
    return sw2 * e_ff + const - x, sw2 * e_dd - 1.0, e_ff, e_dd


@njit(cache=True, nogil=True, inline="always")
def _q_residual_tab(code, tab, sw2, v, mu, x, m):
    """``_q_residual`` with the moments read from the 1-D table ``tab`` into ``m``."""
    lookup(tab, code, mu, x, m)
    return sw2 * m[0] + v - x, sw2 * m[2] - 1.0


@njit(cache=True, nogil=True, inline="always")
def _c_residual_tab(code, sw2, const, mu, qs, x, gl_x, gl_w, stab, ts):
    """``_c_residual`` with the cross moments from the 3-D tables (into ts[5])."""
    cross_moments(code, mu, qs, min(max(x / qs, -1.0), 1.0), gl_x, gl_w, stab, ts)
    e = ts[5]
    return sw2 * e[0] + const - x, sw2 * e[1] - 1.0


# --- fixed points by the direct rule (theory.point) -------------------------------------


@njit(cache=True, nogil=True)
def _polish(kind, p, lo, f_lo, hi, gl_x, gl_w, x0, hscale, stab, aux):
    """Root of the q-map (kind 0) or covariance map (kind 1) in [lo, hi], f(lo) >= 0 > f(hi).

    ``p`` packs (code, sw2, v or const, mu, qs); ``x0`` an optional first guess inside
    the bracket. Returns (root, converged, evaluations). ``aux`` (length 3) receives
    the slope minus 1 and the two expectations of the last evaluation, made within a
    relative step XTOL of the root: the callers take chi from it.
    """
    x = x0 if lo < x0 < hi else lo
    scale = abs(hi)
    f = f_lo
    df = -1.0
    n = 0
    for n in range(1, MAXIT + 1):
        if kind == 0:
            f, df, aux[1], aux[2] = _q_residual(int(p[0]), p[1], p[2], p[3], x)
        else:
            f, df, aux[1], aux[2] = _c_residual(int(p[0]), p[1], p[2], p[3], p[4], x,
                                                gl_x, gl_w, hscale, stab)
        aux[0] = df
        if f == 0.0:
            return x, True, n
        x_new, lo, hi = newton_step(x, f, df, lo, hi)
        # absolute floor: a root at exactly 0 (c* = 0 without shared input) is only approached
        if abs(x_new - x) <= XTOL * max(abs(x_new), 1e-6 * scale) or hi - lo <= XTOL * abs(hi):
            return x_new, True, n
        x = x_new
    return x, False, n


@njit(cache=True, nogil=True)
def point_kernel(code, sigma_w, sigma_b, sigma_v, mu, R, Sigma, gl_x, gl_w, stab, ct, mstack):
    """Fixed points and slopes (theory.md 3.1-3.3) as an ``OUT_NAMES`` row.

    ``stab`` (a smoothing table of ``_smooth`` or ``NO_TABLE``): the correlation
    expectations use its 1-D outer rule (<= 2e-8 relative to the direct 2-D rule),
    else the direct rule. ``ct`` (a cross table or ``NO_CROSS_TABLE``) gives the
    correlation solve a first guess accurate to ~1e-7, so one or two steps of the
    accurate rule finish it; ``mstack`` (a moment stack of ``_tables`` or
    ``NO_STACK``) does the same for the variance solve.
    """
    out = np.full(N_OUT, np.nan)
    sw2 = sigma_w * sigma_w
    v = sigma_v * sigma_v * R + sigma_b * sigma_b
    p = np.array([float(code), sw2, v, mu, 0.0, 0.0])
    aux = np.zeros(3)
    lo = v
    bounded = code != RELU and code != LINEAR
    if bounded:  # the bracket needs no evaluation (``units_driven``)
        hi = sw2 + v
        f_lo = 1.0 if units_driven(sw2, v, mu) else 0.0
        f_hi = -1.0
    else:
        f_lo = _q_residual(code, sw2, v, mu, lo)[0]
        hi = 2.0 * lo + 1.0
        f_hi = _q_residual(code, sw2, v, mu, hi)[0]
    while f_hi >= 0.0 and not bounded and hi < Q_UNBOUNDED:
        lo, f_lo = hi, f_hi
        hi *= 4.0
        f_hi = _q_residual(code, sw2, v, mu, hi)[0]
    if f_hi > 0.0:
        out[7] = 0.0
        out[8] = 0.0
        out[9] = 0.0
        return out
    if f_lo <= 0.0:
        qs, conv, it = lo, True, 1
        _, aux[0], aux[1], aux[2] = _q_residual(code, sw2, v, mu, qs)
    else:
        x0 = -1.0
        if bounded and mstack.shape[0] > 0 and abs(mu) <= MU_TAB_MAX:  # guess from the tables
            tab = table_rows_at_mu(mstack, mu, lo, hi)
            x0, _ = _q_solve_tab(code, tab, sw2, v, mu, lo, hi, 0.5 * (lo + hi), np.zeros(6))
        qs, conv, it = _polish(0, p, lo, f_lo, hi, gl_x, gl_w, x0, H_SCALE, NO_TABLE, aux)
    m0, m1 = aux[1], aux[2]
    out[0] = qs
    out[1] = m0
    out[4] = aux[0] + 1.0
    out[6] = sw2 * m1
    out[7] = 1.0
    out[8] = 1.0 if conv else 0.0
    out[11] = 0.0
    out[12] = 1.0
    const = sigma_v * sigma_v * R * Sigma + sigma_b * sigma_b
    x0 = -1.0
    if ct.shape[0] > 0 and bounded:  # first guess from the tables
        x0, _, _ = _c_solve_tab(code, sw2, const, mu, qs, v - const <= 0.0, out[6], -1.0,
                                gl_x, gl_w, stab, point_state(ct, code, mu, qs))
    xs, cconv, cit = _c_solve(code, sw2, const, mu, qs, v - const, out[6], gl_x, gl_w, x0,
                              H_SCALE, stab, aux)
    out[2] = xs / qs if qs > 0.0 else 1.0
    if cit > 0:  # aux: the last evaluation, within XTOL of xs
        e_ff, e_dd = aux[1], aux[2]
    else:  # c* = 1: the cross moments are the 1-D ones (chi_c = chi_1 exactly)
        e_ff, e_dd = m0, m1
    out[3] = e_ff / m0 if m0 > 0.0 else 1.0
    out[5] = sw2 * e_dd
    out[9] = 1.0 if cconv else 0.0
    out[10] = it + cit
    return out


@njit(cache=True, nogil=True)
def _c_solve(code, sw2, const, mu, qs, input_diff, chi1, gl_x, gl_w, x0, hscale, stab, aux):
    """Stable fixed point x = q^{ab*} of eq. (3.2) reached from c = 0 (direct rule).

    Returns (x, converged, evaluations); when evaluations > 0, ``aux`` holds the
    last evaluation (``_polish``), made at x.
    """
    if qs <= 0.0:
        return qs, True, 0
    if input_diff <= 0.0 and chi1 <= 1.0:
        return qs, True, 0  # identical inputs, ordered: c* = 1 exactly (10.2)
    p = np.array([float(code), sw2, const, mu, qs, 0.0])
    hi = qs
    if input_diff <= 0.0:
        found = False
        for k in range(3, 13, 2):
            hi = qs * (1.0 - 10.0 ** (-k))
            f_hi = _c_residual(code, sw2, const, mu, qs, hi, gl_x, gl_w, hscale, stab)[0]
            if f_hi < 0.0:
                found = True
                break
        if not found:
            return qs, True, 0  # chi1 within rounding of 1: c* = 1
    if not 0.0 < x0 < hi:
        f_lo, aux[0], aux[1], aux[2] = _c_residual(code, sw2, const, mu, qs, 0.0, gl_x,
                                                   gl_w, hscale, stab)
        if f_lo <= 0.0:
            return 0.0, True, 1
    return _polish(1, p, 0.0, 1.0, hi, gl_x, gl_w, x0, hscale, stab, aux)


@njit(cache=True, nogil=True)
def trajectory_kernel(code, sigma_w, sigma_b, sigma_v, mu, R, Sigma, T, gl_x, gl_w, stab):
    """q_t, Q_t, c_t, C_t for t = 0..T from h_0 = 0 (eqs. 3.1-3.2); rows of a (4, T+1) array.

    ``stab``: the smoothing table for the 2-D expectations (as in ``point_kernel``).
    """
    out = np.full((4, T + 1), np.nan)
    sw2 = sigma_w * sigma_w
    v = sigma_v * sigma_v * R + sigma_b * sigma_b
    Q = 0.0
    Qab = 0.0
    out[1, 0] = 0.0
    out[3, 0] = 1.0
    for t in range(1, T + 1):
        sig = 0.0 if t == 1 else Sigma
        q = sw2 * Q + v
        qab = sw2 * Qab + sigma_v * sigma_v * R * sig + sigma_b * sigma_b
        c = min(qab / q, 1.0) if q > 0.0 else 1.0
        m0, _, _ = phi_moments(code, mu, q)
        # within 1e-5 of c = 1 the rule's ~1e-9 absolute error would show in 1 - C_t
        e_ff, _ = phi_cross_fast(code, mu, q, c, gl_x, gl_w, H_SCALE,
                                 stab if c < C_DIRECT else NO_TABLE)
        same = Q == m0 and Qab == e_ff  # the map left (Q, Qab) unchanged, bit for bit
        Q = m0
        Qab = e_ff
        out[0, t] = q
        out[1, t] = Q
        out[2, t] = c
        out[3, t] = Qab / Q if Q > 0.0 else 1.0
        if same and t >= 2:  # a fixed point in floating point: every later row is this one
            for k in range(4):
                out[k, t + 1:] = out[k, t]
            break
    return out


# --- fixed points from the tables (grids; first guesses of theory.point) -----------------


@njit(cache=True, nogil=True, inline="always")
def _q_solve_tab(code, tab, sw2, v, mu, lo, hi, guess, m):
    """Safeguarded Newton for q* in [lo, hi] (f(lo) > 0 >= f(hi)) on the tables.

    Stops at a relative step of ``C_TOL`` (the root is then far more accurate than
    the tables' ~1e-7). On return ``m`` holds the moments at the last evaluated q.
    """
    x = guess if lo < guess < hi else 0.5 * (lo + hi)
    for _ in range(MAXIT):
        f, df = _q_residual_tab(code, tab, sw2, v, mu, x, m)
        if f == 0.0:
            return x, True
        x_new, lo, hi = newton_step(x, f, df, lo, hi)
        if abs(x_new - x) <= C_TOL * abs(x_new) or hi - lo <= 1e3 * XTOL * abs(hi):
            return x_new, True
        x = x_new
    return x, False


@njit(cache=True, nogil=True, inline="always")
def _c_solve_tab(code, sw2, const, mu, qs, same_inputs, chi1, x0, gl_x, gl_w, stab, ts):
    """Stable q^{ab*} in [0, q*] of eq. (3.2) reached from 0, on the cross tables.

    Returns (x, converged, fresh): ``fresh`` says that ``ts[5]`` holds the cross
    moments at an x within ``C_TOL`` (relative) of the returned one.
    """
    if qs <= 0.0 or (same_inputs and chi1 <= 1.0):
        return qs, True, False  # no variance, or identical inputs when ordered: c* = 1
    hi = qs
    if same_inputs:
        found = False
        for k in range(3, 13, 2):
            hi = qs * (1.0 - 10.0 ** (-k))
            f_hi, _ = _c_residual_tab(code, sw2, const, mu, qs, hi, gl_x, gl_w, stab, ts)
            if f_hi < 0.0:
                found = True
                break
        if not found:
            return qs, True, False
    lo = 0.0
    if not 0.0 < x0 < hi:
        f_lo, _ = _c_residual_tab(code, sw2, const, mu, qs, 0.0, gl_x, gl_w, stab, ts)
        if f_lo <= 0.0:
            return 0.0, True, True
        x0 = 0.5 * hi
    x = x0
    for _ in range(MAXIT):
        f, df = _c_residual_tab(code, sw2, const, mu, qs, x, gl_x, gl_w, stab, ts)
        if f == 0.0:
            return x, True, True
        x_new, lo, hi = newton_step(x, f, df, lo, hi)
        # absolute floor: a root at exactly 0 (no shared input) is approached, not reached
        if abs(x_new - x) <= C_TOL * max(abs(x_new), 1e-6 * qs):
            return x_new, True, True
        if hi - lo <= XTOL * hi:
            return x_new, True, False
        x = x_new
    return x, False, False


@njit(cache=True, nogil=True, inline="always")
def _node(code, tab, sw, sb, sv, mu, R, Sigma, guess, c_guess, want_c, gl_x, gl_w, res, m,
          stab, ts):
    sw2 = sw * sw
    v = sv * sv * R + sb * sb
    if units_driven(sw2, v, mu):  # bounded phi: [v, sw2 + v] brackets q*
        qs, conv = _q_solve_tab(code, tab, sw2, v, mu, v, sw2 + v, guess, m)
    else:
        qs, conv = v, True
        _q_residual_tab(code, tab, sw2, v, mu, v, m)  # m: the moments at q = v
    res[:] = np.nan
    res[0] = qs
    res[1] = m[0]
    res[4] = sw2 * m[2]
    res[6] = sw2 * m[1]
    res[7] = 1.0
    res[8] = 1.0 if conv else 0.0
    res[11] = 0.0
    res[12] = 1.0
    if want_c:
        const = sv * sv * R * Sigma + sb * sb
        set_q(qs, ts[4])
        xs, cconv, fresh = _c_solve_tab(code, sw2, const, mu, qs, v - const <= 0.0, res[6],
                                        c_guess * qs, gl_x, gl_w, stab, ts)
        c = xs / qs if qs > 0.0 else 1.0
        if not fresh:
            cross_moments(code, mu, qs, min(c, 1.0), gl_x, gl_w, stab, ts)
        e = ts[5]
        res[2] = c
        res[3] = e[0] / res[1] if res[1] > 0.0 else 1.0
        res[5] = sw2 * e[1]
        res[9] = 1.0 if cconv else 0.0
    return qs


@njit(cache=True, nogil=True)
def grid_kernel(code, SW, SB, SV, MU, R, Sigma, tabs, tab_idx, want_c, gl_x, gl_w, stab, ct,
                out):
    """Fill ``out[:, j, i]`` for every node of the (ny, nx) parameter arrays.

    Same mathematics and branch as ``point_kernel``, with the 1-D moments from the
    per-mu tables ``tabs[tab_idx[j, i]]`` and the cross moments from the cross table
    ``ct`` (or ``NO_CROSS_TABLE``); each node starts from the root extrapolated along
    its row. ReLU and linear phi (closed forms) use ``point_kernel``.
    """
    ny, nx = SW.shape
    m = np.zeros(6)
    res = np.zeros(N_OUT)
    ts = table_state(ct)
    mu_set = math.nan
    for j in range(ny):
        qh = np.full(3, -1.0)  # roots at the previous three nodes of the row
        ch = np.full(3, -1.0)
        for i in range(nx):
            guess = extrapolate(qh)
            c_guess = extrapolate(ch)
            if code == RELU or code == LINEAR:
                res[:] = point_kernel(code, SW[j, i], SB[j, i], SV[j, i], MU[j, i], R, Sigma,
                                      gl_x, gl_w, stab, ct, NO_STACK)
                if not want_c:
                    res[2] = res[3] = res[5] = np.nan
            else:
                if want_c and MU[j, i] != mu_set:
                    mu_set = MU[j, i]
                    set_mu(ct, code, mu_set, ts[1], ts[2])
                push(qh, _node(code, tabs[tab_idx[j, i]], SW[j, i], SB[j, i], SV[j, i],
                               MU[j, i], R, Sigma, guess, c_guess, want_c, gl_x, gl_w, res, m,
                               stab, ts))
                push(ch, res[2] if want_c else -1.0)
            out[:, j, i] = res


# --- critical initialisation (theory.md 6.2) -------------------------------------------

MAX_Q_STAR = 1e3
MAX_INPUT_VARIANCE = 3.0**2 * 4.0 + 2.0**2  # sigma_v^2 R + sigma_b^2 at the range limits


@dataclass(frozen=True)
class VanillaCriticalInit:
    """A point on chi_1 = 1 (theory.md eq. in 6.2).

    ``input_variance`` is sigma_v^2 R + sigma_b^2; any split between input and
    bias gives the same mean field. ``spectral_variance_per_step`` is
    mu_2/mu_1^2 - 1 (orthogonal W, theory.md 5.3). ``exists`` is False when the
    target q* needs a negative input variance; ``in_range`` is False when sigma_w
    or the input variance lie outside what the parameter ranges can express
    (sigma_w <= 10, sigma_v^2 R + sigma_b^2 <= 3^2 * 4 + 2^2 = 40).
    """

    q_star: float
    phi: str
    mu_b: float
    sigma_w: float
    input_variance: float
    Q_star: float
    chi_jac: float
    spectral_variance_per_step: float
    exists: bool
    message: str = ""
    in_range: bool = True


def critical_init_vanilla(
    q_star: float, phi: str = "tanh", mu_b: float = 0.0
) -> VanillaCriticalInit:
    """Vanilla RNN critical line parametrised by the target q* (theory.md 6.2).

    .. math:: \\sigma_w^2 = 1/E_{q^*}[\\phi'^2], \\qquad
              \\sigma_v^2R+\\sigma_b^2 = q^* - \\sigma_w^2 E_{q^*}[\\phi^2]

    Parameters
    ----------
    q_star : float
        Target fixed-point variance, 0 < q* <= 1000.
    phi : {"tanh", "erf", "relu", "linear"}
    mu_b : float
        Bias mean (default 0).
    """
    q = check_positive("q_star", q_star, MAX_Q_STAR)
    check_choice("phi", phi, PHIS)
    mu = check_number("mu_b", mu_b)
    m0, m1, _ = phi_moments(PHI_CODES[phi], mu, q)
    if m1 <= 0.0:
        return VanillaCriticalInit(q, phi, mu, math.nan, math.nan, m0, math.nan, math.nan,
                                   False, "E[phi'^2] = 0: no sigma_w reaches chi_1 = 1")
    sw2 = 1.0 / m1
    v = q - sw2 * m0
    mu2 = _mean_phi_prime_4(phi, mu, q)
    exists = v >= -1e-12 * q
    msg = "" if exists else f"q* = {q:g} needs a negative input variance {v:.3g}"
    in_range = exists and sw2 <= 100.0 and v <= MAX_INPUT_VARIANCE
    if exists and not in_range:
        msg = f"sigma_w = {math.sqrt(sw2):.4g}, input variance {v:.4g}: outside the ranges"
    return VanillaCriticalInit(q, phi, mu, math.sqrt(sw2), max(v, 0.0) if exists else v, m0,
                               sw2 * m1, mu2 / (m1 * m1) - 1.0, exists, msg, in_range)


def _mean_phi_prime_4(phi: str, mu: float, q: float) -> float:
    """E[phi'^4] by the trapezoid rule of theory.md 10.1 (closed for relu/linear)."""
    import numpy as np

    if phi in ("relu", "linear"):
        return phi_moments(PHI_CODES[phi], mu, q)[1]
    h = min(0.5, 0.4 / math.sqrt(q))
    z = np.arange(-9.0, 9.0 + h / 2, h)
    w = np.exp(-0.5 * z * z)
    e = mu + math.sqrt(q) * z
    d = 1.0 - np.tanh(e) ** 2 if phi == "tanh" else 2.0 / math.sqrt(math.pi) * np.exp(-e * e)
    return float(np.sum(w * d**4) / np.sum(w))


# --- finite networks: the sampler's Jacobians and the simulator (theory.md 1.1, 5.1) ---------


class _Network:
    """A tied vanilla RNN run from h_0 = 0 whose steps yield J_t = diag(phi'(e_t)) W (5.1)."""

    def __init__(self, p: Params, N: int, rng: np.random.Generator) -> None:
        from theory.sampling import draw_weights

        self.p, self.dim, self.rng = p, N, rng
        self.W = draw_weights(p, N, rng)
        self.V = rng.standard_normal((N, N)) * (p.sigma_v / math.sqrt(N))
        self.b = p.mu_b + p.sigma_b * rng.standard_normal(N)
        self.h = np.zeros(N)
        self.sqrtR = math.sqrt(p.R)
        self._w_norms = None

    @property
    def state(self) -> np.ndarray:
        """The state vector h."""
        return self.h

    @state.setter
    def state(self, value: np.ndarray) -> None:
        self.h = value

    def step(self):
        """Advance one step; return its Jacobian factor (``theory.sampling.DiagFactor``)."""
        from theory.sampling import DiagFactor, extreme_singular_values, phi_slopes, phi_values

        x = self.sqrtR * self.rng.standard_normal(self.dim)
        e = self.W @ self.h + self.V @ x + self.b
        self.h = phi_values(self.p.phi, e)
        if self._w_norms is None:
            self._w_norms = extreme_singular_values(self.W)
        return DiagFactor(self.W, self._w_norms, phi_slopes(self.p.phi, e))


class _Simulator:
    """Stepping functions of ``theory.montecarlo`` for n vanilla networks at once."""

    @staticmethod
    def dim(N: int) -> int:
        return N

    @staticmethod
    def draw(p: Params, N: int, n: int, rng: np.random.Generator):
        from theory._mc_kernels import draw_network

        W, V, b = draw_network(p, N, n, rng)
        return {"W": W, "Vt": np.swapaxes(V, 1, 2), "b": b, "w_row2": (W * W).sum(axis=2)}

    @staticmethod
    def redraw(p: Params, net: dict, N: int, rng: np.random.Generator) -> None:
        """Untied ensemble (theory.md 2): fresh W and b before a step; V stays."""
        from theory._mc_kernels import draw_recurrent

        n = net["b"].shape[0]
        W = draw_recurrent(p, N, n, rng)
        net.update({"W": W, "b": p.mu_b + p.sigma_b * rng.standard_normal((n, N)),
                    "w_row2": (W * W).sum(axis=2)})

    @staticmethod
    def drive(p: Params, net: dict, xa: np.ndarray, xb: np.ndarray) -> np.ndarray:
        """V x + b of the rows (a, b, copy of a) for a block of steps: (n, L, 3, N)."""
        d = np.stack((xa @ net["Vt"], xb @ net["Vt"]), axis=2) + net["b"][:, None, None, :]
        return d[:, :, (0, 1, 0)]

    @staticmethod
    def step(p: Params, net: dict, H: np.ndarray, drive: np.ndarray, s: int, x: np.ndarray):
        """h = phi(W h + V x + b) (1.1) for the three rows; (e, h, (1/N) tr J^T J of row a)."""
        from theory._mc_kernels import _matvec3
        from theory.sampling import phi_slopes, phi_values

        E = np.empty_like(H)
        _matvec3(net["W"], H, E)
        E += drive[:, s]
        B = phi_slopes(p.phi, E[:, 0])  # J = diag(phi'(e)) W: tr J^T J = sum phi'^2 |W_i|^2
        return E, phi_values(p.phi, E), (B * B * net["w_row2"]).mean(axis=-1)

    @staticmethod
    def hidden(H: np.ndarray) -> np.ndarray:
        return H


# --- the spectrum of the T-step Jacobian (theory.md 5.3) -----------------------------------

METHOD = (
    "exact for N -> inf (theory.md 5.3): T-fold free multiplicative convolution of "
    "y = sigma_w^2 phi'(e)^2, e ~ N(mu_b, q*){gauss}; subordination equation solved in "
    "logarithms, trapezoid in e with exact pole correction, eta -> 0 extrapolated; "
    "m1 = chi_1^T and m2 closed forms. Treats the T factors as free (untied W); "
    "tied networks agree within finite-N error.")


def spectrum(p: Params, T: int, n: int, pr):
    """Singular-value law of the T-step Jacobian (theory.md 5.3): exact free product.

    ``pr`` is the :class:`~theory.types.PointResult` at ``p``. See ``theory.spectrum``.
    """
    from theory.spectra import FreeProduct, _atoms_only, _exp, _from_free, vanilla_law

    q = pr.q_star
    law = vanilla_law(p.phi, p.sigma_w, p.mu_b, q)
    gauss = p.weights == "gaussian"
    log_m1 = T * law.log_ybar  # ybar = sigma_w^2 E[phi'^2] = chi_1
    var_ratio = 1.0 + T * (law.r2 - 1.0 + (1.0 if gauss else 0.0))
    m1, m2 = _exp(log_m1), _exp(2 * log_m1) * var_ratio
    method = METHOD.format(gauss=" and T Marchenko-Pastur factors (Gaussian W)"
                                   if gauss else "")
    base = dict(params=p, T=T, m1=m1, m2=m2, method=method, exact=True)
    alpha = 1.0 - law.p0
    if alpha <= 0.0:  # ReLU with every unit off: J = 0
        return _atoms_only(base, ((0.0, 1.0),), n)
    if not gauss and (p.phi == "linear" or (p.phi == "relu" and T == 1)):
        atoms = ((_exp(0.5 * log_m1 - 0.5 * T * math.log(alpha)), alpha),)
        return _atoms_only(base, (((0.0, law.p0),) if law.p0 > 0 else ()) + atoms, n)
    if not gauss and T == 1:
        return _single_factor(base, p, q, n)
    atom_m = max(0.0, 1.0 - T * (1.0 - alpha)) if (p.phi == "relu" and not gauss) else 0.0
    fp = FreeProduct(law, float(T), float(T) if gauss else 0.0, 0.0, 1.0 if gauss else 0.0,
                     atom0=law.p0, atom_w=-T * math.log(alpha), atom_m=atom_m)
    atoms = ((0.0, law.p0),) if law.p0 > 0 else ()
    if atom_m > 0:
        atoms += ((_exp(0.5 * (fp.atom_w + fp.shift)), atom_m),)
    return _from_free(base, fp, n, atoms)


def _single_factor(base: dict, p: Params, q: float, n: int):
    """T = 1, orthogonal W: s = sigma_w |phi'(e)|, density by change of variables."""
    from theory.spectra import Spectrum

    sq, mu = math.sqrt(q), p.mu_b
    e_far = abs(mu) + 7.5 * sq  # P(|e - mu| > 7.5 sqrt(q)) ~ 6e-14
    # E = e_far (k/n)^2: near the edge s -> s_max (E -> 0) the density of u ~ E^2 is
    # ~ u^(-1/2); on this grading the trapezoid rule in ln s stays second order
    # (4n points: the closed form is cheap and the edge needs them for 1e-4 moments)
    E = e_far * np.linspace(0.0, 1.0, 4 * n + 1)[1:] ** 2
    if p.phi == "tanh":  # u = ln(s_max / s) = 2 ln cosh E
        ls_max = math.log(p.sigma_w)
        small = np.minimum(E, 20.0)  # 2 ln cosh E without cancellation at small E
        u = np.where(E < 20.0, 2.0 * np.log1p(2.0 * np.sinh(0.5 * small) ** 2),
                     2.0 * (E + np.log1p(np.exp(-2.0 * E)) - math.log(2.0)))
        jac = 1.0 / (2.0 * np.tanh(E))
    else:  # erf: u = E^2
        ls_max = math.log(p.sigma_w * 2.0 / math.sqrt(math.pi))
        u = E**2
        jac = 1.0 / (2.0 * E)
    dens = jac * sum(np.exp(-0.5 * ((sg * E - mu) / sq) ** 2) for sg in (1.0, -1.0))
    dens /= math.sqrt(2 * math.pi * q)
    log_s = ls_max - u[::-1]
    s = np.exp(log_s)
    pdf_log = dens[::-1]
    base = dict(base, method=base["method"].replace(
        "T-fold free multiplicative convolution of", "law of (T = 1, orthogonal W)"))
    return Spectrum(s=s, pdf=pdf_log / s, pdf_log_s=pdf_log, atom_at_zero=0.0, **base)


# --- the public cell interface (theory.cells.Cell) --------------------------------------


def phi_code(p: Params) -> int:
    """Activation code of ``p.phi`` (``_gauss``)."""
    return PHI_CODES[p.phi]


def point_row(p: Params) -> np.ndarray:
    """``point_kernel`` at ``p`` with every speed-up table (an ``OUT_NAMES`` row)."""
    code = phi_code(p)
    return point_kernel(code, p.sigma_w, p.sigma_b, p.sigma_v, p.mu_b, p.R, p.Sigma, GL_X, GL_W,
                        smoothing_table(code), cross_table(code),
                        moment_stack(code) if code in (TANH, ERF) else NO_STACK)


def trajectory_rows(p: Params, T: int) -> np.ndarray:
    """(4, T + 1) rows q, Q, c, C of ``trajectory_kernel``."""
    code = phi_code(p)
    return trajectory_kernel(code, p.sigma_w, p.sigma_b, p.sigma_v, p.mu_b, p.R, p.Sigma, T,
                             GL_X, GL_W, smoothing_table(code))


def grid_raw(p: Params, plane, want_c: bool, tables) -> np.ndarray:
    """Kernel rows on the grid ``plane`` (a ``theory.grids.Plane``).

    ``tables(code, mus)`` returns the stacked 1-D moment tables at the plane's mu values.
    """
    code = phi_code(p)
    out = np.full((N_OUT,) + plane.shape, np.nan)
    if code in (RELU, LINEAR):
        tabs, tab_idx = np.zeros((1, 1, 6)), np.zeros(plane.shape, dtype=np.int64)
    else:
        tabs, tab_idx = tables(code, plane.mus), plane.tab_idx
    stab = smoothing_table(code) if want_c else NO_TABLE
    ct = cross_table(code) if want_c else NO_CROSS_TABLE
    grid_kernel(code, plane.sigma_w, plane.sigma_b, plane.sigma_v, plane.mu_b, p.R, p.Sigma,
                tabs, tab_idx, want_c, GL_X, GL_W, stab, ct, out)
    return out


CELL = Cell(name="vanilla", label="Vanilla RNN", point_row=point_row,
            trajectory_rows=trajectory_rows, grid_raw=grid_raw, network=_Network,
            spectrum=spectrum, simulator=_Simulator)
