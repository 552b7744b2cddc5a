"""The stored reference points of the gated cells and the writer of tests/data/gated_reference.json.

Contract: :func:`gru_points` / :func:`lstm_points` return the seeded parameter dicts (at least
64 random points per cell over the documented ranges, plus the framework defaults of
gated-cells.md 7, near-critical points, the spec's examples and, for the GRU, points in and next
to the bistable region); :func:`write` evaluates ``reference_gated`` at every point and writes
the JSON (parameters, every output, seconds per point, the code version = SHA-256 of the
reference modules, the date), with the critical-sigma_w tables (6.3), some trajectories and
Jacobian moments, and the LSTM exactness table (GC vs GC4 vs exact law, 4.6).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import math
import multiprocessing
import pathlib
import time

import numpy as np

try:
    from tests import reference_gated as rg
    from tests import reference_gated_gru as gru
    from tests import reference_gated_params as gp
    from tests import reference_gated_sim as sim
except ImportError:  # run as a script, or with tests/ on sys.path
    import reference_gated as rg
    import reference_gated_gru as gru
    import reference_gated_params as gp
    import reference_gated_sim as sim

SEED = 19010898  #: arXiv 1901.08987 (Gilboa et al.)
HERE = pathlib.Path(__file__).resolve().parent
DATA = HERE / "data" / "gated_reference.json"
MODULES = ("reference_gated.py", "reference_gated_exact.py", "reference_gated_gru.py",
           "reference_gated_lstm.py", "reference_gated_params.py", "reference_gated_quad.py",
           "reference_gated_sim.py", "reference_gated_solve.py", "reference_gated_spectra.py")
T_TRAJ = 30  #: length of the stored trajectories
LSTM_CRIT_MU = (-2.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0)  #: spec 6.3 table
GRU_CRIT_MU = (-2.0, 0.0, 1.0, 2.0, 3.0)


def code_version() -> str:
    """SHA-256 (first 16 hex digits) of the reference modules, in MODULES order."""
    h = hashlib.sha256()
    for name in MODULES:
        h.update((HERE / name).read_bytes())
    return h.hexdigest()[:16]


def framework_defaults(arch: str, H: int = 128) -> dict:
    """gated-cells.md 7 defaults (N_in = H, R = 1, Sigma = 0): name -> parameter dict."""
    s3 = 1.0 / math.sqrt(3.0)
    pt_b = math.sqrt(2.0 / (3.0 * H))  # PyTorch b_ih + b_hh, each U(-1/sqrt(H), 1/sqrt(H))
    if arch == "gru":
        one = math.sqrt(1.0 / (3.0 * H))
        return {
            "pytorch": {"sigma_w": s3, "sigma_v": s3, "sigma_b": pt_b,
                        "overrides": {"sigma_b_n": one, "sigma_bh_n": one}},
            "keras": {"sigma_w": s3, "sigma_v": math.sqrt(0.5), "sigma_b": 0.0},
            "flax-linen": {"sigma_w": 1.0, "sigma_v": 1.0, "sigma_b": 0.0},
            "flax-nnx": {"sigma_w": s3, "sigma_v": 1.0, "sigma_b": 0.0},
        }
    return {
        "pytorch": {"sigma_w": s3, "sigma_v": s3, "sigma_b": pt_b},
        "keras": {"sigma_w": 0.5, "sigma_v": math.sqrt(0.4), "sigma_b": 0.0, "mu_b": 1.0},
        "flax-linen": {"sigma_w": 1.0, "sigma_v": 1.0, "sigma_b": 0.0},
        "flax-nnx": {"sigma_w": 0.5, "sigma_v": 1.0, "sigma_b": 0.0},
    }


def _common(rng, i):
    u = rng.uniform()
    sw = float(np.exp(rng.uniform(np.log(0.1), np.log(8.0)))) if i % 4 < 2 else float(
        rng.uniform(0.1, 8.0))
    return {
        "sigma_w": sw,
        "mu_b": float(rng.uniform(-4.0, 8.0)),
        "sigma_v": float(rng.uniform(0.05, 2.0)),
        "sigma_b": 0.0 if u < 0.3 else float(rng.uniform(0.0, 1.0)),
        "R": float(rng.uniform(0.1, 3.0)),
        "Sigma": float(rng.choice([0.0, 0.3, 0.7, 1.0])),
    }


def _overrides(rng, gates, extra=()):
    names = [f"{s}_{k}" for k in gates for s in ("sigma_w", "sigma_v", "sigma_b")] + list(extra)
    pick = rng.choice(len(names), size=3, replace=False)
    hi = {"sigma_w": 6.0, "sigma_v": 2.0, "sigma_b": 1.0, "sigma_bh": 1.0}
    return {names[j]: float(rng.uniform(0.0, hi[names[j].rsplit("_", 1)[0]])) for j in pick}


def gru_points(seed: int = SEED) -> list[dict]:
    """64 seeded GRU points (variants alternate; mu_r != 0 in ~1/3; overrides in 1/8) plus the
    framework defaults, the spec's examples, the bistable region (mu_z = 5, 6) and sigma_v = 0."""
    rng = np.random.default_rng(seed)
    pts = []
    for i in range(64):
        variant = ("reset_after", "reset_before")[i % 2]
        p = {"arch": "gru", "gru_variant": variant, **_common(rng, i)}
        if rng.uniform() < 0.35:
            p["mu_r"] = float(rng.uniform(-2.0, 2.0))
        if i % 8 == 3:
            p["overrides"] = _overrides(rng, "zrn", ("sigma_bh_n",) if i % 2 == 0 else ())
        pts.append(p)
    pts += [{"arch": "gru", "name": f"default-{k}-H{H}", **v, "R": 1.0, "Sigma": 0.0}
            for H in (128, 512) for k, v in framework_defaults("gru", H).items()
            if H == 128 or k == "pytorch"]
    base = {"arch": "gru", "sigma_v": 1.0, "sigma_b": 0.0, "R": 1.0}
    pts += [{**base, "name": f"spec-3.6-mu{mu:g}-sw{sw:g}", "mu_b": mu, "sigma_w": sw,
             "Sigma": S} for mu, sw, S in [(6.0, 8.0, 0.5), (6.0, 8.0, 1.0), (6.0, 10.0, 0.0),
                                           (6.0, 7.0, 0.7), (5.0, 8.0, 0.3),
                                           (6.0, 9.0, 1.0), (4.0, 4.0, 0.0), (4.0, 6.0, 1.0)]]
    pts += [{**base, "name": f"spec-3.7-mu{mu:g}", "mu_b": mu, "sigma_w": 1.0, "Sigma": 0.0}
            for mu in (4.0, 6.0, 8.0)]
    # no gate sees the input (sigma_v = 0): identical inputs, C* = 1 in the ordered phase only
    pts += [{"arch": "gru", "name": f"edge-sigma_v0-{v}-sw{sw:g}", "gru_variant": v,
             "sigma_v": 0.0, "sigma_b": sb, "sigma_w": sw, "mu_b": mu, "Sigma": 0.5}
            for v, sw, sb, mu in [("reset_after", 1.5, 0.5, 1.0), ("reset_before", 1.5, 0.5, 1.0),
                                  ("reset_after", 4.5, 0.7, 0.0), ("reset_before", 4.0, 0.5, 0.0)]]
    return pts


