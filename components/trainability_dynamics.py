"""The shipped training curves (``data/trainability/dynamics/*.json.gz``) and what they say.

The file (schema ``trainability-dynamics/1``, docs/trainability.md) is written by
``python -m trainability dynamics``: the paper's training-dynamics comparison
(theory.md 9, Fig. ~6) redone on this project's task. For the vanilla RNN and the
minimalRNN at each sequence length T, four networks per seed are trained:
critical or off-critical initialisation, orthogonal or Gaussian W, and the held-out
accuracy is stored at regular checkpoints. Like :mod:`components.trainability_maps`
this module reads it with :mod:`gzip` and :mod:`json` only and never raises on a bad
file: :func:`shipped_dynamics` returns ``(None, why)`` instead.

:func:`verdict` compares the curves with the paper's qualitative result:

* vanilla RNN: at the longest T only the **orthogonal, critical** network trains;
* minimalRNN: orthogonal and Gaussian W behave alike; the **critical** networks train
  while the off-critical ones stay at chance.

"Trains" means the seed-mean accuracy at the last checkpoint reaches the protocol's
threshold (0.55 by default); "learned" that it is at least :data:`LEARNED` (twice
chance), and "at chance" that it is below that.

Example
-------
>>> d = parse({"schema": SCHEMA, "kind": "dynamics", "T": [5], "seeds": [0],
...            "configs": list(CONFIGS), "checkpoints": [1, 2], "protocol": {"threshold": 0.5},
...            "points": {a: {"5": [{"sigma_w": 1.0}] * 4} for a in ARCHS},
...            "curves": {a: {"5": {"accuracy": [[[0.1, 0.9], [0.1, 0.1], [0.1, 0.1],
...                                               [0.1, 0.2]]]}} for a in ARCHS}})
>>> verdict(d)[0]
'vanilla RNN, T = 5: only orthogonal + critical trained (0.9; the others 0.1–0.2), as in the paper.'
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from components.trainability_maps import DATA_DIR, read_gzip_json, read_record

SCHEMA = "trainability-dynamics/1"
#: Accuracy that counts as "learned something" (twice chance, 10 classes) in the verdict.
LEARNED = 0.2
DYNAMICS_DIR = DATA_DIR / "dynamics"
#: The four networks of each (architecture, T, seed), in the file's order.
CONFIGS = ("critical-orthogonal", "critical-gaussian", "off-orthogonal", "off-gaussian")
ARCHS = {"vanilla": "vanilla RNN", "minimal": "minimalRNN"}
CONFIG_TEXT = {"critical-orthogonal": "orthogonal + critical",
               "critical-gaussian": "Gaussian + critical",
               "off-orthogonal": "orthogonal + off-critical",
               "off-gaussian": "Gaussian + off-critical"}


@dataclass(frozen=True, eq=False)
class Dynamics:
    """Training curves: ``accuracy[arch][T]`` has shape (seeds, configs, checkpoints)."""

    name: str
    T: tuple[int, ...]
    seeds: tuple[int, ...]
    checkpoints: np.ndarray
    threshold: float
    protocol: dict
    points: dict  # arch -> T (str) -> four Params dicts with xi_c_Sigma0, xi_jac, chi_jac
    accuracy: dict  # arch -> T (str) -> ndarray (seeds, configs, checkpoints), NaN: diverged
    header: dict  # the file's settings (q_star, off_sigma_w, delta, ...)
    record: Any = None  # Provenance of the record beside the file, or None
    record_message: str = ""

    def final(self, arch: str, T: int) -> np.ndarray:
        """Seed-mean accuracy of each configuration at the last checkpoint."""
        return np.nanmean(self.accuracy[arch][str(T)][:, :, -1], axis=0)


def parse(d: dict, name: str = "dynamics", record: Any = None,
          record_message: str = "") -> Dynamics:
    """Check a ``trainability-dynamics/1`` dict and build :class:`Dynamics` (ValueError)."""
    if d.get("schema") != SCHEMA:
        raise ValueError(f"schema {d.get('schema')!r} is not {SCHEMA!r}")
    if tuple(d["configs"]) != CONFIGS:
        raise ValueError(f"configs {d['configs']!r} are not {CONFIGS!r}")
    Ts = tuple(int(T) for T in d["T"])
    seeds = tuple(int(s) for s in d["seeds"])
    checkpoints = np.array(d["checkpoints"], dtype=float)
    if not Ts or checkpoints.ndim != 1 or checkpoints.size == 0:
        raise ValueError("no sequence length or no checkpoint")
    acc: dict = {}
    for arch in ARCHS:
        acc[arch] = {}
        for T in Ts:
            raw = np.array(d["curves"][arch][str(T)]["accuracy"], dtype=object)
            a = np.array(np.where(raw == None, np.nan, raw), dtype=float)  # noqa: E711
            if a.shape != (len(seeds), len(CONFIGS), checkpoints.size):
                raise ValueError(f"{arch} T = {T}: accuracy has shape {a.shape}, expected "
                                 f"(seeds, configs, checkpoints)")
            if np.nanmax(np.abs(a), initial=0.0) > 1.0:
                raise ValueError("accuracy must lie in [0, 1]")
            acc[arch][str(T)] = a
            if len(d["points"][arch][str(T)]) != len(CONFIGS):
                raise ValueError(f"{arch} T = {T}: one point per configuration expected")
    header = {k: d[k] for k in ("q_star", "off_sigma_w", "delta", "off_mu_b",
                                "off_sigma_w_minimal") if k in d}
    return Dynamics(name=name, T=Ts, seeds=seeds, checkpoints=checkpoints,
                    threshold=float(d["protocol"].get("threshold", 0.55)),
                    protocol=dict(d["protocol"]), points=d["points"], accuracy=acc,
                    header=header, record=record, record_message=record_message)


def load_dynamics(path: str | Path) -> Dynamics:
    """Read one training-curves file and its record. Raises ValueError with the reason."""
    path = Path(path)
    name = path.name.removesuffix(".json.gz")
    data = read_gzip_json(path)
    try:
        return parse(data, name, *read_record(path.with_name(name + ".record.json")))
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ValueError(f"{path.name}: {type(exc).__name__}: {exc}") from None


@functools.lru_cache(maxsize=1)
def shipped_dynamics() -> tuple[Dynamics | None, str]:
    """The shipped training curves (the first file of :data:`DYNAMICS_DIR`), or why not."""
    files = sorted(DYNAMICS_DIR.glob("*.json.gz"))
    if not files:
        return None, "No training curves are shipped (data/trainability/dynamics/)."
    try:
        return load_dynamics(files[0]), ""
    except ValueError as exc:
        return None, f"Could not read the training curves: {exc}"


def _num(v: Any) -> str:
    """A stored number for text: None (JSON null) is ∞, as in the file format."""
    return "∞" if v is None else f"{float(v):.3g}"


def _spread(values: np.ndarray) -> str:
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    return f"{lo:.2g}" if math.isclose(lo, hi, abs_tol=0.005) else f"{lo:.2g}–{hi:.2g}"


def _vanilla(d: Dynamics, T: int) -> str:
    acc = d.final("vanilla", T)
    trained = acc >= d.threshold
    others = _spread(acc[1:])
    head = f"{ARCHS['vanilla']}, T = {T}: "
    if trained[0] and not trained[1:].any():
        return (f"{head}only orthogonal + critical trained ({acc[0]:.2g}; the others "
                f"{others}), as in the paper.")
    names = [CONFIG_TEXT[c] for c, ok in zip(CONFIGS, trained, strict=True) if ok]
    said = ", ".join(names) if names else "none"
    return (f"{head}trained: {said} (final accuracies {', '.join(f'{a:.2g}' for a in acc)}); "
            "the paper has only orthogonal + critical training here.")


def _minimal(d: Dynamics, T: int) -> str:
    acc = d.final("minimal", T)
    trained = acc >= d.threshold
    learned = acc >= LEARNED  # clearly above chance (0.1), if short of the threshold
    head = f"{ARCHS['minimal']}, T = {T}: "
    alike = abs(acc[0] - acc[1]) <= 0.15 and abs(acc[2] - acc[3]) <= 0.15
    weights = ("orthogonal ≈ Gaussian" if alike else "orthogonal and Gaussian differ "
               f"({acc[0]:.2g} vs {acc[1]:.2g} critical)")
    if learned[:2].all() and not learned[2:].any():
        if trained[:2].all():
            return (f"{head}critical trained ({_spread(acc[:2])}), off-critical stayed at "
                    f"chance ({_spread(acc[2:])}); {weights}: "
                    + ("as in the paper." if alike else "the paper has them alike."))
        return (f"{head}critical learned ({_spread(acc[:2])}, not all past the threshold "
                f"{d.threshold:g} within {int(d.checkpoints[-1])} steps), off-critical "
                f"stayed at chance ({_spread(acc[2:])}); {weights}: the paper's contrast "
                "holds, " + ("its level not yet." if alike else "with a difference of W."))
    names = [CONFIG_TEXT[c] for c, ok in zip(CONFIGS, trained, strict=True) if ok]
    said = ", ".join(names) if names else "none"
    return (f"{head}trained: {said} (final accuracies {', '.join(f'{a:.2g}' for a in acc)}); "
            "the paper has both critical networks training and the off-critical ones at "
            "chance.")


def verdict(d: Dynamics) -> list[str]:
    """One sentence per (architecture, T): does the paper's qualitative result hold?"""
    return [f(d, T) for f in (_vanilla, _minimal) for T in d.T]


