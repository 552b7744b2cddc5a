"""Singular-value spectra of the T-step Jacobian of a random RNN (theory.md section 5).

``spectrum(params, T)`` returns a :class:`Spectrum`: a log-adapted grid of
singular values ``s``, the density ``pdf`` of s (and ``pdf_log_s``, the density
per unit ln s, which is what one plots on a log axis), the point masses (an atom
at s = 0 for ReLU), the first two moments m1, m2 of the squared singular values
and a ``method`` string saying what is exact and what is approximate.

* Vanilla RNN (exact in the free-probability limit, theory.md 5.3): the law of
  lambda = s^2 is the T-fold free multiplicative convolution of the law of
  y = sigma_w^2 phi'(e)^2, e ~ N(mu_b, q*) (times T free Marchenko-Pastur factors
  for Gaussian W). Solved in logarithms (``_spectra_kernels``), so T = 1 .. 10^4.
* minimalRNN (approximate, theory.md 5.4): free-factor approximation, T free
  copies of one step law(u^2) boxtimes a Marchenko-Pastur factor fitted to the
  exact single-step m1, m2 (``METHOD_MINIMAL``); m1 = chi_J^T is exact.

Example
-------
>>> import theory
>>> sp = theory.spectrum(theory.Params(sigma_w=1.5), T=5)
>>> abs(sp.moment(1) / sp.m1 - 1) < 1e-3
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from theory import _spectra_kernels as kern
from theory import cells
from theory.types import ParameterError, Params

MAX_T = 100_000
MIN_POINTS, MAX_POINTS = 16, 20_000
H_MAX, H_SCALE = 0.25, 0.3  # node step of the one-factor law (see _node_grid)
Z_MAX = 10.0  # Gaussian nodes on [-10, 10]: the weight beyond is ~1e-23 (theory.md 10.1)
ETA_TRACK = 1e-3  # broadening of the continuation path (robust at the support edges)
ETA_FINAL = 1e-6  # broadening of the reported density, Richardson-extrapolated: bias ~1e-12
MASS_TAIL = 1e-10  # the grid covers the law up to this mass in each tail
LOG_S_MIN = math.log(1e-300)  # grid floor: s below this is counted in mass_below_grid
LOG_S_MAX = math.log(1e300)
TRACE_CAP = 20_000
EDGE_SHARE = 0.1  # share of grid points clustered geometrically at each support edge
EDGE_DEPTH = 0.05  # ... over this fraction of the grid span
EDGE_THRESHOLD = 1e-9  # density below this times its maximum counts as zero
GRID_SHARES = (0.1, 0.2, 0.25, 0.3, 0.15)  # grid: ln s, arc length, cdf of lambda^0, ^1, ^2


@dataclass(frozen=True)
class Spectrum:
    """Singular-value law of the T-step Jacobian at the stationary state.

    Attributes
    ----------
    s : ndarray
        Increasing grid of singular values (adapted: uniform in a blend of ln s
        and the cumulative distribution, so bulk and tails are both resolved).
    pdf : ndarray
        Density of s on ``s``; its integral is ``1 - sum of atom masses - mass_below_grid``.
    pdf_log_s : ndarray
        Density per unit ln s, ``s * pdf``.
    atom_at_zero : float
        Point mass at s = 0 (ReLU: P(e < 0)); 0 otherwise.
    atoms : tuple of (s, mass)
        Every point mass, including the one at zero if any (e.g. linear phi with
        orthogonal W is a single atom at sigma_w^T).
    m1, m2 : float
        (1/N) tr (J J^T)^k, k = 1, 2 (theory.md 5.2-5.4); ``inf`` if beyond double.
    method : str
        What is exact and what is approximate.
    exact : bool
        True where the density is the exact large-N law (vanilla RNN).
    mass_below_grid : float
        Mass of the continuous part below ``s[0]`` (only when the law reaches
        below 1e-300, e.g. Gaussian W at large T); 0 otherwise.
    has_density : bool
        False where the theory gives the moments only (the LSTM): ``s``, ``pdf`` are
        then placeholders and a sampled network shows the law.
    """

    params: Params
    T: int
    s: np.ndarray
    pdf: np.ndarray
    pdf_log_s: np.ndarray
    atom_at_zero: float
    m1: float
    m2: float
    method: str
    exact: bool
    atoms: tuple[tuple[float, float], ...] = ()
    mass_below_grid: float = 0.0
    extras: dict[str, Any] = field(default_factory=dict)
    has_density: bool = True

    def moment(self, k: int) -> float:
        """(1/N) tr (J J^T)^k from the density and atoms (trapezoid in ln s)."""
        ls = np.log(self.s)
        val = float(np.trapezoid(self.pdf_log_s * np.exp(2 * k * ls), ls))
        return val + sum(m * s ** (2 * k) for s, m in self.atoms)

    def cdf_log_s(self, x: np.ndarray) -> np.ndarray:
        """P(ln s <= x) from the density (trapezoid) and the atoms."""
        ls = np.log(self.s)
        seg = 0.5 * (self.pdf_log_s[1:] + self.pdf_log_s[:-1]) * np.diff(ls)
        cum = self.mass_below_grid + np.concatenate(([0.0], np.cumsum(seg)))
        out = np.interp(np.asarray(x, float), ls, cum, left=self.mass_below_grid, right=cum[-1])
        for s, m in self.atoms:
            out = out + m * (np.asarray(x) >= (math.log(s) if s > 0 else -np.inf))
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (lists of floats; non-finite numbers -> None)."""

        def num(v: float) -> float | None:
            return float(v) if math.isfinite(v) else None

        return {
            "params": self.params.to_dict(),
            "T": self.T,
            "s": [float(v) for v in self.s],
            "pdf": [float(v) for v in self.pdf],
            "pdf_log_s": [float(v) for v in self.pdf_log_s],
            "atom_at_zero": float(self.atom_at_zero),
            "atoms": [[float(s), float(m)] for s, m in self.atoms],
            "m1": num(self.m1),
            "m2": num(self.m2),
            "method": self.method,
            "exact": self.exact,
            "mass_below_grid": float(self.mass_below_grid),
            "has_density": self.has_density,
        }


