"""The trainability map file (gzip'd JSON) and its provenance record; no JAX needed.

Contract
--------
``save(path, data)`` / ``load(path)`` write and read a map: a plain dict (schema
``trainability-map/1``, documented in docs/trainability.md) with the axes, the raw
measurements of shape [checkpoint][T][seed][x], the theory timescales along x and the
fitted k per checkpoint. ``trained(data)`` applies the threshold, ``overlay_u(data)``
gives u = (T - 1)/xi on the same shape, ``refit(data)`` recomputes the fits from the
raw numbers, ``theory_timescales`` evaluates :func:`theory.point` along the swept axis,
and ``provenance()`` collects commit, package versions and machine for the record.

Example
-------
>>> d = load("data/trainability/vanilla_sigma_w.json.gz")       # doctest: +SKIP
>>> trained(d).shape == (len(d["checkpoints"]), len(d["T"]), len(d["seeds"]), len(d["x"]))
True
"""

from __future__ import annotations

import gzip
import json
import math
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import numpy as np

import theory
from trainability.fit import fit_k

SCHEMA = "trainability-map/1"
MEASURES = ("accuracy", "loss", "finite", "drift_w", "drift_b")
#: Seed of the bootstrap generator of every stored fit (so a re-fit reproduces it).
FIT_SEED = 0
N_BOOT = 400
PACKAGES = ("numpy", "scipy", "numba", "jax", "jaxlib", "optax", "dask", "distributed")


def _clean(x):
    """JSON-ready copy: arrays to lists, non-finite floats to None."""
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, np.ndarray):
        return _clean(x.tolist())
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (float, np.floating)):
        return float(x) if math.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    return x


def save(path: str | os.PathLike, data: dict) -> None:
    """Write ``data`` as compact gzip'd JSON (mtime 0: same data, same bytes)."""
    raw = json.dumps(_clean(data), separators=(",", ":"), sort_keys=True).encode()
    tmp = Path(f"{path}.tmp")
    with open(tmp, "wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", mtime=0) as gz:
        gz.write(raw)
    os.replace(tmp, path)


def load(path: str | os.PathLike, schema: str | None = SCHEMA) -> dict:
    """Read a file written by :func:`save`, checking its ``schema`` (None: any)."""
    with gzip.open(path, "rt") as fh:
        data = json.load(fh)
    if schema is not None and data.get("schema") != schema:
        raise ValueError(f"{path}: schema {data.get('schema')!r} is not {schema!r}")
    return data


def array(data: dict, name: str) -> np.ndarray:
    """A measurement (``accuracy``, ``loss``, ``finite``, ``drift_w``, ``drift_b``) as an array.

    Shape (checkpoints, T, seeds, x); None becomes NaN (False for ``finite``).
    """
    if name == "finite":
        return np.array(data[name], dtype=bool)
    return np.array(data[name], dtype=float)


def trained(data: dict, threshold: float | None = None) -> np.ndarray:
    """Finite and accuracy >= threshold (default: the protocol's), shape (K, T, seeds, x)."""
    thr = data["protocol"]["threshold"] if threshold is None else threshold
    acc = np.nan_to_num(array(data, "accuracy"), nan=-1.0)
    return array(data, "finite") & (acc >= thr)


def drifted(data: dict) -> np.ndarray:
    """|drift_w| or |drift_b| / max(1, |mu_b|) above the protocol's limit (K, T, seeds, x)."""
    lim = data["protocol"]["drift_limit"]
    mu = np.abs(np.array(data["mu_b"], float))  # along x
    dw, db = array(data, "drift_w"), array(data, "drift_b")
    return (np.abs(dw) > lim) | (np.abs(db) / np.maximum(1.0, mu) > lim)


def overlay_u(data: dict) -> np.ndarray:
    """u = (T - 1)/xi with the map's overlay timescale, shape (T, x); 0 where xi is infinite."""
    xi = np.array([math.inf if v is None else v for v in data["theory"]["xi_overlay"]], float)
    xi = np.where(np.array(data["theory"]["xi_overlay_valid"], bool), xi, np.nan)
    T = np.array(data["T"], float)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.isinf(xi)[None], 0.0, (T - 1.0) / xi[None])


def refit(data: dict, threshold: float | None = None, n_boot: int | None = None) -> list[dict]:
    """Fit k at every checkpoint from the raw measurements (:func:`trainability.fit.fit_k`)."""
    n_boot = data.get("fit_settings", {}).get("n_boot", N_BOOT) if n_boot is None else n_boot
    ok = trained(data, threshold)
    u = np.broadcast_to(overlay_u(data)[:, None, :], ok.shape[1:])
    out = []
    for i, step in enumerate(data["checkpoints"]):
        f = fit_k(u, ok[i], np.random.default_rng(FIT_SEED), n_boot)
        out.append({"step": step, **f.to_dict()})
    return out


#: The candidate timescales of the memory task that the shipped maps compare (docs/trainability.md):
#: xi_c at Sigma = 0 (the correlation between two sequences after their first input) and the
#: two-sided tau_jac = 1/|ln chi_jac| (gradients vanish over it when ordered, grow when chaotic).
CANDIDATES = ("xi_c(Sigma=0)", "tau_jac")


def candidate_u(data: dict, name: str) -> np.ndarray:
    """u = (T - 1)/tau for candidate timescale ``name`` (shape (T, x)); 0 where tau is
    infinite, NaN where the theory has no value."""
    th = data["theory"]
    if name == "xi_c(Sigma=0)":
        xi = np.array([math.nan if v is None else v for v in th["xi_c"]], float)
        xi = np.where(np.array(th.get("xi_c_inf", [False] * len(xi)), bool), math.inf, xi)
    elif name == "tau_jac":
        chi = np.array([math.nan if v is None else v for v in th["chi_jac"]], float)
        with np.errstate(divide="ignore"):
            xi = 1.0 / np.abs(np.log(chi))
    else:
        raise ValueError(f"unknown timescale {name!r}; one of {', '.join(CANDIDATES)}")
    T = np.array(data["T"], float)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.isinf(xi)[None], 0.0, (T - 1.0) / xi[None])


