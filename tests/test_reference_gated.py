"""Checks OF the brute-force GRU/LSTM reference (``tests/reference_gated*.py``), not of theory/.

The reference shares no code with ``theory/``; this file checks its results, the numerical
machinery is checked in ``test_reference_gated_numerics.py``:

* the spec's printed numbers (another implementation's): critical sigma_w tables (6.3), the GRU
  bistability example (3.6), the large-mu_z checks (3.7), the LSTM example (4.6), the framework
  defaults (7) -- at the printed precision;
* identities and limits: chi_c(Sigma = 1, C = 1) = chi_jac (3.9, 4.5), closed-form slopes =
  finite differences of the maps, reset_before = reset_after when r is constant, the GRU with
  z = 0, r = 1 is the vanilla tanh RNN (against ``reference_impl``), a frozen open update gate
  tends to the identity map, the LSTM with f = 0, o = 1 has h = tanh(i g) (exact law against a
  2-D quad); trajectory conventions;
* the stored JSON (``tests/data/gated_reference.json``): contents, ranges, the spec's tables,
  and a seeded live recomputation of some of its points.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import integrate

try:  # the tests directory may or may not become a package
    from tests import reference_gated as rg
    from tests import reference_gated_exact as gx
    from tests import reference_gated_gru as gru
    from tests import reference_gated_lstm as lstm
    from tests import reference_gated_params as gp
    from tests import reference_gated_points as gpts
    from tests import reference_gated_quad as gq
    from tests import reference_gated_solve as gs
    from tests import reference_impl as ref
except ImportError:  # pragma: no cover - depends on how pytest was started
    import reference_gated as rg
    import reference_gated_exact as gx
    import reference_gated_gru as gru
    import reference_gated_lstm as lstm
    import reference_gated_params as gp
    import reference_gated_points as gpts
    import reference_gated_quad as gq
    import reference_gated_solve as gs
    import reference_impl as ref

pytestmark = pytest.mark.filterwarnings("error::scipy.integrate.IntegrationWarning")

SPEC = {"sigma_v": 1.0, "R": 1.0, "sigma_b": 0.0}  #: the spec's numerical examples (3.6, 6.3)


def _rel(a, b):
    return abs(a / b - 1.0)


# ---------------------------------------------------------------------------
# The spec's printed numbers (from another implementation: agreement at the printed precision)
# ---------------------------------------------------------------------------
def _printed(x: float, s: str) -> bool:
    """x rounds to the printed decimal string s (|x - s| <= half a unit of its last digit)."""
    digits = len(s.split(".")[1]) if "." in s else 0
    return abs(x - float(s)) <= 0.5 * 10.0**-digits * (1 + 1e-9)


def test_gru_bistability_example():
    """Spec 3.6, mu_z = 6, sigma_w = 8 (reset_after): roots 0.00274 (stable, chi_q 0.9935,
    chi_jac 0.9932), 0.0676 (unstable, chi_q 1.016), 0.2976 (stable, chi_q 0.944, chi_jac 1.574);
    h_0 = 0 reaches the low root; bistable."""
    p = {"arch": "gru", **SPEC, "mu_b": 6.0, "sigma_w": 8.0}
    r = rg.point(p)
    assert r["bistable"] and [s for _, s in r["roots"]] == [True, False, True]
    (q1, _), (q2, _), (q3, _) = r["roots"]
    assert _rel(r["Q_star"], q1) < 1e-12  # the iteration from 0 and the scan agree
    b = [rg.branch(p, q) for q in (q1, q2, q3)]
    checks = [(q1, "0.00274"), (q2, "0.0676"), (q3, "0.2976"), (b[0]["chi_q"], "0.9935"),
              (b[0]["chi_jac"], "0.9932"), (b[1]["chi_q"], "1.016"), (b[2]["chi_q"], "0.944"),
              (b[2]["chi_jac"], "1.574")]
    assert all(_printed(x, s) for x, s in checks), checks


@pytest.mark.parametrize("mu,sw,Q,chi", [(4.0, 4.0, "0.018", "0.958"), (4.0, 6.0, "0.16", "1.26"),
                                         (4.0, 0.5, None, "0.946"), (6.0, 1.0, None, "0.992")])
def test_gru_large_bias_examples(mu, sw, Q, chi):
    """Spec 3.6: single fixed points at mu_z = 4 (sigma_w = 4: Q 0.018, chi_jac 0.958; 6: 0.16,
    1.26; one sign change of the residual on a 40-point scan); the scan ends chi_jac = 0.946
    (mu_z = 4, sigma_w = 0.5) and 0.992 (mu_z = 6)."""
    p = {"arch": "gru", **SPEC, "mu_b": mu, "sigma_w": sw}
    r = rg.point(p, scan=False)
    assert _printed(r["chi_jac"], chi)
    if Q is not None:
        assert _printed(r["Q_star"], Q)
        c = gp.cell(p)
        grid = np.concatenate(([0.0], np.geomspace(1e-6, 0.999, 39)))
        assert len(gs.all_roots(lambda x: gru.residual(c, x), grid)) == 1


def test_gru_large_bias_timescales():
    """Spec 3.7: xi_jac = 18.1, 124.1, 905.8 at mu_z = 4, 6, 8 (sigma_w = 1); Q* = 2.112e-3
    at mu_z = 6."""
    rs = [rg.point({"arch": "gru", **SPEC, "mu_b": mu, "sigma_w": 1.0}, scan=False)
          for mu in (4.0, 6.0, 8.0)]
    assert all(_printed(r["xi_jac"], s) for r, s in zip(rs, ("18.1", "124.1", "905.8"),
                                                        strict=True))
    assert _printed(rs[1]["Q_star"] * 1e3, "2.112")


def test_lstm_example_gc_and_exact():
    """Spec 4.6 (sigma_w = sigma_v = 1, mu_f = 1): Q* GC 0.050729, chi_jac GC 0.55298, Q* under
    the exact law 0.050542 (characteristic-function solve at the spec's step 0.05/sqrt(Q_c);
    its error at that step is ~1e-9, test_exact_law_converges)."""
    p = {"arch": "lstm", **SPEC, "mu_b": 1.0, "sigma_w": 1.0}
    r = rg.point(p, scan=False)
    assert _printed(r["Q_star"], "0.050729") and _printed(r["chi_jac"], "0.55298")
    assert _printed(rg.lstm_exact(p, q_star=True, dk=0.05)["Q_exact"], "0.050542")


LSTM_TABLE = [  # spec 6.3: mu_f, critical sigma_w, Q_c* there, xi_cell there
    (-2.0, "4.995", "0.18", "0.37"), (0.0, "4.332", "0.24", "0.87"), (1.0, "3.798", "0.34", "1.5"),
    (2.0, "3.199", "0.54", "2.8"), (3.0, "2.609", "1.02", "5.9"), (4.0, "2.070", "2.22", "13.9"),
    (5.0, "1.601", "5.44", "36.9"), (6.0, "1.219", "14.4", "104.5"), (8.0, "0.709", "105", "846")]
GRU_TABLE = [(-2.0, "2.972"), (0.0, "3.126"), (1.0, "3.327"), (2.0, "3.695"), (3.0, "4.349")]


@pytest.mark.parametrize("mu,sw", [(m, s) for m, s, _, _ in LSTM_TABLE] + GRU_TABLE,
                         ids=[f"lstm{m:g}" for m, *_ in LSTM_TABLE] + [f"gru{m:g}" for m, _ in
                                                                       GRU_TABLE])
def test_critical_sigma_w_tables(mu, sw):
    """Spec 6.3 (sigma_v = R = 1, sigma_b = 0; LSTM GC, GRU reset_after): chi_jac crosses 1
    between the printed sigma_w -+ half a unit of its last digit."""
    arch = "lstm" if (mu, sw) in [(m, s) for m, s, _, _ in LSTM_TABLE] else "gru"
    p = {"arch": arch, **SPEC, "mu_b": mu}
    lo, hi = float(sw) - 0.0005, float(sw) + 0.0005
    assert rg.chi_jac_at(p, lo) < 1.0 < rg.chi_jac_at(p, hi)


def test_critical_sigma_w_solver_and_lstm_rows():
    """critical_sigma_w (brentq) at mu_f = 4 rounds to the table's 2.070, and Q_c* = 2.22,
    xi_cell = -1/ln E f^2 = 13.9 there (spec 6.3 rows)."""
    p = {"arch": "lstm", **SPEC, "mu_b": 4.0}
    sc = rg.critical_sigma_w(p)
    assert _printed(sc, "2.070")
    r = rg.point({**p, "sigma_w": sc}, scan=False)
    c = gp.cell({**p, "sigma_w": sc})
    assert _printed(r["Qc_star"], "2.22")
    assert _printed(rg.xi_of(lstm.gates(c, r["Q_star"], ("2",))["f2"]), "13.9")


DEFAULT_TABLE = {  # spec 7 (N_in = H, R = 1, Sigma = 0): chi_jac, xi_jac, Q*
    ("lstm", "pytorch"): ("0.284", "0.79", "0.018"), ("lstm", "keras"): ("0.536", "1.60", "0.030"),
    ("lstm", "flax-linen"): ("0.332", "0.91", "0.038"),
    ("lstm", "flax-nnx"): ("0.303", "0.84", "0.037"),
    ("gru", "pytorch"): ("0.291", "0.81", "0.079"), ("gru", "keras"): ("0.298", "0.83", "0.106"),
    ("gru", "flax-linen"): ("0.364", "0.99", "0.172"),
    ("gru", "flax-nnx"): ("0.317", "0.87", "0.166"),
}


@pytest.mark.parametrize("arch,name", sorted(DEFAULT_TABLE))
def test_framework_default_table(arch, name):
    """Spec 7 table rows (per-gate values of its first table; PyTorch sigma_b of the two added
    biases sqrt(2/(3H)), GRU candidate biases sqrt(1/(3H)) each) at H = 512. At H = 128 the
    PyTorch Q* are 0.0186 (LSTM) and 0.0798 (GRU), which round differently: the spec's "values
    independent of H to 3 digits" holds from H ~ 512 on (H -> inf: 0.0184, 0.0792)."""
    p = {"arch": arch, **gpts.framework_defaults(arch, H=512)[name], "R": 1.0, "Sigma": 0.0}
    r = rg.point(p, scan=False)
    chi, xi, Q = DEFAULT_TABLE[(arch, name)]
    assert _printed(r["chi_jac"], chi) and _printed(r["xi_jac"], xi) and _printed(r["Q_star"], Q)


