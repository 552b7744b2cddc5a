"""Cost of training for the trainability maps (docs/trainability.md).

Measures, on this machine, with one XLA thread per process:

1. per-step cost of every architecture at N = 64 (batch 64, T = 32, a block of 8
   networks): CPU seconds per network·step·time-step, steady state (compile excluded);
   compile time of the step;
2. a vmapped block of 8 networks against a loop over 8 single networks (vanilla);
3. a small sweep (4 jobs of 8 networks) on a local Dask cluster with one and with two
   workers: wall time, which includes cluster start and one compile per shape and worker.

Run from the repository root: ``python benchmarks/bench_train.py`` (``--quick``: smaller
step counts; ``--no-sweep``: parts 1 and 2 only; ``--sweep-steps 400``: a longer sweep, where
the cluster's start and the compiles weigh less). Prints a table and writes
benchmarks/results/train.json with the machine's load average before and after (other
processes inflate every number here).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                      "intra_op_parallelism_threads=1")

import numpy as np  # noqa: E402

import theory  # noqa: E402
from trainability import results  # noqa: E402
from trainability.sweep import MapSpec, Store, execute  # noqa: E402
from trainability.task import Task  # noqa: E402
from trainability.train import Protocol, _build, check_block, init_block  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "train.json"


def step_cost(arch: str, B: int, steps: int, N: int = 64, T: int = 32, batch: int = 64) -> dict:
    """Steady-state CPU and wall seconds per network·step·time-step of one block."""
    import jax

    plist = [theory.default_params(arch)] * B
    protocol = Protocol(N=N, batch=batch, steps=steps, checkpoints=(steps,))
    opt, step, _ = _build(check_block(plist), protocol)
    w, fr = (jax.device_put(a) for a in init_block(plist, protocol, 0))
    task = Task(T=T)
    stream, protos = task.train_stream(), task.prototypes()
    state, ok = opt.init(w), jax.numpy.ones(B, bool)
    xs, y = task.batch(stream, batch, np.float32, protos)
    t0 = time.perf_counter()
    w, state, ok = step(w, state, ok, fr, xs, y)
    ok.block_until_ready()
    compile_s = time.perf_counter() - t0
    c0, t0 = time.process_time(), time.perf_counter()
    for _ in range(steps):
        xs, y = task.batch(stream, batch, np.float32, protos)
        w, state, ok = step(w, state, ok, fr, xs, y)
    ok.block_until_ready()
    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    units = B * steps * T
    return {"arch": arch, "B": B, "N": N, "T": T, "batch": batch, "steps": steps,
            "compile_s": compile_s, "cpu_per_unit_ms": 1e3 * cpu / units,
            "wall_per_unit_ms": 1e3 * wall / units}


def sweep_wall(workers: int, steps: int) -> dict:
    """Wall time of a 4-job sweep (8 x-values, T in {16, 32}, 2 seeds, N = 64)."""
    base = theory.Params(arch="vanilla", sigma_v=0.1, sigma_b=0.0)
    spec = MapSpec(base, "sigma_w", tuple(np.linspace(0.6, 2.0, 8)), (16, 32), (0, 1),
                   Protocol(steps=steps, checkpoints=(steps,), heldout_size=256))
    with tempfile.TemporaryDirectory() as d:
        store = Store(Path(d) / "p.jsonl", spec.header())
        t0 = time.perf_counter()
        done = execute(spec.jobs(), spec.protocol, store, workers=workers, progress=False)
        wall = time.perf_counter() - t0
    units = sum(8 * steps * j.T for j in spec.jobs())
    job_s = sum(r["seconds"]["total"] for r in done.values())
    return {"workers": workers, "wall_s": wall, "job_seconds": job_s, "units": units,
            "wall_per_unit_ms": 1e3 * wall / units}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-sweep", action="store_true", help="skip part 3 (the Dask sweeps)")
    ap.add_argument("--sweep-steps", type=int, default=100,
                    help="Adam steps per network in part 3 (more: start-up weighs less)")
    a = ap.parse_args()
    steps = 10 if a.quick else 40
    load0 = os.getloadavg()
    per_arch = []
    for arch in theory.ARCHS:
        per_arch.append(step_cost(arch, 8, steps))
        print(per_arch[-1], flush=True)
    single = step_cost("vanilla", 1, steps)
    loop_ms = single["cpu_per_unit_ms"]  # a loop of 8 singles costs 8x one single
    sweeps = [] if a.no_sweep else [sweep_wall(w, 25 if a.quick else a.sweep_steps)
                                     for w in (1, 2)]
    out = {"per_arch": per_arch, "vmapped_vs_loop": {"block8_cpu_per_unit_ms":
           per_arch[0]["cpu_per_unit_ms"], "single_cpu_per_unit_ms": loop_ms},
           "sweep": sweeps, "loadavg_before": load0, "loadavg_after": os.getloadavg(),
           **results.provenance()}
    print(f"{'arch':8} {'compile s':>10} {'CPU ms/unit':>12} {'wall ms/unit':>13}")
    for r in per_arch:
        print(f"{r['arch']:8} {r['compile_s']:10.2f} {r['cpu_per_unit_ms']:12.4f} "
              f"{r['wall_per_unit_ms']:13.4f}")
    print(f"vanilla single network (loop member): {loop_ms:.4f} CPU ms/unit; block of 8: "
          f"{per_arch[0]['cpu_per_unit_ms']:.4f}")
    for s in sweeps:
        print(f"sweep, {s['workers']} worker(s): wall {s['wall_s']:.1f} s, "
              f"{s['wall_per_unit_ms']:.4f} wall ms/unit")
    print(f"load average before {load0}, after {out['loadavg_after']}")
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(results._clean(out), indent=1) + "\n")


if __name__ == "__main__":
    main()
