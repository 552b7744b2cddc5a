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

ARCHS = ("vanilla", "minimal", "gru", "lstm")
#: Architectures with a memory gate (``mu_b`` is that gate's bias mean).
GATED_ARCHS = ("minimal", "gru", "lstm")
PHIS = ("tanh", "erf", "relu", "linear")
WEIGHTS = ("gaussian", "orthogonal", "block-orthogonal")
PHASES = ("ordered", "critical", "chaotic")
GRU_VARIANTS = ("reset_after", "reset_before")
#: LSTM closures of E[tanh^2 c] (gated-cells.md 4.4, 4.4b).
CLOSURES = ("gc", "gc4")
#: Gates of the GRU and the LSTM (gated-cells.md 1.1, 1.2); the memory gate first.
GATES = {"gru": ("z", "r", "n"), "lstm": ("f", "i", "g", "o")}
#: The gate whose bias mean is ``mu_b`` (gated-cells.md 1.4).
MEMORY_GATE = {"gru": "z", "lstm": "f"}

#: Documented range of every numeric parameter: (low, high, low_inclusive).
#: Values outside are rejected with :class:`ParameterError`.
PARAM_RANGES: dict[str, tuple[float, float, bool]] = {
    "sigma_w": (0.0, 10.0, False),
    "sigma_b": (0.0, 2.0, True),
    "sigma_v": (0.0, 3.0, True),
    "mu_b": (-6.0, 10.0, True),
    "R": (0.0, 4.0, False),
    "Sigma": (0.0, 1.0, True),
    "mu_i": (-6.0, 10.0, True),
    "mu_o": (-6.0, 10.0, True),
    "mu_r": (-6.0, 10.0, True),
}

#: Advanced named parameters and the architecture each applies to (gated-cells.md 1.4).
ARCH_ONLY = {"mu_i": "lstm", "mu_o": "lstm", "mu_r": "gru", "gru_variant": "gru",
             "closure": "lstm"}

#: Ranges of the per-gate overrides (gated-cells.md 1.4, 10) by prefix.
OVERRIDE_RANGES: dict[str, tuple[float, float, bool]] = {
    "sigma_w": (0.0, 10.0, True),
    "sigma_v": (0.0, 3.0, True),
    "sigma_b": (0.0, 2.0, True),
    "sigma_bh": (0.0, 2.0, True),
}

#: Parameters that may span a phase-diagram axis.
PLANE_PARAMS = ("sigma_w", "sigma_b", "mu_b", "sigma_v")

#: |chi_jac - 1| below this is called ``critical``.
PHASE_TOL = 1e-3


class ParameterError(ValueError):
    """A parameter is non-numeric, not finite, unknown or out of its range.

    The message always starts with the parameter's name.
    """


def check_number(name: str, value: Any,
                 rng: tuple[float, float, bool] | None = None) -> float:
    """Return ``value`` as a float inside ``rng`` (default ``PARAM_RANGES[name]``) or raise.

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
    lo, hi, lo_incl = PARAM_RANGES[name] if rng is None else rng
    if x > hi or x < lo or (x == lo and not lo_incl):
        bracket = "[" if lo_incl else "("
        raise ParameterError(f"{name}: {x:g} is outside {bracket}{lo:g}, {hi:g}]")
    return x


def check_positive(name: str, value: object, upper: float) -> float:
    """``value`` as a float in (0, upper], else ParameterError."""
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ParameterError(f"{name}: expected a number, got {value!r}") from None
    if not math.isfinite(x) or not 0.0 < x <= upper:
        raise ParameterError(f"{name}: {value!r} is outside (0, {upper:g}]")
    return x


def check_int(name: str, value: object, upper: int) -> int:
    """``value`` as an int in [1, upper] (integral floats accepted), else ParameterError."""
    if isinstance(value, bool) or not isinstance(value, int) and not (
            isinstance(value, float) and value.is_integer()):
        try:
            import numpy as np

            if isinstance(value, np.integer):
                value = int(value)
            else:
                raise TypeError
        except TypeError:
            raise ParameterError(f"{name}: expected an integer, got {value!r}") from None
    n = int(value)  # type: ignore[arg-type]
    if not 1 <= n <= upper:
        raise ParameterError(f"{name}: {n} is outside [1, {upper}]")
    return n


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise ParameterError."""
    if value not in choices:
        raise ParameterError(f"{name}: {value!r} is not one of {', '.join(choices)}")
    return str(value)