def lstm_points(seed: int = SEED + 1) -> list[dict]:
    """64 seeded LSTM points (mu_i, mu_o != 0 in ~1/3 each; overrides in 1/8), the first 12 again
    with closure gc4, the framework defaults, the spec 4.6 example and sigma_v = 0."""
    rng = np.random.default_rng(seed)
    pts = []
    for i in range(64):
        p = {"arch": "lstm", **_common(rng, i)}
        for k in ("mu_i", "mu_o"):
            if rng.uniform() < 0.35:
                p[k] = float(rng.uniform(-2.0, 2.0))
        if i % 8 == 5:
            p["overrides"] = _overrides(rng, "figo")
        pts.append(p)
    pts += [{**p, "closure": "gc4"} for p in pts[:12]]
    pts += [{"arch": "lstm", "name": f"default-{k}-H{H}", **v, "R": 1.0, "Sigma": 0.0}
            for H in (128, 512) for k, v in framework_defaults("lstm", H).items()
            if H == 128 or k == "pytorch"]
    pts.append({"arch": "lstm", "name": "spec-4.6", "sigma_w": 1.0, "sigma_v": 1.0,
                "sigma_b": 0.0, "mu_b": 1.0, "R": 1.0, "Sigma": 0.0})
    pts += [{"arch": "lstm", "name": f"edge-sigma_v0-sw{sw:g}", "sigma_v": 0.0, "sigma_b": 0.5,
             "sigma_w": sw, "mu_b": mu, "Sigma": 0.3} for sw, mu in [(2.0, 1.0), (6.0, 0.0)]]
    return pts


