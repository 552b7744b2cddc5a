"""The callbacks' only door to :mod:`theory`: cached calls keyed on the view.

Every function takes a (step-rounded, hence hashable and repeatable)
:class:`~components.viewstate.ViewState` or :class:`theory.Params` and returns
theory result objects bundled per architecture. Results, not figures, are cached
(``functools.lru_cache``), and keys drop what a result does not depend on: a
phase-diagram grid ignores the two in-plane parameters and the weight law, so
moving the current point inside the plane never recomputes the grid.

While ``python app.py`` is still compiling its calculators
(:mod:`components.startup`), :func:`preparing` names those a panel waits for, and
the panel callback shows a message instead of computing.

Example
-------
>>> from components.viewstate import ViewState
>>> [d.arch for d in phase_data(ViewState.default("both").replace(n=60))]
['vanilla', 'minimal']
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

import numpy as np

import theory
from components import specs, startup
from components.viewstate import ViewState
from theory import CriticalLine, GridResult, Params, PointResult, Trajectory
from theory.warm import step_key

#: Grid fields the phase diagram needs besides the timescale shown.
PHASE_FIELDS = ("chi_jac", "exists", "bistable", "branch_high")
CUT_FIELDS = ("xi_c", "xi_jac", "xi_q", "chi_jac", "exists")
#: Calculators (``theory.warm`` step kinds) each panel needs per architecture shown:
#: the read-out point, the grid (phase diagram; the memory panel's cut) and so on.
PANEL_KINDS = {"phase": ("point", "grid"), "memory": ("point", "grid", "trajectory"),
               "spectrum": ("point", "spectrum")}
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PhaseData:
    """One architecture's phase diagram at the current view."""

    arch: str
    grid: GridResult
    lines: list[CriticalLine]
    point: PointResult


@dataclass(frozen=True)
class MemoryData:
    """1-D cut along the x axis through the current point, and the trajectory."""

    arch: str
    cut: GridResult
    point: PointResult
    trajectory: Trajectory


@dataclass(frozen=True)
class SpectrumData:
    """Theory spectrum and (if asked) the log singular values of a sampled network."""

    arch: str
    spectrum: object  # theory.Spectrum
    point: PointResult
    log_samples: np.ndarray | None


def axis_values(mode: str, name: str, n: int) -> np.ndarray:
    """Grid points of axis ``name``: the slider range, log-spaced on log axes."""
    lo, hi = specs.slider_range(mode, name)
    if name in specs.LOG_AXES[mode]:
        return np.geomspace(lo, hi, n)
    return np.linspace(lo, hi, n)


def grid_key(state: ViewState, arch: str) -> tuple:
    """What a phase-diagram grid depends on (in-plane values and weights excluded)."""
    p = _canonical(state.params(arch), (state.x, state.y))
    return (p, state.mode, state.x, state.y, state.n, state.field)


def _canonical(p: Params, drop: tuple[str, ...] = ()) -> Params:
    """``p`` with the weight law and the ``drop`` parameters set to fixed values."""
    fixed = {name: specs.slider_range("minimal", name)[0] for name in drop}
    return p.replace(weights="orthogonal", **fixed)


@functools.lru_cache(maxsize=24)
def _grid(p: Params, mode: str, x: str, y: str, n: int, field: str) -> tuple:
    g = theory.grid(p, x=(x, axis_values(mode, x, n)), y=(y, axis_values(mode, y, n)),
                    fields=(field, *PHASE_FIELDS))
    return g, theory.critical_lines(g)


@functools.lru_cache(maxsize=256)
def point(p: Params) -> PointResult:
    """Cached :func:`theory.point` (the weight law does not enter)."""
    return theory.point(p)


@functools.lru_cache(maxsize=128)
def _trajectory(p: Params, T: int) -> Trajectory:
    return theory.trajectory(p, T)


@functools.lru_cache(maxsize=64)
def _cut(p: Params, mode: str, x: str) -> GridResult:
    y = "sigma_b" if x != "sigma_b" else "sigma_w"
    return theory.grid(p, x=(x, axis_values(mode, x, specs.CUT_POINTS)),
                       y=(y, np.array([getattr(p, y)])), fields=CUT_FIELDS)


@functools.lru_cache(maxsize=64)
def _spectrum(p: Params, T: int):
    return theory.spectrum(p, T)


@functools.lru_cache(maxsize=8)
def _samples(p: Params, N: int, T: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return theory.sample_singular_values(p, N, T, rng, log=True)


def phase_data(state: ViewState) -> list[PhaseData]:
    """Grid, critical lines and current point of each architecture shown."""
    out = []
    for arch in state.archs:
        g, lines = _grid(*grid_key(state, arch))
        out.append(PhaseData(arch, g, lines, point(_canonical(state.params(arch)))))
    return out


def memory_data(state: ViewState) -> list[MemoryData]:
    """The x-axis cut through the current point and the trajectory to T."""
    out = []
    for arch in state.archs:
        p = _canonical(state.params(arch))
        cut = _cut(_canonical(p, (state.x,)), state.mode, state.x)
        out.append(MemoryData(arch, cut, point(p), _trajectory(p, state.T)))
    return out


def sample_cost(state: ViewState) -> int:
    """N^3 T summed over the architectures shown (each samples its own network)."""
    return len(state.archs) * state.N**3 * state.T


def sample_allowed(state: ViewState) -> bool:
    """Whether the sampled overlay is within :data:`specs.SAMPLE_BUDGET`."""
    return sample_cost(state) <= specs.SAMPLE_BUDGET


def spectrum_data(state: ViewState) -> list[SpectrumData]:
    """Theory spectrum of each architecture, plus samples when the overlay is on."""
    out = []
    for arch in state.archs:
        p = state.params(arch)
        samples = None
        if state.sample and sample_allowed(state):
            samples = _samples(p, state.N, state.T, state.seed)
        out.append(SpectrumData(arch, _spectrum(p, state.T), point(_canonical(p)), samples))
    return out


def warm_keys(state: ViewState, panel: str) -> list[str]:
    """Warm-up steps (``theory.warm`` keys) that ``panel`` of ``state`` calls."""
    kinds = PANEL_KINDS[panel]
    if panel == "spectrum" and state.sample and sample_allowed(state):
        kinds = (*kinds, "sample")
    return [step_key(kind, arch, state.phi) for arch in state.archs for kind in kinds]


def preparing(state: ViewState, panel: str) -> list[str]:
    """Labels of the calculators ``panel`` needs that are still being prepared.

    Empty once they are loaded, or when no start-up warm-up runs
    (:func:`components.startup.pending`); otherwise they are prepared next.
    """
    return startup.pending(warm_keys(state, panel))


def warm(modes: tuple[str, ...] = ("vanilla", "minimal")) -> None:
    """Fill the caches with the start views, so the first visitor does not wait."""
    for mode in modes:
        state = ViewState.default(mode)
        for fill in (phase_data, memory_data, spectrum_data):
            try:
                fill(state)
            except Exception as exc:  # start-up must not fail: the panel shows the error
                log.warning("could not pre-compute %s for %s: %s", fill.__name__, mode, exc)