def override_names(arch: str, gru_variant: str = "reset_after") -> tuple[str, ...]:
    """Per-gate override names valid for ``arch`` (gated-cells.md 1.4, 10).

    ``sigma_w_<k>``, ``sigma_v_<k>``, ``sigma_b_<k>`` for every gate k; the bias means
    of the gates without a named parameter are fixed at 0 (the memory gate's is
    ``mu_b``, LSTM ``mu_i``/``mu_o`` and GRU ``mu_r`` are named parameters, and the
    candidate's mean must be 0: see :class:`Params`). GRU ``reset_after`` adds
    ``sigma_bh_n``, the spread of the bias b'_n inside the reset product.
    """
    if arch not in GATES:
        return ()
    names = tuple(f"{kind}_{k}" for k in GATES[arch] for kind in ("sigma_w", "sigma_v", "sigma_b"))
    return names + (("sigma_bh_n",) if arch == "gru" and gru_variant == "reset_after" else ())


@dataclass(frozen=True)
class GateParams:
    """The ensemble of one gate k (gated-cells.md 1.3): W_k, V_k scales, bias law."""

    sigma_w: float
    sigma_v: float
    sigma_b: float
    mu: float


@dataclass(frozen=True)
class Params:
    """One point of the initialisation ensemble (theory.md 1.3, gated-cells.md 1.3-1.4).

    Parameters
    ----------
    arch : {"vanilla", "minimal", "gru", "lstm"}
        Vanilla RNN (theory.md 1.1), minimalRNN (1.2), GRU or LSTM (gated-cells.md
        1.2, 1.1).
    phi : {"tanh", "erf", "relu", "linear"}
        Vanilla nonlinearity; ignored by the gated cells (their gates are sigmoids,
        their candidates tanh).
    weights : {"gaussian", "orthogonal", "block-orthogonal"}
        Law of the recurrent matrices. The mean-field maps do not depend on it;
        spectra and simulations do. ``block-orthogonal`` (one orthogonal matrix cut
        into gate blocks, as Keras and Flax-nnx build it) applies to GRU and LSTM.
    sigma_w, sigma_b, sigma_v, mu_b, R, Sigma : float
        sigma_w in (0, 10], sigma_b in [0, 2], sigma_v in [0, 3], mu_b in [-6, 10],
        R in (0, 4], Sigma in [0, 1]. For the gated cells sigma_w, sigma_v, sigma_b are
        shared by every gate and ``mu_b`` is the memory gate's bias mean (minimalRNN
        gate u, GRU update gate z, LSTM forget gate f).
    gru_variant : {"reset_after", "reset_before"}
        GRU only: where the reset gate acts (gated-cells.md 1.2).
    mu_i, mu_o : float
        LSTM only: input- and output-gate bias means, in [-6, 10].
    mu_r : float
        GRU only: reset-gate bias mean, in [-6, 10].
    closure : {"gc", "gc4"}
        LSTM only: Gaussian closure of E[tanh^2 c] (eq. 4.4) or its fourth-cumulant
        correction for the one-sequence quantities (eq. 4.4b).
    overrides : mapping of str to float
        GRU/LSTM only: per-gate values replacing the shared ones, named
        ``sigma_w_<k>``, ``sigma_v_<k>``, ``sigma_b_<k>`` (and ``sigma_bh_n`` for the GRU
        reset_after bias b'_n); see :func:`override_names`. Stored as a sorted tuple of
        pairs, so a Params stays hashable.
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
    gru_variant: str = "reset_after"
    mu_i: float = 0.0
    mu_o: float = 0.0
    mu_r: float = 0.0
    closure: str = "gc"
    overrides: Any = ()

    def __post_init__(self) -> None:
        check_choice("arch", self.arch, ARCHS)
        check_choice("phi", self.phi, PHIS)
        check_choice("weights", self.weights, WEIGHTS)
        check_choice("gru_variant", self.gru_variant, GRU_VARIANTS)
        check_choice("closure", self.closure, CLOSURES)
        if self.weights == "block-orthogonal" and self.arch not in GATES:
            raise ParameterError("weights: 'block-orthogonal' applies to arch 'gru' and 'lstm' "
                                 "only (one orthogonal matrix cut into gate blocks)")
        for name in PARAM_RANGES:
            object.__setattr__(self, name, check_number(name, getattr(self, name)))
        defaults = _FIELD_DEFAULTS
        for name, arch in ARCH_ONLY.items():
            if self.arch != arch and getattr(self, name) != defaults[name]:
                raise ParameterError(f"{name}: applies to arch '{arch}' only "
                                     f"(got {getattr(self, name)!r} with arch '{self.arch}')")
        object.__setattr__(self, "overrides", self._checked_overrides())

    def _checked_overrides(self) -> tuple[tuple[str, float], ...]:
        raw = self.overrides
        if isinstance(raw, dict):
            items = list(raw.items())
        else:
            try:
                items = [(str(k), v) for k, v in raw]
            except (TypeError, ValueError):
                raise ParameterError(f"overrides: expected a mapping of names to numbers, "
                                     f"got {raw!r}") from None
        valid = override_names(self.arch, self.gru_variant)
        out = {}
        for name, value in items:
            if name not in valid:
                hint = (f"valid for arch '{self.arch}': {', '.join(valid)}" if valid else
                        f"arch '{self.arch}' has no per-gate parameters")
                if name in ("mu_f", "mu_z", "mu_u"):
                    hint = "the memory gate's bias mean is mu_b"
                elif name in ("mu_i", "mu_o", "mu_r"):
                    hint = f"{name} is a named parameter: Params({name}=...)"
                elif name in ("mu_g", "mu_n", "mu_bh_n"):
                    hint = ("candidate bias means other than 0 are not supported (no framework "
                            "uses them; gated-cells.md 1.4)")
                raise ParameterError(f"{name}: not a per-gate override here ({hint})")
            prefix = name.rsplit("_", 1)[0]
            out[name] = check_number(name, value, OVERRIDE_RANGES[prefix])
        return tuple(sorted(out.items()))

    def replace(self, **changes: Any) -> Params:
        """Return a copy with ``changes`` applied (and validated)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of the section-11 names that apply to this architecture.

        Advanced GRU/LSTM parameters appear only for the architecture they apply
        to; ``overrides`` (a dict) only when some are set.
        """
        out = dataclasses.asdict(self)
        for name, arch in ARCH_ONLY.items():
            if self.arch != arch:
                del out[name]
        out["overrides"] = dict(self.overrides)
        if not self.overrides:
            del out["overrides"]
        return out

    @property
    def input_variance(self) -> float:
        """sigma_v^2 R + sigma_b^2, the input-plus-bias part of q_t (eq. 2.1)."""
        return self.sigma_v**2 * self.R + self.sigma_b**2

    def gate(self, k: str) -> GateParams:
        """The ensemble of gate ``k`` of a GRU or LSTM (gated-cells.md 1.3-1.4).

        Shared sigma_w, sigma_v, sigma_b unless overridden; bias mean ``mu_b`` for the
        memory gate, ``mu_i``/``mu_o``/``mu_r`` for those gates, 0 for the candidate.
        """
        if self.arch not in GATES or k not in GATES[self.arch]:
            raise ParameterError(f"gate: {k!r} is not a gate of arch '{self.arch}'")
        ov = dict(self.overrides)
        mu = {"f": self.mu_b, "z": self.mu_b, "i": self.mu_i, "o": self.mu_o,
              "r": self.mu_r}.get(k, 0.0)
        return GateParams(sigma_w=ov.get(f"sigma_w_{k}", self.sigma_w),
                          sigma_v=ov.get(f"sigma_v_{k}", self.sigma_v),
                          sigma_b=ov.get(f"sigma_b_{k}", self.sigma_b), mu=mu)

    @property
    def sigma_bh_n(self) -> float:
        """GRU reset_after: spread of the bias b'_n inside the reset product (default 0)."""
        return dict(self.overrides).get("sigma_bh_n", 0.0)


