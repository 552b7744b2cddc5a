"""The Trainability panel's "Training curves" view without a browser: reading the
training-curves file (``trainability-dynamics/1``), the verdict against the paper's
qualitative result, the figure, the caption and the export.

The verdict rules are checked on hand-made curves where the answer is known; the
shipped file (once present) must read and give one sentence per (architecture, T).
"""

import gzip
import json

import numpy as np
import pytest

from components import trainability_dynamics as td
from components import trainability_export as texport
from components.callbacks import trainability as cb
from components.figures import trainability as tfig
from components.viewstate import ViewState

VALUES = {"map": "auto", "step": "last", "view": "dynamics"}


def _data(final: dict, Ts=(200,), seeds=(0, 1), steps=(100, 200, 300)) -> dict:
    """A dynamics dict whose last checkpoint has ``final[arch]`` (four accuracies)."""
    curves = {}
    for arch, acc in final.items():
        a = np.full((len(seeds), 4, len(steps)), 0.1)
        a[:, :, -1] = acc
        curves[arch] = {str(T): {"accuracy": a.tolist()} for T in Ts}
    point = {"sigma_w": 1.0, "sigma_v": 0.03, "mu_b": 2.0, "xi_c_Sigma0": 40.0,
             "chi_jac": 1.0}
    return {"schema": td.SCHEMA, "kind": "dynamics", "T": list(Ts), "seeds": list(seeds),
            "configs": list(td.CONFIGS), "checkpoints": list(steps),
            "protocol": {"threshold": 0.55, "N": 64, "batch": 64, "steps": steps[-1],
                         "lr": 1e-3},
            "points": {a: {str(T): [point] * 4 for T in Ts} for a in td.ARCHS},
            "curves": curves}


PAPER = {"vanilla": [0.9, 0.1, 0.1, 0.12], "minimal": [0.95, 0.9, 0.1, 0.11]}


def test_the_papers_result_is_recognised():
    lines = td.verdict(td.parse(_data(PAPER)))
    assert len(lines) == 2
    assert lines[0].startswith("vanilla RNN, T = 200: only orthogonal + critical trained")
    assert lines[0].endswith("as in the paper.")
    assert "critical trained" in lines[1] and "orthogonal ≈ Gaussian" in lines[1]
    assert lines[1].endswith("as in the paper.")


@pytest.mark.parametrize("arch, acc, words", [
    ("vanilla", [0.9, 0.8, 0.1, 0.1], "trained: orthogonal + critical, Gaussian + critical"),
    ("vanilla", [0.1, 0.1, 0.1, 0.1], "trained: none"),
    ("minimal", [0.9, 0.9, 0.9, 0.1], "trained: orthogonal + critical, Gaussian + critical, "
                                      "orthogonal + off-critical"),
    ("minimal", [0.9, 0.6, 0.1, 0.1], "orthogonal and Gaussian differ"),
    ("minimal", [0.15, 0.9, 0.1, 0.1], "trained: Gaussian + critical"),
])
def test_a_different_outcome_is_said_not_hidden(arch, acc, words):
    final = dict(PAPER, **{arch: acc})
    line = td.verdict(td.parse(_data(final)))[0 if arch == "vanilla" else 1]
    assert words in line and "as in the paper" not in line


def test_critical_networks_that_learned_short_of_the_threshold_are_said_so():
    line = td.verdict(td.parse(_data(dict(PAPER, minimal=[0.47, 0.57, 0.1, 0.12]))))[1]
    assert "critical learned (0.47–0.57, not all past the threshold 0.55 within 300 steps)" \
        in line
    assert "off-critical stayed at chance (0.1–0.12)" in line
    assert "orthogonal ≈ Gaussian: the paper's contrast holds, its level not yet." in line


def test_seed_mean_decides_and_a_diverged_seed_is_left_out():
    d = _data(PAPER)
    acc = np.array(d["curves"]["vanilla"]["200"]["accuracy"], dtype=object)
    acc[1, 0, -1] = None  # seed 1's critical-orthogonal network diverged: null in the file
    acc[0, 0, -1] = 0.7
    d["curves"]["vanilla"]["200"]["accuracy"] = acc.tolist()
    parsed = td.parse(d)
    assert parsed.final("vanilla", 200)[0] == pytest.approx(0.7)
    assert "only orthogonal + critical trained (0.7" in td.verdict(parsed)[0]