def fit_reset_after(p: dict) -> dict:
    """reset_after points need sqrt(q_a/q_s) >= 0.15 at Q* (cross_nn's Chebyshev-in-r method);
    others are stored as reset_before (marked ``"switched": True``)."""
    if p.get("gru_variant", "reset_after") != "reset_after":
        return p
    c = gp.cell(p)
    Q, _ = rg._q_star(c, scan=False)
    q_a, q_s = gru._candidate(c, Q)
    if q_s > 0.0 and q_a < 0.15**2 * q_s:
        return {**p, "gru_variant": "reset_before", "switched": True}
    return p


def near_critical(arch: str, seed: int, n: int = 3, mapper=map) -> list[dict]:
    """n seeded parameter sets, each at sigma_w = sigma_c (1 - 2e-3), sigma_c, sigma_c (1 + 2e-3)
    (|chi_jac - 1| < 1e-2), the middle one with identical inputs (Sigma = 1)."""
    rng = np.random.default_rng(seed)
    base = []
    for j in range(n):
        p = {"arch": arch, "sigma_v": float(rng.uniform(0.5, 1.5)),
             "sigma_b": float(rng.uniform(0.0, 0.5)), "R": float(rng.uniform(0.5, 2.0)),
             "mu_b": float(rng.uniform(-2.0, 3.0 if arch == "gru" else 4.0)),
             "Sigma": float(rng.choice([0.0, 0.5]))}
        if arch == "gru":
            p["gru_variant"] = ("reset_after", "reset_before")[j % 2]
        base.append(p)
    out = []
    for j, (p, sc) in enumerate(zip(base, mapper(rg.critical_sigma_w, base), strict=True)):
        out += [{**p, "name": f"near-critical-{j}-{k}", "sigma_w": sc * f,
                 **({"Sigma": 1.0} if k == 1 else {})}
                for k, f in enumerate((1.0 - 2e-3, 1.0, 1.0 + 2e-3))]
    return out


def jsonable(x):
    """Plain JSON types; non-finite floats become None (as theory's to_dict does)."""
    if isinstance(x, dict):
        return {k: jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple | np.ndarray):
        return [jsonable(v) for v in x]
    if isinstance(x, bool | np.bool_):
        return bool(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, float | np.floating):
        return float(x) if math.isfinite(x) else None
    return x


def _entry(p, traj):
    t0 = time.time()
    res = rg.point(p)
    out = {"p": p, "result": res}
    if traj:
        out["trajectory"] = rg.trajectory(p, T_TRAJ)
    out["seconds"] = time.time() - t0
    print(f"{p.get('name', '')} {p['arch']} sw={p['sigma_w']:.3f} mu={p.get('mu_b', 0):.2f} "
          f"S={p.get('Sigma', 0)}: chi_jac={res['chi_jac']:.6f} ({out['seconds']:.1f} s)",
          flush=True)
    return out


def critical_row(arch: str, mu: float) -> dict:
    """Spec 6.3 row: critical shared sigma_w (sigma_v = R = 1, sigma_b = 0); LSTM also Q_c* and
    xi_cell = -1/ln E f^2 there."""
    p = {"arch": arch, "mu_b": mu, "sigma_v": 1.0, "R": 1.0, "sigma_b": 0.0}
    sc = rg.critical_sigma_w(p)
    row = {"mu_b": mu, "sigma_w": sc}
    if arch == "lstm":
        r = rg.point({**p, "sigma_w": sc}, scan=False)
        ef2 = rg.lstm.gates(gp.cell({**p, "sigma_w": sc}), r["Q_star"], ("2",))["f2"]
        row.update(Qc_star=r["Qc_star"], xi_cell=rg.xi_of(ef2), chi_jac=r["chi_jac"])
    return row


EXACT_POINTS = [(1.0, 1.0), (-2.0, 1.0), (-2.0, 4.0), (0.0, 3.0), (0.0, 6.0), (2.0, 2.0),
                (4.0, 3.0), (4.0, 1.5)]  #: (mu_f, sigma_w) at sigma_v = R = 1, sigma_b = 0
PD_POINTS = {(1.0, 1.0), (0.0, 6.0), (-2.0, 1.0), (4.0, 3.0)}  #: with population dynamics


def population_dynamics(p: dict, N: int = 100_000, T: int = 420, burn: int = 120,
                        seed: int = SEED) -> dict:
    """Untied LSTM at N = 1e5 (the N -> infinity law without matrices, spec 4.6): Q* and the
    exact untied chi_jac (tangent growth) with standard errors from 6 batches of the run."""
    out = sim.simulate(gp.cell(p), N, T, np.random.default_rng(seed))
    res = {}
    for k in ("Q", "Qc", "growth"):
        b = np.array([x.mean() for x in np.array_split(out[k][burn:], 6)])
        res[k] = float(b.mean())
        res[k + "_se"] = float(b.std(ddof=1) / math.sqrt(len(b)))
    return res


