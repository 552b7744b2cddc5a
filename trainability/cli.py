"""Command line: ``python -m trainability {sweep,fit,dynamics} ...``.

Contract
--------
``main(argv) -> int`` parses, runs and returns the exit status (0 success, 2 bad
input with a one-line message naming the parameter); an exception raised by a job
propagates (exit status 1 from ``python -m``).

* ``sweep``: a trainability map over ``--x NAME:START:STOP:NUM`` for every ``--T`` and
  ``--seeds``; writes ``--out`` (gzip'd JSON, docs/trainability.md) and its record
  ``<stem>.record.json``; finished jobs go to ``<stem>.partial.jsonl`` as they finish, so
  a rerun resumes (the file is removed once the map is written).
* ``fit``: re-fit k from a map file and print it (``--threshold`` re-thresholds;
  ``--update-theory`` recomputes the overlay timescales and stored fits in place).
* ``dynamics``: the training-curves comparison (theory.md 9, Fig. ~6), same store/record.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

import theory
from trainability import results
from trainability.train import Protocol

PARAM_FLAGS = ("phi", "weights", "sigma_w", "sigma_v", "sigma_b", "mu_b", "R", "gru_variant",
               "mu_i", "mu_o", "mu_r")


def _ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}") from None


def _axis(text: str) -> tuple[str, tuple[float, ...]]:
    try:
        name, start, stop, num = text.split(":")
        xs = np.linspace(float(start), float(stop), int(num))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected NAME:START:STOP:NUM, got {text!r}") from None
    return name, tuple(float(x) for x in xs)


def _protocol_args(p: argparse.ArgumentParser, steps: int, checkpoints: str) -> None:
    d = Protocol()
    p.add_argument("--N", type=int, default=d.N, help="width (default %(default)s)")
    p.add_argument("--batch", type=int, default=d.batch, help="batch (default %(default)s)")
    p.add_argument("--steps", type=int, default=steps, help="Adam steps (default %(default)s)")
    p.add_argument("--lr", type=float, default=d.lr, help="Adam rate (default %(default)s)")
    p.add_argument("--checkpoints", type=_ints, default=_ints(checkpoints),
                   help="steps at which accuracy is measured (default %(default)s)")
    p.add_argument("--threshold", type=float, default=d.threshold)
    p.add_argument("--drift-limit", type=float, default=d.drift_limit)
    p.add_argument("--mode", choices=("memory", "padding"), default=d.mode)
    p.add_argument("--seeds", type=_ints, default=(0, 1))
    p.add_argument("--out", required=True, help="results file (.json.gz)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="local Dask workers, one thread each (0: run in this process)")
    p.add_argument("--scheduler", default=None, help="address of an existing Dask scheduler")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m trainability", description=__doc__.split(
        "\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    sw = sub.add_parser("sweep", help="train a map over one parameter and several T")
    sw.add_argument("--arch", choices=theory.ARCHS, default="vanilla")
    sw.add_argument("--x", type=_axis, required=True, help="NAME:START:STOP:NUM")
    sw.add_argument("--T", type=_ints, default=(8, 16, 32, 64, 128, 256))
    sw.add_argument("--n-boot", type=int, default=results.N_BOOT)
    sw.add_argument("--overlay", default=None,
                    help="the timescale k is fitted on (memory task: xi_c(Sigma=0) or "
                         "tau_jac; default: the one the shipped maps support)")
    for name in PARAM_FLAGS:
        sw.add_argument("--" + name.replace("_", "-"), dest=name, default=None,
                        type=str if name in ("phi", "weights", "gru_variant") else float,
                        help="fixed parameter (default: theory.default_params(arch))")
    _protocol_args(sw, 1000, "250,500,1000")
    fit = sub.add_parser("fit", help="re-fit k from a map file")
    fit.add_argument("file")
    fit.add_argument("--threshold", type=float, default=None)
    fit.add_argument("--n-boot", type=int, default=None)
    fit.add_argument("--update-theory", action="store_true",
                     help="recompute the theory timescales and the fits, rewrite the file "
                          "and its record (e.g. once theory covers the map's architecture)")
    fit.add_argument("--overlay", default=None,
                     help="with --update-theory: the timescale k is fitted on (memory task: "
                          "xi_c(Sigma=0) or tau_jac; default: " + ", ".join(
                              f"{k} task {v}" for k, v in results.DEFAULT_OVERLAY.items()) + ")")
    dy = sub.add_parser("dynamics", help="training curves, critical vs off-critical")
    dy.add_argument("--T", type=_ints, default=(200,))
    dy.add_argument("--every", type=int, default=100, help="checkpoint spacing")
    dy.add_argument("--q-star", type=float, default=0.1)
    dy.add_argument("--off-sigma-w", type=float, default=2.0)
    dy.add_argument("--delta", type=float, default=1.0)
    dy.add_argument("--off-mu-b", type=float, default=0.0)
    dy.add_argument("--off-sigma-w-minimal", type=float, default=1.0)
    dy.add_argument("--html", default=None, help="also write the four-panel figure")
    _protocol_args(dy, 2000, "2000")
    return ap


def _protocol(a: argparse.Namespace, checkpoints: tuple[int, ...]) -> Protocol:
    return Protocol(N=a.N, batch=a.batch, steps=a.steps, lr=a.lr, checkpoints=checkpoints,
                    threshold=a.threshold, drift_limit=a.drift_limit, mode=a.mode)


def _paths(out: str) -> tuple[Path, Path, Path]:
    out_p = Path(out)
    out_p.parent.mkdir(parents=True, exist_ok=True)
    stem = out_p.name.removesuffix(".gz").removesuffix(".json")
    return out_p, out_p.with_name(stem + ".record.json"), out_p.with_name(stem + ".partial.jsonl")


def _run(a, header: dict, jobs, protocol: Protocol, assemble) -> dict:
    """Execute the jobs through the store, write results + record, return the record."""
    from trainability.sweep import Store, execute

    out, rec_path, part = _paths(a.out)
    load0, t0 = os.getloadavg(), time.time()
    code = results.provenance()  # the code this process runs: read before it trains
    store = Store(part, header)
    n_before = len(store.done)
    done = execute(jobs, protocol, store, workers=a.workers, scheduler=a.scheduler,
                   progress=not a.quiet)
    wall = time.time() - t0
    data = assemble(done)
    results.save(out, data)
    cost = sum(len(j.params) * protocol.steps * j.T for j in jobs)
    cpu = sum(done[j.key]["seconds"]["total"] for j in jobs)
    record = {"command": "python -m trainability " + " ".join(sys.argv[1:] if a.argv is None
                                                              else a.argv),
              "results_file": out.name, "settings": header, **code,
              "executor": a.scheduler and "external scheduler" or
              (f"local Dask cluster, {a.workers} workers x 1 thread" if a.workers else
               "in-process"),
              "wall_seconds_last_run": wall, "jobs_resumed": n_before,
              "job_seconds_total": cpu, "network_step_timesteps": cost,
              "job_seconds_per_network_step_timestep": cpu / cost,
              "loadavg_before": load0, "loadavg_after": os.getloadavg(),
              "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    if "fit" in data:
        record["fit"] = data["fit"]
        record["timescales"] = data.get("timescales")
    rec_path.write_text(json.dumps(results._clean(record), indent=1) + "\n")
    part.unlink()
    return record


def _sweep(a) -> int:
    from trainability.sweep import MapSpec, assemble_map

    base = theory.default_params(a.arch)
    fixed = {k: getattr(a, k) for k in PARAM_FLAGS if getattr(a, k) is not None}
    base = base.replace(**fixed)
    x_name, xs = a.x
    spec = MapSpec(base, x_name, xs, a.T, a.seeds, _protocol(a, a.checkpoints), a.overlay)
    rec = _run(a, spec.header(), spec.jobs(), spec.protocol,
               lambda done: assemble_map(spec, done, n_boot=a.n_boot))
    for f in rec["fit"]:
        print(f"step {f['step']:>6}: k = {f['k']}  95% CI [{f['ci_low']}, {f['ci_high']}]  "
              f"{f['message']}")
    return 0


def _dynamics(a) -> int:
    from trainability.dynamics import DynamicsSpec, assemble_dynamics, dynamics_jobs, figure

    ck = tuple(range(a.every, a.steps + 1, a.every)) if a.every >= 1 else ()
    ck = ck if ck and ck[-1] == a.steps else (*ck, a.steps)
    spec = DynamicsSpec(a.T, a.seeds, _protocol(a, ck), a.q_star, a.off_sigma_w, a.delta,
                        a.off_mu_b, a.off_sigma_w_minimal)
    jobs = dynamics_jobs(spec)
    _run(a, spec.header(), jobs, spec.protocol, lambda done: assemble_dynamics(spec, done))
    if a.html:
        figure(results.load(a.out, schema=None)).write_html(a.html, include_plotlyjs=True)
    return 0


def _fit(a) -> int:
    data = results.load(a.file)
    if a.update_theory:
        code = results.git_commit(Path(__file__).resolve().parents[1])  # before writing
        base = theory.Params(**data["base"])
        data["theory"] = results._clean(results.theory_timescales(
            base, data["x_name"], data["x"], data["protocol"]["mode"], a.overlay))
        data["fit"] = results.refit(data)
        data["timescales"] = results._clean(results.compare_timescales(data))
        results.save(a.file, data)
        rec_path = _paths(a.file)[1]
        if rec_path.exists():
            record = json.loads(rec_path.read_text())
            record["fit"] = data["fit"]
            record["timescales"] = data["timescales"]
            record["theory_updated"] = {
                "command": "python -m trainability " + " ".join(
                    sys.argv[1:] if a.argv is None else a.argv),
                **code, "overlay": data["theory"]["overlay"],
                "utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            rec_path.write_text(json.dumps(results._clean(record), indent=1) + "\n")
    for f in results.refit(data, a.threshold, a.n_boot):
        print(json.dumps(f))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point; see the module docstring."""
    a = build_parser().parse_args(argv)
    a.argv = argv
    try:
        return {"sweep": _sweep, "fit": _fit, "dynamics": _dynamics}[a.command](a)
    except theory.ParameterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
