"""Export of the current view: panel data as CSV/JSON, a Python snippet, the citation.

Everything here formats numbers that :mod:`components.compute` (hence the
``theory`` API) produced; nothing is computed. Every file starts with a header:
the view's parameters, the permalink, ``theory.__version__``, the UTC date and
the paper's reference. Non-finite numbers are ``null`` in JSON (theory.md
section 11: xi is null when chi >= 1) and ``inf``/``nan`` in CSV.

Example
-------
>>> from components.viewstate import ViewState
>>> file_stem(ViewState())
'rnn_vanilla_tanh_orthogonal_sw1.2_sb0.2_mb0_sv0.5_R1_S0_T50'
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import math
from typing import Any

import numpy as np

import theory
from components import compute, url_state
from components.viewstate import ViewState

CITATION = ("M. Chen, J. Pennington, S. S. Schoenholz. Dynamical Isometry and a Mean Field "
            "Theory of RNNs: Gating Enables Signal Propagation in Recurrent Neural Networks. "
            "ICML 2018, PMLR 80:873-882. arXiv:1806.05394.")
BIBTEX = """@inproceedings{chen2018dynamical,
  title     = {Dynamical Isometry and a Mean Field Theory of {RNN}s: Gating Enables
               Signal Propagation in Recurrent Neural Networks},
  author    = {Chen, Minmin and Pennington, Jeffrey and Schoenholz, Samuel S.},
  booktitle = {Proceedings of the 35th International Conference on Machine Learning},
  series    = {PMLR}, volume = {80}, pages = {873--882}, year = {2018},
  eprint    = {1806.05394}, archivePrefix = {arXiv}
}"""
#: Exportable data sets: label shown, and the panel they come from.
DATASETS = {"phase": "Phase diagram grid", "cut": "Memory: timescales along the cut",
            "trajectory": "Memory: trajectories q_t, C_t", "spectrum": "Jacobian spectrum"}
_SHORT = {"sigma_w": "sw", "sigma_b": "sb", "mu_b": "mb", "sigma_v": "sv", "R": "R",
          "Sigma": "S"}


def file_stem(state: ViewState) -> str:
    """A file name (no extension) carrying the view's parameters."""
    parts = [f"{_SHORT[k]}{getattr(state, k):g}" for k in _SHORT]
    cells = state.mode + (f"-vs-{state.compare}" if state.compare else "")
    return "_".join(["rnn", cells, state.phi, state.weights, *parts, f"T{state.T}"])


def header(state: ViewState, dataset: str) -> dict[str, Any]:
    """Parameters, permalink, project version, date and reference."""
    return {"dataset": dataset, "description": DATASETS[dataset],
            "parameters": state.to_dict(), "permalink": url_state.encode(state),
            "theory_version": theory.__version__,
            "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "reference": CITATION}


def table(state: ViewState, dataset: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """(extra header entries, columns) of ``dataset`` at ``state``."""
    cols: dict[str, list] = {}
    extra: dict[str, Any] = {}

    def add(**arrays):
        n = len(next(iter(arrays.values())))
        for name, values in arrays.items():
            cols.setdefault(name, []).extend(np.broadcast_to(values, (n,)).tolist())

    if dataset == "phase":
        for d in compute.phase_data(state):
            g = d.grid
            X, Y = np.meshgrid(g.x, g.y)
            add(arch=[d.arch] * X.size, **{g.x_name: X.ravel(), g.y_name: Y.ravel()},
                **{f: g[f].ravel() for f in g.fields})
            extra[d.arch] = d.point.to_dict()
    elif dataset == "cut":
        for d in compute.memory_data(state):
            add(arch=[d.arch] * d.cut.x.size, **{d.cut.x_name: d.cut.x},
                **{f: d.cut[f][0] for f in compute.CUT_FIELDS if f in d.cut.fields})
    elif dataset == "trajectory":
        for d in compute.memory_data(state):
            t = d.trajectory
            add(arch=[d.arch] * t.t.size, t=t.t, q=t.q, Q=t.Q, c=t.c, C=t.C)
    elif dataset == "spectrum":
        for d in compute.spectrum_data(state):
            sp = d.spectrum
            add(arch=[d.arch] * sp.s.size, s=sp.s, pdf=sp.pdf, pdf_log_s=sp.pdf_log_s)
            extra[d.arch] = {"m1": _num(sp.m1), "m2": _num(sp.m2), "method": sp.method,
                             "exact": sp.exact, "atom_at_zero": sp.atom_at_zero}
    else:
        raise ValueError(f"dataset: {dataset!r} is not one of {', '.join(DATASETS)}")
    return extra, cols


def _num(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def to_json(state: ViewState, dataset: str) -> str:
    """``{"header": ..., "columns": {name: [values]}}`` with null for inf/nan."""
    extra, cols = table(state, dataset)
    head = {**header(state, dataset), "points": extra}
    data = {k: [_num(v) for v in vals] for k, vals in cols.items()}
    return json.dumps({"header": head, "columns": data}, allow_nan=False)


def to_csv(state: ViewState, dataset: str) -> str:
    """``#``-commented JSON header line(s), then a CSV table (full precision)."""
    extra, cols = table(state, dataset)
    out = io.StringIO()
    head = {**header(state, dataset), "points": extra}
    out.write("# " + json.dumps(head, default=str) + "\n")
    w = csv.writer(out, lineterminator="\n")
    w.writerow(cols)
    for row in zip(*cols.values(), strict=True):
        w.writerow([repr(v) if isinstance(v, float) else v for v in row])
    return out.getvalue()


SNIPPET_NAMES = ("q_star", "Q_star", "c_star", "C_star", "chi_q", "chi_c", "chi_jac", "xi_q",
                 "xi_c", "xi_jac")
#: Extra numbers of the gated cells (gated-cells.md 10).
SNIPPET_GATED = {"gru": ("rho_tied", "tied_warning"),
                 "lstm": ("Qc_star", "Cc_star", "rho_tied", "tied_warning")}


def python_snippet(state: ViewState) -> str:
    """Python code that recomputes the view's key numbers with the theory API."""
    lines = ["import theory", "", f"# {url_state.encode(state)}  (theory {theory.__version__})"]
    for arch in state.archs:
        p = state.params(arch)
        args = ", ".join(f"{k}={v!r}" for k, v in p.to_dict().items())
        names = SNIPPET_NAMES + SNIPPET_GATED.get(arch, ())
        lines += [f"p = theory.Params({args})",
                  "r = theory.point(p)" + ("  # untied mean field (gated-cells.md 2.3)"
                                           if arch in SNIPPET_GATED else ""),
                  f"for name in {names!r}:",
                  f"    print({arch!r}, name, repr(getattr(r, name)))",
                  f"sp = theory.spectrum(p, {state.T})",
                  f"print({arch!r}, 'm1', repr(sp.m1))",
                  f"print({arch!r}, 'm2', repr(sp.m2))",
                  f"tr = theory.trajectory(p, {state.T})",
                  f"print({arch!r}, 'C_T', repr(float(tr.C[-1])))", ""]
    return "\n".join(lines)