@pytest.mark.parametrize("breakage, words", [
    (lambda d: d.update(schema="trainability-map/1"), "schema"),
    (lambda d: d.update(configs=["a", "b", "c", "d"]), "configs"),
    (lambda d: d["curves"]["vanilla"]["200"].update(accuracy=[[0.1]]), "shape"),
    (lambda d: d["curves"]["minimal"]["200"].update(
        accuracy=np.full((2, 4, 3), 3.0).tolist()), "[0, 1]"),
    (lambda d: d.pop("points"), "points"),
])
def test_a_broken_file_is_a_clear_message(tmp_path, breakage, words):
    d = _data(PAPER)
    breakage(d)
    path = tmp_path / "curves.json.gz"
    with gzip.open(path, "wt") as f:
        json.dump(d, f)
    with pytest.raises(ValueError, match="curves.json.gz") as err:
        td.load_dynamics(path)
    assert words in str(err.value)
    (tmp_path / "junk.json.gz").write_bytes(b"junk")
    with pytest.raises(ValueError, match="not a readable gzip'd JSON"):
        td.load_dynamics(tmp_path / "junk.json.gz")


def test_figure_has_a_panel_per_arch_and_T_with_four_lines_each():
    d = td.parse(_data(PAPER, Ts=(200, 400)))
    fig = tfig.dynamics_figure(d, key="k")
    lines = [t for t in fig["data"] if t["meta"] != "threshold"]
    assert len(lines) == 2 * 2 * 4
    assert {t["xaxis"] for t in lines} == {"x", "x2", "x3", "x4"}
    crit = next(t for t in lines if t["meta"] == "vanilla-400-critical-orthogonal")
    assert crit["y"][-1] == pytest.approx(0.9) and crit["x"] == [100, 200, 300]
    assert sum(t["showlegend"] for t in fig["data"]) == 5  # four configurations + threshold
    titles = [a["text"] for a in fig["layout"]["annotations"]]
    assert titles == [f"<b>{a}</b>, T = {T}: accuracy" for a in ("vanilla RNN", "minimalRNN")
                      for T in (200, 400)]


def test_update_and_export_in_the_dynamics_view(monkeypatch):
    d = td.parse(_data(PAPER))
    monkeypatch.setattr(cb, "shipped_dynamics", lambda: (d, ""))
    monkeypatch.setattr(texport, "shipped_dynamics", lambda: (d, ""))
    view = ViewState()
    fig, text, pending = cb.update(view, VALUES)
    assert fig["layout"]["meta"]["view"] == "dynamics" and not pending
    assert "as in the paper" in text and "Points: vanilla RNN T = 200" in text
    head, cols = texport.table(view, VALUES)
    assert len(cols["accuracy"]) == 2 * 1 * 2 * 4 * 3  # archs x T x seeds x configs x steps
    assert head["verdict"] == td.verdict(d)
    out = texport.download("json", view, VALUES)
    assert out["filename"] == "trainability_dynamics_dynamics.json"
    assert json.loads(out["content"])["header"]["view"] == "dynamics"


def test_missing_curves_are_a_message_not_a_crash(monkeypatch):
    monkeypatch.setattr(cb, "shipped_dynamics", lambda: (None, "No training curves here."))
    fig, text, _ = cb.update(ViewState(), VALUES)
    assert fig["data"] == [] and text == "No training curves here."


def test_the_shipped_curves_read_and_give_a_verdict():
    d, why = td.shipped_dynamics()
    if d is None and "No training curves are shipped" in why:
        pytest.skip(why)
    assert d is not None, why
    assert len(td.verdict(d)) == 2 * len(d.T)
    assert d.record is not None, d.record_message


def test_the_docstring_examples_hold():
    import doctest

    from components import (
        trainability_maps,
        trainability_panel,
        trainability_text,
        trainability_theory,
    )

    for module in (td, trainability_panel, trainability_text, trainability_maps,
                   trainability_theory):
        result = doctest.testmod(module)
        assert result.failed == 0 and result.attempted > 0, module.__name__
