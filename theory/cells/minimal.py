"""The minimalRNN: u = sigmoid(W h + V z + b), h' = u h + (1 - u) z (theory.md 1.2, 4, 5.4, 6.3).

Everything specific to this cell lives here, next to its equation numbers:

* the second-moment map (4.1) and the covariance map (4.2), their slopes chi_q,
  chi_c and chi_J (4.2, eq. 4.3), for the direct quadrature and for the tables;
* the fixed points on the branch reached from h_0 = 0 (4.3, 10.2; the Q-map's
  roots come from the profile walk of ``_gate_roots``): ``point_kernel``, the grid
  kernel and the trajectory kernel;
* the critical initialisation near dynamical isometry (6.3): :func:`critical_init_minimal`;
* the one-step Jacobian J = diag(u) + diag(u'(h - z)) W (5.1) and its exact
  single-step moments (5.4) for the sampler, the simulator and the spectrum.

The gate is the logistic sigmoid (activation code ``SIGMOID`` of ``_gauss``).
Kernels return rows laid out as ``_solve.OUT_NAMES``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from theory._cross_tables import NO_CROSS_TABLE, point_state, set_mu, set_q
from theory._gate_roots import (
    N_PROFILE,
    NO_LOW_STACK,
    fill_profile,
    low_profile_at_mu,
    scan_gate_Q,
    scan_gate_Q_into,
    walk_gate_Q,
)
from theory._gauss import H_SCALE_GATE, SIGMOID, sigmoid_moments
from theory._grid import extrapolate, push
from theory._smooth import NO_TABLE, sigmoid_cross_fast
from theory._smooth_cache import cross_table, low_profile_stack, moment_stack, smoothing_table
from theory._solve import (
    C_DIRECT,
    C_TOL,
    MAXIT,
    N_OUT,
    XTOL,
    cross_moments,
    newton_step,
    table_state,
)
from theory._tables import MU_TAB_MAX, NO_GATE_TABLE, NO_STACK, lookup, table_rows_at_mu
from theory.cells import Cell
from theory.types import Params, check_int, check_number, check_positive

N_SCAN = 64  # scan points of the Q-map on (0, R] where the profile walk cannot decide
#: Scan points of the grids' fallback (3 per decade over 1e-10 R .. R; root pairs closer
#: than that are found by ``scan_gate_Q``'s local-minimum refinement).
N_SCAN_GRID = 31

# --- maps and slopes (theory.md 4.1-4.3) -----------------------------------------------


@njit(cache=True, nogil=True)
def _Q_residual(sw2, v, mu, R, Q):
    """Q-map residual of eq. (4.1), chi_q - 1 (4.2), E[u^2], E[u'^2] at Q."""
    q = sw2 * Q + v
    e_uu, e_vv, e_dd, a3, a4, _ = sigmoid_moments(mu, q)
    chi_q = e_uu + sw2 * (Q * a3 - R * a4)
    return e_uu * Q + e_vv * R - Q, chi_q - 1.0, e_uu, e_dd


@njit(cache=True, nogil=True)
def _C_residual(sw2, const, mu, R, Sigma, qs, x, hscale, stab):
    """Covariance-map residual of eq. (4.2) at Q^ab = x, chi_c - 1, E[u u], E[u' u']."""
    c = min(max((sw2 * x + const) / qs, -1.0), 1.0)
    e_uu, e_vv, e_dd = sigmoid_cross_fast(mu, qs, c, hscale, stab)
    chi_c = e_uu + sw2 * e_dd * (x + R * Sigma)
    return e_uu * x + e_vv * R * Sigma - x, chi_c - 1.0, e_uu, e_dd


@njit(cache=True, nogil=True, inline="always")
def _Q_residual_tab(tab, sw2, v, mu, R, x, m):
    """``_Q_residual`` with the gate moments read from the 1-D table ``tab`` into ``m``."""
    q = sw2 * x + v
    lookup(tab, SIGMOID, mu, q, m)
    chi_q = m[0] + sw2 * (x * m[3] - R * m[4])
    return m[0] * x + m[1] * R - x, chi_q - 1.0


@njit(cache=True, nogil=True, inline="always")
def _C_residual_tab(sw2, const, mu, R, Sigma, qs, x, stab, ts):
    """``_C_residual`` with the cross moments from the 3-D tables (into ts[5])."""
    cross_moments(SIGMOID, mu, qs, min(max((sw2 * x + const) / qs, -1.0), 1.0), np.empty(0),
                  np.empty(0), stab, ts)
    e = ts[5]
    return e[0] * x + e[2] * R * Sigma - x, e[0] + sw2 * e[1] * (x + R * Sigma) - 1.0


# --- fixed points by the direct rule (theory.point) -------------------------------------


@njit(cache=True, nogil=True)
def _polish(kind, p, lo, f_lo, hi, x0, hscale, stab, aux):
    """Root of the Q-map (kind 0) or covariance map (kind 1) in [lo, hi], f(lo) >= 0 > f(hi).

    ``p`` packs (sw2, v or const, mu, R, Sigma, qs). Returns (root, converged,
    evaluations); ``aux`` as in ``vanilla._polish``.
    """
    x = x0 if lo < x0 < hi else lo
    scale = abs(hi)
    f = f_lo
    df = -1.0
    n = 0
    for n in range(1, MAXIT + 1):
        if kind == 0:
            f, df, aux[1], aux[2] = _Q_residual(p[0], p[1], p[2], p[3], x)
        else:
            f, df, aux[1], aux[2] = _C_residual(p[0], p[1], p[2], p[3], p[4], p[5], x,
                                                hscale, stab)
        aux[0] = df
        if f == 0.0:
            return x, True, n
        x_new, lo, hi = newton_step(x, f, df, lo, hi)
        if abs(x_new - x) <= XTOL * max(abs(x_new), 1e-6 * scale) or hi - lo <= XTOL * abs(hi):
            return x_new, True, n
        x = x_new
    return x, False, n


@njit(cache=True, nogil=True)
def point_kernel(sigma_w, sigma_b, sigma_v, mu, R, Sigma, stab, ct, mstack, lstack):
    """Fixed points and slopes (theory.md 4.1-4.3) as an ``OUT_NAMES`` row.

    ``stab``, ``ct``: as in ``vanilla.point_kernel``. ``mstack``, ``lstack`` (the gate's
    moment stack of ``_tables`` and low-q profile stack of ``_gate_roots``, or empty):
    the walk over the Q-map's sign changes and a first Newton guess use them; the
    bracket is then checked with the direct rule (the Q-map is scanned directly if a
    sign disagrees) and the root polished with the direct rule.
    """
    out = np.full(N_OUT, np.nan)
    sw2 = sigma_w * sigma_w
    v = sigma_v * sigma_v * R + sigma_b * sigma_b
    p = np.array([sw2, v, mu, R, 0.0, 0.0])
    lo, f_lo, hi, n_stable, x0 = _Q_bracket(sw2, v, mu, R, mstack, lstack)
    aux = np.zeros(3)
    Qs, conv, it = _polish(0, p, lo, f_lo, hi, x0, H_SCALE_GATE, NO_TABLE, aux)
    qs = sw2 * Qs + v
    out[0] = qs
    out[1] = Qs
    out[4] = aux[0] + 1.0  # aux: the last evaluation, within XTOL of Qs
    out[6] = aux[1] + sw2 * aux[2] * (Qs + R)  # chi_J, eq. (4.3)
    out[7] = 1.0
    out[8] = 1.0 if conv else 0.0
    out[11] = 1.0 if n_stable > 1 else 0.0
    out[12] = n_stable
    const = sigma_v * sigma_v * R * Sigma + sigma_b * sigma_b
    x0 = -1.0
    if ct.shape[0] > 0:  # first guess from the tables
        x0, _, _ = _C_solve_tab(sw2, const, mu, R, Sigma, qs, Qs, Sigma >= 1.0, out[6], -1.0,
                                stab, point_state(ct, SIGMOID, mu, qs))
    xs, cconv, cit = _C_solve(sw2, const, mu, R, Sigma, qs, Qs, out[6], x0, H_SCALE_GATE, stab,
                              aux)
    out[3] = xs / Qs
    out[2] = (sw2 * xs + const) / qs
    if cit > 0:  # aux: the last evaluation, within XTOL of xs
        out[5] = aux[0] + 1.0
    else:  # C* = 1 (Sigma = 1, ordered): the cross moments are the 1-D ones, chi_c = chi_J
        out[5] = out[6]
    out[9] = 1.0 if cconv else 0.0
    out[10] = it + N_SCAN + cit
    return out


@njit(cache=True, nogil=True)
def _Q_bracket(sw2, v, mu, R, mstack, lstack):
    """Bracket (lo, F(lo) > 0, hi), stable-root count and first guess of the Q-map root."""
    if mstack.shape[0] > 0 and lstack.shape[0] > 0 and abs(mu) <= MU_TAB_MAX:
        q_end = sw2 * R + v
        tab = table_rows_at_mu(mstack, mu, v, q_end)
        prof = fill_profile(tab, low_profile_at_mu(lstack, mu), np.empty((3, N_PROFILE)), v,
                            q_end)
        lo, hi, n_stable, x0, ok = walk_gate_Q(prof, tab, sw2, v, mu, R)
        if not ok:
            lo, _, hi, n_stable = scan_gate_Q(tab, sw2, v, mu, R, N_SCAN)
            x0 = 0.5 * (lo + hi)
        # F(0) = E[(1-u)^2] R > 0 and F(R) = -2 R E[u (1-u)] <= 0 need no evaluation
        f_lo_d = 1.0 if lo == 0.0 else _Q_residual(sw2, v, mu, R, lo)[0]
        f_hi_d = -1.0 if hi == R else _Q_residual(sw2, v, mu, R, hi)[0]
        if f_lo_d > 0.0 >= f_hi_d:
            x0, _ = _Q_solve_tab(tab, sw2, v, mu, R, lo, hi, x0, np.zeros(6))
            return lo, f_lo_d, hi, n_stable, x0
    lo, f_lo, hi, n_stable = scan_gate_Q(NO_GATE_TABLE, sw2, v, mu, R, N_SCAN)
    return lo, f_lo, hi, n_stable, 0.5 * (lo + hi)


@njit(cache=True, nogil=True)
def _C_solve(sw2, const, mu, R, Sigma, qs, Qs, chi_j, x0, hscale, stab, aux):
    """Stable fixed point x = Q^{ab*} of eq. (4.2) reached from Q^{ab} = 0 (direct rule).

    Returns (x, converged, evaluations); ``aux`` as in ``_polish``.
    """
    if Sigma >= 1.0 and chi_j <= 1.0:
        return Qs, True, 0
    p = np.array([sw2, const, mu, R, Sigma, qs])
    hi = Qs
    if Sigma >= 1.0:
        found = False
        for k in range(3, 13, 2):
            hi = Qs * (1.0 - 10.0 ** (-k))
            f_hi = _C_residual(sw2, const, mu, R, Sigma, qs, hi, hscale, stab)[0]
            if f_hi < 0.0:
                found = True
                break
        if not found:
            return Qs, True, 0
    if not 0.0 < x0 < hi:
        f_lo, aux[0], aux[1], aux[2] = _C_residual(sw2, const, mu, R, Sigma, qs, 0.0, hscale,
                                                   stab)
        if f_lo <= 0.0:
            return 0.0, True, 1
    return _polish(1, p, 0.0, 1.0, hi, x0, hscale, stab, aux)


@njit(cache=True, nogil=True)
def trajectory_kernel(sigma_w, sigma_b, sigma_v, mu, R, Sigma, T, stab):
    """q_t, Q_t, c_t, C_t for t = 0..T from h_0 = 0 (eqs. 4.1-4.2); ``stab`` as above."""
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
        c = min(qab / q, 1.0)
        e_uu, e_vv, _, _, _, _ = sigmoid_moments(mu, q)
        x_uu, x_vv, _ = sigmoid_cross_fast(mu, q, c, H_SCALE_GATE,
                                           stab if c < C_DIRECT else NO_TABLE)
        Q_new = e_uu * Q + e_vv * R
        Qab_new = x_uu * Qab + x_vv * R * sig
        same = Q_new == Q and Qab_new == Qab  # the map left (Q, Qab) unchanged, bit for bit
        Q = Q_new
        Qab = Qab_new
        out[0, t] = q
        out[1, t] = Q
        out[2, t] = c
        out[3, t] = Qab / Q
        if same and t >= 2:  # a fixed point in floating point: every later row is this one
            for k in range(4):
                out[k, t + 1:] = out[k, t]
            break
    return out


# --- fixed points from the tables (grids; first guesses of theory.point) -----------------


@njit(cache=True, nogil=True, inline="always")
def _Q_solve_tab(tab, sw2, v, mu, R, lo, hi, guess, m):
    """Safeguarded Newton for Q* in [lo, hi] (F(lo) > 0 >= F(hi)) on the gate table.

    Stops at a relative step of ``C_TOL``; on return ``m`` holds the moments at the
    last evaluated Q (within ``C_TOL`` of the root).
    """
    x = guess if lo < guess < hi else 0.5 * (lo + hi)
    for _ in range(MAXIT):
        f, df = _Q_residual_tab(tab, sw2, v, mu, R, x, m)
        if f == 0.0:
            return x, True
        x_new, lo, hi = newton_step(x, f, df, lo, hi)
        if abs(x_new - x) <= C_TOL * abs(x_new) or hi - lo <= 1e3 * XTOL * abs(hi):
            return x_new, True
        x = x_new
    return x, False


@njit(cache=True, nogil=True, inline="always")
def _C_solve_tab(sw2, const, mu, R, Sigma, qs, Qs, same_inputs, chi_j, x0, stab, ts):
    """Stable Q^{ab*} in [0, Q*] of eq. (4.2) reached from 0, on the cross tables.

    Returns (x, converged, fresh) as ``vanilla._c_solve_tab``.
    """
    if Qs <= 0.0 or (same_inputs and chi_j <= 1.0):
        return Qs, True, False  # no variance, or identical inputs when ordered: C* = 1
    hi = Qs
    if same_inputs:
        found = False
        for k in range(3, 13, 2):
            hi = Qs * (1.0 - 10.0 ** (-k))
            f_hi, _ = _C_residual_tab(sw2, const, mu, R, Sigma, qs, hi, stab, ts)
            if f_hi < 0.0:
                found = True
                break
        if not found:
            return Qs, True, False
    lo = 0.0
    if not 0.0 < x0 < hi:
        f_lo, _ = _C_residual_tab(sw2, const, mu, R, Sigma, qs, 0.0, stab, ts)
        if f_lo <= 0.0:
            return 0.0, True, True
        x0 = 0.5 * hi
    x = x0
    for _ in range(MAXIT):
        f, df = _C_residual_tab(sw2, const, mu, R, Sigma, qs, x, stab, ts)
        if f == 0.0:
            return x, True, True
        x_new, lo, hi = newton_step(x, f, df, lo, hi)
        if abs(x_new - x) <= C_TOL * max(abs(x_new), 1e-6 * Qs):
            return x_new, True, True
        if hi - lo <= XTOL * hi:
            return x_new, True, False
        x = x_new
    return x, False, False


@njit(cache=True, nogil=True, inline="always")
def _node(tab, prof, sw, sb, sv, mu, R, Sigma, want_c, res, m, Q_guess, C_guess, stab, ts, xs,
          fs):
    sw2 = sw * sw
    v = sv * sv * R + sb * sb
    lo, hi, n_stable, guess, ok = walk_gate_Q(prof, tab, sw2, v, mu, R)
    if lo < Q_guess < hi:  # the row's extrapolation beats the secant inside the bracket
        guess = Q_guess
    if not ok:
        lo, _, hi, n_stable = scan_gate_Q_into(tab, sw2, v, mu, R, N_SCAN_GRID, xs, fs)
        guess = 0.5 * (lo + hi)
    Qs, conv = _Q_solve_tab(tab, sw2, v, mu, R, lo, hi, guess, m)
    qs = sw2 * Qs + v  # m: the moments within C_TOL of qs (``_Q_solve_tab``)
    res[:] = np.nan
    res[0] = qs
    res[1] = Qs
    res[4] = m[0] + sw2 * (Qs * m[3] - R * m[4])
    res[6] = m[0] + sw2 * m[2] * (Qs + R)
    res[7] = 1.0
    res[8] = 1.0 if conv else 0.0
    res[11] = 1.0 if n_stable > 1 else 0.0
    res[12] = n_stable
    if want_c:
        const = sv * sv * R * Sigma + sb * sb
        set_q(qs, ts[4])
        xs, cconv, fresh = _C_solve_tab(sw2, const, mu, R, Sigma, qs, Qs, Sigma >= 1.0, res[6],
                                        C_guess * Qs, stab, ts)
        res[3] = xs / Qs
        res[2] = (sw2 * xs + const) / qs
        if not fresh:
            cross_moments(SIGMOID, mu, qs, min(res[2], 1.0), np.empty(0), np.empty(0), stab,
                          ts)
        e = ts[5]
        res[5] = e[0] + sw2 * e[1] * (xs + R * Sigma)
        res[9] = 1.0 if cconv else 0.0


@njit(cache=True, nogil=True)
def grid_kernel(SW, SB, SV, MU, R, Sigma, tabs, profs, tab_idx, want_c, stab, ct, out):
    """Fill ``out[:, j, i]`` for every node (as ``vanilla.grid_kernel``).

    ``profs[k]``: the ``_gate_roots.fill_profile`` of table ``tabs[k]``.
    """
    ny, nx = SW.shape
    m = np.zeros(6)
    res = np.zeros(N_OUT)
    ts = table_state(ct)
    xs, fs = np.empty(N_SCAN_GRID + 1), np.empty(N_SCAN_GRID + 1)
    mu_set = math.nan
    for j in range(ny):
        qh = np.full(3, -1.0)  # Q* and C* at the previous three nodes of the row
        ch = np.full(3, -1.0)
        for i in range(nx):
            if want_c and MU[j, i] != mu_set:
                mu_set = MU[j, i]
                set_mu(ct, SIGMOID, mu_set, ts[1], ts[2])
            k = tab_idx[j, i]
            _node(tabs[k], profs[k], SW[j, i], SB[j, i], SV[j, i], MU[j, i], R, Sigma, want_c,
                  res, m, extrapolate(qh), extrapolate(ch), stab, ts, xs, fs)
            push(qh, res[1])
            push(ch, res[3] if want_c else -1.0)
            out[:, j, i] = res


# --- critical initialisation (theory.md 6.3) -------------------------------------------

MAX_T = 100_000
MAX_REFINE = 60


@dataclass(frozen=True)
class MinimalCriticalInit:
    """A minimalRNN initialisation near dynamical isometry (theory.md 6.3).

    ``mu_b``/``sigma_w`` are the refined values; ``closed_form_*`` the raw rule
    mu_b = ln(4T/delta) + q*/2, sigma_w = sqrt(2/R) exp(mu_b/2 - 3q*/4).
    ``converged`` is True when |1 - chi_jac| <= delta/T on the low branch.
    ``in_range`` is False when mu_b exceeds the dashboard's range [-6, 10].
    """

    T: int
    delta: float
    sigma_v: float
    R: float
    sigma_b: float
    mu_b: float
    sigma_w: float
    closed_form_mu_b: float
    closed_form_sigma_w: float
    q_star: float
    Q_star: float
    chi_jac: float
    xi_jac: float
    spectral_variance_per_step: float
    branch: str
    converged: bool
    in_range: bool
    message: str = ""


def critical_init_minimal(T: int, delta: float = 0.1, sigma_v: float = 1.0, R: float = 1.0,
                          sigma_b: float = 0.0) -> MinimalCriticalInit:
    """minimalRNN critical initialisation for sequence length T (theory.md 6.3).

    Closed-form rule
    :math:`\\mu_b = \\ln(4T/\\delta) + q^*/2`,
    :math:`\\sigma_w = \\sqrt{2/R}\\,e^{\\mu_b/2-3q^*/4}` with
    :math:`q^* = \\sigma_w^2Q^* + \\sigma_v^2R + \\sigma_b^2` taken from the
    solved fixed point, then refined: sigma_w is halved while the point reached
    from h_0 = 0 is past the saddle-node (high branch) or chaotic, and mu_b is
    raised by ln 2 while 1 - chi_J > delta / T.

    Parameters
    ----------
    T : int
        Sequence length, 1 <= T <= 100000.
    delta : float
        Tolerance on the T-step spectral variance, 0 < delta <= 1.
    sigma_v, R, sigma_b : float
        Input scale, input second moment and bias spread (fixed).
    """
    T = check_int("T", T, MAX_T)
    delta = check_positive("delta", delta, 1.0)
    sigma_v, R, sigma_b = (check_number(n, v) for n, v in
                           (("sigma_v", sigma_v), ("R", R), ("sigma_b", sigma_b)))
    v = sigma_v**2 * R + sigma_b**2
    q = 1.0 + v  # sigma_w^2 Q* ~ 1 on the formal critical line (4.4)
    mu0 = math.log(4.0 * T / delta) + q / 2.0
    sw0 = math.sqrt(2.0 / R) * math.exp(mu0 / 2.0 - 0.75 * q)
    mu, sw = mu0, min(sw0, 10.0)
    tol = delta / T
    row, ok = None, False
    for _ in range(MAX_REFINE):
        row = point_kernel(sw, sigma_b, sigma_v, mu, R, 1.0, NO_TABLE, NO_CROSS_TABLE,
                           NO_STACK, NO_LOW_STACK)
        chi = row[6]
        if chi > 1.0 or (row[11] == 0.0 and row[4] > 1.0):
            sw *= 0.5
        elif 1.0 - chi > tol:
            mu += math.log(2.0)
        else:
            ok = True
            break
    chi = float(row[6])
    xi = math.inf if chi >= 1.0 else -1.0 / math.log(chi)
    in_range = mu <= 10.0
    msg = "" if ok else f"no point with |1 - chi_J| <= {tol:.3g} found in {MAX_REFINE} steps"
    if ok and not in_range:
        msg = f"mu_b = {mu:.3g} exceeds the dashboard range [-6, 10]"
    return MinimalCriticalInit(
        T=T, delta=delta, sigma_v=sigma_v, R=R, sigma_b=sigma_b, mu_b=mu, sigma_w=sw,
        closed_form_mu_b=mu0, closed_form_sigma_w=sw0, q_star=float(row[0]),
        Q_star=float(row[1]), chi_jac=chi, xi_jac=xi,
        spectral_variance_per_step=4.0 * math.exp(-mu + float(row[0]) / 2.0),
        branch="high" if chi > 1.0 else "low", converged=ok, in_range=in_range, message=msg,
    )


# --- finite networks: the sampler's Jacobians and the simulator (theory.md 1.2, 5.1) ---------


class _Network:
    """A tied minimalRNN run from h_0 = 0; its steps yield J_t = diag(u) + diag(u'(h - z)) W."""

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
        from theory.sampling import DiagFactor, extreme_singular_values

        x = self.sqrtR * self.rng.standard_normal(self.dim)  # z_t, the mapped input
        e = self.W @ self.h + self.V @ x + self.b
        u = 0.5 * (1.0 + np.tanh(0.5 * e))  # logistic sigmoid without overflow
        c = u * (1.0 - u) * (self.h - x)
        self.h = u * self.h + (1.0 - u) * x
        if self._w_norms is None:
            self._w_norms = extreme_singular_values(self.W)
        return DiagFactor(self.W, self._w_norms, u, c)


class _Simulator:
    """Stepping functions of ``theory.montecarlo`` for n minimalRNNs at once.

    The mapped inputs z_t are drawn directly as i.i.d. N(0, R) vectors: the theory
    uses only their statistics, so no input map Phi is simulated.
    """

    @staticmethod
    def dim(N: int) -> int:
        return N

    @staticmethod
    def draw(p: Params, N: int, n: int, rng: np.random.Generator):
        from theory._mc_kernels import draw_network

        W, V, b = draw_network(p, N, n, rng)
        return {"W": W, "Vt": np.swapaxes(V, 1, 2), "b": b,
                "w_diag": np.diagonal(W, axis1=1, axis2=2), "w_row2": (W * W).sum(axis=2)}

    @staticmethod
    def redraw(p: Params, net: dict, N: int, rng: np.random.Generator) -> None:
        """Untied ensemble (theory.md 2): fresh W and b before a step; V stays."""
        from theory._mc_kernels import draw_recurrent

        n = net["b"].shape[0]
        W = draw_recurrent(p, N, n, rng)
        net.update({"W": W, "b": p.mu_b + p.sigma_b * rng.standard_normal((n, N)),
                    "w_diag": np.diagonal(W, axis1=1, axis2=2), "w_row2": (W * W).sum(axis=2)})

    @staticmethod
    def drive(p: Params, net: dict, xa: np.ndarray, xb: np.ndarray) -> np.ndarray:
        """V z + b of the rows (a, b, copy of a) for a block of steps: (n, L, 3, N)."""
        d = np.stack((xa @ net["Vt"], xb @ net["Vt"]), axis=2) + net["b"][:, None, None, :]
        return d[:, :, (0, 1, 0)]

    @staticmethod
    def step(p: Params, net: dict, H: np.ndarray, drive: np.ndarray, s: int, z: np.ndarray):
        """u = sigmoid(W h + V z + b), h = u h + (1 - u) z (1.2); (e, h, (1/N) tr J^T J).

        J = A + B W with A = u, B = u'(h_{t-1} - z): (1/N) tr J^T J =
        (1/N) sum_i [A_i^2 + 2 A_i B_i W_ii + B_i^2 |W_i|^2] (row a).
        """
        from scipy.special import expit

        from theory._mc_kernels import _matvec3

        E = np.empty_like(H)
        _matvec3(net["W"], H, E)
        E += drive[:, s]
        u = expit(E[:, 0])
        B = u * (1.0 - u) * (H[:, 0] - z[:, 0])
        trace = (u * u + 2.0 * u * B * net["w_diag"] + B * B * net["w_row2"]).mean(axis=-1)
        return E, z + expit(E) * (H - z), trace

    @staticmethod
    def hidden(H: np.ndarray) -> np.ndarray:
        return H


# --- the spectrum of the T-step Jacobian (theory.md 5.4) -----------------------------------

SPECTRUM_Z_MAX = 10.0  # Gaussian nodes on [-10, 10]: the weight beyond is ~1e-23 (10.1)


METHOD = (
    "approximate (theory.md 5.4, free-factor approximation): the T one-step Jacobians "
    "are treated as free copies of one step whose law is law(u^2), u = sigmoid(e) "
    "(exact), free-multiplied by a Marchenko-Pastur factor fitted to the exact "
    "single-step mean chi_J and second moment m2^(1) (mean-field h law); m1 = chi_J^T "
    "is exact, m2 is the free-factor value. Ignored: successive diagonal gates commute "
    "and are correlated in a tied network (poor at small sigma_w with broad gates, "
    "good where T * per-step variance << 1); see the KS distances in tests/test_spectra.py.")


def _gate_powers(mu: float, q: float) -> dict[str, float]:
    """E over e ~ N(mu, q) of the gate powers used in theory.md 5.4 (trapezoid, 10.1)."""
    h = min(0.05, 0.12 / math.sqrt(q))
    zeta = np.arange(-int(SPECTRUM_Z_MAX / h), int(SPECTRUM_Z_MAX / h) + 1) * h
    w = h * np.exp(-0.5 * zeta**2) / math.sqrt(2 * math.pi)
    u = 0.5 * (1.0 + np.tanh(0.5 * (mu + math.sqrt(q) * zeta)))
    d, v = u * (1.0 - u), 1.0 - u
    E = lambda f: float(np.sum(w * f))  # noqa: E731
    return {"u2": E(u**2), "u4": E(u**4), "d2": E(d**2), "u2d2": E(u**2 * d**2),
            "d4": E(d**4), "u2v2": E(u**2 * v**2), "v4": E(v**4)}


def single_step_moments(p: Params, q: float, Q: float) -> tuple[float, float]:
    """Exact (N -> inf, mean field) m1, m2 of one minimalRNN step J = A + B W (theory.md 5.4).

    A = u, B = sigma_w u' (h - z); h independent of e and z, with E[h^2] = Q* and
    E[h^4] from the stationary recursion h' = u h + (1 - u) z.
    """
    g, R, sw2 = _gate_powers(p.mu_b, q), p.R, p.sigma_w**2
    h4 = (6.0 * g["u2v2"] * Q * R + 3.0 * g["v4"] * R**2) / (1.0 - g["u4"])
    dz2, dz4 = Q + R, h4 + 6.0 * Q * R + 3.0 * R**2  # E[(h - z)^2], E[(h - z)^4]
    a2, b2 = g["u2"], sw2 * g["d2"] * dz2
    a2b2, b4 = sw2 * g["u2d2"] * dz2, sw2**2 * g["d4"] * dz4
    m2 = g["u4"] + 2.0 * a2b2 + b4 + 2.0 * a2 * b2
    if p.weights == "gaussian":
        m2 += b2**2
    return a2 + b2, m2


def spectrum(p: Params, T: int, n: int, pr):
    """Singular-value law of the T-step Jacobian (theory.md 5.4): free-factor approximation.

    ``pr`` is the :class:`~theory.types.PointResult` at ``p``. See ``theory.spectrum``.
    """
    from theory.spectra import free_factor_spectrum

    nu1, nu2 = single_step_moments(p, pr.q_star, pr.Q_star)
    return free_factor_spectrum(p, T, n, pr.chi_jac, p.mu_b, pr.q_star, nu1, nu2, METHOD)


# --- the public cell interface (theory.cells.Cell) --------------------------------------


def point_row(p: Params) -> np.ndarray:
    """``point_kernel`` at ``p`` with every speed-up table (an ``OUT_NAMES`` row)."""
    return point_kernel(p.sigma_w, p.sigma_b, p.sigma_v, p.mu_b, p.R, p.Sigma,
                        smoothing_table(SIGMOID), cross_table(SIGMOID), moment_stack(SIGMOID),
                        low_profile_stack())


def trajectory_rows(p: Params, T: int) -> np.ndarray:
    """(4, T + 1) rows q, Q, c, C of ``trajectory_kernel``."""
    return trajectory_kernel(p.sigma_w, p.sigma_b, p.sigma_v, p.mu_b, p.R, p.Sigma, T,
                             smoothing_table(SIGMOID))


def grid_raw(p: Params, plane, want_c: bool, tables) -> np.ndarray:
    """Kernel rows on the grid ``plane`` (``theory.grids.Plane``); ``tables`` as in vanilla.

    ``tables(SIGMOID, mus, profiles=True)`` also returns the gate profiles.
    """
    out = np.full((N_OUT,) + plane.shape, np.nan)
    tabs, profs = tables(SIGMOID, plane.mus, profiles=True)
    stab = smoothing_table(SIGMOID) if want_c else NO_TABLE
    ct = cross_table(SIGMOID) if want_c else NO_CROSS_TABLE
    grid_kernel(plane.sigma_w, plane.sigma_b, plane.sigma_v, plane.mu_b, p.R, p.Sigma, tabs,
                profs, plane.tab_idx, want_c, stab, ct, out)
    return out


CELL = Cell(name="minimal", label="minimalRNN", point_row=point_row,
            trajectory_rows=trajectory_rows, grid_raw=grid_raw, has_branches=True,
            network=_Network, spectrum=spectrum, simulator=_Simulator)