# ---------------------------------------------------------------------------
# Identities, finite differences, limits
# ---------------------------------------------------------------------------
IDENTITY_POINTS = [
    {"arch": "gru", "sigma_w": 1.5, "mu_b": 1.0, "mu_r": 0.5, "sigma_b": 0.2, "R": 0.8,
     "overrides": {"sigma_w_n": 1.7, "sigma_w_r": 2.5, "sigma_bh_n": 0.3}},
    {"arch": "gru", "gru_variant": "reset_before", "sigma_w": 1.5, "mu_b": 1.0, "mu_r": 0.5,
     "sigma_b": 0.2, "R": 0.8, "overrides": {"sigma_w_n": 1.7, "sigma_w_r": 2.5}},
    {"arch": "lstm", "sigma_w": 2.0, "mu_b": 2.0, "mu_i": -0.5, "mu_o": 0.7, "sigma_b": 0.3,
     "R": 1.4, "overrides": {"sigma_w_i": 2.6, "sigma_w_o": 0.5, "sigma_v_g": 1.3}},
]


def _fixed_point(c):
    Q, _ = rg._q_star(c, scan=False)
    return Q, (gru.slopes(c, Q) if c.arch == "gru" else lstm.slopes(c, Q))


@pytest.mark.parametrize("k", range(len(IDENTITY_POINTS)))
def test_chi_c_at_identical_inputs_equals_chi_jac(k):
    """(3.9) and 4.5's identity: at Sigma = 1 and Q^{ab} = Q*, the covariance map has the fixed
    point C = 1 and its slope equals chi_jac (Price's theorem turns d/dq^{ab} into E[F'F']).
    Per-gate sigma_w's differ (reset_before fails without sigma_{w,n}^2 in J_r)."""
    c = gp.cell(IDENTITY_POINTS[k])
    Q, sl = _fixed_point(c)
    if c.arch == "gru":
        pr = gru.pair(c, Q, Q, Sigma=1.0, deriv=True)
    else:
        pr = lstm.pair(c, Q, sl["Qc"], Q, Sigma=1.0, deriv=True)
    assert abs(pr["g"]) < 1e-12 and _rel(pr["chi_c"], sl["chi_jac"]) < 1e-9


