"""The Trainability panel without a browser: reading the maps, the theory curves, the
figures, the current-point logic, the caption, the export, the permalink and the
measured default k of the phase diagram.

Maps are the shipped ones (``data/trainability/``); broken maps are written to a
temporary folder. The theory curves are checked against :func:`theory.point` at the
same parameters, and the map's stored overlay against the live theory.
"""

import gzip
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import theory
from components import ids, trainability_panel, trainability_text, url_state
from components import trainability_export as texport
from components import trainability_maps as tm
from components.callbacks import parse, state
from components.callbacks import trainability as cb
from components.figures import trainability as tfig
from components.trainability_export import download, table
from components.trainability_theory import along, curves, map_params
from components.viewstate import ViewState

ROOT = Path(__file__).resolve().parents[1]
MAP = ROOT / "data" / "trainability" / "vanilla_sigma_w.json.gz"
THEORY_RTOL = 1e-12  # the same theory.point call at the same parameters
STORED_RTOL = 1e-6  # the map's stored xi was computed by theory.point when it was made
ON_CUT = dict(sigma_b=0.0, sigma_v=0.1, mu_b=0.0, R=1.0, Sigma=0.0, weights="orthogonal",
              phi="tanh")  # the vanilla map's fixed parameters
DEFAULT_VALUES = {"map": "auto", "step": "last", "view": "map"}


@pytest.fixture(scope="module")
def vmap():
    m = tm.catalogue().get("vanilla_sigma_w")
    assert m is not None, tm.catalogue().problems
    return m


def _raw():
    with gzip.open(MAP, "rt") as f:
        return json.load(f)


def _write(folder: Path, name: str, data) -> Path:
    path = folder / f"{name}.json.gz"
    with gzip.open(path, "wt") as f:
        json.dump(data, f)
    return path


# reading ------------------------------------------------------------------------------

def test_the_shipped_map_is_read_with_its_record(vmap):
    d = _raw()
    assert vmap.arch == "vanilla" and vmap.x_name == "sigma_w"
    assert vmap.accuracy.shape == (3, 6, 2, 16) == vmap.drifted.shape == vmap.finite.shape
    assert vmap.checkpoints == (250, 500, 1000) and vmap.T.tolist() == d["T"]
    assert np.array_equal(vmap.accuracy, np.array(d["accuracy"], float))
    assert np.array_equal(vmap.drifted, np.array(d["drifted"], bool))
    assert vmap.threshold == 0.55 and vmap.overlay == "tau_jac"
    record = json.loads(MAP.with_name("vanilla_sigma_w.record.json").read_text())
    for fit, rec in zip(vmap.fits, record["fit"], strict=True):
        assert (fit.step, fit.k, fit.ci_low, fit.ci_high) == (
            rec["step"], rec["k"], rec["ci_low"], rec["ci_high"])
    assert vmap.provenance.command == record["command"]
    assert vmap.provenance.commit == record["commit"]
    assert "AMD EPYC" in vmap.provenance.machine
    assert tm.catalogue() is tm.catalogue()  # read once per process


@pytest.mark.parametrize("breakage, words", [
    (lambda d: d.update(schema="other/2"), "schema 'other/2'"),
    (lambda d: d["accuracy"].pop(), "accuracy has shape (2, 6, 2, 16)"),
    (lambda d: d["theory"].update(overlay="xi_q"), "theory.overlay 'xi_q'"),
    (lambda d: d.pop("fit"), "does not follow trainability-map/1"),
    (lambda d: d.update(x=["a"] * 16), "does not follow trainability-map/1"),
    (lambda d: d["fit"].pop(), "2 fits for 3 checkpoints"),
])
def test_a_broken_map_is_a_clear_problem_not_a_crash(tmp_path, breakage, words):
    d = _raw()
    breakage(d)
    _write(tmp_path, "broken", d)
    _write(tmp_path, "good", _raw())
    cat = tm.catalogue(str(tmp_path))
    assert [m.name for m in cat.maps] == ["good"]
    assert len(cat.problems) == 1 and cat.problems[0].startswith("broken.json.gz: ")
    assert words in cat.problems[0]


def test_unreadable_file_and_missing_record(tmp_path):
    (tmp_path / "junk.json.gz").write_bytes(b"not gzip at all")
    _write(tmp_path, "norecord", _raw())
    cat = tm.catalogue(str(tmp_path))
    assert "junk.json.gz: not a readable gzip'd JSON file" in cat.problems[0]
    m = cat.get("norecord")
    assert m.provenance is None and "no provenance record" in m.provenance_message
    assert "Provenance: no provenance record" in trainability_text.provenance_text(m)


