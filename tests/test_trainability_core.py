"""The trainer's pieces: initial weights vs their Params, cells vs a NumPy reference,
gradients vs finite differences, the task's chance level, the k fit on planted data,
and the map file (docs/trainability.md). Tolerances are derived next to each assertion.
"""

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("jax")
pytest.importorskip("optax")

import theory  # noqa: E402
from trainability import networks, results  # noqa: E402
from trainability.fit import fit_k  # noqa: E402
from trainability.task import Task  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
N = 200  # width for the statistics tests: 40,000 recurrent entries per matrix


def _var_tol(n: int) -> float:
    """5 standard errors of a sample variance relative to the true one: 5 sqrt(2/n)."""
    return 5.0 * math.sqrt(2.0 / n)


@pytest.mark.parametrize("arch,weights", [("vanilla", "gaussian"), ("vanilla", "orthogonal"),
                                          ("minimal", "gaussian"), ("minimal", "orthogonal")])
def test_vanilla_minimal_initial_statistics(arch, weights):
    p = theory.Params(arch=arch, weights=weights, sigma_w=1.7, sigma_v=0.6, sigma_b=0.3,
                      mu_b=2.0 if arch == "minimal" else 0.0)
    w, fr = networks.init_network(p, N, 32, np.random.default_rng(1))
    W = w["W"]
    assert W.shape == (N, N)
    assert abs(N * W.var() / p.sigma_w**2 - 1) < _var_tol(N * N)
    if weights == "orthogonal":
        # W^T W = sigma_w^2 I holds exactly (round-off only).
        np.testing.assert_allclose(W.T @ W, p.sigma_w**2 * np.eye(N), atol=1e-12)
    n_in = N if arch == "minimal" else 32
    V = w["V"]
    assert V.shape == (N, n_in)
    assert abs(n_in * V.var() / p.sigma_v**2 - 1) < _var_tol(V.size)
    # bias: mean within 5 sd/sqrt(N); sd within 5 sqrt(1/(2N)) relative.
    assert abs(w["b"].mean() - p.mu_b) < 5 * p.sigma_b / math.sqrt(N)
    assert abs(w["b"].std() / p.sigma_b - 1) < 5 * math.sqrt(1 / (2 * N))
    if arch == "minimal":
        P = fr["P"]  # z = P x has E z_i^2 = R when entries have variance 1/n_in
        assert P.shape == (N, 32) and abs(32 * P.var() - 1) < _var_tol(P.size)


def test_orthogonal_is_haar_not_just_orthogonal():
    """Haar O has E[O_ii] = 0; QR without the sign fix is biased by ~sqrt(2/(pi N)).

    Over 20 draws of N = 200 the mean diagonal entry has sd 1/(N sqrt(20)) = 0.0011, so
    5 sd = 0.0056, well below the uncorrected bias 0.056.
    """
    rng = np.random.default_rng(2)
    diag = np.mean([np.diag(networks.haar_orthogonal(N, rng)).mean() for _ in range(20)])
    assert abs(diag) < 5 / (N * math.sqrt(20))


@pytest.mark.parametrize("arch,weights", [("gru", "gaussian"), ("gru", "block-orthogonal"),
                                          ("lstm", "orthogonal"), ("lstm", "block-orthogonal")])
