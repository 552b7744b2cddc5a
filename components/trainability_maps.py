"""The shipped trainability maps (``data/trainability/*.json.gz``), read once per process.

A map (schema ``trainability-map/1``, docs/trainability.md) is plain gzip'd JSON
written by ``python -m trainability sweep``; this module reads it with
:mod:`gzip` and :mod:`json` only (the dashboard never imports the
``trainability`` package, nor JAX), checks its schema and shapes, and returns a
:class:`TrainMap`: the swept axis, the sequence lengths, the checkpoints, the
fixed parameters, the accuracy array ``[checkpoint][T][seed][x]``, the drift
flags, the stored theory timescale and the fits of k, plus the provenance record
(``NAME.record.json``) beside it. :func:`catalogue` finds every map of a folder
and never raises: a file that cannot be read becomes a line of
:attr:`Catalogue.problems`, which the panel shows.

Example
-------
>>> cat = catalogue()
>>> m = cat.get("vanilla_sigma_w")
>>> m.arch, m.x_name, m.accuracy.shape == (len(m.checkpoints), len(m.T), len(m.seeds), len(m.x))
('vanilla', 'sigma_w', True)
"""

from __future__ import annotations

import functools
import gzip
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from components import specs

SCHEMA = "trainability-map/1"
ASSUMED_K = 6.0  # Schoenholz et al. 2017 (depth in feed-forward nets), when nothing is measured
DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "trainability"
#: The overlay timescales a map may name (theory.overlay), and the theory field behind each.
OVERLAYS = {"xi_c(Sigma=0)": "xi_c", "tau_jac": "tau_jac", "xi_jac(sigma_v=0)": "xi_jac"}
_MEASURES = ("accuracy", "finite", "drifted")


class MapError(ValueError):
    """A map file that cannot be read or does not follow ``trainability-map/1``."""


@dataclass(frozen=True)
class Fit:
    """The fit of k at one checkpoint (``k`` None: not fitted, ``message`` says why)."""

    step: int
    k: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    n_trained: int
    message: str
    beta: float | None = None  # slope of the logistic in ln u


@dataclass(frozen=True)
class Provenance:
    """Where a map came from: its record (``NAME.record.json``)."""

    command: str
    commit: str
    dirty: bool
    machine: str
    executor: str
    wall_seconds: float | None
    finished_utc: str


