"""Speed of the mean-field calculators against a plain SciPy reference.

Run: ``NUMBA_CACHE_DIR=/tmp/numba_cache .venv/bin/python benchmarks/bench_theory.py``
(``--quick`` for a smoke run). Prints a table and writes
``benchmarks/results/theory.json``.

What is measured, per architecture, on one thread (``NUMBA_NUM_THREADS=1``):

* ``grid``: ``theory.grid`` of every quantity on a 200x200 grid of the
  dashboard preset plane (theory.md section 9: vanilla sigma_w x sigma_b,
  minimalRNN log sigma_w x mu_b), warm: after one untimed call. Each timed call
  shifts ``sigma_v`` by 1e-9 so that no result cache can answer it (tables of
  Gaussian expectations that depend only on phi and mu_b stay warm, as they do
  in the dashboard). Median of the repeats. The minimalRNN is also timed at
  Sigma = 0.5, where the correlation map is not trivially solved by C* = 0.
* ``point``: ``theory.point`` at 1000 random nodes of that grid (distinct
  parameters, so no cache hits); mean time per call, median over repeats.
* The GRU and the LSTM (gated-cells.md) on their (log sigma_w, mu_b) plane, at Sigma = 0
  (the start view) and Sigma = 0.5; their accuracy is checked by the test suite against
  its own brute-force reference, so no SciPy ratio is computed for them here.
* ``cold start``: a fresh interpreter running ``import theory`` plus one
  ``theory.point``; run twice (the first fills the Numba cache if needed), the
  second is reported: wall clock of the whole process and the in-process time.
* ``reference``: a per-point NumPy/SciPy computation written here, the way one
  would without this project: every expectation an adaptive
  ``scipy.integrate.quad`` (2-D ones ``dblquad``) on [-10, 10] with SciPy's
  default tolerances, fixed points by ``brentq``. Timed on 10 random grid
  nodes, extrapolated to the 40,000 nodes of the grid; ``ratio`` =
  extrapolated reference / measured grid. Its results are compared with
  ``theory.point`` at the same nodes (max relative difference reported), so
  the ratio compares like with like.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import scipy
from scipy import integrate, optimize

os.environ["NUMBA_NUM_THREADS"] = "1"  # must precede the first numba import (theory)
os.environ.setdefault("NUMBA_CACHE_DIR", "/tmp/numba_cache")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import numba  # noqa: E402 (after NUMBA_NUM_THREADS is set)

import theory  # noqa: E402 (after the environment and sys.path are set)

N_GRID = 200  # the grid; --n-grid changes it (then grid targets do not apply)
Z = 10.0  # integration range [-Z, Z]; the N(0,1) mass outside is 1.5e-23
SQ2PI = math.sqrt(2.0 * math.pi)
TARGETS = {  # value <= target (ratio: value >= target); issue 2 and, for gru/lstm, issue 12
    "grid_vanilla_ms": 30.0,
    "grid_minimal_ms": 60.0,
    "grid_gru_ms": 150.0,
    "grid_lstm_ms": 150.0,
    "point_us": 50.0,
    "point_gated_us": 200.0,
    "ratio": 2000.0,
    "cold_start_s": 2.0,
}
QUANTITIES = ("q_star", "Q_star", "c_star", "C_star", "chi_q", "chi_c", "chi_jac")


# --- the plain per-point reference (theory.md sections 3.1-3.3 and 4.1-4.2) -------
def e1(h, mu: float, q: float) -> float:
    """E[h(e, z)] with e = mu + sqrt(q) z, z ~ N(0, 1): one ``quad``."""
    s = math.sqrt(q)
    val = integrate.quad(lambda z: h(mu + s * z, z) * math.exp(-0.5 * z * z), -Z, Z)[0]
    return val / SQ2PI


def e2(h, mu: float, q: float, c: float) -> float:
    """E[h(e_a, e_b)], (e_a, e_b) Gaussian, means mu, variances q, correlation c."""
    s, r = math.sqrt(q), math.sqrt(max(0.0, 1.0 - c * c))

    def f(z2: float, z1: float) -> float:
        ea = mu + s * z1
        return h(ea, mu + s * (c * z1 + r * z2)) * math.exp(-0.5 * (z1 * z1 + z2 * z2))

    return integrate.dblquad(f, -Z, Z, -Z, Z)[0] / (2.0 * math.pi)


PHI = {  # phi, phi' (bounded ones: the reference brackets q* by sup phi^2 = 1)
    "tanh": (math.tanh, lambda x: 1.0 / math.cosh(x) ** 2),
    "erf": (math.erf, lambda x: 2.0 / math.sqrt(math.pi) * math.exp(-x * x)),
}


def ref_vanilla(p: theory.Params) -> dict[str, float]:
    """q*, Q*, c*, C*, chi_q, chi_c, chi_1 of the vanilla RNN (eqs. 3.1-3.3)."""
    f, df = PHI[p.phi]
    w2, mu = p.sigma_w**2, p.mu_b
    s_in = p.sigma_v**2 * p.R + p.sigma_b**2
    q = optimize.brentq(
        lambda q: w2 * e1(lambda e, z: f(e) ** 2, mu, q) + s_in - q,
        s_in,
        s_in + w2 + 1e-9,
    )
    Q = e1(lambda e, z: f(e) ** 2, mu, q)
    chi_q = w2 / math.sqrt(q) * e1(lambda e, z: z * f(e) * df(e), mu, q)
    chi_1 = w2 * e1(lambda e, z: df(e) ** 2, mu, q)
    const = p.sigma_v**2 * p.R * p.Sigma + p.sigma_b**2

    def cmap(c: float) -> float:
        return (w2 * e2(lambda a, b: f(a) * f(b), mu, q, c) + const) / q - c

    c0 = p.sigma_b**2 / q  # first inputs independent: q^ab_1 = sigma_b^2
    c = 1.0 if p.Sigma == 1.0 and chi_1 <= 1.0 else optimize.brentq(cmap, c0, 1.0)
    Qab = e2(lambda a, b: f(a) * f(b), mu, q, c)
    chi_c = w2 * e2(lambda a, b: df(a) * df(b), mu, q, c)
    return {
        "q_star": q,
        "Q_star": Q,
        "c_star": c,
        "C_star": Qab / Q,
        "chi_q": chi_q,
        "chi_c": chi_c,
        "chi_jac": chi_1,
    }


def _sig(e: float) -> float:
    return 0.5 * (1.0 + math.tanh(0.5 * e))  # logistic sigmoid without overflow


def _low_root(g, hi: float) -> float:
    """Smallest root of g on (0, hi] (g(0) > 0): scan 41 log-spaced points, brentq."""
    prev = 0.0
    for x in hi * np.geomspace(1e-8, 1.0, 41):
        if g(x) <= 0.0:
            return optimize.brentq(g, prev, x)
        prev = x
    return hi


def ref_minimal(p: theory.Params) -> dict[str, float]:
    """Q*, q*, C*, c*, chi_q, chi_c, chi_J of the minimalRNN (eqs. 4.1-4.3)."""
    w2, mu, R = p.sigma_w**2, p.mu_b, p.R
    s_in = p.sigma_v**2 * R + p.sigma_b**2

    def qmap(Q: float) -> float:
        q = w2 * Q + s_in
        return (
            e1(lambda e, z: _sig(e) ** 2, mu, q) * Q
            + e1(lambda e, z: (1.0 - _sig(e)) ** 2, mu, q) * R
            - Q
        )

    Q = _low_root(qmap, R)  # the branch reached from Q_0 = 0
    q = w2 * Q + s_in
    Eu2 = e1(lambda e, z: _sig(e) ** 2, mu, q)

    def du(e: float) -> float:
        return _sig(e) * (1.0 - _sig(e))

    chi_q = Eu2 + w2 / math.sqrt(q) * (
        Q * e1(lambda e, z: z * _sig(e) * du(e), mu, q)
        - R * e1(lambda e, z: z * (1 - _sig(e)) * du(e), mu, q)
    )
    chi_J = Eu2 + w2 * e1(lambda e, z: du(e) ** 2, mu, q) * (Q + R)
    rs = R * p.Sigma

    def cov(X: float) -> float:
        return (w2 * X + p.sigma_v**2 * rs + p.sigma_b**2) / q

    def xmap(X: float) -> float:
        c = cov(X)
        return (
            e2(lambda a, b: _sig(a) * _sig(b), mu, q, c) * X
            + e2(lambda a, b: (1 - _sig(a)) * (1 - _sig(b)), mu, q, c) * rs
            - X
        )

    X = Q if p.Sigma == 1.0 and chi_J <= 1.0 else optimize.brentq(xmap, 0.0, Q)
    c = cov(X)
    chi_c = e2(lambda a, b: _sig(a) * _sig(b), mu, q, c) + w2 * e2(
        lambda a, b: du(a) * du(b), mu, q, c
    ) * (X + rs)
    return {
        "q_star": q,
        "Q_star": Q,
        "c_star": c,
        "C_star": X / Q,
        "chi_q": chi_q,
        "chi_c": chi_c,
        "chi_jac": chi_J,
    }


# --- measurements --------------------------------------------------------------------
CASES = {  # name -> (arch, x axis, y axis, fixed-parameter changes); axis specs
    # are (name, start, stop, log-spaced): the presets of theory.md section 9
    "vanilla": ("vanilla", ("sigma_w", 0.5, 3.0, False), ("sigma_b", 0.0, 1.0, False), {}),
    "minimal": ("minimal", ("sigma_w", 0.1, 10.0, True), ("mu_b", -4.0, 8.0, False), {}),
    "minimal Sigma=0.5": (
        "minimal",
        ("sigma_w", 0.1, 10.0, True),
        ("mu_b", -4.0, 8.0, False),
        {"Sigma": 0.5},
    ),
    # the gated cells on the dashboard's (log sigma_w, mu_b) plane (gated-cells.md 1.4)
    "gru": ("gru", ("sigma_w", 0.1, 10.0, True), ("mu_b", -4.0, 8.0, False), {}),
    "gru Sigma=0.5": ("gru", ("sigma_w", 0.1, 10.0, True), ("mu_b", -4.0, 8.0, False),
                      {"Sigma": 0.5}),
    "gru reset_before": ("gru", ("sigma_w", 0.1, 10.0, True), ("mu_b", -4.0, 8.0, False),
                         {"gru_variant": "reset_before", "Sigma": 0.5}),
    "lstm": ("lstm", ("sigma_w", 0.1, 10.0, True), ("mu_b", -4.0, 8.0, False), {}),
    "lstm Sigma=0.5": ("lstm", ("sigma_w", 0.1, 10.0, True), ("mu_b", -4.0, 8.0, False),
                       {"Sigma": 0.5}),
}
#: Architectures with a plain per-point SciPy reference written here (the gated cells are
#: checked to 1e-6 by the test suite's own brute-force reference instead).
REFERENCE_ARCHS = ("vanilla", "minimal")


def axes(case: str, n: int) -> tuple[tuple[str, np.ndarray], tuple[str, np.ndarray]]:
    """The case's (x, y) axes with ``n`` points each."""

    def one(spec: tuple) -> tuple[str, np.ndarray]:
        name, start, stop, log = spec
        return name, (np.geomspace if log else np.linspace)(start, stop, n)

    return one(CASES[case][1]), one(CASES[case][2])