def test_gated_initial_statistics_per_gate(arch, weights):
    gates = networks.GATES[arch]
    extra = {"mu_r": -1.0} if arch == "gru" else {"mu_i": 1.5, "mu_o": -0.5}
    ov = {f"sigma_w_{gates[1]}": 0.5, f"sigma_b_{gates[0]}": 0.4}
    if arch == "gru":
        ov["sigma_bh_n"] = 0.3
    p = theory.Params(arch=arch, weights=weights, sigma_w=1.3, sigma_v=0.8, sigma_b=0.2,
                      mu_b=3.0, overrides=ov, **extra)
    w, _ = networks.init_network(p, N, 32, np.random.default_rng(3))
    G = len(gates)
    assert w["W"].shape == (G, N, N) and w["V"].shape == (G, N, 32) and w["b"].shape == (G, N)
    for k, name in enumerate(gates):
        g = p.gate(name)
        assert abs(N * w["W"][k].var() / g.sigma_w**2 - 1) < _var_tol(N * N)
        assert abs(32 * w["V"][k].var() / g.sigma_v**2 - 1) < _var_tol(N * 32)
        assert abs(w["b"][k].mean() - g.mu) < 5 * g.sigma_b / math.sqrt(N)
        assert abs(w["b"][k].std() / g.sigma_b - 1) < 5 * math.sqrt(1 / (2 * N))
    if weights == "orthogonal":
        for k, name in enumerate(gates):
            s2 = p.gate(name).sigma_w ** 2
            np.testing.assert_allclose(w["W"][k].T @ w["W"][k], s2 * np.eye(N), atol=1e-12)
    if weights == "block-orthogonal":
        # The blocks of one orthonormal-row N x GN matrix: sum_k W_k^T W_k / sigma_k^2 = G I,
        # while a single block is not orthogonal (a truncated orthogonal matrix).
        s2 = [p.gate(name).sigma_w ** 2 for name in gates]
        total = sum(w["W"][k].T @ w["W"][k] / s2[k] for k in range(G))
        np.testing.assert_allclose(total, G * np.eye(N), atol=1e-10)
        single = w["W"][0].T @ w["W"][0] / s2[0]
        assert np.abs(single - np.eye(N)).max() > 0.1
    if arch == "gru":
        assert abs(w["bh"].std() / 0.3 - 1) < 5 * math.sqrt(1 / (2 * N))


# --- forward pass against an independent NumPy implementation ----------------------------

def _sig(e):
    return 1 / (1 + np.exp(-e))


def _np_forward(arch, phi, variant, w, fr, xs):
    """theory.md 1.1-1.2 and gated-cells.md 1.1-1.2 written out in NumPy."""
    from scipy.special import erf

    f = {"tanh": np.tanh, "erf": erf, "relu": lambda e: np.maximum(e, 0), "linear": lambda e: e}
    B, Nw = xs.shape[1], w["W"].shape[-1]
    h, c = np.zeros((B, Nw)), np.zeros((B, Nw))
    for x in xs:
        if arch == "vanilla":
            h = f[phi](h @ w["W"].T + x @ w["V"].T + w["b"])
        elif arch == "minimal":
            z = x @ fr["P"].T
            u = _sig(h @ w["W"].T + z @ w["V"].T + w["b"])
            h = u * h + (1 - u) * z
        else:
            pre = [h @ w["W"][k].T + x @ w["V"][k].T + w["b"][k] for k in range(len(w["b"]))]
            if arch == "lstm":
                fg, ig, gg, og = _sig(pre[0]), _sig(pre[1]), np.tanh(pre[2]), _sig(pre[3])
                c = fg * c + ig * gg
                h = og * np.tanh(c)
            else:
                z, r = _sig(pre[0]), _sig(pre[1])
                a = x @ w["V"][2].T + w["b"][2]
                n = (np.tanh(a + r * (h @ w["W"][2].T + w["bh"])) if variant == "reset_after"
                     else np.tanh(a + (r * h) @ w["W"][2].T))
                h = z * h + (1 - z) * n
    return h @ w["A"].T + w["a"]


# relu and linear share the vanilla code path with tanh/erf (only phi differs): left out to
# save two compiles; the forward pass of every phi is the same expression.
CELLS = [("vanilla", "tanh", "reset_after"), ("vanilla", "erf", "reset_after"),
         ("minimal", "tanh", "reset_after"), ("gru", "tanh", "reset_after"),
         ("gru", "tanh", "reset_before"), ("lstm", "tanh", "reset_after")]


def _tiny(arch, phi, variant, seed=0):
    kw = {"gru_variant": variant} if arch == "gru" else {}
    if arch == "vanilla":
        kw["phi"] = phi
    p = theory.Params(arch=arch, sigma_w=1.4, sigma_v=0.9, sigma_b=0.3, mu_b=0.5, **kw)
    rng = np.random.default_rng(seed)
    w, fr = networks.init_network(p, 5, 4, rng)
    if arch == "gru" and variant == "reset_after":
        w["bh"] = 0.3 * rng.standard_normal(5)
    w["A"] = rng.standard_normal((10, 5)) / math.sqrt(5)  # non-zero: gradients reach W
    w["a"] = 0.1 * rng.standard_normal(10)
    task = Task(T=4, input_dim=4, seed=seed)
    xs, y = task.batch(task.train_stream(), 3, np.float64)
    structure = (arch, phi if arch == "vanilla" else "-", variant if arch == "gru" else "-")
    return structure, w, fr, xs, y


