"""Memory-depth figure: xi along a 1-D cut, and the trajectories C_t, q_t.

Left: the three timescales xi_c, xi_jac, xi_q (log axis) against the phase
diagram's x parameter, all other parameters at their current values; the
current value is marked, the critical value (chi_jac = 1 on the cut) labelled,
and the line xi = T/k drawn (the trainable side is above it).
Right: C_t and q_t/q* of two sequences started from h_0 = 0 (theory.md 3.1-3.2,
4.1-4.2), each with the linearised prediction
``X* + (X_1 - X*) exp(-(t - 1)/xi)`` (dotted), xi = xi_c for C and xi_q for q.
GRU and LSTM curves are named "untied mean field" (gated-cells.md 2.3). With the
"simulate a real network" overlay, q_t/q* and C_t measured on a tied network of
width N (``theory.simulate``) are drawn as markers over the mean-field curves.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from components import specs
from components.figures._common import (
    ARCH_COLOURS,
    CHI_HTML,
    FIELD_HTML,
    axis,
    base_layout,
    fmt,
    json_number,
    param_html,
    plain,
)

XI_DASH = {"xi_c": "solid", "xi_jac": "dash", "xi_q": "dot"}


def memory_figure(panels: Sequence[Any], view: Any, key: str) -> dict:
    """Cut and trajectory figure of ``panels`` (compute.MemoryData) at ``view``."""
    data: list[dict] = []
    shapes: list[dict] = []
    annotations: list[dict] = []
    x0 = getattr(view, view.x)
    prefix = len(panels) > 1
    for p in panels:
        data += _cut_traces(p, view, x0, prefix)
        data += _trajectory_traces(p, prefix)
        data += simulation_traces(p, view)
        shapes_i, notes_i = _critical_marks(p, view)
        shapes += shapes_i
        annotations += notes_i
    data += legend_traces([p.arch for p in panels])
    data += caveat_traces(panels)
    shapes += _reference_shapes(view, x0)
    annotations += _titles(view, panels)
    layout = base_layout(
        memory_meta(panels, view, key), shapes=shapes, annotations=annotations,
        margin={"l": 56, "r": 12, "t": 30, "b": 46}, hovermode="closest",
        legend={"orientation": "h", "x": 1.0, "xanchor": "right", "y": 1.09,
                "yanchor": "bottom", "font": {"size": 11}},
        xaxis=axis(param_html(view.x), log=view.x in specs.LOG_AXES[view.ranges],
                   domain=[0.0, 0.44], anchor="y"),
        yaxis=axis("ξ (log scale)", log=True, anchor="x", dtick=1),
        xaxis2=axis("t", domain=[0.55, 1.0], anchor="y2"),
        yaxis2=axis("C<sub>t</sub>,  q<sub>t</sub>/q*", anchor="x2", rangemode="tozero"),
    )
    return {"data": data, "layout": layout}


def memory_meta(panels: Sequence[Any], view: Any, key: str) -> dict:
    """State drawn, with the numbers at the current point (read by tests)."""
    pts = []
    for p in panels:
        tr = p.trajectory
        entry = {"arch": p.arch, **{f: json_number(getattr(p.point, f))
                                    for f in ("xi_c", "xi_jac", "xi_q")},
                 "C_T": json_number(float(tr.C[-1])), "q_T": json_number(float(tr.q[-1]))}
        sim = getattr(p, "simulation", None)
        if sim is not None:
            entry["simulated"] = {"N": sim.N, "C_T": json_number(float(sim.C[-1])),
                                  "q_T": json_number(float(sim.q[-1]))}
        pts.append(entry)
    return {"panel": "memory", "key": key, "x": getattr(view, view.x), "T": view.T,
            "points": pts}


def legend_traces(archs: Sequence[str]) -> list[dict]:
    """Legend-only colour swatches, one per architecture (only when there are two).

    Line styles are keyed in the subplot titles instead (see :func:`_titles`).
    """
    if len(archs) < 2:
        return []
    return [{"type": "scatter", "mode": "lines", "x": [None], "y": [None],
             "name": specs.ARCH_LABELS[a], "hoverinfo": "skip",
             "line": {"color": ARCH_COLOURS[a], "width": 5}} for a in archs]


def caveat_traces(panels: Sequence[Any]) -> list[dict]:
    """Legend-only entries: gated curves are the untied mean field; the markers a
    simulated tied network (gated-cells.md 2.3)."""
    out = []
    if any(p.arch in specs.UNTIED for p in panels):
        out.append({"type": "scatter", "mode": "lines", "x": [None], "y": [None],
                    "name": ("GRU/LSTM: " if len(panels) > 1 else "") + "untied mean field",
                    "hoverinfo": "skip", "line": {"color": "#777", "width": 2}})
    sims = [p.simulation for p in panels if getattr(p, "simulation", None) is not None]
    if sims:
        out.append({"type": "scatter", "mode": "markers", "x": [None], "y": [None],
                    "name": f"○ C<sub>t</sub>, □ q<sub>t</sub>/q*: real network "
                            f"(tied W, N = {sims[0].N})", "hoverinfo": "skip",
                    "marker": {"color": "#777", "symbol": "circle-open", "size": 7}})
    return out


def _name(p: Any, text: str, prefix: bool) -> str:
    untied = f" ({specs.UNTIED_LABEL})" if p.arch in specs.UNTIED else ""
    return (specs.ARCH_LABELS[p.arch] + ": " if prefix else "") + text + untied


def simulation_traces(p: Any, view: Any) -> list[dict]:
    """q_t/q* and C_t measured on the simulated tied network (markers), if any.

    q_t is divided by the mean-field q* so it shares the axis with the theory curve.
    """
    sim = getattr(p, "simulation", None)
    if sim is None:
        return []
    t = np.asarray(sim.t, dtype=float)
    q_star = p.point.q_star if p.point.exists else math.nan
    colour = ARCH_COLOURS[p.arch]
    label = (f"real {specs.ARCH_LABELS[p.arch]} (tied W, N = {sim.N}, seed {view.seed})")
    out = []
    for sym, y, symbol in (("C<sub>t</sub>", np.asarray(sim.C, float), "circle-open"),
                           ("q<sub>t</sub>/q*", np.asarray(sim.q, float) / q_star,
                            "square-open")):
        out.append({"type": "scatter", "mode": "markers", "x": plain(t), "y": plain(y),
                    "name": f"{label}: {sym}", "xaxis": "x2", "yaxis": "y2",
                    "showlegend": False, "meta": "simulated",
                    "marker": {"color": colour, "size": 5, "symbol": symbol},
                    "hovertemplate": f"t = %{{x}}<br>{sym} = %{{y:.4g}}<extra>{label}</extra>"})
    return out


def _cut_traces(p: Any, view: Any, x0: float, prefix: bool) -> list[dict]:
    colour = ARCH_COLOURS[p.arch]
    out = []
    for f in ("xi_c", "xi_jac", "xi_q"):
        if f not in p.cut.fields:  # xi_c of a costly cut (compute.costly_c)
            continue
        y = np.asarray(p.cut[f], dtype=float)[0]
        y = np.where(np.isfinite(y) & (y > 0), y, np.nan)
        width = 3.0 if f == view.field else 1.6
        out.append({"type": "scatter", "mode": "lines", "x": plain(p.cut.x),
                    "y": plain(y), "name": _name(p, FIELD_HTML[f], prefix), "showlegend": False,
                    "line": {"color": colour, "width": width, "dash": XI_DASH[f]},
                    "hovertemplate": f"{param_html(view.x)} = %{{x:.4g}}<br>{FIELD_HTML[f]}"
                                     f" = %{{y:.4g}}<extra>{specs.ARCH_LABELS[p.arch]}</extra>"})
    ys = [getattr(p.point, f) for f in ("xi_c", "xi_jac", "xi_q")]
    finite = [(f, v) for f, v in zip(("xi_c", "xi_jac", "xi_q"), ys, strict=True)
              if v is not None and math.isfinite(v) and v > 0]
    out.append({"type": "scatter", "mode": "markers", "x": [x0] * len(finite),
                "y": [v for _, v in finite], "showlegend": False,
                "marker": {"color": colour, "size": 9, "symbol": "circle",
                           "line": {"color": "black", "width": 1}},
                "customdata": [FIELD_HTML[f] for f, _ in finite],
                "hovertemplate": "%{customdata} = %{y:.5g} at the current point<extra></extra>"})
    return out


def _trajectory_traces(p: Any, prefix: bool) -> list[dict]:
    tr, pt, colour = p.trajectory, p.point, ARCH_COLOURS[p.arch]
    t = np.asarray(tr.t, dtype=float)
    q_norm = np.asarray(tr.q, dtype=float) / pt.q_star if pt.exists else tr.q * np.nan
    out = []
    for label, y, star, xi, dash in (("C<sub>t</sub>", np.asarray(tr.C, float), pt.C_star,
                                      pt.xi_c, "solid"),
                                     ("q<sub>t</sub>/q*", q_norm, 1.0, pt.xi_q, "dash")):
        out.append({"type": "scatter", "mode": "lines", "x": plain(t), "y": plain(y),
                    "name": _name(p, label, prefix), "xaxis": "x2", "yaxis": "y2",
                    "showlegend": False,
                    "line": {"color": colour, "width": 2.4, "dash": dash},
                    "hovertemplate": f"t = %{{x}}<br>{label} = %{{y:.5g}}<extra></extra>"})
        pred = predicted_decay(t, y, star, xi)
        if pred is not None:
            out.append({"type": "scatter", "mode": "lines", "x": plain(t),
                        "y": plain(pred), "name": _name(p, "e<sup>−t/ξ</sup> prediction",
                                                        prefix),
                        "showlegend": False, "xaxis": "x2", "yaxis": "y2",
                        "line": {"color": "#555", "width": 1.5, "dash": "dot"},
                        "hovertemplate": f"prediction {label} = %{{y:.5g}}<extra></extra>"})
    return out


def predicted_decay(t: np.ndarray, y: np.ndarray, star: float, xi: float) -> np.ndarray | None:
    """``star + (y[1] - star) exp(-(t - 1)/xi)`` for t >= 1 (NaN at t = 0).

    The linearisation of the map at its fixed point (theory.md 3.3, 4.2)
    predicts this approach; None if xi or the fixed point is not finite.
    """
    if len(t) < 2 or not (math.isfinite(xi) and xi > 0 and math.isfinite(star)):
        return None
    pred = star + (y[1] - star) * np.exp(-(t - 1.0) / xi)
    pred[0] = np.nan
    return pred


def crossings(x: np.ndarray, chi: np.ndarray, level: float = 1.0) -> list[float]:
    """x where ``chi`` crosses ``level`` (linear interpolation between grid points)."""
    d = np.asarray(chi, dtype=float) - level
    out = []
    for i in range(len(d) - 1):
        a, b = d[i], d[i + 1]
        if np.isfinite(a) and np.isfinite(b) and a * b < 0:
            out.append(float(x[i] + (x[i + 1] - x[i]) * a / (a - b)))
        elif a == 0:
            out.append(float(x[i]))
    return out


def _critical_marks(p: Any, view: Any) -> tuple[list[dict], list[dict]]:
    xs = crossings(p.cut.x, np.asarray(p.cut["chi_jac"])[0])
    shapes, notes = [], []
    for j, xc in enumerate(xs[:2]):
        shapes.append({"type": "line", "xref": "x", "yref": "paper", "x0": xc, "x1": xc,
                       "y0": 0, "y1": 1, "line": {"color": ARCH_COLOURS[p.arch],
                                                  "width": 1.2, "dash": "dashdot"}})
        notes.append({"x": math.log10(xc) if view.x in specs.LOG_AXES[view.ranges] else xc,
                      "y": 0.02 + 0.09 * j + (0.18 if p.arch != view.archs[0] else 0),
                      "xref": "x", "yref": "paper", "showarrow": False, "xanchor": "left",
                      "text": f" {CHI_HTML[p.arch]} = 1 at {fmt(xc, 3)}",
                      "font": {"size": 11, "color": ARCH_COLOURS[p.arch]},
                      "bgcolor": "rgba(255,255,255,0.8)"})
    return shapes, notes


def _reference_shapes(view: Any, x0: float) -> list[dict]:
    tk = view.T / view.k
    return [
        {"type": "line", "xref": "x", "yref": "paper", "x0": x0, "x1": x0, "y0": 0, "y1": 1,
         "line": {"color": "black", "width": 1.5}},
        {"type": "line", "xref": "x domain", "yref": "y", "x0": 0, "x1": 1, "y0": tk,
         "y1": tk, "line": {"color": "#444", "width": 1.2, "dash": "dot"}},
    ]


#: Separates a subplot title from its line-style key; presentation mode
#: (assets/figure_style.js) breaks the line there for the annotations named "title-key".
KEY_SEP = "   "


def _titles(view: Any, panels: Sequence[Any] = ()) -> list[dict]:
    tk = view.T / view.k
    common = {"xref": "paper", "yref": "paper", "showarrow": False, "yanchor": "bottom",
              "font": {"size": 13}, "name": "title-key"}
    costly = [p.arch for p in panels if "xi_c" not in p.cut.fields]
    out = [
        {**common, "x": 0.0, "y": 1.0, "xanchor": "left",
         "text": f"<b>ξ along {param_html(view.x)}</b>{KEY_SEP}─ ξ<sub>c</sub>   ╌ "
                 "ξ<sub>jac</sub>   ┈ ξ<sub>q</sub>   │ current"},
        {**common, "x": 0.55, "y": 1.0, "xanchor": "left",
         "text": f"<b>Two sequences from h<sub>0</sub> = 0</b>{KEY_SEP}─ C<sub>t</sub>   ╌ "
                 "q<sub>t</sub>/q*   ┈ e<sup>−t/ξ</sup> prediction"},
        {"xref": "x domain", "yref": "y", "x": 1.0, "y": math.log10(tk), "xanchor": "right",
         "yanchor": "bottom", "showarrow": False, "font": {"size": 11, "color": "#444"},
         "text": f"ξ = T/k = {fmt(tk, 3)}"},
    ]
    if costly:  # top left of the cut, where xi is small
        out.append({"xref": "x domain", "yref": "paper", "x": 0.01, "y": 0.98,
                    "xanchor": "left", "yanchor": "top", "showarrow": False,
                    "name": "memory-note", "font": {"size": 11, "color": "#444"},
                    "bgcolor": "rgba(255,255,255,0.8)",
                    "text": "ξ<sub>c</sub> left out: costly for the reset-after GRU<br>"
                            "at Σ > 0 or σ<sub>b</sub> > 0 (ξ<sub>jac</sub>, ξ<sub>q</sub> "
                            "shown)"})
    return out