def _gru_fd(c, Q, X):
    h, hx = 1e-5 * Q, 1e-5 * X
    dq = (gru.length_map(c, Q + h) - gru.length_map(c, Q - h)) / (2 * h)
    dc = (gru.pair(c, Q, X + hx)["G"] - gru.pair(c, Q, X - hx)["G"]) / (2 * hx)
    return dq, dc


def _lstm_step(c, state, gc4):
    """One step of the exact moment recursions (Q_c, E c^4, Q) with the closure's read-out."""
    Qc, m4, Q = state
    m = lstm.gates(c, Q, ("2", "4"))
    Qc1 = m["f2"] * Qc + m["i2"] * m["g2"]
    m41 = m["f4"] * m4 + 6 * m["f2"] * m["i2"] * m["g2"] * Qc + m["i4"] * m["g4"]
    return np.array([Qc1, m41, m["o2"] * lstm.tanh_avg(lstm._t2, Qc1, m41 if gc4 else None)])


def _lstm_pair_step(c, Q, Qc, state):
    """One step of (4.6)-(4.7) in (X_c, X) under the GC."""
    Xc, X = state
    pg = lstm._pair_gates(c, Q, X, c.Sigma)
    Xc1 = pg["ff"] * Xc + pg["ii"] * pg["gg"]
    return np.array([Xc1, pg["oo"] * gq.expect2(math.tanh, np.tanh, 0.0, Qc, Xc1, 1e-16)])