@pytest.fixture
def x64():
    import jax

    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", False)


def _np_loss(arch, phi, variant, w, fr, xs, y):
    logits = _np_forward(arch, phi, variant, w, fr, xs)
    m = logits.max(-1, keepdims=True)
    lse = np.log(np.exp(logits - m).sum(-1)) + m[:, 0]
    return float(np.mean(lse - logits[np.arange(len(y)), y]))


@pytest.mark.parametrize("arch,phi,variant", CELLS)
def test_cells_match_numpy_reference_and_gradients_match_finite_differences(
        x64, arch, phi, variant):
    import jax

    from trainability.train import cross_entropy, make_forward

    structure, w, fr, xs, y = _tiny(arch, phi, variant)
    forward = make_forward(structure, 5)

    def loss(w):
        logits = forward(w, fr, xs)
        return cross_entropy(logits, y), logits
    (_, logits), grad = jax.jit(jax.value_and_grad(loss, has_aux=True))(w)  # one compile
    # Same equations in float64: agreement to round-off (1e-12 of O(1) logits).
    np.testing.assert_allclose(logits, _np_forward(arch, phi, variant, w, fr, xs), atol=1e-12)
    rng = np.random.default_rng(7)
    for name in w:  # a random direction in each parameter array separately
        d = rng.standard_normal(w[name].shape)
        eps = 1e-5

        def at(s, name=name, d=d):  # the NumPy reference loss: independent of JAX
            return _np_loss(arch, phi, variant, {**w, name: w[name] + s * d}, fr, xs, y)
        fd = (at(eps) - at(-eps)) / (2 * eps)
        ad = float(np.sum(np.asarray(grad[name]) * d))
        # Central differences: truncation ~ eps^2 |L'''| ~ 1e-10, round-off ~ 1e-16/eps = 1e-11.
        assert abs(fd - ad) < 1e-7 * max(1.0, abs(ad)), (name, fd, ad)


# --- the task ---------------------------------------------------------------------------

def test_task_inputs_labels_and_chance_level():
    from trainability.train import cross_entropy

    t = Task(T=6, R=0.7, seed=3)
    xs, y = t.heldout()
    xs2, y2 = t.heldout()
    assert np.array_equal(xs, xs2) and np.array_equal(y, y2)  # a fixed held-out batch
    s = t.train_stream()
    a, b = t.batch(s, 64), t.batch(s, 64)
    assert not np.array_equal(a[0], b[0])  # fresh samples every step
    protos = t.prototypes()
    assert np.array_equal(xs[0], protos[y].astype(np.float32))
    # Noise second moment: 5 x 1024 x 32 values of N(0, R); relative SE sqrt(2/n).
    assert abs(np.mean(xs[1:].astype(float) ** 2) / 0.7 - 1) < _var_tol(xs[1:].size)
    # Labels uniform: each class frequency within 4 binomial SE of 0.1 on 1024 samples.
    freq = np.bincount(y, minlength=10) / 1024
    assert np.all(np.abs(freq - 0.1) < 4 * math.sqrt(0.1 * 0.9 / 1024))
    # Zero read-out (the trainer's start): loss ln 10 exactly, accuracy = share of argmax 0,
    # i.e. chance within the same binomial tolerance.
    logits = np.zeros((1024, 10), np.float32)
    assert float(cross_entropy(logits, y)) == pytest.approx(math.log(10), rel=1e-6)
    acc = np.mean(np.argmax(logits, -1) == y)
    assert abs(acc - 0.1) < 4 * math.sqrt(0.1 * 0.9 / 1024)
    pad = Task(T=4, mode="padding")
    assert not pad.heldout()[0][1:].any()


def test_bad_input_is_refused_with_the_parameter_name():
    from trainability.train import Protocol, train_block

    with pytest.raises(theory.ParameterError, match="^T:"):
        Task(T=0)
    with pytest.raises(theory.ParameterError, match="^checkpoints:"):
        Protocol(steps=10, checkpoints=(5, 20))
    with pytest.raises(theory.ParameterError, match="^params_list:"):
        train_block([theory.Params(arch="vanilla"), theory.Params(arch="minimal")], 3, 0)


# --- the fit ----------------------------------------------------------------------------

