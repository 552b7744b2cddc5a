"""The dashboard's whole state as one frozen, hashable value.

A :class:`ViewState` is what the URL encodes and what every callback parses its
control values into. ``mode`` is the cell shown (vanilla, minimal, gru, lstm) and
``compare`` a second cell drawn beside it ("" for none; never ``mode``). Numbers are
always clamped to the slider range of the cells shown (:func:`specs.range_key`) and
rounded to the slider step, so equal views compare equal and the theory cache
(keyed on the state's parameters) hits. :meth:`ViewState.params` gives each cell
only the parameters that apply to it (gated-cells.md 1.4, 10).

Example
-------
>>> s = ViewState.default("minimal")
>>> s.params("minimal").mu_b
2.0
>>> s.replace(sigma_w=3.14159).sigma_w
3.14
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from components import specs
from components.trainability_maps import default_k
from theory import PHIS, Params
from theory.types import CLOSURES, GATES, GRU_VARIANTS


@dataclass(frozen=True)
class ViewState:
    """Every control of the dashboard (see :mod:`components.specs`)."""

    mode: str = "vanilla"
    compare: str = ""
    phi: str = "tanh"
    weights: str = "orthogonal"
    sigma_w: float = 1.2
    sigma_b: float = 0.2
    mu_b: float = 0.0
    sigma_v: float = 0.5
    R: float = 1.0
    Sigma: float = 0.0
    mu_i: float = 0.0
    mu_o: float = 0.0
    mu_r: float = 0.0
    gru_variant: str = "reset_after"
    closure: str = "gc"
    T: int = specs.DEFAULT_T
    k: float = specs.DEFAULT_K
    x: str = "sigma_w"
    y: str = "sigma_b"
    field: str = "xi_jac"
    n: int = specs.DEFAULT_GRID
    N: int = specs.DEFAULT_N
    seed: int = specs.DEFAULT_SEED
    sample: bool = False
    simulate: bool = False

    def __post_init__(self) -> None:
        if self.mode == "both" and self.compare == "":  # old links' side-by-side mode
            object.__setattr__(self, "mode", specs.LEGACY_BOTH[0])
            object.__setattr__(self, "compare", specs.LEGACY_BOTH[1])
        if self.mode not in specs.MODES:
            raise ValueError(f"mode: {self.mode!r} is not one of {specs.MODES}")
        if self.compare not in specs.COMPARE or self.compare == self.mode:
            raise ValueError(f"compare: {self.compare!r} is not one of the other cells")
        for name, choices in (("phi", PHIS), ("weights", specs.WEIGHTS), ("field", specs.FIELDS),
                              ("gru_variant", GRU_VARIANTS), ("closure", CLOSURES)):
            if getattr(self, name) not in choices:
                raise ValueError(f"{name}: {getattr(self, name)!r} is not one of {choices}")
        if self.weights == "block-orthogonal" and not self.gated:
            object.__setattr__(self, "weights", "orthogonal")  # no gate blocks to cut
        if (self.x, self.y) not in specs.PLANES:
            raise ValueError(f"plane: ({self.x}, {self.y}) is not a plane")
        if self.n not in specs.GRID_SIZES:
            raise ValueError(f"n: {self.n} is not one of {specs.GRID_SIZES}")
        for name in specs.SLIDERS:
            lo, hi = specs.slider_range(self.ranges, name)
            object.__setattr__(self, name, quantise(name, getattr(self, name), lo, hi))
        object.__setattr__(self, "N", int(min(max(int(self.N), specs.N_RANGE[0]),
                                              specs.N_RANGE[1])))
        object.__setattr__(self, "seed", int(min(max(int(self.seed), 0), specs.SEED_RANGE[1])))
        object.__setattr__(self, "sample", bool(self.sample))
        object.__setattr__(self, "simulate", bool(self.simulate))

    @classmethod
    def default(cls, mode: str = "vanilla") -> ViewState:
        """The start view of cell ``mode``: its default parameters and plane.

        ``"both"`` (old links) is the vanilla RNN beside the minimalRNN, from the
        minimalRNN's defaults (gate bias 2, sigma_w 2: inside both models'
        interesting regions).
        """
        if mode == "both":
            x, y = specs.DEFAULT_PLANE["compare"]
            return cls(mode=specs.LEGACY_BOTH[0], compare=specs.LEGACY_BOTH[1], x=x, y=y,
                       **specs.default_values(specs.LEGACY_BOTH[1]))
        x, y = specs.DEFAULT_PLANE[mode]
        # k: the measured k of the mode's architecture when a map of it is shipped
        return cls(mode=mode, x=x, y=y, k=default_k(mode), **specs.default_values(mode))

    @property
    def archs(self) -> tuple[str, ...]:
        """Cells shown, in display order: ``mode``, then ``compare`` if set."""
        return (self.mode, self.compare) if self.compare else (self.mode,)

    @property
    def ranges(self) -> str:
        """Key of the slider ranges and log axes in force (:func:`specs.range_key`)."""
        return specs.range_key(self.archs)

    @property
    def gated(self) -> bool:
        """Whether a GRU or an LSTM is shown (block-orthogonal W, untied labels)."""
        return any(a in GATES for a in self.archs)

    def params(self, arch: str) -> Params:
        """The :class:`theory.Params` of cell ``arch`` at this view.

        Each cell gets only what applies to it (gated-cells.md 1.4): the GRU its
        variant and mu_r, the LSTM mu_i, mu_o and its closure; block-orthogonal W
        becomes orthogonal for the vanilla RNN and the minimalRNN; the gated cells
        ignore phi (sigmoid gates, tanh candidate), so they get the default.
        """
        values = {name: getattr(self, name) for name in specs.PARAM_NAMES}
        weights = self.weights
        if arch not in GATES and weights == "block-orthogonal":
            weights = "orthogonal"
        extra: dict[str, Any] = {}
        if arch == "gru":
            extra = {"gru_variant": self.gru_variant, "mu_r": self.mu_r}
        elif arch == "lstm":
            extra = {"mu_i": self.mu_i, "mu_o": self.mu_o, "closure": self.closure}
        phi = "tanh" if arch in GATES else self.phi
        return Params(arch=arch, phi=phi, weights=weights, **values, **extra)

    def replace(self, **changes: Any) -> ViewState:
        """Copy with ``changes`` (clamped and rounded like the constructor)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def quantise(name: str, value: Any, lo: float, hi: float) -> float | int:
    """``value`` clamped to [lo, hi] and rounded to the step of slider ``name``.

    Raises ValueError for values that are not finite numbers.
    """
    spec = specs.SLIDERS[name]
    try:
        x = float(value)
    except OverflowError:  # an integer beyond the float range
        raise ValueError(f"{name}: {value!r} is not a finite number") from None
    if not math.isfinite(x):
        raise ValueError(f"{name}: {value!r} is not a finite number")
    x = min(max(x, lo), hi)
    steps = round((x - lo) / spec.step)
    x = min(max(round(lo + steps * spec.step, spec.decimals), lo), hi)
    return int(x) if spec.integer else float(x)
