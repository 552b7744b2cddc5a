"""The dashboard's whole state as one frozen, hashable value.

A :class:`ViewState` is what the URL encodes and what every callback parses its
control values into. Numbers are always clamped to the mode's slider range and
rounded to the slider step, so equal views compare equal and the theory cache
(keyed on the state's parameters) hits.

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
from theory import PHIS, Params


@dataclass(frozen=True)
class ViewState:
    """Every control of the dashboard (see :mod:`components.specs`)."""

    mode: str = "vanilla"
    phi: str = "tanh"
    weights: str = "orthogonal"
    sigma_w: float = 1.2
    sigma_b: float = 0.2
    mu_b: float = 0.0
    sigma_v: float = 0.5
    R: float = 1.0
    Sigma: float = 0.0
    T: int = specs.DEFAULT_T
    k: float = specs.DEFAULT_K
    x: str = "sigma_w"
    y: str = "sigma_b"
    field: str = "xi_jac"
    n: int = specs.DEFAULT_GRID
    N: int = specs.DEFAULT_N
    seed: int = specs.DEFAULT_SEED
    sample: bool = False

    def __post_init__(self) -> None:
        if self.mode not in specs.MODES:
            raise ValueError(f"mode: {self.mode!r} is not one of {specs.MODES}")
        for name, choices in (("phi", PHIS), ("weights", specs.WEIGHTS), ("field", specs.FIELDS)):
            if getattr(self, name) not in choices:
                raise ValueError(f"{name}: {getattr(self, name)!r} is not one of {choices}")
        if (self.x, self.y) not in specs.PLANES:
            raise ValueError(f"plane: ({self.x}, {self.y}) is not a plane")
        if self.n not in specs.GRID_SIZES:
            raise ValueError(f"n: {self.n} is not one of {specs.GRID_SIZES}")
        for name in specs.SLIDERS:
            lo, hi = specs.slider_range(self.mode, name)
            object.__setattr__(self, name, quantise(name, getattr(self, name), lo, hi))
        object.__setattr__(self, "N", int(min(max(int(self.N), specs.N_RANGE[0]),
                                              specs.N_RANGE[1])))
        object.__setattr__(self, "seed", int(min(max(int(self.seed), 0), specs.SEED_RANGE[1])))
        object.__setattr__(self, "sample", bool(self.sample))

    @classmethod
    def default(cls, mode: str = "vanilla") -> ViewState:
        """The start view of ``mode``: its default parameters and plane."""
        x, y = specs.DEFAULT_PLANE[mode]
        return cls(mode=mode, x=x, y=y, **specs.default_values(mode))

    @property
    def archs(self) -> tuple[str, ...]:
        """Architectures shown (one, or both side by side)."""
        return specs.MODE_ARCHS[self.mode]

    def params(self, arch: str) -> Params:
        """The :class:`theory.Params` of architecture ``arch`` at this view."""
        values = {name: getattr(self, name) for name in specs.PARAM_NAMES}
        return Params(arch=arch, phi=self.phi, weights=self.weights, **values)

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
