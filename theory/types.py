"""Parameter and result types shared by every calculator in :mod:`theory`.

Names follow section 11 of ``shared/theory.md`` (the project's vocabulary): the
same words are used for Python keyword arguments, CLI flags (``-`` for ``_``),
JSON keys and URL keys.

Example
-------
>>> from theory.types import Params
>>> p = Params(arch="minimal", sigma_w=2.0, mu_b=4.0)
>>> p.replace(sigma_w=3.0).sigma_w
3.0
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

ARCHS = ("vanilla", "minimal")
PHIS = ("tanh", "erf", "relu", "linear")
WEIGHTS = ("gaussian", "orthogonal")
PHASES = ("ordered", "critical", "chaotic")

#: Documented range of every numeric parameter: (low, high, low_inclusive).
#: Values outside are rejected with :class:`ParameterError`.
PARAM_RANGES: dict[str, tuple[float, float, bool]] = {
    "sigma_w": (0.0, 10.0, False),
    "sigma_b": (0.0, 2.0, True),
    "sigma_v": (0.0, 3.0, True),
    "mu_b": (-6.0, 10.0, True),
    "R": (0.0, 4.0, False),
    "Sigma": (0.0, 1.0, True),
}

#: Parameters that may span a phase-diagram axis.
PLANE_PARAMS = ("sigma_w", "sigma_b", "mu_b", "sigma_v")

#: |chi_jac - 1| below this is called ``critical``.
PHASE_TOL = 1e-3


class ParameterError(ValueError):
    """A parameter is non-numeric, not finite, unknown or out of its range.

    The message always starts with the parameter's name.
    """


def check_number(name: str, value: Any) -> float:
    """Return ``value`` as a float inside ``PARAM_RANGES[name]`` or raise.

    Raises
    ------
    ParameterError
        If the value is not a real number, is NaN/inf, or lies outside its range.
    """
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{name}: expected a number, got {value!r}") from None
    if isinstance(value, bool) or not math.isfinite(x):
        raise ParameterError(f"{name}: expected a finite number, got {value!r}")
    lo, hi, lo_incl = PARAM_RANGES[name]
    if x > hi or x < lo or (x == lo and not lo_incl):
        bracket = "[" if lo_incl else "("
        raise ParameterError(f"{name}: {x:g} is outside {bracket}{lo:g}, {hi:g}]")
    return x


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise ParameterError."""
    if value not in choices:
        raise ParameterError(f"{name}: {value!r} is not one of {', '.join(choices)}")
    return str(value)


@dataclass(frozen=True)
class Params:
    """One point of the initialisation ensemble (theory.md section 1.3).

    Parameters
    ----------
    arch : {"vanilla", "minimal"}
        Vanilla RNN (section 1.1) or minimalRNN (section 1.2).
    phi : {"tanh", "erf", "relu", "linear"}
        Vanilla nonlinearity; ignored by the minimalRNN (its gate is a sigmoid).
    weights : {"gaussian", "orthogonal"}
        Law of the recurrent matrix W. The mean-field maps do not depend on it;
        spectra and simulations do.
    sigma_w, sigma_b, sigma_v, mu_b, R, Sigma : float
        sigma_w in (0, 10], sigma_b in [0, 2], sigma_v in [0, 3], mu_b in [-6, 10],
        R in (0, 4], Sigma in [0, 1].
    """

    arch: str = "vanilla"
    phi: str = "tanh"
    weights: str = "orthogonal"
    sigma_w: float = 1.2
    sigma_b: float = 0.2
    sigma_v: float = 0.5
    mu_b: float = 0.0
    R: float = 1.0
    Sigma: float = 0.0

    def __post_init__(self) -> None:
        check_choice("arch", self.arch, ARCHS)
        check_choice("phi", self.phi, PHIS)
        check_choice("weights", self.weights, WEIGHTS)
        for name in PARAM_RANGES:
            object.__setattr__(self, name, check_number(name, getattr(self, name)))

    def replace(self, **changes: Any) -> Params:
        """Return a copy with ``changes`` applied (and validated)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of the section-11 names."""
        return dataclasses.asdict(self)

    @property
    def input_variance(self) -> float:
        """sigma_v^2 R + sigma_b^2, the input-plus-bias part of q_t (eq. 2.1)."""
        return self.sigma_v**2 * self.R + self.sigma_b**2


