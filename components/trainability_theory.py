"""The trainability panel's door to :mod:`theory`: timescales along a map's cut.

:func:`curves` evaluates the mean field along a map's swept axis at the map's
fixed parameters (its ``base``) and the input statistics of its task: Sigma = 0
for the memory task (the overlay ``tau_jac`` or ``xi_c(Sigma=0)``), sigma_v = 0 for
zero padding (``xi_jac(sigma_v=0)``), see docs/trainability.md. It returns xi_c,
xi_jac, tau_jac and the overlay xi along x, and the edges of the predicted trainable
region, T = 1 + k·xi, for the map's fitted k and for the assumed k = 6. Results
are cached per (parameters, axis), like :mod:`components.compute`.

Example
-------
>>> from components.trainability_maps import catalogue
>>> c = curves(catalogue().get("vanilla_sigma_w"), 2)
>>> c.overlay, len(c.x) == len(c.T_fit) == len(c.T_six)
('tau_jac', True)
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

import theory
from components.trainability_maps import ASSUMED_K, TrainMap
from theory import Params

CURVE_POINTS = 121
#: Drawn in place of an infinite T = 1 + k·xi (far above any measured T).
T_INFINITE = 1e6


@dataclass(frozen=True)
class Curves:
    """Theory along the cut: timescales and the two edges T = 1 + k·xi (inf for xi = inf)."""

    x: np.ndarray
    xi_c: np.ndarray
    xi_jac: np.ndarray
    tau_jac: np.ndarray  # 1/|ln chi_jac|: xi_jac when ordered, the growth time when chaotic
    xi: np.ndarray  # the overlay timescale
    overlay: str
    k_fit: float | None
    T_fit: np.ndarray  # NaN when k was not fitted
    T_six: np.ndarray


def map_params(m: TrainMap) -> Params:
    """The map's fixed parameters as :class:`theory.Params` (the theory's overlay inputs)."""
    p = Params(**m.base)
    return p.replace(sigma_v=0.0) if m.overlay_field == "xi_jac" else p.replace(Sigma=0.0)


def curves(m: TrainMap, checkpoint: int) -> Curves:
    """Timescales along ``m``'s cut and the edges for k at checkpoint index ``checkpoint``.

    Raises theory.ParameterError (or ValueError) when the theory has no value there.
    """
    x = np.linspace(float(m.x.min()), float(m.x.max()), CURVE_POINTS)
    xi_c, xi_jac, tau_jac = along(map_params(m), m.x_name, tuple(x.tolist()))
    xi = {"xi_c": xi_c, "xi_jac": xi_jac, "tau_jac": tau_jac}[m.overlay_field]
    k = m.fits[checkpoint].k
    return Curves(x=x, xi_c=xi_c, xi_jac=xi_jac, tau_jac=tau_jac, xi=xi, overlay=m.overlay,
                  k_fit=k,
                  T_fit=edge(xi, k), T_six=edge(xi, ASSUMED_K))


def edge(xi: np.ndarray, k: float | None) -> np.ndarray:
    """T = 1 + k·xi (inf where xi = inf; NaN where xi is unknown or k is None)."""
    if k is None:
        return np.full_like(xi, np.nan)
    return 1.0 + k * xi


@functools.lru_cache(maxsize=32)
def along(p: Params, name: str, xs: tuple[float, ...]) -> tuple[np.ndarray, ...]:
    """(xi_c, xi_jac, tau_jac) of :func:`theory.point` at ``p`` with ``name`` set to each
    of ``xs``.

    NaN where no stable fixed point exists. (A point costs ~0.1 ms here: the curves
    are exactly the theory's numbers at each x, as the map's stored overlay is.)
    """
    pts = [theory.point(p.replace(**{name: v})) for v in xs]
    return tuple(np.array([getattr(r, f) if r.exists else math.nan for r in pts])
                 for f in ("xi_c", "xi_jac", "tau_jac"))