def exactness_row(p: dict, pd: bool) -> dict:
    """GC vs GC4 vs exact law at one LSTM point (Q*, E tanh^2 c, E sech^4 c, chi_jac; with
    ``pd`` the population-dynamics Q* and untied chi_jac)."""
    t0 = time.time()
    row = {"p": p, **rg.lstm_exact(p, q_star=True)}
    row["chi_jac_gc"] = rg.point(p, scan=False)["chi_jac"]
    row["chi_jac_gc4"] = rg.point({**p, "closure": "gc4"}, scan=False)["chi_jac"]
    if pd:
        row["pd"] = population_dynamics(p)
    row["seconds"] = time.time() - t0
    print("exact", p.get("name", ""), p.get("mu_b", 0.0), p["sigma_w"], row["Q_gc"],
          row["Q_exact"], flush=True)
    return row


def exactness_points() -> list[tuple[dict, bool]]:
    """EXACT_POINTS and the LSTM framework defaults, with the population-dynamics flag."""
    pts = [({"arch": "lstm", "mu_b": m, "sigma_w": s, "sigma_v": 1.0, "R": 1.0,
             "sigma_b": 0.0}, (m, s) in PD_POINTS) for m, s in EXACT_POINTS]
    return pts + [({"arch": "lstm", "name": f"default-{k}", **v, "R": 1.0}, False)
                  for k, v in framework_defaults("lstm").items()]


def jacobian_row(p: dict) -> dict:
    """m1, m2 at T = 1 and 10 at one point (``p["weights"]`` orthogonal or gaussian)."""
    return {"p": p, **{f"T{T}": list(rg.jacobian_moments(p, T)) for T in (1, 10)}}


WORKERS = 2  #: processes (the machine has 2 cores)


def _task(job):
    kind, args = job
    fn = {"entry": _entry, "critical": critical_row, "exact": exactness_row,
          "jacobian": jacobian_row}[kind]
    try:
        return fn(*args)
    except Exception as exc:  # recorded in the file; the tests require that none occurred
        print("FAILED", kind, args, repr(exc), flush=True)
        return {"p": args[0], "error": repr(exc)}


def write(path: pathlib.Path = DATA) -> None:
    """Evaluate every stored quantity and write the JSON file (tens of minutes on 2 cores)."""
    t0 = time.time()
    version = code_version()
    with multiprocessing.Pool(WORKERS) as pool:
        gru_pts = pool.map(fit_reset_after, gru_points(), chunksize=1)
        gru_pts += near_critical("gru", SEED + 2, mapper=pool.map)
        lstm_pts = lstm_points() + near_critical("lstm", SEED + 3, mapper=pool.map)
    jac = [p for p in gru_pts[:24] if p["gru_variant"] == "reset_after"][:6] + lstm_pts[:3]
    jobs = ([("entry", (p, i % 5 == 0 and i < 64)) for i, p in enumerate(gru_pts)]
            + [("entry", (p, i % 5 == 0 and i < 64)) for i, p in enumerate(lstm_pts)]
            + [("critical", ("lstm", m)) for m in LSTM_CRIT_MU]
            + [("critical", ("gru", m)) for m in GRU_CRIT_MU]
            + [("exact", a) for a in exactness_points()]
            + [("jacobian", ({**p, "weights": w},)) for p in jac
               for w in ("orthogonal", "gaussian")])
    with multiprocessing.Pool(WORKERS) as pool:
        res = pool.map(_task, jobs, chunksize=1)
    it = iter(res)
    take = [[next(it) for _ in range(n)] for n in (len(gru_pts), len(lstm_pts), len(LSTM_CRIT_MU),
                                                   len(GRU_CRIT_MU), len(exactness_points()),
                                                   2 * len(jac))]
    if code_version() != version:
        raise RuntimeError("the reference modules changed while the file was being computed")
    data = {"code_version": version, "date": datetime.date.today().isoformat(), "seed": SEED,
            "modules": list(MODULES), "gru": take[0], "lstm": take[1],
            "critical": {"lstm": take[2], "gru": take[3]}, "exactness": take[4],
            "jacobian": take[5], "total_seconds": time.time() - t0}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(jsonable(data), separators=(",", ":")) + "\n")
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KB) in {data['total_seconds']:.0f} s")