_FIELD_DEFAULTS = {f.name: f.default for f in dataclasses.fields(Params)}


def default_params(arch: str = "vanilla") -> Params:
    """Sensible defaults per architecture (the dashboard's start view).

    Vanilla: tanh, sigma_w=1.2, sigma_b=0.2, sigma_v=0.5, R=1, Sigma=0 (theory.md
    section 9, preset of Fig. ~1). minimalRNN: sigma_w=2, mu_b=2, sigma_v=1,
    sigma_b=0, R=1, Sigma=0 (section 9, preset of Fig. ~2). GRU and LSTM: the
    defaults of gated-cells.md 1.4 (sigma_w=1, sigma_v=1, sigma_b=0, mu_b=0, R=1,
    Sigma=0; GRU reset_after, LSTM Gaussian closure).
    """
    if arch == "minimal":
        return Params(arch="minimal", sigma_w=2.0, sigma_b=0.0, sigma_v=1.0, mu_b=2.0)
    if arch in GATES:
        return Params(arch=arch, sigma_w=1.0, sigma_b=0.0, sigma_v=1.0, mu_b=0.0)
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


def tau_from_chi(chi: float) -> float:
    """Two-sided timescale 1/|ln chi|: the decay time for chi < 1, the growth (explosion)
    time for chi > 1; ``inf`` at chi = 1, 0 for chi <= 0 (theory.md 3.3 for the decay side).

    Gradients through T steps scale like chi_jac^T, so "T < k tau_jac" bounds the
    gradient-trainable band on both sides of the critical line.
    """
    if not math.isfinite(chi):
        return math.nan
    if chi <= 0.0:
        return 0.0
    if chi == 1.0:
        return math.inf
    return 1.0 / abs(math.log(chi))