_SYMBOLS = {"sigma_w": "σ_w", "mu_b": "μ_b", "sigma_v": "σ_v"}


def _point_text(arch: str, p: dict) -> str:
    names = ("sigma_w", "mu_b") if arch == "minimal" else ("sigma_w", "sigma_v")
    return (", ".join(f"{_SYMBOLS[n]} = {_num(p.get(n))}" for n in names)
            + f" (ξ_c = {_num(p.get('xi_c_Sigma0'))}, χ_jac = {_num(p.get('chi_jac'))})")


def points_text(d: Dynamics) -> str:
    """The initialisations compared, with their timescales (from the file)."""
    out = []
    for arch in ARCHS:
        for T in d.T:
            crit, _, off, _ = d.points[arch][str(T)]
            out.append(f"{ARCHS[arch]} T = {T}: critical {_point_text(arch, crit)}; "
                       f"off-critical {_point_text(arch, off)}")
    return "; ".join(out) + "."


def caption(d: Dynamics) -> str:
    """Caption of the training-curves view: the verdict, the points, the provenance."""
    pr = d.protocol
    proto = (f"Measured: N = {pr.get('N', '?')}, batch {pr.get('batch', '?')}, "
             f"{pr.get('steps', '?')} Adam steps at lr {pr.get('lr', '?')}, seeds "
             f"{', '.join(str(s) for s in d.seeds)}, accuracy every "
             f"{int(d.checkpoints[1] - d.checkpoints[0]) if d.checkpoints.size > 1 else '?'} "
             "steps; lines: mean over seeds.")
    p = d.record
    if p is None:
        prov = f"Provenance: {d.record_message}."
    else:
        wall = f", {p.wall_seconds / 60:.0f} min wall" if p.wall_seconds else ""
        dirty = " (with uncommitted changes)" if p.dirty else ""
        prov = (f"Command: {p.command} — commit {p.commit[:10]}{dirty}; {p.machine}; "
                f"{p.executor}{wall}; finished {p.finished_utc}.")
    head = ("The paper's training-dynamics comparison (theory.md 9), on this project's task. "
            + " ".join(verdict(d)))
    return "\n".join([head, "Points: " + points_text(d), f"{proto} {prov}"])