@dataclass(frozen=True, eq=False)
class TrainMap:
    """One measured map. Arrays have shape (checkpoints, T, seeds, x)."""

    name: str  # file stem, e.g. "vanilla_sigma_w"
    arch: str
    x_name: str
    x: np.ndarray
    T: np.ndarray
    seeds: tuple[int, ...]
    checkpoints: tuple[int, ...]
    base: dict
    protocol: dict
    accuracy: np.ndarray  # NaN where not stored
    finite: np.ndarray
    drifted: np.ndarray
    overlay: str  # "xi_c(Sigma=0)", "tau_jac" or "xi_jac(sigma_v=0)"
    xi_overlay: np.ndarray  # along x; inf where infinite, NaN where the theory has no value
    fits: tuple[Fit, ...]
    provenance: Provenance | None
    provenance_message: str = ""
    theory_message: str = ""
    #: misclassified fraction at the last checkpoint per candidate timescale (the map's
    #: ``timescales`` block; empty for maps made before it existed)
    misclassified: dict = field(default_factory=dict)

    @property
    def threshold(self) -> float:
        """Accuracy at or above which a (finite) network counts as trained."""
        return float(self.protocol["threshold"])

    @property
    def overlay_field(self) -> str:
        """The theory field of the overlay timescale (``xi_c``, ``tau_jac`` or ``xi_jac``)."""
        return OVERLAYS[self.overlay]

    def checkpoint_index(self, step: int | None) -> int:
        """Index of checkpoint ``step`` (the last when None or not one of this map's)."""
        return self.checkpoints.index(step) if step in self.checkpoints else \
            len(self.checkpoints) - 1

    def u(self) -> np.ndarray:
        """u = (T - 1)/xi of each cell, shape (T, x): 0 where xi = inf, NaN where unknown."""
        xi = self.xi_overlay[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(np.isinf(xi), 0.0, (self.T[:, None] - 1.0) / xi)


@dataclass(frozen=True)
class Catalogue:
    """Every map found (sorted by name) and what could not be read."""

    maps: tuple[TrainMap, ...] = ()
    problems: tuple[str, ...] = field(default=())

    def get(self, name: str | None) -> TrainMap | None:
        """The map named ``name`` (its file stem), or None."""
        return next((m for m in self.maps if m.name == name), None)

    def for_arch(self, arch: str) -> TrainMap | None:
        """The first map of architecture ``arch``, or None."""
        return next((m for m in self.maps if m.arch == arch), None)

    def choose(self, name: str, archs: tuple[str, ...]) -> TrainMap | None:
        """Map ``name``; for ``auto`` (or an unknown name) the first map of one of
        ``archs`` (the architectures shown), else the first map; None if there is none."""
        if name != "auto" and self.get(name) is not None:
            return self.get(name)
        found = [self.for_arch(a) for a in archs if self.for_arch(a) is not None]
        return found[0] if found else (self.maps[0] if self.maps else None)


def catalogue(directory: str | None = None) -> Catalogue:
    """Every ``*.json.gz`` map of ``directory``; the shipped ones (default,
    :data:`DATA_DIR`) are read once per process, another folder at each call."""
    return _shipped() if directory is None else _read(Path(directory))


@functools.lru_cache(maxsize=1)
def _shipped() -> Catalogue:
    return _read(DATA_DIR)


def _read(folder: Path) -> Catalogue:
    maps, problems = [], []
    for path in sorted(folder.glob("*.json.gz")):
        try:
            maps.append(load_map(path))
        except MapError as exc:
            problems.append(str(exc))
    return Catalogue(tuple(maps), tuple(problems))


def load_map(path: str | Path) -> TrainMap:
    """Read and check one map and its record. Raises :class:`MapError`."""
    path = Path(path)
    name = path.name.removesuffix(".json.gz")
    data = read_gzip_json(path)
    try:
        return _parse(name, data, *read_record(path.with_name(name + ".record.json")))
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        if isinstance(exc, MapError):
            raise MapError(f"{path.name}: {exc}") from None
        raise MapError(f"{path.name}: does not follow {SCHEMA} ({type(exc).__name__}: "
                       f"{exc})") from None


def read_gzip_json(path: Path) -> Any:
    """The JSON value of a gzip'd file; :class:`MapError` (a ValueError) naming the file
    if it cannot be read."""
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            return json.load(f)
    except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MapError(f"{path.name}: not a readable gzip'd JSON file ({exc})") from None


def read_record(path: Path) -> tuple[Provenance | None, str]:
    """The provenance record at ``path`` and, if it is missing or unreadable, why."""
    try:
        rec = json.loads(path.read_text(encoding="utf-8"))
        machine = rec.get("machine") or {}
        wall = rec.get("wall_seconds_last_run")
        return Provenance(
            command=str(rec["command"]), commit=str(rec.get("commit") or "unknown"),
            dirty=bool(rec.get("dirty")),
            machine=(f"{machine.get('cpu', '?')}, {machine.get('cpu_count', '?')} cores, "
                     f"{machine.get('platform', '?')}"),
            executor=str(rec.get("executor", "")),
            wall_seconds=float(wall) if isinstance(wall, (int, float)) else None,
            finished_utc=str(rec.get("finished_utc", ""))), ""
    except FileNotFoundError:
        return None, f"no provenance record ({path.name}) beside the map"
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        return None, f"provenance record {path.name} unreadable ({exc})"


def _parse(name: str, d: dict, prov: Provenance | None, prov_msg: str) -> TrainMap:
    if d.get("schema") != SCHEMA or d.get("kind") != "map":
        raise MapError(f"schema {d.get('schema')!r} / kind {d.get('kind')!r} is not "
                       f"{SCHEMA!r} / 'map'")
    x = _vector(d["x"], "x")
    T = _vector(d["T"], "T")
    if (T < 1).any():
        raise MapError("T values must be at least 1")
    checkpoints = tuple(int(c) for c in d["checkpoints"])
    shape = (len(checkpoints), len(T), len(d["seeds"]), len(x))
    arrays = {k: _array(d[k], k, shape, bool if k != "accuracy" else float) for k in _MEASURES}
    th = d["theory"]
    overlay = th.get("overlay", "xi_c(Sigma=0)")
    if overlay not in OVERLAYS:
        raise MapError(f"theory.overlay {overlay!r} is not one of {', '.join(OVERLAYS)}")
    fits = tuple(_fit(f) for f in d["fit"])
    if len(fits) != len(checkpoints):
        raise MapError(f"{len(fits)} fits for {len(checkpoints)} checkpoints")
    for key in ("threshold", "N", "steps", "lr"):
        float(d["protocol"][key])
    return TrainMap(
        name=name, arch=str(d["arch"]), x_name=str(d["x_name"]), x=x, T=T,
        seeds=tuple(int(s) for s in d["seeds"]), checkpoints=checkpoints,
        base=dict(d["base"]), protocol=dict(d["protocol"]), **arrays, overlay=overlay,
        xi_overlay=_xi(th["xi_overlay"], th["xi_overlay_valid"], len(x)), fits=fits,
        provenance=prov, provenance_message=prov_msg, theory_message=str(th.get("message", "")),
        misclassified=_misclassified(d.get("timescales")))


def _misclassified(block: Any) -> dict:
    """{candidate timescale: misclassified fraction at the last checkpoint} of a map's
    ``timescales`` block (empty when absent or malformed: it is an optional addition)."""
    try:
        return {str(name): float(rows[-1]["misclassified"])
                for name, rows in block["candidates"].items()
                if rows and rows[-1].get("misclassified") is not None}
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        return {}


def _vector(values: Any, what: str) -> np.ndarray:
    a = np.array(values, dtype=float)
    if a.ndim != 1 or a.size == 0 or not np.isfinite(a).all():
        raise MapError(f"{what} must be a non-empty list of finite numbers")
    return a


def _array(values: Any, what: str, shape: tuple, dtype: type) -> np.ndarray:
    raw = np.array(values, dtype=object)
    if raw.shape != shape:
        raise MapError(f"{what} has shape {raw.shape}, expected {shape} "
                       "(checkpoints, T, seeds, x)")
    if dtype is bool:
        return np.vectorize(lambda v: v is True, otypes=[bool])(raw)
    a = np.array(np.where(raw == None, np.nan, raw), dtype=float)  # noqa: E711 (elementwise)
    if np.nanmax(np.abs(a), initial=0.0) > 1.0:
        raise MapError(f"{what} must lie in [0, 1]")
    return a


def _xi(values: Any, valid: Any, n: int) -> np.ndarray:
    if len(values) != n or len(valid) != n:
        raise MapError(f"theory.xi_overlay must have one value per x ({n})")
    out = [(math.inf if v is None else float(v)) if ok else math.nan
           for v, ok in zip(values, valid, strict=True)]
    return np.array(out, dtype=float)


def _fit(f: dict) -> Fit:
    def num(key: str) -> float | None:
        v = f.get(key)
        return float(v) if isinstance(v, (int, float)) and math.isfinite(v) else None

    return Fit(step=int(f["step"]), k=num("k"), ci_low=num("ci_low"), ci_high=num("ci_high"),
               n=int(f.get("n", 0)), n_trained=int(f.get("n_trained", 0)),
               message=str(f.get("message") or ""), beta=num("beta"))


def measured_fit(arch: str) -> tuple[TrainMap, Fit] | None:
    """The shipped map of ``arch`` and its fit at the last checkpoint, if k was fitted."""
    m = catalogue().for_arch(arch)
    if m is None or m.fits[-1].k is None:
        return None
    return m, m.fits[-1]


@functools.lru_cache(maxsize=16)
def default_k(mode: str) -> float:
    """Default k of the phase diagram's T = k·xi in dashboard ``mode``.

    The measured k (last checkpoint) of the shipped map of the mode's architecture,
    rounded to the k slider's step; ``ASSUMED_K`` (6) when there is no such map, or
    when the mode shows several architectures.
    """
    archs = (mode,) if mode in specs.MODES else ()
    found = measured_fit(archs[0]) if len(archs) == 1 else None
    if found is None:
        return ASSUMED_K
    step, (lo, hi) = specs.SLIDERS["k"].step, specs.slider_range(mode, "k")
    k = lo + round((found[1].k - lo) / step) * step
    return float(min(max(round(k, specs.SLIDERS["k"].decimals), lo), hi))


FIELD_TEXT = {"xi_c": "ξ_c", "xi_jac": "ξ_jac", "tau_jac": "τ_jac"}


def k_note(mode: str, k: float) -> str:
    """Where the phase diagram's k comes from, for its legend: e.g. ``k = 14.5 ≈ measured
    14.3 on τ_jac`` (the default, rounded to the slider's step; the fit's timescale named),
    ``k = 6 assumed``, ``k = 7.5 set, measured 14.3 on τ_jac``."""
    archs = (mode,) if mode in specs.MODES else ()
    found = measured_fit(archs[0]) if len(archs) == 1 else None
    # the fit's timescale named: a k fitted on xi_c is not one for xi_jac (docs/trainability.md)
    measured = (f"measured {found[1].k:.3g} on {FIELD_TEXT[found[0].overlay_field]}"
                if found else "")
    if found and k == default_k(mode):
        return f"k = {k:g} ≈ {measured}"
    if not found and k == ASSUMED_K:
        return f"k = {k:g} assumed"
    return f"k = {k:g} set" + (f", {measured}" if measured else "")