def _fd_jacobian(f, x):
    J = np.empty((len(x), len(x)))
    for j in range(len(x)):
        e = np.zeros(len(x))
        e[j] = 1e-5 * x[j]
        J[:, j] = (f(x + e) - f(x - e)) / (2 * e[j])
    return J


@pytest.mark.parametrize("k", range(len(IDENTITY_POINTS)))
def test_slopes_equal_finite_differences(k):
    """Closed-form chi_q (3.4; 4.5, GC4 3x3) and chi_c (3.8; 4.6-4.7 Jacobian) equal central
    differences (step 1e-5 relative) of the maps themselves at their fixed points, to 1e-7:
    truncation ~1e-10, quadrature noise 1e-13 / 1e-5 = 1e-8 (measured: <= 4e-11)."""
    p = {**IDENTITY_POINTS[k], "Sigma": 0.6}
    c = gp.cell(p)
    Q, sl = _fixed_point(c)
    if c.arch == "gru":
        X = gs.root_from_below(lambda x: gru.pair(c, Q, x)["g"], 0.0, Q)
        dq, dc = _gru_fd(c, Q, X)
        assert _rel(dq, sl["chi_q"]) < 1e-7
        assert _rel(dc, gru.pair(c, Q, X, deriv=True)["chi_c"]) < 1e-7
        return
    for gc4 in (False, True):
        s = lstm.slopes(c, Q := rg._q_star(c, "gc4" if gc4 else "gc", False)[0],
                        "gc4" if gc4 else "gc")
        J = _fd_jacobian(lambda x, gc4=gc4: _lstm_step(c, x, gc4), np.array([s["Qc"], s["m4"], Q]))
        J = J if gc4 else J[np.ix_([0, 2], [0, 2])]
        assert _rel(gs.spectral_radius(J), s["chi_q"]) < 1e-7, gc4
    Q, s = rg._q_star(c, "gc", False)[0], lstm.slopes(c, rg._q_star(c, "gc", False)[0], "gc")
    X = gs.root_from_below(lambda x: lstm.pair(c, Q, s["Qc"], x)["g"], 0.0, Q)
    pr = lstm.pair(c, Q, s["Qc"], X, deriv=True)
    J = _fd_jacobian(lambda x: _lstm_pair_step(c, Q, s["Qc"], x), np.array([pr["Xc"], X]))
    assert _rel(gs.spectral_radius(J), pr["chi_c"]) < 1e-7