def base_params(case: str) -> theory.Params:
    arch, _, _, fixed = CASES[case]
    return theory.default_params(arch).replace(**fixed)


def time_grid(case: str, repeats: int, n: int) -> dict:
    """Warm wall time of one n x n grid of every quantity (ms)."""
    x, y = axes(case, n)
    p = base_params(case)
    g = theory.grid(p, x=x, y=y)  # warm-up: compile or load kernels, fill tables
    times = []
    for k in range(1, repeats + 1):
        pk = p.replace(sigma_v=p.sigma_v + 1e-9 * k)
        t0 = time.perf_counter()
        theory.grid(pk, x=x, y=y)
        times.append(time.perf_counter() - t0)
    conv = float(np.mean(g["converged"]))
    return {
        "median_ms": 1e3 * statistics.median(times),
        "min_ms": 1e3 * min(times),
        "repeats": repeats,
        "fields": len(g.fields),
        "converged_fraction": conv,
    }


def random_nodes(case: str, n: int, seed: int, n_grid: int) -> list[theory.Params]:
    """``n`` random nodes of the case's n_grid x n_grid grid as Params (seeded)."""
    (xn, xs), (yn, ys) = axes(case, n_grid)
    rng = np.random.default_rng(seed)
    p = base_params(case)
    return [
        p.replace(**{xn: float(xs[i]), yn: float(ys[j])})
        for i, j in zip(rng.integers(0, xs.size, n), rng.integers(0, ys.size, n), strict=True)
    ]