# theory curves -------------------------------------------------------------------------

def test_curves_equal_theory_point_along_the_cut(vmap):
    c = curves(vmap, 2)
    base = map_params(vmap)
    assert base.Sigma == 0.0 and base.sigma_v == 0.1 and base.sigma_b == 0.0
    for i in (0, 48, 77, len(c.x) - 1):
        r = theory.point(base.replace(sigma_w=float(c.x[i])))
        assert c.xi_c[i] == pytest.approx(r.xi_c, rel=THEORY_RTOL)
        assert c.xi_jac[i] == pytest.approx(r.xi_jac, rel=THEORY_RTOL) or (
            math.isinf(r.xi_jac) and math.isinf(c.xi_jac[i]))
        # tau_jac: two-sided, 1/|ln chi_jac| (finite on the chaotic side too)
        assert c.tau_jac[i] == pytest.approx(1 / abs(math.log(r.chi_jac)), rel=1e-9)
    xi = {"xi_c(Sigma=0)": c.xi_c, "tau_jac": c.tau_jac}[vmap.overlay]
    assert np.array_equal(c.xi, xi)
    assert np.allclose(c.T_fit, 1 + vmap.fits[2].k * xi, rtol=1e-12)
    assert np.allclose(c.T_six, 1 + 6 * xi, rtol=1e-12)
    assert curves(vmap, 0).k_fit == vmap.fits[0].k != c.k_fit


def test_the_maps_stored_xi_is_the_live_theory(vmap):
    xi_c, _, tau_jac = along(map_params(vmap), "sigma_w", tuple(vmap.x.tolist()))
    live = {"xi_c(Sigma=0)": xi_c, "tau_jac": tau_jac}[vmap.overlay]
    assert np.allclose(live, vmap.xi_overlay, rtol=STORED_RTOL)


def test_curves_along_another_parameter(vmap):
    p = map_params(vmap)
    xi_c, xi_jac, _ = along(p, "R", (0.5, 2.0))
    assert xi_c[1] == pytest.approx(theory.point(p.replace(R=2.0)).xi_c, rel=THEORY_RTOL)
    assert xi_c[0] != xi_c[1]


def test_while_the_calculators_compile_the_map_comes_without_curves(vmap, monkeypatch):
    monkeypatch.setattr(cb.startup, "pending", lambda keys: ["point (vanilla)"])
    fig, text, pending = cb.update(ViewState.default("vanilla"), DEFAULT_VALUES)
    assert pending and fig["layout"]["meta"]["curves"] is False
    assert tfig.FIT not in _metas(fig) and tfig.HEAT in _metas(fig)
    assert "Theory curves: preparing the calculators (point (vanilla))" in text


# figures and the current point --------------------------------------------------------

def _metas(fig):
    return [t.get("meta") for t in fig["data"]]


def test_map_figure_traces(vmap):
    fig = tfig.map_figure(vmap, 1, curves(vmap, 1), None, "?k")
    assert {tfig.HEAT, tfig.FIT, tfig.SIX, tfig.DRIFT} <= set(_metas(fig))
    assert tfig.CURRENT not in _metas(fig)
    heat = fig["data"][0]
    assert np.allclose(np.array(heat["z"], float),
                       np.round(np.nanmean(vmap.accuracy[1], axis=1), 4), atol=1e-4)
    assert len(heat["x"]) == 17 and len(heat["y"]) == 7  # cell edges
    drift = next(t for t in fig["data"] if t.get("meta") == tfig.DRIFT)
    assert len(drift["x"]) == int(vmap.drifted[1].any(axis=1).sum()) > 0
    assert fig["layout"]["yaxis"]["type"] == "log"
    assert fig["layout"]["meta"]["step"] == 500 and fig["layout"]["meta"]["k"] == vmap.fits[1].k
    bare = tfig.map_figure(vmap, 1, None, {"x": 1.2, "T": 64}, "?k")
    assert _metas(bare) == [tfig.HEAT, tfig.DRIFT, tfig.CURRENT]