def test_fit_recovers_a_planted_k_and_its_interval_covers_it():
    rng = np.random.default_rng(11)
    k, beta, n = 12.0, 4.0, 600
    u = np.exp(rng.uniform(-1.0, 5.0, n))
    y = rng.random(n) < 1 / (1 + np.exp(beta * (np.log(u) - np.log(k))))
    f = fit_k(u, y, np.random.default_rng(0), n_boot=100)
    assert f.ci_low < k < f.ci_high
    # With 600 points the interval is narrow: under a factor 1.5 from end to end.
    assert f.ci_high / f.ci_low < 1.5 and abs(math.log(f.k / k)) < 0.2
    assert f.beta == pytest.approx(beta, rel=0.5)


def test_fit_of_a_sharp_transition_lands_in_the_gap_and_degenerate_cases_say_so():
    u = np.array([1.0, 2.0, 3.0, 5.0, 20.0, 30.0, 50.0])
    f = fit_k(u, u < 10.0, np.random.default_rng(0), n_boot=50)
    assert 5.0 < f.k < 20.0
    g = fit_k(u, np.ones(7, bool), np.random.default_rng(0), n_boot=50)
    assert math.isnan(g.k) and "every network trained" in g.message and g.u_max == 50.0
    h = fit_k(np.array([0.0, 1.0, np.nan]), np.array([True, False, True]),
              np.random.default_rng(0), n_boot=20)
    assert h.n == 2  # NaN u dropped; u = 0 (xi infinite) kept
    bad = fit_k(u, u > 10.0, np.random.default_rng(0), n_boot=20)  # trains only at large u
    assert math.isnan(bad.k) and "does not fall" in bad.message


def _synthetic_map(k_true, beta=6.0, seed=5, planted="xi_c(Sigma=0)"):
    """A map dict whose outcomes follow the logistic in (T - 1)/tau of the real theory, with
    tau the ``planted`` timescale (xi_c at Sigma = 0, or tau_jac = 1/|ln chi_jac|); k is
    fitted on the same timescale."""
    from trainability.sweep import MapSpec, assemble_map
    from trainability.train import Protocol

    base = theory.Params(arch="vanilla", sigma_w=1.2, sigma_v=0.1, sigma_b=0.0)
    spec = MapSpec(base, "sigma_w", tuple(np.linspace(0.6, 2.6, 12)), (8, 16, 32, 64, 128),
                   (0, 1, 2), Protocol(steps=10, checkpoints=(5, 10)), overlay=planted)
    pts = [theory.point(base.replace(sigma_w=x)) for x in spec.xs]
    xi = np.array([r.xi_c if planted.startswith("xi_c") else 1 / abs(math.log(r.chi_jac))
                   for r in pts])
    rng = np.random.default_rng(seed)
    done = {}
    for T in spec.Ts:
        p = 1 / (1 + np.exp(beta * (np.log((T - 1) / xi) - math.log(k_true))))
        for s in spec.seeds:
            ok = rng.random(len(xi)) < p
            acc = np.where(ok, 0.9, 0.1)
            done[f"T{T}-s{s}"] = {"accuracy": [acc * 0.9, acc], "loss": [acc, acc],
                                  "finite": [ok | True, ok | True], "drift_w": [0 * acc, 0 * acc],
                                  "drift_b": [0 * acc, 0 * acc]}
    return assemble_map(spec, done, n_boot=60), xi


def test_map_file_round_trip_refit_and_planted_k(tmp_path):
    data, xi = _synthetic_map(k_true=8.0)
    path = tmp_path / "m.json.gz"
    results.save(path, data)
    back = results.load(path)
    assert back == json.loads(json.dumps(back))  # plain JSON
    np.testing.assert_allclose(back["theory"]["xi_overlay"], xi, rtol=1e-12)
    assert results.array(back, "accuracy").shape == (2, 5, 3, 12)
    assert results.refit(back) == back["fit"]  # a re-fit reproduces the stored fit exactly
    final = back["fit"][-1]
    assert final["ci_low"] < 8.0 < final["ci_high"]
    # Re-thresholding: at 0.95 nothing trained, so k cannot be fitted.
    assert all(f["k"] is None for f in results.refit(back, threshold=0.95, n_boot=5))
    assert not results.drifted(back).any() and not np.any(back["drifted"])
    back["drift_w"][1][2][0][4] = 0.3  # weight scale grew by 30 %
    back["drift_b"][0][0][1][0] = -0.26  # |shift| / max(1, |mu_b| = 0) > 0.25
    assert np.argwhere(results.drifted(back)).tolist() == [[0, 0, 1, 0], [1, 2, 0, 4]]


