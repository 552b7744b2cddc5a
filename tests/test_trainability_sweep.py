"""The sweep machinery for real: a smoke sweep on the default local Dask cluster, a sweep
killed half-way and resumed, a tiny sweep through a separately started ``dask scheduler``
and ``dask worker`` on loopback, and the training-dynamics command on a tiny budget.

One configuration (3 x-values, T in {3, 5}, seeds {0, 1}: 4 jobs, 12 networks) serves as
the reference: every path must reproduce its numbers exactly (same seeds, same XLA flags,
one thread per process, so the same floating-point operations).
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("jax")
pytest.importorskip("distributed")

from trainability import results  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
XLA = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
SWEEP = ["sweep", "--arch", "vanilla", "--x", "sigma_w:0.8:2.0:3", "--T", "3,5", "--seeds",
         "0,1", "--sigma-v", "0.5", "--sigma-b", "0", "--N", "8", "--batch", "16", "--steps",
         "12", "--checkpoints", "6,12", "--n-boot", "20", "--quiet"]


def _env() -> dict:
    path = os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), str(ROOT)]))
    return {**os.environ, "PYTHONPATH": path, "XLA_FLAGS": XLA, "OPENBLAS_NUM_THREADS": "1"}


def _cli(args, cwd, **kw):
    return subprocess.Popen([sys.executable, "-m", "trainability", *args], cwd=cwd,
                            env=_env(), start_new_session=True, **kw)


def _measurements(path: Path) -> dict:
    data = results.load(path)
    return {k: data[k] for k in (*results.MEASURES, "fit", "theory", "x", "T", "seeds")}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The smoke sweep: 12 short runs on the default local cluster (2 workers here)."""
    d = tmp_path_factory.mktemp("smoke")
    proc = _cli([*SWEEP, "--out", "ref.json.gz", "--workers", "2"], d)
    assert proc.wait(timeout=400) == 0
    assert not (d / "ref.partial.jsonl").exists()  # removed once the map is written
    record = json.loads((d / "ref.record.json").read_text())
    assert record["executor"].startswith("local Dask cluster, 2 workers")
    assert record["network_step_timesteps"] == 3 * 12 * (3 + 5) * 2
    return d / "ref.json.gz"


def test_smoke_sweep_writes_a_complete_map(reference):
    data = results.load(reference)
    acc = results.array(data, "accuracy")
    assert acc.shape == (2, 2, 2, 3) and np.all((acc >= 0) & (acc <= 1))
    assert results.array(data, "finite").all()
    assert [f["step"] for f in data["fit"]] == [6, 12]
    assert data["theory"]["overlay"] == results.DEFAULT_OVERLAY["memory"] == "tau_jac"
    assert set(data["timescales"]["candidates"]) == set(results.CANDIDATES)


def test_interrupted_sweep_resumes_to_the_same_result(reference, tmp_path):
    part = tmp_path / "m.partial.jsonl"
    proc = _cli([*SWEEP, "--out", "m.json.gz", "--workers", "0"], tmp_path)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if part.exists() and len(part.read_text().splitlines()) >= 2:  # header + one job
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    lines = part.read_text().splitlines()
    assert 2 <= len(lines) < 5, "the kill must land between the first and the last job"
    with open(part, "a") as fh:  # and a line cut in the middle of its write
        fh.write('{"key": "T5-s1", "result": {"accur')
    assert _cli([*SWEEP, "--out", "m.json.gz", "--workers", "0"], tmp_path).wait(300) == 0
    assert _measurements(tmp_path / "m.json.gz") == _measurements(reference)
    record = json.loads((tmp_path / "m.record.json").read_text())
    assert record["jobs_resumed"] == len(lines) - 1


def test_a_different_sweep_refuses_a_foreign_partial_file(tmp_path):
    (tmp_path / "m.partial.jsonl").write_text(json.dumps({"header": {"kind": "other"}}) + "\n")
    proc = _cli([*SWEEP, "--out", "m.json.gz", "--workers", "0"], tmp_path,
                stderr=subprocess.PIPE, text=True)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "other settings" in err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_sweep_through_an_existing_scheduler_on_loopback(reference, tmp_path):
    port = _free_port()
    dask = Path(sys.executable).with_name("dask")
    log = open(tmp_path / "cluster.log", "w")
    procs = [subprocess.Popen([str(dask), "scheduler", "--host", "127.0.0.1", "--port",
                               str(port), "--no-dashboard"], env=_env(), cwd=tmp_path,
                              stdout=log, stderr=log, start_new_session=True)]
    try:
        procs.append(subprocess.Popen(
            [str(dask), "worker", f"tcp://127.0.0.1:{port}", "--nthreads", "1", "--nworkers",
             "1", "--no-dashboard", "--host", "127.0.0.1"], env=_env(), cwd=tmp_path,
            stdout=log, stderr=log, start_new_session=True))
        args = [a for a in SWEEP]
        args[args.index("--T") + 1] = "3"
        proc = _cli([*args, "--out", "c.json.gz", "--scheduler", f"tcp://127.0.0.1:{port}"],
                    tmp_path)
        assert proc.wait(timeout=300) == 0, (tmp_path / "cluster.log").read_text()[-2000:]
    finally:
        for p in reversed(procs):
            os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=20)
        log.close()
    got, ref = results.load(tmp_path / "c.json.gz"), results.load(reference)
    for name in results.MEASURES:  # the T = 3 slice of the reference, bit for bit
        assert got[name] == [ck[:1] for ck in ref[name]], name
    record = json.loads((tmp_path / "c.record.json").read_text())
    assert record["executor"] == "external scheduler"


def test_dynamics_command_on_a_tiny_budget(tmp_path):
    from trainability.cli import main

    out = tmp_path / "d.json.gz"
    assert main(["dynamics", "--T", "4", "--seeds", "0", "--steps", "6", "--every", "3",
                 "--N", "6", "--batch", "8", "--workers", "0", "--quiet", "--out", str(out),
                 "--html", str(tmp_path / "d.html")]) == 0
    data = results.load(out, schema="trainability-dynamics/1")
    acc = np.array(data["curves"]["minimal"]["4"]["accuracy"], float)
    assert acc.shape == (1, 4, 2)  # (seeds, configs, checkpoints)
    crit = data["points"]["vanilla"]["4"][0]
    assert crit["chi_jac"] == pytest.approx(1.0, abs=1e-6)  # the critical point is critical
    assert (tmp_path / "d.html").stat().st_size > 10_000
    # the dashboard reads what the command wrote, with its record
    from components.trainability_dynamics import load_dynamics, verdict

    d = load_dynamics(out)
    assert len(verdict(d)) == 2 and d.record is not None and "dynamics" in d.record.command