def phase_of(chi_jac: float, tol: float = PHASE_TOL) -> str:
    """``ordered``/``critical``/``chaotic`` for chi_jac below/at/above 1 within ``tol``."""
    if not math.isfinite(chi_jac):
        return "chaotic"
    if abs(chi_jac - 1.0) <= tol:
        return "critical"
    return "ordered" if chi_jac < 1.0 else "chaotic"


#: Tied-network indicator thresholds of gated-cells.md eq. (2.5).
RHO_TIED_MAX = 0.3
SIGMA_B_TIED_MAX = 0.2
_GATED_EXTRAS = frozenset({"Qc_star", "Cc_star", "rho_tied", "jac_matrix", "q_gates"})


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
    Qc_star: float = math.nan
    Cc_star: float = math.nan
    rho_tied: float = math.nan
    jac_matrix: tuple[tuple[float, float], tuple[float, float]] | None = None
    q_gates: dict[str, float] | None = None

    @property
    def converged(self) -> bool:
        """Both solves converged."""
        return self.q_converged and self.c_converged

    @property
    def tau_jac(self) -> float:
        """1/|ln chi_jac|: memory time when ordered, gradient growth time when chaotic."""
        return tau_from_chi(self.chi_jac)

    @property
    def tied_warning(self) -> bool:
        """GRU/LSTM: real (tied-weight) networks deviate from this untied mean field.

        The indicator of gated-cells.md eq. (2.5): rho_tied > 0.3 or sigma_b > 0.2.
        """
        if self.params.arch not in GATES:
            return False
        return bool(self.rho_tied > RHO_TIED_MAX or self.params.sigma_b > SIGMA_B_TIED_MAX)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: parameters, then results; non-finite numbers -> None.

        The GRU/LSTM extras (``Qc_star``, ``Cc_star``, ``rho_tied``, ``jac_matrix``,
        ``q_gates``, ``tied_warning``) appear for those architectures only.
        """
        out: dict[str, Any] = self.params.to_dict()
        gated = self.params.arch in GATES
        for f in dataclasses.fields(self):
            if f.name == "params" or (f.name in _GATED_EXTRAS and not gated):
                continue
            v = getattr(self, f.name)
            out[f.name] = _json_number(v) if isinstance(v, float) else v
        if gated:
            out["tied_warning"] = self.tied_warning
            if self.params.arch != "lstm":
                for name in ("Qc_star", "Cc_star", "jac_matrix"):
                    out.pop(name)
        out["tau_jac"] = _json_number(self.tau_jac)
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
    xi_jac, tau_jac (1/|ln chi_jac|, finite on both sides of the critical line),
    exists (1/0), bistable (1/0), branch_high (1/0; minimalRNN, GRU), phase
    (-1 ordered, 0 critical, +1 chaotic), converged (1/0); GRU/LSTM also their
    ``Cell.extra_names`` (e.g. rho_tied, Qc_star).
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
