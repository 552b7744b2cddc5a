"""Resumable sweeps of training jobs on Dask distributed (or in-process).

Contract
--------
A *job* is one block of initialisations for one (architecture, T, seed): a list of
:class:`theory.Params` trained together by :func:`trainability.train.train_block`.
``execute(jobs, protocol, store, header, workers=2, scheduler=None)`` runs the jobs
that ``store`` does not hold yet and returns every job's result by key:

* ``scheduler=None, workers >= 1``: a local Dask cluster of ``workers`` single-threaded
  worker processes (one per core);
* ``scheduler="tcp://host:port"``: an existing cluster (workers must import this package
  and should run one thread each, see docs/trainability.md);
* ``workers=0``: in this process, without Dask (debugging, tests).

The store is a JSON-lines file: a header line (the sweep's settings) and one line per
finished job, appended and flushed as each job finishes. A rerun with the same header
skips the jobs it holds (a truncated last line from a kill is dropped); a different
header is refused. A worker that dies loses only its running job: the scheduler
reschedules it. ``map_jobs`` and ``assemble_map`` turn a (sweep spec, results) pair
into the map of :mod:`trainability.results`.
"""

from __future__ import annotations

import json
import os
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import theory
from trainability import results
from trainability.train import Protocol

#: One XLA thread per worker process (engineering notes: two threads gave 1.0-2.5x).
XLA_FLAGS = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
#: Parameters a map may sweep (R is the task's input scale and Sigma is not a weight).
X_NAMES = ("sigma_w", "sigma_v", "sigma_b", "mu_b", "mu_i", "mu_o", "mu_r")


@dataclass(frozen=True)
class Job:
    """One block: ``params`` (Params.to_dict() of each network), sequence length, seed."""

    key: str
    params: tuple
    T: int
    seed: int


def run_job(job: Job, protocol: dict) -> dict:
    """Train one job (runs on a worker); JSON-ready arrays and seconds."""
    os.environ.setdefault("XLA_FLAGS", XLA_FLAGS)
    from trainability.train import train_block

    plist = [theory.Params(**p) for p in job.params]
    r = train_block(plist, job.T, job.seed, Protocol.from_dict(protocol))
    out = {k: getattr(r, k) for k in results.MEASURES}
    return {**results._clean(out), "seconds": r.seconds}


class Store:
    """The JSON-lines record of finished jobs (see the module docstring)."""

    def __init__(self, path: str | os.PathLike, header: dict):
        self.path = Path(path)
        self.header = results._clean(header)
        self.done: dict[str, dict] = {}
        if self.path.exists():
            self._read()
        else:
            self._rewrite()

    def _read(self) -> None:
        lines = self.path.read_text().splitlines()
        good = []
        for line in lines:
            try:
                good.append(json.loads(line))
            except json.JSONDecodeError:
                break  # a line cut by a kill: drop it and everything after
        if not good or good[0].get("header") != self.header:
            raise theory.ParameterError(
                f"out: {self.path} holds a sweep with other settings; delete it or choose "
                f"another --out")
        self.done = {d["key"]: d["result"] for d in good[1:]}
        if len(good) != len(lines):
            self._rewrite()

    def _rewrite(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        with open(tmp, "w") as fh:
            fh.write(json.dumps({"header": self.header}) + "\n")
            for key, res in self.done.items():
                fh.write(json.dumps({"key": key, "result": res}) + "\n")
        os.replace(tmp, self.path)

    def add(self, key: str, result: dict) -> None:
        self.done[key] = result
        with open(self.path, "a") as fh:
            fh.write(json.dumps({"key": key, "result": results._clean(result)}) + "\n")
            fh.flush()
            os.fsync(fh.fileno())


def _progress(done: int, total: int, t0: float, stream=sys.stderr) -> None:
    width = 30
    filled = int(width * done / max(total, 1))
    el = time.monotonic() - t0
    stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} jobs  "
                 f"{el:7.0f} s")
    if done == total:
        stream.write("\n")
    stream.flush()


def _client(workers: int, scheduler: str | None):
    from distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler, timeout="30s"), None
    os.environ.setdefault("XLA_FLAGS", XLA_FLAGS)
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=40)
    return Client(cluster), cluster