FIELDS = ("Q_star", "C_star", "c_star", "chi_q", "chi_c", "chi_jac")


def test_reset_variants_coincide_for_constant_reset_gate():
    """With sigma_{w,v,b} of r = 0 (r = sigmoid(mu_r) constant) and b'_n = 0, u_n = a + r s is
    Gaussian with the reset_before variance: the 4-D reset_after cross term and the 2-D
    reset_before one must give the same point (1e-10)."""
    base = {"arch": "gru", "sigma_w": 2.5, "mu_b": 0.5, "mu_r": 0.8, "sigma_b": 0.3, "R": 1.5,
            "Sigma": 0.7, "overrides": {"sigma_w_r": 0.0, "sigma_v_r": 0.0, "sigma_b_r": 0.0}}
    a = rg.point(base, scan=False)
    b = rg.point({**base, "gru_variant": "reset_before"}, scan=False)
    assert all(_rel(a[f], b[f]) < 1e-10 for f in FIELDS), [(f, a[f], b[f]) for f in FIELDS]
    assert _rel(a["q_gates"]["n"], b["q_gates"]["n"]) < 1e-12


@pytest.mark.parametrize("variant", ["reset_after", "reset_before"])
def test_gru_with_closed_update_and_open_reset_is_vanilla(variant):
    """z = 0 (mu_z = -40, no z variance) and r = 1 (mu_r = 40): h_t = tanh(W_n h + V_n x + b_n),
    the vanilla tanh RNN of theory.md 3. Against the independent ``reference_impl`` (its
    accuracy 1e-12): Q*, q_n = q*, C*, chi_q, chi_c, chi_jac = chi_1 to 1e-9."""
    zero = {f"{s}_{k}": 0.0 for k in "zr" for s in ("sigma_w", "sigma_v", "sigma_b")}
    p = {"arch": "gru", "gru_variant": variant, "sigma_w": 1.8, "sigma_v": 0.6, "sigma_b": 0.3,
         "R": 1.2, "Sigma": 0.4, "mu_b": -40.0, "mu_r": 40.0, "overrides": zero}
    g = rg.point(p, scan=False)
    v = ref.vanilla_point("tanh", sigma_w=1.8, sigma_b=0.3, sigma_v=0.6, mu_b=0.0, R=1.2,
                          Sigma=0.4)
    pairs = [(g["Q_star"], v.Q_star), (g["q_gates"]["n"], v.q_star), (g["C_star"], v.C_star),
             (g["chi_q"], v.chi_q), (g["chi_c"], v.chi_c), (g["chi_jac"], v.chi_jac)]
    assert all(_rel(a, b) < 1e-9 for a, b in pairs), pairs