def test_current_point_only_on_the_maps_cut(vmap):
    on = ViewState.default("vanilla").replace(sigma_w=1.6, T=64, **ON_CUT)
    assert trainability_text.current_point(vmap, on) == (
        {"x": 1.6, "T": 64}, "★ marks the view: σ_w = 1.6, T = 64.")
    off, why = trainability_text.current_point(vmap, ViewState.default("vanilla"))
    assert off is None and "σ_b = 0.2 (map: 0)" in why and "σ_v = 0.5 (map: 0.1)" in why
    off, why = trainability_text.current_point(vmap, on.replace(phi="erf"))
    assert off is None and "phi = erf (map: tanh)" in why
    off, why = trainability_text.current_point(vmap, on.replace(sigma_w=3.5))
    assert off is None and "outside the map (0.4 to 2.65)" in why
    off, why = trainability_text.current_point(vmap, on.replace(T=2))
    assert off is None and "T = 2 is outside" in why
    off, why = trainability_text.current_point(vmap, ViewState.default("minimal"))
    assert off is None and "the view shows the minimalRNN" in why
    both = ViewState.default("vanilla").replace(compare="minimal", sigma_w=1.6, T=64, **ON_CUT)
    assert trainability_text.current_point(vmap, both)[0] == {"x": 1.6, "T": 64}


def test_update_draws_marker_caption_and_scatter(vmap):
    on = ViewState.default("vanilla").replace(sigma_w=1.6, T=64, **ON_CUT)
    fig, text, pending = cb.update(on, dict(DEFAULT_VALUES, step="250"))
    assert tfig.CURRENT in _metas(fig) and not pending
    assert "k = 10.1 [8.52, 12.3] at 250 steps" in text and "★ marks the view" in text
    assert vmap.provenance.commit[:10] in text and "N = 64" in text and "lr 0.001" in text
    fig, text, _ = cb.update(ViewState.default("vanilla"), dict(DEFAULT_VALUES, step="300"))
    assert tfig.CURRENT not in _metas(fig) and "no checkpoint at 300 steps" in text
    assert "k = 14.3 [11.6, 17.3] at 1000 steps" in text
    assert "τ_jac = 1/|ln χ_jac| misclassifies 9.4 %; ξ_c (Σ = 0) misclassifies 17.7 %" in text
    fig, text, _ = cb.update(on, dict(DEFAULT_VALUES, view="scatter"))
    sc = next(t for t in fig["data"] if t.get("meta") == "vanilla_sigma_w")
    u = vmap.u()
    assert len(sc["x"]) == int(np.sum(u > 0))
    assert np.allclose(sorted(sc["x"]), np.sort(u[u > 0]), rtol=1e-5)
    assert "vanilla_sigma_w-fit" in _metas(fig) and "threshold" in _metas(fig)
    assert "Every cell" in text


def test_figure_is_resent_only_when_what_it_shows_changes(vmap):
    """Issue 14: a move that leaves the figure as drawn sends only the caption."""
    sig = cb.drawn_signature
    off = ViewState.default("vanilla")  # off the map's cut: no marker
    on = off.replace(sigma_w=1.6, T=64, **ON_CUT)
    values = dict(DEFAULT_VALUES)
    # off the cut, the figure follows neither the point, nor T, nor k (the caption may)
    for move in ({"sigma_w": 1.7}, {"T": 60}, {"k": 9.0}, {"sigma_v": 0.3}):
        assert sig(off.replace(**move), values) == sig(off, values), move
    # on the cut the marker moves with the point; another map, step or view redraws
    assert sig(on.replace(sigma_w=1.7), values) != sig(on, values)
    assert sig(on.replace(T=80), values) != sig(on, values)
    assert sig(on, values) != sig(off, values)
    for change in ({"step": "250"}, {"view": "scatter"}, {"map": "minimal_mu_b"}):
        assert sig(off, dict(values, **change)) != sig(off, values), change
    assert sig(off, values, ["Link: bad tstep"]) != sig(off, values)


def test_no_maps_or_broken_maps_say_so(tmp_path, monkeypatch):
    monkeypatch.setattr(cb, "catalogue", lambda: tm.catalogue(str(tmp_path)))
    monkeypatch.setattr(texport, "catalogue", lambda: tm.catalogue(str(tmp_path)))
    assert download("csv", ViewState(), DEFAULT_VALUES) is None  # nothing to download
    fig, text, _ = cb.update(ViewState(), DEFAULT_VALUES)
    assert fig["data"] == [] and "No trainability map is shipped" in text
    (tmp_path / "x.json.gz").write_bytes(b"junk")
    _, text, _ = cb.update(ViewState(), DEFAULT_VALUES)
    assert "Could not read x.json.gz" in text