def default_params(arch: str = "vanilla") -> Params:
    """Sensible defaults per architecture (the dashboard's start view).

    Vanilla: tanh, sigma_w=1.2, sigma_b=0.2, sigma_v=0.5, R=1, Sigma=0 (theory.md
    section 9, preset of Fig. ~1). minimalRNN: sigma_w=2, mu_b=2, sigma_v=1,
    sigma_b=0, R=1, Sigma=0 (section 9, preset of Fig. ~2).
    """
    if arch == "minimal":
        return Params(arch="minimal", sigma_w=2.0, sigma_b=0.0, sigma_v=1.0, mu_b=2.0)
    return Params(arch=check_choice("arch", arch, ARCHS))


def xi_from_chi(chi: float) -> float:
    """Timescale xi = -1/ln(chi) for 0 < chi < 1; ``inf`` for chi >= 1, 0 for chi <= 0.

    See theory.md section 3.3 and 10.3.
    """
    if not math.isfinite(chi):
        return math.nan
    if chi >= 1.0:
        return math.inf
    if chi <= 0.0:
        return 0.0
    return -1.0 / math.log(chi)


def phase_of(chi_jac: float, tol: float = PHASE_TOL) -> str:
    """``ordered``/``critical``/``chaotic`` for chi_jac below/at/above 1 within ``tol``."""
    if not math.isfinite(chi_jac):
        return "chaotic"
    if abs(chi_jac - 1.0) <= tol:
        return "critical"
    return "ordered" if chi_jac < 1.0 else "chaotic"


def _json_number(x: float) -> float | None:
    return None if not math.isfinite(x) else float(x)


@dataclass(frozen=True)
class PointResult:
    """Fixed points, slopes and timescales at one parameter point.

    Attributes use the section-11 names. ``xi_*`` is ``inf`` where the matching
    chi >= 1. ``exists`` is False where the variance map has no finite stable
    fixed point (e.g. linear phi with sigma_w >= 1); the numbers are then NaN and
    ``message`` says why. ``q_converged``/``c_converged`` report how the two
    solves ended; ``iterations`` counts map evaluations of both.
    """

    params: Params
    q_star: float
    Q_star: float
    c_star: float
    C_star: float
    chi_q: float
    chi_c: float
    chi_jac: float
    xi_q: float
    xi_c: float
    xi_jac: float
    phase: str
    branch: str | None = None
    bistable: bool = False
    exists: bool = True
    q_converged: bool = True
    c_converged: bool = True
    iterations: int = 0
    message: str = ""

    @property
    def converged(self) -> bool:
        """Both solves converged."""
        return self.q_converged and self.c_converged

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: parameters, then results; non-finite numbers -> None."""
        out: dict[str, Any] = self.params.to_dict()
        for f in dataclasses.fields(self):
            if f.name == "params":
                continue
            v = getattr(self, f.name)
            out[f.name] = _json_number(v) if isinstance(v, float) else v
        out["converged"] = self.converged
        return out


@dataclass(frozen=True)
class Trajectory:
    """q_t, Q_t, c_t, C_t for t = 0..T from h_0 = 0 (theory.md eqs. 3.1-3.2, 4.1-4.2).

    Index 0 describes h_0 = 0: Q_0 = 0 and C_0 = 1 (both sequences start in the
    same state); q_0 and c_0 are NaN (there is no pre-activation before t = 1).
    At t = 1 the two sequences get independent inputs; from t = 2 on their inputs
    have correlation ``params.Sigma``.
    """

    params: Params
    t: np.ndarray
    q: np.ndarray
    Q: np.ndarray
    c: np.ndarray
    C: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"params": self.params.to_dict()}
        for name in ("t", "q", "Q", "c", "C"):
            arr = getattr(self, name)
            out[name] = [None if not math.isfinite(v) else float(v) for v in arr]
        return out


@dataclass(frozen=True)
class GridResult:
    """Every quantity of :class:`PointResult` on a 2-D grid.

    ``fields[name]`` has shape ``(len(y), len(x))`` (rows follow y), float64.
    Names: q_star, Q_star, c_star, C_star, chi_q, chi_c, chi_jac, xi_q, xi_c,
    xi_jac, exists (1/0), bistable (1/0), branch_high (1/0; minimalRNN), phase
    (-1 ordered, 0 critical, +1 chaotic), converged (1/0).
    """

    params: Params
    x_name: str
    x: np.ndarray
    y_name: str
    y: np.ndarray
    fields: dict[str, np.ndarray] = field(default_factory=dict)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.fields[name]


@dataclass(frozen=True)
class CriticalLine:
    """A critical line in the (x, y) plane as polylines ready to draw.

    ``kind`` is ``"chi_jac"`` (chi_jac = 1) or ``"saddle_node"`` (minimalRNN,
    end of the low branch, chi_q = 1). ``segments`` is a list of (n, 2) arrays of
    (x, y) vertices.
    """

    kind: str
    x_name: str
    y_name: str
    segments: list[np.ndarray]