def test_gru_with_frozen_open_update_gate_approaches_identity():
    """z frozen at z0 = sigmoid(12) (no z variance): the step is h -> z0 h + (1 - z0) n, so
    Q* = (1 - z0) nu_2 / (1 + z0) (3.3) and 1 - chi_q, 1 - chi_jac -> (1 - z0)(1 + z0) ~ 2 e^-12
    up to O((1 - z0)^2) (eqs. 3.4, 3.6): the map tends to the identity."""
    zero = {f"{s}_z": 0.0 for s in ("sigma_w", "sigma_v", "sigma_b")}
    for variant in ("reset_after", "reset_before"):
        p = {"arch": "gru", "gru_variant": variant, "sigma_w": 2.0, "mu_b": 12.0,
             "Sigma": 0.5, "overrides": zero}
        r = rg.point(p, scan=False)
        z0 = gq.sig(12.0)
        c = gp.cell(p)
        assert _rel(r["Q_star"], (1 - z0) / (1 + z0) * gru.nu2(c, r["Q_star"])) < 1e-10
        for k in ("chi_q", "chi_jac", "chi_c"):
            assert _rel(1.0 - r[k], (1 - z0) * (1 + z0)) < 1e-4, (k, r[k])


def test_lstm_without_memory_and_output_gate_is_tanh_of_ig():
    """f = 0, o = 1 (mu_f = -40, mu_o = 40, no variance): c = i g exactly, so the exact law of
    c is the law of i g. The characteristic-function solve (4.14-4.15a) must give E[tanh^2(i g)]
    and E[sech^4(i g)] of an independent adaptive 2-D quad (scipy dblquad) to 1e-9."""
    zero = {f"{s}_{k}": 0.0 for k in "fo" for s in ("sigma_w", "sigma_v", "sigma_b")}
    p = {"arch": "lstm", "sigma_w": 1.5, "sigma_v": 0.8, "R": 1.3, "sigma_b": 0.2, "mu_b": -40.0,
         "mu_o": 40.0, "mu_i": 0.3, "overrides": zero}
    c = gp.cell(p)
    Q = 0.3
    ex = gx.exact_averages(c, Q)
    si, sg = math.sqrt(c.q("i", Q)), math.sqrt(c.q("g", Q))

    def want(F):
        def f(zg, zi):
            x = gq.sig(0.3 + si * zi) * math.tanh(sg * zg)
            return F(x) * math.exp(-0.5 * (zi * zi + zg * zg)) / (2 * math.pi)

        return integrate.dblquad(f, -10, 10, -10, 10, epsabs=1e-14, epsrel=1e-12)[0]

    assert abs(ex["Etanh2"] - want(lambda x: math.tanh(x) ** 2)) < 1e-9
    assert abs(ex["Esech4"] - want(lambda x: gq.sech2(x) ** 2)) < 1e-9


def test_trajectory_conventions_and_limits():
    """t = 0 is h_0 = 0 (Q 0, C 1, q and c NaN); the trajectory ends at point()'s fixed point;
    with identical inputs after t = 1 in the ordered phase, 1 - C_t decays at rate chi_jac
    (the memory of the first, independent input; 3.9)."""
    p = {"arch": "gru", "gru_variant": "reset_before", "sigma_w": 1.3, "mu_b": 0.5,
         "sigma_b": 0.2, "Sigma": 1.0}
    tr, r = rg.trajectory(p, 32), rg.point(p, scan=False)
    assert tr["t"][0] == 0 and tr["Q"][0] == 0.0 and tr["C"][0] == 1.0
    assert math.isnan(tr["q"][0]) and math.isnan(tr["c"][0])
    # chi_q = 0.45 here: after 32 steps the distance to Q* is ~1e-11 of Q*
    assert _rel(tr["Q"][-1], r["Q_star"]) < 1e-9 and _rel(tr["q"][-1], r["q_star"]) < 1e-9
    ratio = (1 - tr["C"][21]) / (1 - tr["C"][20])  # 1 - C ~ chi^t: ~1e-7 at t = 20
    assert abs(ratio - r["chi_jac"]) < 1e-3
    pl = {"arch": "lstm", "sigma_w": 1.0, "mu_b": 0.0, "sigma_b": 0.3, "Sigma": 0.5,
          "closure": "gc4"}
    tr, r = rg.trajectory(pl, 32), rg.point(pl, scan=False)
    assert _rel(tr["Q"][-1], r["Q_star"]) < 1e-9 and _rel(tr["Qc"][-1], r["Qc_star"]) < 1e-9
    assert abs(tr["C"][-1] - r["C_star"]) < 1e-9 and abs(tr["c"][-1] - r["c_star"]) < 1e-9