def test_auto_picks_the_architectures_map(vmap):
    assert cb.resolve("auto", ViewState.default("vanilla")) is vmap
    assert cb.resolve("vanilla_sigma_w", ViewState.default("minimal")) is vmap
    assert cb.resolve("no-such-map", ViewState.default("vanilla")) is vmap


# export -------------------------------------------------------------------------------

def test_export_csv_and_json(vmap):
    view = ViewState.default("vanilla")
    head, cols = table(view, dict(DEFAULT_VALUES, step="500"))
    assert len(cols["accuracy"]) == 6 * 2 * 16 and set(cols["checkpoint"]) == {500}
    i = 5 * 32 + 1 * 16 + 3  # T index 5, seed 1, x index 3
    assert cols["accuracy"][i] == vmap.accuracy[1, 5, 1, 3] and cols["T"][i] == 256
    assert head["maps"][0]["fits"][1]["k"] == vmap.fits[1].k
    assert head["curves"]["k_fit"] == vmap.fits[1].k and len(head["curves"]["x"]) > 100
    js = download("json", view, DEFAULT_VALUES)
    data = json.loads(js["content"])
    assert js["filename"] == "trainability_map_vanilla_sigma_w.json"
    assert data["header"]["maps"][0]["provenance"]["command"] == vmap.provenance.command
    csv = download("csv", view, dict(DEFAULT_VALUES, view="scatter"))
    lines = csv["content"].splitlines()
    assert lines[0].startswith("# {") and lines[1].startswith("map,checkpoint,T,seed")
    cells = sum(m.accuracy[0].size for m in tm.catalogue().maps)  # every map, one checkpoint
    assert len(lines) == 2 + cells and "tview=scatter" in json.loads(lines[0][2:])[
        "permalink"]


# permalink ----------------------------------------------------------------------------

def test_url_keys_round_trip_and_bad_values():
    assert trainability_panel.KEYS == url_state.PANEL_KEYS
    values = {"map": "vanilla_sigma_w", "step": "250", "view": "scatter"}
    query = "?" + "&".join(f"{k}={v}" for k, v in trainability_panel.encode(values))
    assert trainability_panel.decode(query) == (values, [])
    assert trainability_panel.encode(DEFAULT_VALUES) == []  # old links stay as they were
    assert trainability_panel.decode("?sigma_w=1.5") == (DEFAULT_VALUES, [])
    back, notes = trainability_panel.decode("?tmap=nope&tstep=-3&tview=3d")
    assert back == DEFAULT_VALUES and len(notes) == 3 and "tmap: 'nope'" in notes[0]
    # the view's decoder neither complains about the panel's keys nor needs them
    s, notes = url_state.decode(query + "&sigma_w=1.5")
    assert notes == [] and s == ViewState.default("vanilla").replace(sigma_w=1.5)
    assert cb.restore("?tview=scatter") == ("auto", "last", "scatter", [], True)
    # hide=trainability hides the panel (assets/present.js: #wrap-trainability)
    assert url_state.flags("?hide=trainability")[0]["hide"] == ["trainability"]
    assert trainability_panel.panel({}).id == "wrap-trainability"


def test_map_values_cleans_what_the_browser_sends():
    assert trainability_text.map_values(None, True, "x") == DEFAULT_VALUES
    for junk in ([1], {"a": 1}, math.nan, -5, "", "../x", 10**400):
        assert trainability_text.map_values(junk if junk != "../x" else None, junk,
                                            junk) == DEFAULT_VALUES
    fig, _, _ = cb.update(ViewState(), trainability_text.map_values("nope", "99999", [2]))
    assert fig["layout"]["meta"]["step"] == 1000  # an unknown budget: the last
    assert trainability_text.map_values("m", 500, "scatter") == {
        "map": "m", "step": "500", "view": "scatter"}


# the phase diagram's k ------------------------------------------------------------------

def _expected_k(arch: str) -> float:
    """The measured k of ``arch``'s shipped map at its last checkpoint, on the k slider's
    0.5 grid and range [1, 20]; 6 (assumed) when no map of ``arch`` is shipped."""
    m = tm.catalogue().for_arch(arch)
    return 6.0 if m is None else min(max(round(m.fits[-1].k * 2) / 2, 1.0), 20.0)