def time_point(case: str, n: int, repeats: int, n_grid: int) -> dict:
    """Mean time of ``theory.point`` over ``n`` distinct random grid nodes (us)."""
    nodes = random_nodes(case, n, seed=1, n_grid=n_grid)
    for p in nodes[:5]:
        theory.point(p)
    means = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for p in nodes:
            theory.point(p)
        means.append((time.perf_counter() - t0) / n)
    return {
        "median_us": 1e6 * statistics.median(means),
        "min_us": 1e6 * min(means),
        "points": n,
        "repeats": repeats,
    }


COLD = (
    "import json, time\n"
    "t0 = time.perf_counter()\n"
    "import theory\n"
    "theory.point(theory.default_params({arch!r}))\n"
    "print(json.dumps({{'in_process_s': time.perf_counter() - t0}}))\n"
)


def time_cold(arch: str) -> dict:
    """Fresh interpreter: import theory + first point; 2 runs, the second reported."""
    runs = []
    for _ in range(2):
        t0 = time.perf_counter()
        r = subprocess.run(
            [sys.executable, "-c", COLD.format(arch=arch)],
            cwd=ROOT,
            env=dict(os.environ),
            capture_output=True,
            text=True,
            check=True,
        )
        wall = time.perf_counter() - t0
        runs.append({"wall_s": wall, **json.loads(r.stdout.strip().splitlines()[-1])})
    return {"first": runs[0], **runs[1]}


