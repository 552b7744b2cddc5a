"""Mean-field and random-matrix theory of randomly initialised RNNs.

Chen, Pennington & Schoenholz, "Dynamical Isometry and a Mean Field Theory of
RNNs: Gating Enables Signal Propagation in Recurrent Neural Networks", ICML 2018,
and Gilboa et al., "Dynamical Isometry and a Mean Field Theory of LSTMs and GRUs",
2019. Four cells (``theory.cells``): the vanilla RNN, the minimalRNN, the GRU and
the LSTM. Equation numbers in docstrings refer to the team's specifications
(theory.md for the first two, gated-cells.md for the GRU and the LSTM).

Example
-------
>>> import theory
>>> r = theory.point(theory.Params(arch="vanilla", sigma_w=1.5))
>>> r.phase in ("ordered", "critical", "chaotic")
True

This package never imports dash, plotly or flask. Kernels (``_kernels*.py``)
are private; the names in ``__all__`` are the public API.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from theory import _cachedir  # noqa: F401  (must run before any kernel module is imported)
from theory.critical import (
    GatedCriticalInit,
    MinimalCriticalInit,
    VanillaCriticalInit,
    critical_init_gru,
    critical_init_lstm,
    critical_init_minimal,
    critical_init_vanilla,
    critical_sigma_w,
)
from theory.frameworks import FrameworkDefault, framework_defaults
from theory.grids import critical_lines, grid
from theory.meanfield import point, trajectory
from theory.types import (
    ARCHS,
    GATES,
    PARAM_RANGES,
    PHIS,
    PLANE_PARAMS,
    WEIGHTS,
    CriticalLine,
    GridResult,
    ParameterError,
    Params,
    PointResult,
    Trajectory,
    default_params,
)
from theory.warm import warmup

if TYPE_CHECKING:
    from theory.montecarlo import Simulation, simulate
    from theory.sampling import sample_singular_values
    from theory.spectra import Spectrum, spectrum

__version__ = "0.2.0"

#: Imported on first use (PEP 562): the simulator, the sampler and the spectra pull in
#: scipy.special and scipy.linalg (~0.4 s), which a mean-field-only user never needs.
_LAZY = {
    "Simulation": "theory.montecarlo",
    "simulate": "theory.montecarlo",
    "sample_singular_values": "theory.sampling",
    "Spectrum": "theory.spectra",
    "spectrum": "theory.spectra",
}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'theory' has no attribute {name!r}")

__all__ = [
    "ARCHS",
    "GATES",
    "PARAM_RANGES",
    "PHIS",
    "PLANE_PARAMS",
    "WEIGHTS",
    "CriticalLine",
    "FrameworkDefault",
    "GatedCriticalInit",
    "GridResult",
    "MinimalCriticalInit",
    "ParameterError",
    "Params",
    "PointResult",
    "Simulation",
    "Spectrum",
    "Trajectory",
    "VanillaCriticalInit",
    "critical_init_gru",
    "critical_init_lstm",
    "critical_init_minimal",
    "critical_init_vanilla",
    "critical_sigma_w",
    "critical_lines",
    "default_params",
    "framework_defaults",
    "grid",
    "point",
    "sample_singular_values",
    "simulate",
    "spectrum",
    "trajectory",
    "warmup",
]