@pytest.mark.parametrize("planted, other", [("xi_c(Sigma=0)", "tau_jac"),
                                            ("tau_jac", "xi_c(Sigma=0)")])
def test_the_comparison_finds_the_planted_timescale(planted, other):
    """Outcomes planted on one timescale: it predicts them better than the other, its k is
    the stored fit's, and its interval holds the planted k."""
    data, xi = _synthetic_map(k_true=8.0, beta=20.0, planted=planted)
    assert data["theory"]["overlay"] == planted
    np.testing.assert_allclose(data["theory"]["xi_overlay"], xi, rtol=1e-9)
    comp = data["timescales"]
    assert comp["better"] == planted
    mine, theirs = comp["candidates"][planted][-1], comp["candidates"][other][-1]
    assert mine["k"] == data["fit"][-1]["k"] and mine["ci_low"] < 8.0 < mine["ci_high"]
    assert mine["misclassified"] < theirs["misclassified"]
    # the misclassified fraction is the rule's, counted here independently
    u = (np.array(data["T"], float)[:, None] - 1) / xi[None]
    ok = results.trained(data)[-1]
    wrong = (np.broadcast_to(u[:, None, :], ok.shape) < mine["k"]) != ok
    assert mine["misclassified"] == pytest.approx(wrong.mean(), abs=1e-12)


SHIPPED = sorted((ROOT / "data" / "trainability").glob("*.json.gz"))


@pytest.mark.skipif(not SHIPPED, reason="no shipped map yet")
@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_maps_refit_to_their_recorded_k(path):
    data = results.load(path)
    record = json.loads(path.with_name(path.name.removesuffix(".json.gz") +
                                       ".record.json").read_text())
    assert data["fit"] == record["fit"]
    # the same fit again; a machine's floating point may differ in the last bits (seen:
    # 3e-15 relative in beta on another CPU), not more
    refit = results.refit(data)
    assert [sorted(f) for f in refit] == [sorted(f) for f in record["fit"]]
    # the comparison's verdict follows its own numbers (a tie names neither timescale)
    last = {n: r[-1]["misclassified"] for n, r in record["timescales"]["candidates"].items()}
    best = [n for n, v in last.items() if v == min(last.values())]
    assert record["timescales"]["better"] == (best[0] if len(best) == 1 else None)
    for new, old in zip(refit, record["fit"], strict=True):
        for key, value in old.items():
            assert new[key] == (pytest.approx(value, rel=1e-9, abs=1e-12)
                                if isinstance(value, float) else value), (new["step"], key)


# --- layering ---------------------------------------------------------------------------

def test_results_and_fit_import_without_jax_and_nobody_imports_trainability(tmp_path):
    code = ("import sys, trainability.results, trainability.fit; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'jax', 'optax', 'dask'}))")
    path = os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), str(ROOT)]))
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300, check=True, env={**os.environ, "PYTHONPATH": path}
                         ).stdout.strip().splitlines()[-1]
    assert out == "[]"
    # the dashboard reads the shipped maps (data/trainability/) with json, never the package
    imports = re.compile(r"^\s*(from|import)\s+trainability\b|import_module\(.trainability",
                         re.MULTILINE)
    for folder in ("theory", "components"):
        for path in (ROOT / folder).rglob("*.py"):
            assert not imports.search(path.read_text()), path
    assert not imports.search((ROOT / "app.py").read_text())


def test_trainer_flags_a_diverging_network_and_keeps_its_neighbour():
    """Linear phi with sigma_w = 3 overflows float32 within 90 steps (3^90 ~ 1e43): its loss
    is NaN from the first step. The other network of the block must be unaffected.
    """
    from trainability.train import Protocol, train_block

    ps = [theory.Params(arch="vanilla", phi="linear", sigma_w=s, sigma_v=1.0, sigma_b=0.0)
          for s in (3.0, 0.5)]
    r = train_block(ps, 90, 0, Protocol(N=4, batch=4, steps=2, checkpoints=(1, 2),
                                        heldout_size=16))
    assert r.finite.tolist() == [[False, True], [False, True]]
    assert np.isfinite(r.loss[:, 1]).all() and np.isfinite(r.accuracy).all()
    # After one step only the read-out has moved: its zero start blocks W's gradient.
    assert r.drift_w[0, 1] == 0.0 and r.drift_w[1, 1] != 0.0