def time_reference(case: str, n: int, n_grid: int) -> dict:
    """Per-point SciPy reference on ``n`` random nodes; agreement with theory.point."""
    arch = CASES[case][0]
    ref = ref_vanilla if arch == "vanilla" else ref_minimal
    times, worst = [], dict.fromkeys(QUANTITIES, 0.0)
    for p in random_nodes(case, n, seed=2, n_grid=n_grid):
        t0 = time.perf_counter()
        r = ref(p)
        times.append(time.perf_counter() - t0)
        fast = theory.point(p)
        for k in QUANTITIES:
            a, b = r[k], getattr(fast, k)
            d = abs(a - b) / max(abs(b), 1e-12) if math.isfinite(b) else math.inf
            worst[k] = max(worst[k], d)
    per_point = statistics.mean(times)
    return {
        "points": n,
        "per_point_s": per_point,
        "max_per_point_s": max(times),
        "extrapolated_grid_s": per_point * n_grid * n_grid,
        "max_rel_diff": worst,
    }


# --- report ---------------------------------------------------------------------------
def _row(name: str, value: float, unit: str, target_key: str | None) -> dict:
    target = TARGETS.get(target_key) if target_key else None
    higher = target_key == "ratio"
    ok = None if target is None else (value >= target if higher else value <= target)
    return {
        "name": name,
        "value": value,
        "unit": unit,
        "target": target,
        "higher_is_better": higher,
        "ok": ok,
    }


def rows_of(res: dict, n_grid: int) -> list[dict]:
    """Table rows (name, value, unit, target, ok); grid targets only for 200x200."""
    on_target = n_grid == N_GRID
    rows = [_row(f"speed probe, {tag} (see speed_probe)", ms, "ms", None)
            for tag, ms in zip(("before", "after"), res["speed_probe_ms"], strict=True)]
    for case, r in res["cases"].items():
        arch, ref = CASES[case][0], r.get("reference")
        rows.append(
            _row(
                f"{case}: grid {n_grid}x{n_grid}, all fields",
                r["grid"]["median_ms"],
                "ms",
                on_target and f"grid_{arch}_ms",
            )
        )
        point_key = "point_us" if arch in REFERENCE_ARCHS else "point_gated_us"
        if "point" in r:
            rows.append(_row(f"{case}: single point", r["point"]["median_us"], "us", point_key))
        if "cold" in r:
            rows.append(
                _row(
                    f"{case}: cold start (wall, 2nd run)", r["cold"]["wall_s"], "s", "cold_start_s"
                )
            )
            rows.append(
                _row(f"{case}: cold start (in-process)", r["cold"]["in_process_s"], "s", None)
            )
        if ref is None:
            continue
        rows += [
            _row(f"{case}: SciPy reference per point", ref["per_point_s"], "s", None),
            _row(f"{case}: reference extrapolated to grid", ref["extrapolated_grid_s"], "s", None),
            _row(f"{case}: ratio reference / grid", r["ratio"], "x", on_target and "ratio"),
            _row(f"{case}: max rel diff ref vs point", max(ref["max_rel_diff"].values()), "", None),
        ]
    return rows