@dataclass(frozen=True)
class FactorLaw:
    """One-factor law y (normalised to mean 1 times ``ybar``) for the kernels."""

    logy: np.ndarray  # ln(y / ybar) at the nodes
    iy: np.ndarray  # ybar / y at the nodes, 0 where it would overflow
    wy: np.ndarray  # node weights (sum = 1 - p0)
    p0: float  # atom of y at 0
    law: int
    c0: float
    mu: float
    s: float
    h: float
    log_ybar: float
    log_ymax: float  # ln(max y / ybar)
    r2: float  # E[y^2] / ybar^2

    def args(self) -> tuple:
        return (self.logy, self.iy, self.wy, self.p0, self.law, self.c0, self.mu, self.s,
                self.h, Z_MAX)


def _node_grid(mu: float, q: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Trapezoid nodes zeta_j = j h and weights h phi(zeta_j), folded when mu = 0."""
    # With the poles of y x / (1 - y x) corrected exactly (see _spectra_kernels) the
    # remaining integrand is entire; h = min(0.25, 0.3/sqrt(q)) reproduces the
    # h = min(0.05, 0.12/sqrt(q)) rule of theory.md 10.1 to ~1e-10 (checked in tests).
    h = min(H_MAX, H_SCALE / math.sqrt(q))
    n = int(math.ceil(Z_MAX / h))
    j = np.arange(0 if mu == 0.0 else -n, n + 1)
    zeta = j * h
    w = h * np.exp(-0.5 * zeta**2) / math.sqrt(2 * math.pi)
    if mu == 0.0:
        w[1:] *= 2.0
    return zeta, w, h


def vanilla_law(phi: str, sigma_w: float, mu: float, q: float) -> FactorLaw:
    """Law of y = sigma_w^2 phi'(e)^2, e ~ N(mu, q) (theory.md 5.3)."""
    lsw2 = 2.0 * math.log(sigma_w)
    if phi in ("relu", "linear"):
        alpha = 1.0 if phi == "linear" else 0.5 * math.erfc(-mu / math.sqrt(2.0 * q))
        one = np.ones(1)
        return FactorLaw(np.array([-math.log(alpha)]) if alpha > 0 else np.zeros(1),
                         one * alpha, one * alpha, 1.0 - alpha, kern.LAW_DISCRETE, 0.0, mu, 0.0,
                         1.0, lsw2 + math.log(max(alpha, 1e-300)), -math.log(max(alpha, 1e-300)),
                         1.0 / max(alpha, 1e-300))
    zeta, w, h = _node_grid(mu, q)
    e = mu + math.sqrt(q) * zeta
    if phi == "tanh":
        ae = np.abs(e)
        logy = lsw2 - 4.0 * (ae + np.log1p(np.exp(-2.0 * ae)) - math.log(2.0))
        c0, law = lsw2, kern.LAW_TANH
    elif phi == "erf":  # phi' = 2/sqrt(pi) exp(-e^2)
        logy = lsw2 + math.log(4.0 / math.pi) - 2.0 * e**2
        c0, law = lsw2 + math.log(4.0 / math.pi), kern.LAW_ERF
    else:  # "gate": y = sigmoid(e)^2 (sigma_w not included)
        logy = -2.0 * np.logaddexp(0.0, -e)
        c0, law = 0.0, kern.LAW_SIGMOID
    shift = float(np.max(logy))
    ybar_rel = float(np.sum(w * np.exp(logy - shift)))
    log_ybar = shift + math.log(ybar_rel)
    r2 = float(np.sum(w * np.exp(2 * (logy - log_ybar))))
    logy = logy - log_ybar
    iy = np.where(logy > -690.0, np.exp(-np.maximum(logy, -690.0)), 0.0)
    return FactorLaw(logy, iy, w, 0.0, law, c0 - log_ybar, mu, math.sqrt(q), h, log_ybar,
                     float(np.max(logy)), r2)


class SpectrumError(ArithmeticError):
    """The density's numerical continuation failed (the moments are still exact)."""


@dataclass(frozen=True)
class FreeProduct:
    """S-transform of the product: law^(boxtimes K) boxtimes MP(c, v)^(boxtimes M).

    ``MP(c, v)`` has S(z) = 1 / (c (1 + v z)) (mean c, variance ratio v); Gaussian W
    is MP(1, 1). ``atom0`` is the mass at lambda = 0, ``atom_w``/``atom_m`` one
    further atom at ln lambda = atom_w (normalised units).
    """

    law: FactorLaw
    K: float
    M: float = 0.0
    logc: float = 0.0
    v: float = 0.0
    atom0: float = 0.0
    atom_w: float = 0.0
    atom_m: float = 0.0

    @property
    def shift(self) -> float:
        """ln lambda = normalised w + shift."""
        return self.K * self.law.log_ybar

    def kargs(self) -> tuple:
        return (self.K, self.M, self.logc, self.v) + self.law.args()

    def var_ratio(self) -> float:
        """m2 / m1^2 of the product (S-transform expansion, theory.md 5.3)."""
        return 1.0 + self.K * (self.law.r2 - 1.0) + self.M * self.v


def free_density(fp: FreeProduct, n_points: int) -> tuple[np.ndarray, np.ndarray, float, bool]:
    """Density per unit ln lambda of a :class:`FreeProduct` on an adapted grid.

    Returns (ln lambda grid increasing, density per ln lambda, mass below grid, all_ok).
    """
    law = fp.law
    bound = fp.K * law.log_ymax + fp.M * (fp.logc + 2.0 * math.log1p(math.sqrt(fp.v))) + 0.5
    mid = fp.M * fp.logc
    sig = math.sqrt(max(math.log(fp.var_ratio()), 1e-12))
    floor = 2.0 * LOG_S_MIN - fp.shift
    cont = 1.0 - fp.atom0 - fp.atom_m
    eta_t = max(min(ETA_TRACK, sig / 20.0), 1e-7)
    top = min(bound, mid + 10.0 * sig + 5.0)
    while True:  # start above the support: the density there must vanish
        n, wc, ac, dfc, dc, status = kern.trace(
            top, floor, mid, max(sig / 4.0, 1e-5), 0.4 / sig, cont - MASS_TAIL, MASS_TAIL, eta_t,
            ETA_FINAL, TRACE_CAP, fp.atom0, fp.atom_w, fp.atom_m, *fp.kargs())
        if dc[0] < 1e-12 or top >= bound:
            break
        top = min(bound, top + 20.0 * sig + 20.0)
    if status == 2 or wc.size < 3:
        raise SpectrumError(f"the singular-value density could not be traced here (status "
                            f"{status} at ln λ = {wc[-1] + fp.shift:.4g}); the moments m1, m2 "
                            "are exact: use them, or a shorter T")
    stalled = status == 3  # step underflow: keep the law traced so far, flag it
    w_inc, d_inc = wc[::-1], dc[::-1]
    cdfs = [_cum(d_inc * np.exp(k * (w_inc - w_inc[-1])), w_inc) for k in (0, 1, 2)]
    below = max(cont - cdfs[0][-1], 0.0) if status == 1 else 0.0
    hi = min(int(np.searchsorted(cdfs[0], cdfs[0][-1] - 0.1 * MASS_TAIL)) + 1, w_inc.size - 1)
    path = (wc, ac, dfc, eta_t, ETA_FINAL, fp.atom0, fp.atom_w, fp.atom_m) + fp.kargs()
    edges = _edges(w_inc[: hi + 1], d_inc[: hi + 1], path)
    # edge refinement takes at most a third of the points (small n_points would leave none)
    n_edge = min(max(8, int(EDGE_SHARE * n_points)), n_points // (3 * len(edges))) if edges else 0
    grid = _adapted_grid(w_inc[: hi + 1], d_inc[: hi + 1], [c[: hi + 1] for c in cdfs],
                         n_points - n_edge * len(edges))
    for w_e, inward in edges:
        depth = EDGE_DEPTH * (grid[-1] - grid[0])
        # power-4 grading: the trapezoid rule stays accurate for sqrt and 1/sqrt edges
        offs = depth * np.linspace(0.0, 1.0, n_edge + 1)[1:] ** 4
        grid = np.concatenate((grid, w_e + inward * offs))
    grid = np.unique(np.clip(grid, w_inc[0], w_inc[hi]))
    dens, good = kern.solve_at(grid[::-1].copy(), *path)
    dens = np.maximum(dens[::-1], 0.0)
    return grid + fp.shift, dens, below, bool(np.all(good)) and not stalled


def _edges(w: np.ndarray, d: np.ndarray, path: tuple) -> list[tuple[float, int]]:
    """Support edges of the traced density (a zero region next to a positive one),
    located by bisection, as (w_edge, +1 if the support lies above else -1)."""
    thr = EDGE_THRESHOLD * float(np.max(d))
    pos = np.nonzero(d > thr)[0]
    out: list[tuple[float, int]] = []
    if pos.size == 0:
        return out
    for i_in, i_out, inward in ((pos[-1], pos[-1] + 1, -1), (pos[0], pos[0] - 1, 1)):
        if not 0 <= i_out < w.size:
            continue
        out.append((kern.edge(w[i_in], w[i_out], thr, 30, *path), inward))
    return out


def _cum(d: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Cumulative trapezoid integral of d over increasing w, starting at 0."""
    return np.concatenate(([0.0], np.cumsum(0.5 * (d[1:] + d[:-1]) * np.diff(w))))


def _adapted_grid(w: np.ndarray, d: np.ndarray, cdfs: list[np.ndarray], n: int) -> np.ndarray:
    """n increasing points equidistributed in a blend of ln lambda, the cdfs of the
    law and of its lambda- and lambda^2-weighted versions (where the moments live)
    and the arc length of the density curve (clusters points at square-root edges)."""
    span = w[-1] - w[0]
    dn = d / max(float(np.max(d)), 1e-300)
    arc = np.concatenate(([0.0], np.cumsum(np.hypot(np.diff(w) / span, np.diff(dn)))))
    parts = [(w - w[0]) / span, arc / arc[-1]] + [c / c[-1] for c in cdfs]
    g = sum(share * part for share, part in zip(GRID_SHARES, parts, strict=True))
    g, idx = np.unique(g, return_index=True)
    grid = np.interp(np.linspace(0.0, g[-1], n), g, w[idx])
    grid[0], grid[-1] = w[0], w[-1]
    return np.maximum.accumulate(grid)


def _check_int(name: str, value: object, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ParameterError(f"{name}: expected an integer, got {value!r}")
    if not lo <= int(value) <= hi:
        raise ParameterError(f"{name}: {value} is outside [{lo}, {hi}]")
    return int(value)


def spectrum(params: Params, T: int, n_points: int = 400) -> Spectrum:
    """Singular-value law of the T-step Jacobian at the stationary state (theory.md 5).

    Parameters
    ----------
    params : Params
        ``arch``, ``phi`` (vanilla), ``weights`` and the initialisation scales.
    T : int
        Number of steps, 1 .. 100000.
    n_points : int
        Approximate number of grid points (16 .. 20000).

    Returns
    -------
    Spectrum
        See the class docstring; ``method`` says what is exact.

    Raises
    ------
    ParameterError
        Bad T or n_points, no stationary state, or singular values beyond 1e300.
    """
    cells.require(params.arch, "spectrum")
    from theory.meanfield import point

    T = _check_int("T", T, 1, MAX_T)
    n_points = _check_int("n_points", n_points, MIN_POINTS, MAX_POINTS)
    pr = point(params)
    if not pr.exists:
        raise ParameterError(f"params: no stationary state ({pr.message})")
    return cells.get(params.arch).spectrum(params, T, n_points, pr)


def _exp(x: float) -> float:
    return math.exp(x) if x < 709.0 else math.inf


def _from_free(base: dict, fp: FreeProduct, n: int, atoms: tuple) -> Spectrum:
    w, dens, below, ok = free_density(fp, n)
    if w[-1] > 2 * LOG_S_MAX:
        raise ParameterError(f"T: singular values beyond 1e300 (ln s up to {w[-1] / 2:.4g})")
    log_s = 0.5 * w
    s = np.exp(log_s)
    method = base.pop("method") + ("" if ok else " [some grid points did not converge]")
    return Spectrum(s=s, pdf=2.0 * dens / s, pdf_log_s=2.0 * dens,
                    atom_at_zero=dict(atoms).get(0.0, 0.0), atoms=atoms,
                    mass_below_grid=below, method=method, **base)


def _atoms_only(base: dict, atoms: tuple, n: int) -> Spectrum:
    """A law made of point masses: a grid around them with zero density."""
    pos = [s for s, _ in atoms if s > 0]
    centre = pos[0] if pos else 1.0
    s = centre * np.exp(np.linspace(-0.5, 0.5, n))
    z = np.zeros(n)
    return Spectrum(s=s, pdf=z, pdf_log_s=z.copy(), atom_at_zero=dict(atoms).get(0.0, 0.0),
                    atoms=atoms, **base)


def free_factor_spectrum(p: Params, T: int, n: int, chi_jac: float, mu: float, q: float,
                         nu1: float, nu2: float, method: str) -> Spectrum:
    """Free-factor approximation for a gated step J = diag(u) + sum_k diag(B_k) W_k.

    The T one-step Jacobians are treated as free copies of one step whose law is
    law(u^2), u = sigmoid(e), e ~ N(mu, q), free-multiplied by a Marchenko-Pastur factor
    fitted to the exact single-step mean ``nu1`` and second moment ``nu2`` (theory.md
    5.4, gated-cells.md 5.3); m1 = chi_jac^T, m2 the free-factor value.
    """
    law = vanilla_law("gate", 1.0, mu, q)
    a2 = math.exp(law.log_ybar)
    v_mix = min(max(nu2 / nu1**2 - law.r2, 0.0), 1.0)
    log_m1 = T * math.log(chi_jac)
    m1 = _exp(log_m1)
    m2 = _exp(2 * log_m1) * (1.0 + T * (nu2 / nu1**2 - 1.0))
    fp = FreeProduct(law, float(T), float(T), math.log(nu1 / a2), v_mix)
    base = dict(params=p, T=T, m1=m1, m2=m2, method=method, exact=False,
                extras={"single_step_m1": nu1, "single_step_m2": nu2, "mp_v": v_mix})
    return _from_free(base, fp, n, ())


def moments_only_spectrum(p: Params, T: int, m1: float, m2: float, method: str) -> Spectrum:
    """A :class:`Spectrum` that carries the moments but no density (``has_density`` False)."""
    s = np.array([math.sqrt(m1)]) if math.isfinite(m1) and m1 > 0 else np.ones(1)
    return Spectrum(params=p, T=T, s=s, pdf=np.zeros(1), pdf_log_s=np.zeros(1), atom_at_zero=0.0,
                    m1=m1, m2=m2, method=method, exact=False, has_density=False)
