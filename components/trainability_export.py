"""CSV/JSON export of the trainability panel: what it shows, with its provenance.

One row per network (map, checkpoint, T, seed, x) of the map shown (the map
view) or of every map (measured vs predicted), at the checkpoint shown (in the
training-curves view: one row per architecture, T, seed, configuration and step,
with the verdict, the points and the record in the header): accuracy,
finite, drifted and u = (T - 1)/xi. The header (JSON; in CSV a ``#`` line) holds
the permalink, every fit of k, each map's fixed parameters, protocol and
provenance record, and, in the map view, the theory curves drawn
(:mod:`components.trainability_theory`). Non-finite numbers are null in JSON and
``inf``/``nan`` in CSV, as in :mod:`components.export`.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as _dt
import io
import json
import math
from typing import Any

import numpy as np

import theory
from components import trainability_panel, url_state
from components.trainability_dynamics import ARCHS, CONFIGS, Dynamics, shipped_dynamics, verdict
from components.trainability_maps import TrainMap, catalogue
from components.trainability_theory import curves


def _num(x: Any) -> Any:
    return None if isinstance(x, float) and not math.isfinite(x) else x


def _map_header(m: TrainMap, ck: int) -> dict:
    return {"name": m.name, "arch": m.arch, "x_name": m.x_name, "base": m.base,
            "protocol": m.protocol, "checkpoint": m.checkpoints[ck], "overlay": m.overlay,
            "fits": [dataclasses.asdict(f) for f in m.fits],
            "provenance": dataclasses.asdict(m.provenance) if m.provenance else None,
            "provenance_message": m.provenance_message}


def _rows(m: TrainMap, ck: int) -> dict[str, list]:
    K, nT, S, X = m.accuracy.shape
    t, s, j = np.meshgrid(np.arange(nT), np.arange(S), np.arange(X), indexing="ij")
    t, s, j = t.ravel(), s.ravel(), j.ravel()
    return {"map": [m.name] * t.size, "checkpoint": [m.checkpoints[ck]] * t.size,
            "T": m.T[t].tolist(), "seed": [m.seeds[i] for i in s],
            "x_name": [m.x_name] * t.size, "x": m.x[j].tolist(),
            "accuracy": m.accuracy[ck][t, s, j].tolist(),
            "finite": m.finite[ck][t, s, j].tolist(),
            "drifted": m.drifted[ck][t, s, j].tolist(), "u": m.u()[t, j].tolist()}


def _curves(m: TrainMap, ck: int) -> dict | None:
    try:
        c = curves(m, ck)
    except (theory.ParameterError, ValueError, ArithmeticError) as exc:
        return {"message": str(exc)}
    return {"x_name": m.x_name, "overlay": c.overlay, "k_fit": c.k_fit,
            **{k: [_num(v) for v in getattr(c, k).tolist()]
               for k in ("x", "xi_c", "xi_jac", "tau_jac", "T_fit", "T_six")}}


def dynamics_table(d: Dynamics) -> tuple[dict, dict[str, list]]:
    """(header, columns) of the training curves: one row per (arch, T, seed, config, step)."""
    head = {"file": d.name, "verdict": verdict(d), "points": d.points, "settings": d.header,
            "protocol": d.protocol, "threshold": d.threshold,
            "provenance": dataclasses.asdict(d.record) if d.record else None,
            "provenance_message": d.record_message}
    cols: dict[str, list] = {k: [] for k in ("arch", "T", "seed", "config", "step",
                                             "accuracy")}
    for arch in ARCHS:
        for T in d.T:
            acc = d.accuracy[arch][str(T)]
            for s, seed in enumerate(d.seeds):
                for j, cfg in enumerate(CONFIGS):
                    for k, step in enumerate(d.checkpoints.tolist()):
                        for name, v in zip(cols, (arch, T, seed, cfg, int(step),
                                                  float(acc[s, j, k])), strict=True):
                            cols[name].append(v)
    return head, cols


def table(view: Any, values: dict) -> tuple[dict, dict[str, list]]:
    """(header, columns) of what the panel shows for ``view`` and the panel's ``values``."""
    query = "&".join(f"{k}={v}" for k, v in trainability_panel.encode(values))
    if values["view"] == "dynamics":
        d, why = shipped_dynamics()
        if d is None:
            return {"message": why}, {}
        head, cols = dynamics_table(d)
        return {"dataset": "trainability", "view": "dynamics",
                "description": "held-out accuracy against training step (docs/trainability.md)",
                "permalink": url_state.encode(view) + ("&" + query if query else ""),
                "theory_version": theory.__version__,
                "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
                **head}, cols
    cat = catalogue()
    step = None if values["step"] == "last" else int(values["step"])
    maps = list(cat.maps) if values["view"] == "scatter" else [
        cat.choose(values["map"], view.archs)]
    maps = [m for m in maps if m is not None]
    head: dict[str, Any] = {
        "dataset": "trainability", "view": values["view"],
        "description": "held-out accuracy of trained RNNs (docs/trainability.md)",
        "permalink": url_state.encode(view) + ("&" + query if query else ""),
        "theory_version": theory.__version__,
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "maps": [_map_header(m, m.checkpoint_index(step)) for m in maps]}
    if values["view"] == "map" and maps:
        head["curves"] = _curves(maps[0], maps[0].checkpoint_index(step))
    cols: dict[str, list] = {}
    for m in maps:
        for k, v in _rows(m, m.checkpoint_index(step)).items():
            cols.setdefault(k, []).extend(v)
    return head, cols


def download(fmt: str, view: Any, values: dict) -> dict | None:
    """``dcc.Download`` payload (``fmt`` "csv" or "json"); None when no map is shipped."""
    head, cols = table(view, values)
    if not cols:
        return None
    stem = {"map": lambda: f"trainability_map_{head['maps'][0]['name']}",
            "scatter": lambda: "trainability_all_maps",
            "dynamics": lambda: f"trainability_dynamics_{head['file']}"}[values["view"]]()
    if fmt == "json":
        data = {k: [_num(v) for v in vals] for k, vals in cols.items()}
        return {"content": json.dumps({"header": head, "columns": data}, allow_nan=False),
                "filename": stem + ".json", "type": "application/json"}
    out = io.StringIO()
    out.write("# " + json.dumps(head, default=str) + "\n")
    w = csv.writer(out, lineterminator="\n")
    w.writerow(cols)
    for row in zip(*cols.values(), strict=True):
        w.writerow([repr(v) if isinstance(v, float) else v for v in row])
    return {"content": out.getvalue(), "filename": stem + ".csv", "type": "text/csv"}
