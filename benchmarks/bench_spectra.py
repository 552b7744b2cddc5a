"""Speed of theory.spectrum and theory.sample_singular_values (issue 3).

Targets: density for T = 1000 on 400 grid points <= 50 ms warm; sampler N = 400,
T = 100 <= 1.5 s. Each is timed next to a plain NumPy reference in the same run:

* density: the same subordination equation (theory.md 5.3) solved by NumPy Newton
  steps over the same 400 points (psi_y vectorised over the nodes, no pole
  correction, fixed broadening eta = 1e-3: i.e. the textbook recipe);
* sampler: the explicit product J_T ... J_1 and one numpy SVD (no QR, no graded
  SVD: fast but its small singular values are rounding noise beyond ~1e-16 s_max).

Run: ``python benchmarks/bench_spectra.py``; writes benchmarks/results/spectra.json.
"""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

import numpy as np

import theory
from theory import sampling as SM
from theory import spectra as S


def _best(f, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times), float(np.median(times))


def numpy_density(p: theory.Params, T: int, w_grid: np.ndarray) -> np.ndarray:
    """Reference: Newton on the log-form equation with NumPy, eta = 1e-3, no pole terms."""
    law = S.vanilla_law(p.phi, p.sigma_w, p.mu_b, theory.point(p).q_star)
    y = np.exp(law.logy)
    gauss = p.weights == "gaussian"
    eta = 1e-3
    out = np.empty(w_grid.size)
    a = complex(-w_grid[-1] - T * law.log_ybar, -eta)
    for i in range(w_grid.size - 1, -1, -1):
        w = complex(w_grid[i] - T * law.log_ybar, np.arctan(eta))
        for _ in range(50):
            f = 1.0 / (np.exp(-a) / y - 1.0)
            z = np.sum(law.wy * f)
            dz = np.sum(law.wy * f * (1 + f))
            t = 1 + z
            F = T * (a + np.log(t) - np.log(z)) + np.log(z) - np.log(t) + w
            dF = T * (1 + dz / t - dz / z) + dz / z - dz / t
            if gauss:
                F -= T * np.log(t)
                dF -= T * dz / t
            da = -F / dF
            a += da
            if abs(da) < 1e-11:
                break
        out[i] = -(t / complex(1, eta)).imag / np.pi
    return out


def bench_density(results: list) -> None:
    for weights in ("orthogonal", "gaussian"):
        p = theory.Params(weights=weights, sigma_w=1.5)
        sp = theory.spectrum(p, 1000, n_points=400)  # warm (compile + cache)
        best, med = _best(lambda p=p: theory.spectrum(p, 1000, n_points=400), 7)
        w = 2 * np.log(sp.s)
        ref_best, ref_med = _best(lambda p=p, w=w: numpy_density(p, 1000, w), 2)
        results.append({"case": f"density tanh {weights} T=1000, {sp.s.size} points",
                        "target_s": 0.05, "best_s": best, "median_s": med,
                        "numpy_reference_s": ref_best, "speedup": ref_best / best})


def numpy_sampler(p: theory.Params, N: int, T: int, rng: np.random.Generator) -> np.ndarray:
    net = SM._Network(p, N, rng)
    for _ in range(SM._default_burn_in(p)):
        net.step()
    P = np.eye(N)
    for _ in range(T):
        a, c = net.step()
        P = SM._apply(net.W, a, c, P)
    return np.linalg.svd(P, compute_uv=False)


def bench_sampler(results: list) -> None:
    for weights in ("orthogonal", "gaussian"):
        p = theory.Params(weights=weights, sigma_w=1.5)
        f = lambda p=p: theory.sample_singular_values(p, 400, 100, np.random.default_rng(0))  # noqa: E731
        best, med = _best(f, 3)
        g = lambda p=p: numpy_sampler(p, 400, 100, np.random.default_rng(0))  # noqa: E731
        ref_best, ref_med = _best(g, 3)
        results.append({"case": f"sampler tanh {weights} N=400 T=100", "target_s": 1.5,
                        "best_s": best, "median_s": med, "numpy_reference_s": ref_best,
                        "speedup": ref_best / best})


def main() -> None:
    results: list = []
    bench_density(results)
    bench_sampler(results)
    head = ("case", "target", "best", "median", "numpy ref", "ratio")
    print(f"{head[0]:45s} {head[1]:>8s} {head[2]:>9s} {head[3]:>9s} {head[4]:>10s} {head[5]:>7s}")
    for r in results:
        print(f"{r['case']:45s} {r['target_s']:8.3f} {r['best_s']:9.4f} {r['median_s']:9.4f} "
              f"{r['numpy_reference_s']:10.4f} {r['speedup']:7.1f}")
    out = Path(__file__).parent / "results" / "spectra.json"
    out.parent.mkdir(exist_ok=True)
    meta = {"python": platform.python_version(), "machine": platform.machine(),
            "cpus": os.cpu_count(), "load_avg": os.getloadavg(),
            "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS")}
    out.write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