def print_table(rows: list[dict]) -> None:
    print(f"{'measurement':<48} {'value':>12} {'unit':<4} {'target':>10} ok")
    for r in rows:
        t = (
            ""
            if r["target"] is None
            else ((">= " if r["higher_is_better"] else "<= ") + f"{r['target']:g}")
        )
        ok = "" if r["ok"] is None else ("yes" if r["ok"] else "NO")
        print(f"{r['name']:<48} {r['value']:>12.4g} {r['unit']:<4} {t:>10} {ok}")


@numba.njit(cache=False)
def _probe_loop(n: int) -> float:
    acc = 0.0
    for i in range(n):
        acc += math.tanh(i * 1e-6) * math.exp(-i * 1e-7)
    return acc


def speed_probe() -> float:
    """ms for a fixed Numba loop (2e6 tanh + exp), best of 5: the machine's speed now.

    This VM's speed drifts (the same probe measured 46 ms and 80 ms an hour apart),
    so every run records it before and after; compare runs only at similar probes.
    """
    _probe_loop(10)
    best = math.inf
    for _ in range(5):
        t0 = time.perf_counter()
        _probe_loop(2_000_000)
        best = min(best, time.perf_counter() - t0)
    return 1e3 * best


def run(args: argparse.Namespace) -> dict:
    res: dict = {"cases": {}, "speed_probe_ms": [speed_probe()]}
    for case in CASES:
        arch = CASES[case][0]
        if args.arch and arch not in args.arch:
            continue
        r: dict = {"grid": time_grid(case, args.repeats, args.n_grid)}
        print(f"[{case}] grid {r['grid']['median_ms']:.1f} ms", file=sys.stderr)
        if case == arch or case.endswith("Sigma=0.5"):  # points where C* needs a solve too
            r["point"] = time_point(case, args.points, 5, args.n_grid)
        if case == arch:  # cold start once per architecture
            r["cold"] = time_cold(arch)
        if arch not in REFERENCE_ARCHS:
            res["cases"][case] = r
            continue
        r["reference"] = time_reference(case, args.ref_points, args.n_grid)
        r["ratio"] = r["reference"]["extrapolated_grid_s"] / (1e-3 * r["grid"]["median_ms"])
        print(
            f"[{case}] reference {r['reference']['per_point_s']:.3f} s/point",
            file=sys.stderr,
        )
        res["cases"][case] = r
    res["speed_probe_ms"].append(speed_probe())
    return res


def machine() -> dict:
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "numba": __import__("numba").__version__,
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "NUMBA_NUM_THREADS": os.environ["NUMBA_NUM_THREADS"],
        "load_average": os.getloadavg(),
    }


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=7, help="timed grid calls (default 7)")
    ap.add_argument(
        "--points",
        type=int,
        default=1000,
        help="distinct nodes for the single-point timing (default 1000)",
    )
    ap.add_argument(
        "--ref-points", type=int, default=10, help="nodes for the SciPy reference (default 10)"
    )
    ap.add_argument(
        "--n-grid",
        type=int,
        default=N_GRID,
        help=f"grid side (default {N_GRID}; the targets apply to {N_GRID})",
    )
    ap.add_argument(
        "--quick", action="store_true", help="smoke run: 3 repeats, 200 points, 3 reference points"
    )
    ap.add_argument("--arch", nargs="*", default=None,
                    help="only these architectures (default: all four)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "theory.json"))
    args = ap.parse_args()
    if args.quick:
        args.repeats, args.points, args.ref_points = 3, 200, 3
    return args


def main() -> None:
    args = parse_args()
    started = time.time()
    res = run(args)
    rows = rows_of(res, args.n_grid)
    print_table(rows)
    doc = {
        "benchmark": "theory",
        "issue": 2,
        "duration_s": time.time() - started,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started)),
        "machine": machine(),
        "targets": TARGETS,
        "settings": vars(args),
        "rows": rows,
        "details": res,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=1, default=float) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
