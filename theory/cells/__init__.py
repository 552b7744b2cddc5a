"""The cells the theory knows, one module each, and the registry the public API reads.

A cell module (``vanilla``, ``minimal``) holds everything specific to one
architecture, next to the spec's equation numbers: its mean-field maps and slopes,
its fixed-point kernels (point, grid, trajectory), its critical-initialisation rule,
its one-step Jacobian for the sampler and the simulator, and the law or moments its
spectrum needs. It ends with a :class:`Cell` that registers those pieces here.
``theory.point``, ``theory.grid``, ``theory.trajectory``, the spectra, the sampler,
the simulator and the command line look a cell up with :func:`get`; none of them
branches on the architecture's name.

Adding a cell: write ``theory/cells/<name>.py`` ending in ``CELL = Cell(...)``, add
its name to ``theory.types.ARCHS`` and to ``_MODULES`` below, and test it.

Example
-------
>>> from theory import cells
>>> cells.get("minimal").has_branches
True
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from theory.types import ParameterError

#: arch name -> module under theory.cells (imported on first use).
_MODULES = {"vanilla": "vanilla", "minimal": "minimal", "gru": "gru", "lstm": "lstm"}


@dataclass(frozen=True)
class Cell:
    """What the generic calculators need from one architecture.

    Attributes
    ----------
    name : str
        The ``arch`` value (theory.md 11, gated-cells.md 10).
    label : str
        Human-readable name.
    point_row : callable
        ``(Params) -> ndarray``: the fixed-point kernel's row (``_solve.OUT_NAMES``).
    trajectory_rows : callable
        ``(Params, T) -> ndarray (4, T + 1)``: q_t, Q_t, c_t, C_t from the zero state.
    grid_raw : callable
        ``(Params, Plane, want_c, tables) -> ndarray (N_OUT, ny, nx)``.
    has_branches : bool
        The variance map can have two stable fixed points (``bistable``, ``branch``).
    extras : callable or None
        ``(Params, row) -> dict`` of extra :class:`~theory.types.PointResult` fields.
    network : callable or None
        ``(Params, N, rng) -> network`` with ``step()`` / ``apply(Y)``: the sampler's
        one-step Jacobians (theory.md 5.1).
    spectrum : callable or None
        ``(Params, T, n_points, PointResult) -> Spectrum``.
    simulator : Any
        The stepping functions of the finite-width simulator (``theory.montecarlo``).
    extra_names : tuple of str
        Names of the kernel row's slots after ``_solve.OUT_NAMES`` (grid fields too).
    """

    name: str
    label: str
    point_row: Callable
    trajectory_rows: Callable
    grid_raw: Callable
    has_branches: bool = False
    extras: Callable | None = None
    network: Callable | None = None
    spectrum: Callable | None = None
    simulator: Any = None
    extra_names: tuple[str, ...] = ()


def get(arch: str) -> Cell:
    """The registered :class:`Cell` of ``arch``."""
    if arch not in _MODULES:
        raise ParameterError(f"arch: {arch!r} is not one of {', '.join(_MODULES)}")
    return importlib.import_module(f"theory.cells.{_MODULES[arch]}").CELL


def names() -> tuple[str, ...]:
    """Registered architecture names, in registration order."""
    return tuple(_MODULES)


def require(arch: str, part: str) -> Cell:
    """The cell of ``arch`` if it provides ``part`` (e.g. ``"network"``), else ParameterError."""
    cell = get(arch)
    if getattr(cell, part) is None:
        raise ParameterError(f"arch: the {part} of {cell.label} is not available")
    return cell