# ---------------------------------------------------------------------------
# The stored file tests/data/gated_reference.json
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def stored():
    """The stored reference values (written by ``python tests/reference_gated.py --write``)."""
    return json.loads(gpts.DATA.read_text())


def _random(entries):
    return [e for e in entries if "name" not in e["p"]]


def test_stored_file_covers_the_brief(stored):
    """>= 64 seeded points per cell over the documented ranges (GRU both variants, LSTM gc and
    >= 12 gc4), sigma_v = 0 edge points, overrides and mu_i/mu_o/mu_r != 0, near-critical points
    (|chi_jac - 1| < 1e-2), ordered and chaotic ones, the framework defaults, bistable GRU
    points; no failed entry; file < 300 KB; code version and date recorded."""
    assert gpts.DATA.stat().st_size < 300_000 and stored["code_version"] and stored["date"]
    assert not [e for k in ("gru", "lstm", "exactness", "jacobian") for e in stored[k]
                if "error" in e]
    for arch in ("gru", "lstm"):
        ent = stored[arch]
        rnd = [e["p"] for e in _random(ent)]
        assert len(rnd) >= 64
        for key, lo, hi in (("sigma_w", 0.15, 7.5), ("mu_b", -3.5, 7.0), ("sigma_v", 0.15, 1.8),
                            ("sigma_b", 0.0, 0.9), ("R", 0.3, 2.7)):  # sigma_v: U(0.05, 2)
            vals = [p[key] for p in rnd]
            assert min(vals) <= lo and max(vals) >= hi, key
        assert sum(e["p"]["sigma_v"] == 0.0 for e in ent) >= 2  # the edge points
        assert {p["Sigma"] for p in rnd} == {0.0, 0.3, 0.7, 1.0}
        assert sum("overrides" in p for p in rnd) >= 6
        chi = [e["result"]["chi_jac"] for e in ent]
        near = [e for e in ent if abs(e["result"]["chi_jac"] - 1.0) < 1e-2]
        assert len(near) >= 6 and min(chi) < 0.5 and max(chi) > 1.5
        names = {e["p"].get("name", "") for e in ent}
        assert {f"default-{k}-H128" for k in gpts.framework_defaults(arch)} <= names
    gru_p = [e["p"] for e in stored["gru"]]
    assert sum(p.get("gru_variant") == "reset_before" for p in gru_p) >= 25
    assert sum(p.get("gru_variant", "reset_after") == "reset_after" for p in gru_p) >= 25
    assert sum(p.get("mu_r", 0.0) != 0.0 for p in gru_p) >= 10
    assert sum(bool(e["result"]["bistable"]) for e in stored["gru"]) >= 3
    lstm_p = [e["p"] for e in stored["lstm"]]
    assert sum(p.get("closure") == "gc4" for p in lstm_p) >= 12
    assert sum(p.get("mu_i", 0.0) != 0.0 or p.get("mu_o", 0.0) != 0.0 for p in lstm_p) >= 10


