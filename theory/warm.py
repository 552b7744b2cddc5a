"""Compile (or load from Numba's cache) every kernel: the warm-up plan and its progress.

Contract
--------
* :data:`PLAN` lists the warm-up as :class:`Step` s, each one public calculator
  (``point``, ``grid`` with ``critical_lines``, ``trajectory``, ``spectrum``, the
  sampler, the simulator, the critical initialisation) for one architecture and
  nonlinearity, evaluated on a tiny input by :func:`run_step`. The dashboard's start
  view (vanilla RNN, tanh) comes first, in the order its panels need it.
* :func:`warmup` runs the whole plan in this process (``theory.warmup()``); with
  ``progress`` it reports each step. A second run only loads: seconds in all.
* A step compiled once leaves a marker in the cache folder (:func:`mark`,
  :func:`is_marked`): a later start knows from the markers, without importing a
  kernel, whether it has minutes of compiling ahead. The markers only steer the
  scheduling; a step is always run (a kernel missing from Numba's cache compiles).
* Compiling in worker processes, with progress lines: :mod:`theory.warm_pool` and
  ``python -m theory.warm_pool [--jobs N]`` (exit status 1 if a step failed).

Every step only calls :mod:`theory`'s public functions, so the plan follows the
calculators whatever kernels they use.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: Architectures and nonlinearities the plan compiles for (every pair: each step for a
#: later nonlinearity reuses the kernels of the first and only builds its tables).
PLAN_ARCHS = ("vanilla", "minimal")
PLAN_PHIS = ("tanh", "erf", "relu", "linear")
#: The gated cells (tanh only: their nonlinearities are fixed), compiled after the others.
GATED_ARCHS = ("gru", "lstm")
#: Calculators evaluated per (architecture, nonlinearity), in the order the dashboard's
#: panels need them: the read-out point, the phase diagram (and the memory panel's cut),
#: the spectrum, the memory trajectory, then the sampled network.
VIEW_KINDS = ("point", "grid", "spectrum", "trajectory", "sample")
#: Calculators warmed once per architecture (not used by the dashboard's panels).
ARCH_KINDS = ("critical_init", "simulate")


@dataclass(frozen=True)
class Step:
    """One calculator for one architecture and nonlinearity."""

    kind: str
    arch: str
    phi: str = "tanh"

    @property
    def key(self) -> str:
        """Stable name, e.g. ``"grid:vanilla:tanh"`` (marker files, worker messages)."""
        return f"{self.kind}:{self.arch}:{self.phi}"

    @property
    def label(self) -> str:
        """Human-readable name for progress lines, e.g. ``"grid vanilla/tanh"``."""
        if self.kind in ARCH_KINDS:
            return f"{self.kind.replace('_', ' ')} {self.arch}"
        return f"{self.kind} {self.arch}/{self.phi}"

    @property
    def after(self) -> tuple[str, ...]:
        """Keys of steps whose kernels this one reuses (compile those first, once).

        A later nonlinearity reuses the first one's kernels; the spectrum and the
        sampler evaluate the fixed point first.
        """
        first = PLAN_PHIS[0]
        deps = []
        if self.phi != first:
            deps.append(Step(self.kind, self.arch, first).key)
        if self.kind in ("spectrum", "sample"):
            deps.append(Step("point", self.arch, self.phi).key)
        return tuple(deps)


def _plan() -> tuple[Step, ...]:
    steps = [Step(kind, "vanilla", "tanh") for kind in VIEW_KINDS if kind != "sample"]
    steps += [Step(kind, "minimal", "tanh") for kind in VIEW_KINDS if kind != "sample"]
    steps += [Step(kind, arch, phi) for arch in PLAN_ARCHS for phi in PLAN_PHIS
              for kind in VIEW_KINDS if Step(kind, arch, phi) not in steps]
    steps += [Step(kind, arch) for arch in PLAN_ARCHS for kind in ARCH_KINDS]
    steps += [Step(kind, arch) for arch in GATED_ARCHS for kind in VIEW_KINDS + ARCH_KINDS]
    return tuple(steps)


#: The warm-up in order: the start view (vanilla/tanh) first, then the minimalRNN's
#: start view, then every other nonlinearity and calculator, then the GRU and the LSTM.
PLAN = _plan()
BY_KEY = {step.key: step for step in PLAN}


def step_key(kind: str, arch: str, phi: str = "tanh") -> str:
    """Key of the plan's step for ``kind`` at (``arch``, ``phi``), e.g. for a view's needs."""
    if kind in ARCH_KINDS:
        phi = "tanh"
    return Step(kind, arch, phi).key


def run_step(step: Step) -> None:
    """Evaluate ``step``'s calculator once on a tiny input (compiles or loads its kernels)."""
    import theory

    # sigma_w < 1: a linear phi has a stationary state (theory.md 3.1)
    p = theory.Params(arch=step.arch, phi=step.phi, sigma_w=0.8 if step.phi == "linear" else 1.0,
                      mu_b=0.0 if step.arch == "vanilla" else 0.5)
    rng = np.random.default_rng(0)
    if step.kind == "point":
        theory.point(p)
    elif step.kind == "grid":
        g = theory.grid(p, x=("sigma_w", np.array([0.5, 1.0])),
                        y=("sigma_b", np.array([0.0, 0.5])))
        theory.critical_lines(g)
        if step.arch in GATED_ARCHS:  # the (sigma_w, mu_b) plane's path, sigma_b = Sigma = 0
            theory.grid(p.replace(sigma_b=0.0), x=("sigma_w", np.array([0.5, 1.0])),
                        y=("mu_b", np.array([0.0, 1.0])))
    elif step.kind == "trajectory":
        theory.trajectory(p, 3)
    elif step.kind == "spectrum":
        theory.spectrum(p, 2, n_points=16)
    elif step.kind == "sample":
        theory.sample_singular_values(p, 4, 2, rng)
    elif step.kind == "simulate":
        theory.simulate(p, N=4, T=4, rng=rng)
    elif step.kind == "critical_init":
        if step.arch == "vanilla":
            theory.critical_init_vanilla(0.1)
        else:
            getattr(theory, f"critical_init_{step.arch}")(10)
    else:
        raise ValueError(f"unknown warm-up step {step.key!r}")


