"""The callbacks' only door to :mod:`theory`: cached calls keyed on the view.

Every function takes a (step-rounded, hence hashable and repeatable)
:class:`~components.viewstate.ViewState` or :class:`theory.Params` and returns
theory result objects bundled per architecture. Results, not figures, are cached
(``functools.lru_cache``), and keys drop what a result does not depend on: a
phase-diagram grid ignores the two in-plane parameters and the weight law, so
moving the current point inside the plane never recomputes the grid.

Cost guards: the LSTM's GC4 closure costs ~0.7 ms per grid node (measured: 60x60 in
2.6 s), so its phase diagram is computed on at most :data:`specs.GC4_GRID_MAX` points
per axis (:func:`grid_points`; the figure says so). The GRU ``reset_after``
correlation map needs a 4-D integral whose tables take ~8 s per grid on this machine
when Sigma > 0 or sigma_b > 0 (measured 2026-12: 7.8-13 s per grid whatever its
size, 12-870 ms per point; at
Sigma = 0 and sigma_b = 0 a 40x40 grid takes 0.04 s). :func:`costly_c` flags it; the
phase diagram then refuses xi_c with a message (:class:`CostlyView`) and the memory
panel's cut leaves xi_c out, so no view freezes the page.

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
from theory.grids import C_FIELDS
from theory.types import GATES
from theory.warm import step_key

#: Grid fields the phase diagram needs besides the timescale shown.
PHASE_FIELDS = ("chi_jac", "tau_jac", "exists", "bistable", "branch_high")
#: Extra grid field of the gated cells: the tied-network indicator (gated-cells.md 2.5).
TIED_FIELDS = ("rho_tied",)
CUT_FIELDS = ("xi_c", "xi_jac", "xi_q", "chi_jac", "exists")
#: Cut fields when the correlation map is costly (:func:`costly_c`).
CHEAP_CUT_FIELDS = ("xi_jac", "xi_q", "chi_jac", "exists")


class CostlyView(ValueError):
    """A view whose grid would take seconds (shown as the panel's message)."""


def costly_c(p: Params, axes: tuple[str, ...] = ()) -> bool:
    """Whether correlation fields of ``p`` (with ``axes`` spanned) need the GRU reset_after
    4-D integral with its slow tables: Sigma > 0 or a bias spread (gated-cells.md 2.3)."""
    if p.arch != "gru" or p.gru_variant != "reset_after":
        return False
    return p.Sigma > 0 or p.sigma_b > 0 or p.sigma_bh_n > 0 or "sigma_b" in axes
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
    defaults: tuple = ()  # (theory.FrameworkDefault, PointResult) pairs


@dataclass(frozen=True)
class MemoryData:
    """1-D cut along the x axis through the current point, the trajectory and (when
    asked) a simulated real network's q_t, C_t (``theory.Simulation``)."""

    arch: str
    cut: GridResult
    point: PointResult
    trajectory: Trajectory
    simulation: object | None = None


@dataclass(frozen=True)
class SpectrumData:
    """Theory spectrum and (if asked) the log singular values of a sampled network."""

    arch: str
    spectrum: object  # theory.Spectrum
    point: PointResult
    log_samples: np.ndarray | None


def axis_values(ranges: str, name: str, n: int) -> np.ndarray:
    """Grid points of axis ``name`` under range key ``ranges``: the slider range,
    log-spaced on log axes."""
    lo, hi = specs.slider_range(ranges, name)
    if name in specs.LOG_AXES[ranges]:
        return np.geomspace(lo, hi, n)
    return np.linspace(lo, hi, n)


def grid_key(state: ViewState, arch: str) -> tuple:
    """What a phase-diagram grid depends on: in-plane values and weights excluded, and
    the input correlation Sigma too unless the timescale shown is a correlation field
    (``theory.grids.C_FIELDS``): xi_jac, xi_q and the phase boundaries depend on the
    variance map only, so a move of Sigma keeps their grid (a Patch, not a new figure)."""
    drop = (state.x, state.y) if state.field in C_FIELDS else (state.x, state.y, "Sigma")
    p = canonical(state.params(arch), drop)
    return (p, state.ranges, state.x, state.y, grid_points(p, state.n), state.field)


def grid_points(p: Params, n: int) -> int:
    """Grid points per axis for ``p``: the view's ``n``, at most
    :data:`specs.GC4_GRID_MAX` for the LSTM's costly GC4 closure."""
    return min(n, specs.GC4_GRID_MAX) if p.arch == "lstm" and p.closure == "gc4" else n


def canonical(p: Params, drop: tuple[str, ...] = ()) -> Params:
    """``p`` with the weight law and the ``drop`` parameters set to fixed values."""
    fixed = {name: specs.slider_range("minimal", name)[0] for name in drop}
    return p.replace(weights="orthogonal", **fixed)


@functools.lru_cache(maxsize=24)
def _grid(p: Params, ranges: str, x: str, y: str, n: int, field: str) -> tuple:
    if field == "xi_c" and costly_c(p, (x, y)):
        raise CostlyView(
            "Costly view: ξ_c of the reset-after GRU with Σ > 0 or σ_b > 0 needs a 4-D "
            "integral (~8 s per diagram here; gated-cells.md 2.3). Show ξ_jac or ξ_q, set "
            "Σ = 0 and σ_b = 0, or choose the reset-before variant.")
    extra = TIED_FIELDS if p.arch in GATES else ()
    g = theory.grid(p, x=(x, axis_values(ranges, x, n)), y=(y, axis_values(ranges, y, n)),
                    fields=(field, *PHASE_FIELDS, *extra))
    return g, theory.critical_lines(g)


@functools.lru_cache(maxsize=256)
def point(p: Params) -> PointResult:
    """Cached :func:`theory.point` (the weight law does not enter)."""
    return theory.point(p)


@functools.lru_cache(maxsize=128)
def _trajectory(p: Params, T: int) -> Trajectory:
    return theory.trajectory(p, T)


@functools.lru_cache(maxsize=64)
def _cut(p: Params, ranges: str, x: str) -> GridResult:
    y = "sigma_b" if x != "sigma_b" else "sigma_w"
    fields = CHEAP_CUT_FIELDS if costly_c(p, (x,)) else CUT_FIELDS
    return theory.grid(p, x=(x, axis_values(ranges, x, specs.CUT_POINTS)),
                       y=(y, np.array([getattr(p, y)])), fields=fields)


@functools.lru_cache(maxsize=64)
def _spectrum(p: Params, T: int):
    return theory.spectrum(p, T)


@functools.lru_cache(maxsize=8)
def _samples(p: Params, N: int, T: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return theory.sample_singular_values(p, N, T, rng, log=True)


@functools.lru_cache(maxsize=32)
def framework_points(arch: str, N: int) -> tuple:
    """Framework defaults of ``arch`` at H = N_in = N with their points (gated-cells.md 7)."""
    return tuple((d, point(d.params)) for d in theory.framework_defaults(arch, H=N, N_in=N))


def marker_key(state: ViewState, arch: str) -> tuple[str, int] | None:
    """What the framework markers of ``arch`` depend on; None where there are none (the
    minimalRNN; a vanilla RNN whose phi is not tanh, the frameworks' default)."""
    if arch == "minimal" or (arch == "vanilla" and state.phi != "tanh"):
        return None
    return arch, state.N


def phase_data(state: ViewState) -> list[PhaseData]:
    """Grid, critical lines, current point and framework defaults of each cell shown."""
    out = []
    for arch in state.archs:
        g, lines = _grid(*grid_key(state, arch))
        key = marker_key(state, arch)
        defaults = framework_points(*key) if key else ()
        out.append(PhaseData(arch, g, lines, point(canonical(state.params(arch))), defaults))
    return out


@functools.lru_cache(maxsize=8)
def _simulation(p: Params, N: int, T: int, seed: int):
    return theory.simulate(p, N=N, T=max(T, 2), rng=np.random.default_rng(seed), tied=True)


def memory_data(state: ViewState) -> list[MemoryData]:
    """The x-axis cut through the current point, the trajectory to T and, when the
    overlay is on and within :data:`specs.SIMULATE_BUDGET`, a tied network of width N."""
    out = []
    simulate = state.simulate and simulate_allowed(state)
    for arch in state.archs:
        p = canonical(state.params(arch))
        cut = _cut(canonical(p, (state.x,)), state.ranges, state.x)
        sim = (_simulation(state.params(arch), state.N, state.T, state.seed) if simulate
               else None)
        out.append(MemoryData(arch, cut, point(p), _trajectory(p, state.T), sim))
    return out


def simulate_cost(state: ViewState) -> float:
    """(N^2 T + N^3 / 8) summed over the cells shown: the steps of a width-N network, plus
    the draw of orthogonal W (a QR per gate); see :data:`specs.SIMULATE_BUDGET`."""
    return len(state.archs) * (state.N**2 * max(state.T, 2) + state.N**3 / 8)


def simulate_allowed(state: ViewState) -> bool:
    """Whether the simulated-network overlay is within :data:`specs.SIMULATE_BUDGET`."""
    return simulate_cost(state) <= specs.SIMULATE_BUDGET


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
        # the Jacobian lives at the variance fixed point: Sigma does not enter (cached once)
        spectrum = _spectrum(p.replace(Sigma=0.0), state.T)
        out.append(SpectrumData(arch, spectrum, point(canonical(p)), samples))
    return out


def warm_keys(state: ViewState, panel: str) -> list[str]:
    """Warm-up steps (``theory.warm`` keys) that ``panel`` of ``state`` calls."""
    kinds = PANEL_KINDS[panel]
    if panel == "spectrum" and state.sample and sample_allowed(state):
        kinds = (*kinds, "sample")
    if panel == "memory" and state.simulate and simulate_allowed(state):
        kinds = (*kinds, "simulate")
    return [step_key(kind, arch, "tanh" if arch in GATES else state.phi)
            for arch in state.archs for kind in kinds]


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