def test_default_k_is_the_measured_one(vmap, monkeypatch):
    k = vmap.fits[-1].k  # 14.31: rounded to the k slider's step of 0.5
    assert tm.default_k("vanilla") == ViewState.default("vanilla").k == round(k * 2) / 2
    for arch in ("minimal", "gru", "lstm"):
        assert tm.default_k(arch) == ViewState.default(arch).k == _expected_k(arch), arch
    assert tm.k_note("vanilla", 14.5) == "k = 14.5 ≈ measured 14.3 on τ_jac"
    assert tm.k_note("vanilla", 7.5) == "k = 7.5 set, measured 14.3 on τ_jac"
    # without a shipped map k = 6 is assumed, and the legend says so
    monkeypatch.setattr(tm, "catalogue", lambda directory=None: tm.Catalogue())
    tm.default_k.cache_clear()
    try:
        assert tm.default_k("lstm") == 6.0 and tm.k_note("lstm", 6.0) == "k = 6 assumed"
        assert tm.k_note("lstm", 7.0) == "k = 7 set"
    finally:
        monkeypatch.undo()
        tm.default_k.cache_clear()


def _switch(view: ViewState, mode: str) -> float:
    """k after the architecture radio switched ``view`` to ``mode`` (as Dash calls it)."""
    names = parse.dependencies({"mode"})[0][1:]
    values = state.control_values(view)
    out = state.sync_state(ids.MODE, "", mode, None, *[values[n] for n in names])
    return out[[o.component_id for o in state.outputs()].index(ids.control("k"))]


def test_switching_architecture_moves_a_default_k_and_keeps_a_set_one():
    v = ViewState.default("vanilla")
    assert tm.default_k("vanilla") != 6.0  # measured (the shipped vanilla map)
    assert _switch(v, "lstm") == tm.default_k("lstm") == _expected_k("lstm")
    assert _switch(ViewState.default("lstm"), "vanilla") == tm.default_k("vanilla")
    moved = next(k for k in (12.5, 13.0, 13.5, 15.0) if k not in
                 {tm.default_k(a) for a in ("vanilla", "minimal", "gru", "lstm")})
    assert _switch(v.replace(k=moved), "lstm") == moved  # a k moved off its default stays


def test_the_dashboard_never_imports_the_trainer_or_jax():
    code = ("import sys, components.layout, components.callbacks.trainability, "
            "components.trainability_export\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('trainability', 'jax')]\n"
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_any_number_of_maps(tmp_path, monkeypatch, vmap):
    """A second (here synthetic) minimalRNN map: chosen for minimalRNN views, drawn with
    its own theory curves, and a second colour in "measured vs predicted"."""
    d = _raw()
    d.update(arch="minimal", x_name="mu_b", x=np.linspace(-2, 8, 16).tolist(),
             base={"arch": "minimal", "phi": "tanh", "weights": "orthogonal", "sigma_w": 1.0,
                   "sigma_b": 0.0, "sigma_v": 1.0, "mu_b": 0.0, "R": 1.0, "Sigma": 0.0})
    _write(tmp_path, "minimal_mu_b", d)
    _write(tmp_path, "vanilla_sigma_w", _raw())
    cat = tm.catalogue(str(tmp_path))
    monkeypatch.setattr(cb, "catalogue", lambda: cat)
    view = ViewState.default("minimal").replace(mu_b=3.0, sigma_w=1.0, sigma_b=0.0, T=64)
    fig, text, _ = cb.update(view, DEFAULT_VALUES)
    assert fig["layout"]["meta"]["map"] == "minimal_mu_b" and tfig.CURRENT in _metas(fig)
    assert text.startswith("minimalRNN, μ_b swept")
    c = curves(cat.get("minimal_mu_b"), 2)
    r = theory.point(map_params(cat.get("minimal_mu_b")).replace(mu_b=float(c.x[60])))
    assert c.xi_c[60] == pytest.approx(r.xi_c, rel=THEORY_RTOL)
    fig, _, _ = cb.update(view, dict(DEFAULT_VALUES, view="scatter"))
    points = [t for t in fig["data"] if t.get("mode") == "markers"]
    assert [t["meta"] for t in points] == ["minimal_mu_b", "vanilla_sigma_w"]
    assert points[0]["marker"]["color"] != points[1]["marker"]["color"]
    assert cb.resolve("auto", ViewState.default("vanilla")).name == "vanilla_sigma_w"