#: ``progress(k, n, step, seconds)`` after each step of :func:`warmup`.
Progress = Callable[[int, int, Step, float], None]


def warmup(progress: Progress | None = None) -> None:
    """Evaluate each public calculator once on a tiny input (the whole :data:`PLAN`).

    Parameters
    ----------
    progress : callable, optional
        Called as ``progress(k, n, step, seconds)`` after step ``k`` of ``n``.
    """
    for k, step in enumerate(PLAN, start=1):
        t0 = time.perf_counter()
        run_step(step)
        mark(step)
        if progress is not None:
            progress(k, len(PLAN), step, time.perf_counter() - t0)


def _marker_dir() -> Path:
    from theory import _cachedir

    return Path(_cachedir.CACHE_DIR) / "warm-steps"


def _stamp() -> dict:
    import numba

    return {"numba": numba.__version__, "python": platform.python_version()}


def mark(step: Step) -> None:
    """Record that ``step``'s kernels are in the cache folder (skipped if read-only)."""
    try:
        folder = _marker_dir()
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{step.key.replace(':', '-')}.json").write_text(json.dumps(_stamp()))
    except OSError:
        pass


def is_marked(step: Step) -> bool:
    """Whether an earlier process compiled ``step`` into this cache folder (same Numba)."""
    path = _marker_dir() / f"{step.key.replace(':', '-')}.json"
    try:
        return json.loads(path.read_text()) == _stamp()
    except (OSError, ValueError):
        return False


def cold_steps() -> list[Step]:
    """The steps of :data:`PLAN` no earlier process compiled into this cache folder."""
    return [step for step in PLAN if not is_marked(step)]