def compare_timescales(data: dict, threshold: float | None = None) -> dict:
    """How well each of :data:`CANDIDATES` predicts the map's outcomes, per checkpoint.

    For each candidate: k fitted as the stored fit is (:func:`trainability.fit.fit_k`, same
    bootstrap seed), and the fraction of networks that the rule "trained iff
    T - 1 < k tau" misclassifies at that k (networks where the theory has no value are
    left out and counted). Returns ``{"rule", "candidates": {name: [per checkpoint]},
    "better": name with fewer misclassified at the last checkpoint, None on a tie}``.
    """
    n_boot = data.get("fit_settings", {}).get("n_boot", N_BOOT)
    ok = trained(data, threshold)
    out: dict = {"rule": "trained iff T - 1 < k tau, k fitted per checkpoint",
                 "candidates": {}}
    for name in CANDIDATES:
        u = np.broadcast_to(candidate_u(data, name)[:, None, :], ok.shape[1:])
        valid = np.isfinite(u)
        rows = []
        for i, step in enumerate(data["checkpoints"]):
            f = fit_k(np.where(valid, u, 0.0)[valid], ok[i][valid],
                      np.random.default_rng(FIT_SEED), n_boot)
            wrong = (u[valid] < f.k) != ok[i][valid] if math.isfinite(f.k) else None
            rows.append({"step": step, "k": f.k, "ci_low": f.ci_low, "ci_high": f.ci_high,
                         "n": int(valid.sum()), "left_out": int((~valid).sum()),
                         "misclassified": None if wrong is None else float(np.mean(wrong))})
        out["candidates"][name] = rows
    last = {n: r[-1]["misclassified"] for n, r in out["candidates"].items()}
    known = {n: v for n, v in last.items() if v is not None}
    winners = [n for n, v in known.items() if v == min(known.values())]
    out["better"] = winners[0] if len(winners) == 1 else None  # a tie names neither
    return out


#: Overlay timescale of each task when none is named: the one the shipped maps support
#: (docs/trainability.md, "Which timescale predicts trainability").
DEFAULT_OVERLAY = {"memory": "tau_jac", "padding": "xi_jac(sigma_v=0)"}
OVERLAYS = {"memory": ("xi_c(Sigma=0)", "tau_jac"), "padding": ("xi_jac(sigma_v=0)",)}


def overlay_params(base: theory.Params, mode: str) -> tuple[theory.Params, str]:
    """The theory point whose timescales describe the task's inputs.

    memory: Sigma = 0 (inputs of two sequences independent after t = 1);
    padding: sigma_v = 0 (no input after t = 1).
    """
    if mode == "padding":
        return base.replace(sigma_v=0.0), "xi_jac"
    return base.replace(Sigma=0.0), "xi_c"


def _overlay_value(r, overlay: str) -> float:
    if overlay == "tau_jac":
        return r.tau_jac  # theory's own two-sided timescale (types.PointResult.tau_jac)
    return r.xi_jac if overlay.startswith("xi_jac") else r.xi_c


def theory_timescales(base: theory.Params, x_name: str, xs, mode: str,
                      overlay: str | None = None) -> dict:
    """xi_c, xi_jac, chi_jac (at the map's fixed parameters, Sigma = 0) and the overlay
    timescale along x: one of :data:`OVERLAYS` of the task ``mode`` (default
    :data:`DEFAULT_OVERLAY`); ``tau_jac`` = 1/|ln chi_jac| is two-sided (finite on the
    chaotic side, where xi_jac is infinite).

    Architectures the theory does not cover yet get NaN and a message.
    """
    overlay = DEFAULT_OVERLAY[mode] if overlay is None else overlay
    if overlay not in OVERLAYS[mode]:
        raise ValueError(f"overlay {overlay!r} is not one of {', '.join(OVERLAYS[mode])} "
                         f"for the {mode} task")
    cols: dict[str, list] = {k: [] for k in ("xi_c", "xi_jac", "chi_jac", "xi_overlay",
                                             "xi_overlay_valid")}
    message = ""
    for x in xs:
        p = base.replace(**{x_name: float(x)})
        try:
            r = theory.point(p.replace(Sigma=0.0))
            ro = theory.point(overlay_params(p, mode)[0])
            vals = (r.xi_c, r.xi_jac, r.chi_jac, _overlay_value(ro, overlay),
                    bool(ro.exists and ro.converged))
        except theory.ParameterError as exc:
            vals, message = (math.nan, math.nan, math.nan, math.nan, False), str(exc)
        for k, v in zip(cols, vals, strict=True):
            cols[k].append(v)
    cols["overlay"] = overlay
    cols["message"] = message
    return cols


def git_commit(root: Path) -> dict:
    """Commit of the working tree at ``root`` and whether it had uncommitted changes."""
    def git(*args):
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                              timeout=30).stdout.strip()
    try:
        return {"commit": git("rev-parse", "HEAD") or None,
                "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def provenance() -> dict:
    """Commit, package versions and machine description for a record."""
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    machine = {"platform": platform.platform(), "cpu": cpu or platform.processor(),
               "cpu_count": os.cpu_count(), "executable": Path(sys.executable).name}
    return {**git_commit(Path(__file__).resolve().parents[1]), "versions": versions,
            "machine": machine}