def test_stored_tables_match_the_spec(stored):
    """The stored critical tables round to spec 6.3; the exactness table (GC vs GC4 vs exact law
    of the cell state, spec 4.6) has GC4 errors in Q* <= 0.35 % and below the GC's, GC errors
    <= 3.5 % (spec: GC up to 2.3 %, GC4 <= 0.25 %; measured here: GC up to -3.0 % at
    mu_f = -2, sigma_w = 4, GC4 up to -0.30 % at mu_f = 0, sigma_w = 6), and the population
    dynamics (N = 1e5, untied)
    agrees with the exact-law Q* (5 standard errors) and with chi_jac of (4.11) within 2.5 %
    (spec 4.5: <= 1 % ordered, 2.1 % chaotic)."""
    crit = stored["critical"]
    for row, (mu, sw, qc, xi) in zip(crit["lstm"], LSTM_TABLE, strict=True):
        assert row["mu_b"] == mu and _printed(row["sigma_w"], sw)
        assert _printed(row["Qc_star"], qc) and _printed(row["xi_cell"], xi), row
    for row, (mu, sw) in zip(crit["gru"], GRU_TABLE, strict=True):
        assert row["mu_b"] == mu and _printed(row["sigma_w"], sw)
    for row in stored["exactness"]:
        e_gc, e_gc4 = _rel(row["Q_gc"], row["Q_exact"]), _rel(row["Q_gc4"], row["Q_exact"])
        assert e_gc4 <= 3.5e-3 and e_gc <= 3.5e-2 and e_gc4 < e_gc, row["p"]
        if "pd" in row:
            pd = row["pd"]
            assert abs(pd["Q"] - row["Q_exact"]) < 5 * pd["Q_se"] + 1e-5 * row["Q_exact"]
            assert _rel(pd["growth"], row["chi_jac_gc"]) < 2.5e-2
    for row in stored["jacobian"]:
        (m1a, m2a), (m1b, m2b) = row["T1"], row["T10"]
        if row["p"]["arch"] == "gru":
            assert _rel(m1b, m1a**10) < 1e-12 and m2a >= m1a**2 and m2b >= m1b**2


LIVE_SEED = 7  #: which stored points are recomputed live


def _same(a, b, path=""):
    """Recursive comparison: numbers to 1e-9 relative (1e-12 absolute floor)."""
    if isinstance(b, dict):
        return [x for k in b for x in _same(a[k], b[k], f"{path}.{k}")]
    if isinstance(b, list):
        return [x for i, (u, v) in enumerate(zip(a, b, strict=True))
                for x in _same(u, v, f"{path}[{i}]")]
    if b is None:  # a non-finite number
        return [] if a is None or not math.isfinite(a) else [(path, a, b)]
    if isinstance(b, float) and not isinstance(b, bool):
        return [] if abs(a - b) <= 1e-9 * abs(b) + 1e-12 else [(path, a, b)]
    return [] if a == b else [(path, a, b)]


def test_stored_points_recomputed_live(stored):
    """A seeded choice among the cheaper half of the stored points (GRU reset_before and
    reset_after, LSTM gc and gc4), one stored trajectory and one exactness row, recomputed now:
    every number equal to 1e-9, so the file cannot drift from the code."""
    rng = np.random.default_rng(LIVE_SEED)
    groups = {
        "gru-before": [e for e in stored["gru"] if e["p"].get("gru_variant") == "reset_before"],
        "gru-after": [e for e in stored["gru"] if e["p"].get("gru_variant") == "reset_after"],
        "lstm-gc": [e for e in stored["lstm"] if e["p"].get("closure", "gc") == "gc"],
        "lstm-gc4": [e for e in stored["lstm"] if e["p"].get("closure") == "gc4"],
    }
    bad = []
    for name, ent in groups.items():
        cheap = sorted(ent, key=lambda e: e["seconds"])[: max(1, len(ent) // 2)]
        e = cheap[int(rng.integers(len(cheap)))]
        got = gpts.jsonable(rg.point(e["p"], scan=False))
        want = {k: v for k, v in e["result"].items() if k not in ("roots", "bistable")}
        bad += [(name, *x) for x in _same(got, want)]
    traj = [e for e in stored["gru"] + stored["lstm"] if "trajectory" in e
            and e["p"].get("gru_variant") != "reset_after"]
    e = sorted(traj, key=lambda e: e["seconds"])[0]
    bad += [("trajectory", *x) for x in _same(gpts.jsonable(rg.trajectory(e["p"], gpts.T_TRAJ)),
                                               e["trajectory"])]
    row = stored["exactness"][0]
    live = gpts.jsonable(rg.lstm_exact(row["p"]))
    bad += [("exact", *x) for x in _same(live, {k: row[k] for k in live})]
    assert not bad, (bad, stored["code_version"], gpts.code_version())