def execute(jobs: Sequence[Job], protocol: Protocol, store: Store, *, workers: int = 2,
            scheduler: str | None = None, progress: bool = True) -> dict[str, dict]:
    """Run the jobs ``store`` lacks; return every job's result by key (see module doc)."""
    todo = [j for j in jobs if j.key not in store.done]
    todo.sort(key=lambda j: -j.T * len(j.params))  # longest first: better packing
    total, t0 = len(jobs), time.monotonic()
    pdict = protocol.to_dict()
    show = (lambda: _progress(len(store.done), total, t0)) if progress else (lambda: None)
    show()
    if todo and not scheduler and workers == 0:
        for job in todo:
            store.add(job.key, run_job(job, pdict))
            show()
    elif todo:
        from distributed import as_completed

        client, cluster = _client(workers, scheduler)
        try:
            tag = uuid.uuid4().hex[:8]
            futs = {client.submit(run_job, j, pdict, key=f"train-{j.key}-{tag}", pure=False): j
                    for j in todo}
            for fut in as_completed(futs):
                store.add(futs[fut].key, fut.result())
                show()
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    return {j.key: store.done[j.key] for j in jobs}


@dataclass(frozen=True)
class MapSpec:
    """A map: ``base`` Params with ``x_name`` swept over ``xs``, for every T and seed."""

    base: theory.Params
    x_name: str
    xs: tuple
    Ts: tuple
    seeds: tuple
    protocol: Protocol
    #: timescale k is fitted on (``results.OVERLAYS``; None: ``results.DEFAULT_OVERLAY``)
    overlay: str | None = None

    def __post_init__(self) -> None:
        if self.overlay is not None and self.overlay not in results.OVERLAYS[self.protocol.mode]:
            raise theory.ParameterError(
                f"overlay: {self.overlay!r} is not one of "
                f"{', '.join(results.OVERLAYS[self.protocol.mode])} for the "
                f"{self.protocol.mode} task")
        if self.x_name not in X_NAMES:
            raise theory.ParameterError(f"x: {self.x_name!r} is not one of {', '.join(X_NAMES)}")
        for name in ("xs", "Ts", "seeds"):
            if not getattr(self, name):
                raise theory.ParameterError(f"{name}: needs at least one value")
        for x in self.xs:  # every point must be a valid ensemble
            self.base.replace(**{self.x_name: float(x)})
        if any(int(T) < 1 for T in self.Ts) or any(int(s) < 0 for s in self.seeds):
            raise theory.ParameterError("T, seeds: T >= 1 and seeds >= 0 integers")

    def header(self) -> dict:
        return {"kind": "map", "base": self.base.to_dict(), "x_name": self.x_name,
                "x": [float(x) for x in self.xs], "T": [int(T) for T in self.Ts],
                "seeds": [int(s) for s in self.seeds], "protocol": self.protocol.to_dict()}

    def jobs(self) -> list[Job]:
        plist = tuple(self.base.replace(**{self.x_name: float(x)}).to_dict() for x in self.xs)
        return [Job(f"T{int(T)}-s{int(s)}", plist, int(T), int(s))
                for T in self.Ts for s in self.seeds]


def assemble_map(spec: MapSpec, done: dict[str, dict], n_boot: int = results.N_BOOT) -> dict:
    """The map dict of :mod:`trainability.results` from finished jobs, with theory and fits."""
    data: dict = {"schema": results.SCHEMA, "arch": spec.base.arch, **spec.header()}
    data["checkpoints"] = list(spec.protocol.checkpoints)
    mu = [spec.base.replace(**{spec.x_name: float(x)}).mu_b for x in spec.xs]
    data["mu_b"] = mu
    for name in results.MEASURES:  # job arrays are (K, x): stack to (K, T, seeds, x)
        arr = np.array([[done[f"T{int(T)}-s{int(s)}"][name] for s in spec.seeds]
                        for T in spec.Ts], dtype=float if name != "finite" else bool)
        data[name] = np.moveaxis(arr, 2, 0)
    data["theory"] = results.theory_timescales(spec.base, spec.x_name, spec.xs,
                                               spec.protocol.mode, spec.overlay)
    data["fit_settings"] = {"n_boot": n_boot, "seed": results.FIT_SEED, "model": "logistic in "
                            "ln((T-1)/xi), penalty beta^2/200, percentile bootstrap over points"}
    data = results._clean(data)
    data["drifted"] = results._clean(results.drifted(data))
    data["fit"] = results.refit(data, n_boot=n_boot)
    data["timescales"] = results._clean(results.compare_timescales(data))
    return data
