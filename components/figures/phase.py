"""Phase-diagram figure: timescale heatmap, critical lines, T = k xi, marker.

Each architecture gets one subplot of :data:`TRACES_PER_PANEL` traces in a fixed
order:

0. the timescale as ``log10 xi`` (heatmap; hover shows xi itself). Cells where
   xi = inf or where no stable fixed point exists get values below the data
   range that the colour scale paints in two greys, labelled on the colour bar
   (one heatmap, not a second mask layer: each heatmap costs ~25 ms per redraw);
1. the bistable region (minimalRNN), hatched (survives greyscale);
2. the contour T = k xi, the edge of the predicted trainable region
   (white dashes; traced here with contourpy: plotly.js contour traces took
   1-2 s per redraw of a 150x150 grid with gaps on this machine);
3.-4. the chi_jac = 1 critical line (white casing under a black line, so it
   survives greyscale printing);
5.-6. the saddle-node line of the minimalRNN and the GRU (casing + black dots);
7. the outline of the region where real (tied) GRUs and LSTMs deviate from the
   untied mean field (gated-cells.md eq. 2.5; empty for the other cells);
8. the framework defaults of the cell (gated-cells.md 7), labelled diamonds
   (:mod:`components.figures.markers`).

Gated cells' titles say "untied mean field" (gated-cells.md 2.3), and the status
line under a title warns where real networks deviate at the current point.

The current point is a pair of layout annotations (a black star under a white
one), not a trace: moving an annotation redraws no trace, so the heatmap is not
re-rendered when only the point moves.

Updates come in three weights, so the callback can ``Patch`` only what changed:
:func:`point_updates` (stars, titles, the hidden state annotation), :func:`contour_updates`
(the T = k xi line, when T or k change) and the heavy rest (new grid).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import contourpy
import numpy as np

from components import specs
from components.figures import markers
from components.figures._common import (
    CHI_HTML,
    FIELD_HTML,
    axis,
    base_layout,
    fmt,
    json_number,
    param_html,
    plain,
    round_sig,
)
from components.trainability_maps import k_note
from theory.types import GATES

TRACES_PER_PANEL = 9
HEATMAP, BISTABLE, TK_LINE, CRIT_CASE, CRIT, SADDLE_CASE, SADDLE, TIED, FRAMEWORKS = range(9)
XI_LOG_RANGE = (-1.0, 3.0)  # colour scale spans xi = 0.1 .. 1000 (clipped beyond)
#: z values (below the data range) of the cells without a finite xi.
Z_NO_FIXED_POINT, Z_INFINITE = -2.5, -1.5
Z_MIN = -3.0
Z_DECIMALS = 2  # of log10 xi in the heatmap's z: what a colour can show
GREYS = {"no_fp": "#5a5a5a", "inf": "#cfcfcf"}
VIRIDIS = ("#440154", "#482878", "#3e4989", "#31688e", "#26828e", "#1f9e89", "#35b779",
           "#6ece58", "#b5de2b", "#fde725")  # plotly.colors.sequential.Viridis
TK_STYLE = {"color": "white", "width": 2.5, "dash": "dash"}
#: Hover label in front of a chaotic cell's growth time in the xi_jac diagram.
CHAOTIC_HOVER = "∞ (chaotic); 1/ln χ = "  # short: one per chaotic cell on the wire


def phase_figure(panels: Sequence[Any], view: Any, key: str) -> dict:
    """Full phase-diagram figure of ``panels`` (compute.PhaseData) at ``view``."""
    data: list[dict] = []
    for i, p in enumerate(panels):
        data += _panel_traces(p, view, i)
    seen: set[str] = set()
    for trace in data:  # one legend entry per name over both panels
        if trace.get("showlegend") and trace.get("name") in seen:
            trace["showlegend"] = False
        elif trace.get("showlegend"):
            seen.add(trace.get("name", ""))
    fig = {"data": data, "layout": _layout(panels, view)}
    updates = contour_updates(panels, view) + point_updates([p.point for p in panels], view,
                                                            key)
    for path, value in updates:
        _assign(fig, path, value)
    return fig


def contour_updates(panels: Sequence[Any], view: Any) -> list[tuple[tuple, Any]]:
    """(path, value) pairs of the T = k xi lines (they follow T and k)."""
    level = math.log10(view.T / view.k)
    out: list[tuple[tuple, Any]] = []
    for i, p in enumerate(panels):
        xs, ys = level_lines(p.grid, view.field, level)
        base = ("data", i * TRACES_PER_PANEL + TK_LINE)
        out += [((*base, "x"), xs), ((*base, "y"), ys)]
    out.append((("data", 0 * TRACES_PER_PANEL + TK_LINE, "name"),
                f"T = k·ξ (T = {view.T}, {k_note(view.mode, view.k)})"))
    return out


def point_updates(points: Sequence[Any], view: Any, key: str) -> list[tuple[tuple, Any]]:
    """(path, value) pairs that follow the current point: the annotations only.

    The stars, the titles and the hidden state annotation. This figure has no
    ``layout.meta``: a new ``meta`` object (Dash's ``Patch`` hands Plotly a copy)
    makes Plotly redraw every trace (~45 ms here), annotations redraw alone (~10 ms).
    """
    return [(("layout", "annotations"), _annotations(points, view, key))]


def phase_meta(view: Any, n: int) -> dict:
    """What assets/app.js needs to move the stars (kept in the state annotation)."""
    return {"panel": "phase", "marker_ann": [[2 * i, 2 * i + 1] for i in range(n)],
            "log": [view.x in specs.LOG_AXES[view.ranges], view.y in specs.LOG_AXES[view.ranges]],
            "plane": [view.x, view.y], "field": view.field}


def phase_state(points: Sequence[Any], view: Any, key: str) -> dict:
    """State drawn at the current point (read with ``rnnPanelState`` in assets/app.js)."""
    return {
        **phase_meta(view, len(points)), "key": key,
        "x": getattr(view, view.x), "y": getattr(view, view.y),
        "points": [{"arch": p.params.arch, "xi": json_number(getattr(p, view.field)),
                    "chi_jac": json_number(p.chi_jac), "exists": p.exists,
                    "phase": p.phase, "tied_warning": p.tied_warning} for p in points],
    }


def shown_timescale(g: Any, field: str) -> np.ndarray:
    """The timescale the diagram shows for ``field``: for xi_jac the two-sided
    tau_jac = 1/|ln chi_jac| (xi_jac in the ordered phase; in the chaotic phase, where
    xi_jac = inf, the time over which gradients grow e-fold), else the field itself."""
    if field == "xi_jac" and "tau_jac" in getattr(g, "fields", ("tau_jac",)):
        return np.asarray(g["tau_jac"], dtype=float)
    return np.asarray(g[field], dtype=float)


def level_lines(g: Any, field: str, level: float) -> tuple[list, list]:
    """Polylines (None-separated x, y lists) where log10 of ``g[field]`` = ``level``.

    Cells with xi = inf or without a fixed point are masked, so the line stops
    at them instead of running along their edge.
    """
    z = _log_xi(g, field)
    if z.shape[0] < 2 or z.shape[1] < 2 or not np.isfinite(z).any():
        return [], []
    gen = contourpy.contour_generator(g.x, g.y, np.ma.masked_invalid(z), name="serial")
    xs: list[float | None] = []
    ys: list[float | None] = []
    for seg in gen.lines(level):
        xs += [float(v) for v in seg[:, 0]] + [None]
        ys += [float(v) for v in seg[:, 1]] + [None]
    return xs, ys


def heat_values(g: Any, field: str) -> np.ndarray:
    """Heatmap z: log10 xi clipped to the colour range, greys' codes elsewhere."""
    xi = shown_timescale(g, field)
    exists = np.asarray(g["exists"]) == 1.0
    z = np.clip(_log_xi(g, field), *XI_LOG_RANGE)
    z = np.where(exists & np.isinf(xi), Z_INFINITE, z)
    return np.where(exists, z, Z_NO_FIXED_POINT)


def colour_scale() -> list:
    """Two grey bands below the data range, then Viridis over log10 xi."""
    span = XI_LOG_RANGE[1] - Z_MIN

    def pos(z: float) -> float:
        return (z - Z_MIN) / span

    mid, lo = pos(-2.0), pos(XI_LOG_RANGE[0])
    scale = [[0.0, GREYS["no_fp"]], [mid, GREYS["no_fp"]], [mid, GREYS["inf"]],
             [lo, GREYS["inf"]]]
    n = len(VIRIDIS) - 1
    scale += [[lo + (1 - lo) * i / n, c] for i, c in enumerate(VIRIDIS)]
    return scale


def colour_settings(view: Any, show_scale: bool) -> dict:
    """Colour scale of a heatmap trace (every panel the same; one shows the bar).

    Kept on the traces, not in a shared ``layout.coloraxis``: Dash's ``Patch``
    hands Plotly a copy of the layout, and a copied colour-scale array made
    Plotly recompute and redraw every trace (~75 ms) on each move of the point.
    """
    return {"colorscale": colour_scale(), "zmin": Z_MIN, "zmax": XI_LOG_RANGE[1],
            "showscale": show_scale,
            "colorbar": {"title": {"text": FIELD_HTML[view.field], "side": "top"},
                         "tickvals": [Z_NO_FIXED_POINT, Z_INFINITE, 0, 1, 2, 3],
                         "ticktext": ["no f.p.", "∞", "1", "10", "100", "≥10³"],
                         "thickness": 12, "len": 0.9, "x": 1.01, "xpad": 4}}


def _log_xi(g: Any, field: str) -> np.ndarray:
    xi = shown_timescale(g, field)
    ok = (np.asarray(g["exists"]) == 1.0) & np.isfinite(xi) & (xi > 0)
    return np.where(ok, np.log10(np.where(ok, xi, 1.0)), np.nan)


def _assign(fig: dict, path: tuple, value: Any) -> None:
    target = fig
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value


def _suffix(i: int) -> str:
    return "" if i == 0 else str(i + 1)


def _panel_traces(p: Any, view: Any, i: int) -> list[dict]:
    g, arch = p.grid, p.arch
    axes = {"xaxis": "x" + _suffix(i), "yaxis": "y" + _suffix(i)}
    xi = shown_timescale(g, view.field)
    exists = np.asarray(g["exists"]) == 1.0
    chaotic = exists & (np.asarray(g["chi_jac"], dtype=float) > 1.0)
    xl, yl, fl = param_html(g.x_name), param_html(g.y_name), FIELD_HTML[view.field]
    values, labels = hover_values(xi, exists, chaotic if view.field == "xi_jac" else None)
    heat = {
        "type": "heatmap", "x": plain(g.x, 8), "y": plain(g.y, 8),
        "z": colour_values(g, view.field),
        "text": values, "customdata": labels,
        **colour_settings(view, show_scale=i == 0),
        "showlegend": False,
        "name": arch,
        "hovertemplate": (f"{xl} = %{{x:.4g}}<br>{yl} = %{{y:.4g}}<br>{fl} = "
                          f"%{{customdata}}%{{text}}<extra>{specs.ARCH_LABELS[arch]}</extra>"),
        **axes,
    }
    tk = {"type": "scatter", "mode": "lines", "x": [], "y": [], "line": TK_STYLE,
          "hoverinfo": "skip", "showlegend": i == 0, "legendgroup": "tk", **axes}
    return [heat, _bistable_trace(g, axes, i), tk,
            *_line_traces(p.lines, "chi_jac", axes, i, arch),
            *_line_traces(p.lines, "saddle_node", axes, i, arch),
            markers.tied_trace(g, view, axes, show_legend=True),
            markers.framework_trace(getattr(p, "defaults", ()), view, axes, show_legend=True)]


def colour_values(g: Any, field: str) -> np.ndarray:
    """:func:`heat_values` as the heatmap's z: :data:`Z_DECIMALS` decimals of log10 xi.

    Only the colour reads z (the hover reads :func:`hover_values`, the exports the
    grid): 0.01 in log10 xi is 1/600 of the colour scale, finer than its 256 colours,
    and the rounded field compresses 4x better on the wire than 3 decimals (issue 14).
    A NumPy array: the JSON encoder writes it in one call (NaN as null).
    """
    return np.round(heat_values(g, field), Z_DECIMALS)


def hover_values(xi: np.ndarray, exists: np.ndarray,
                 chaotic: np.ndarray | None = None) -> tuple[list, list]:
    """Each cell's hover: (number, label) for the heatmap's ``text`` and ``customdata``.

    The hover shows label + number (``%{customdata}%{text}``): xi with 4 significant
    digits and an empty label; "∞" or "no stable fixed point" and an empty string (not
    null, which Plotly would print); in the xi_jac diagram a chaotic cell's growth time
    1/ln chi behind :data:`CHAOTIC_HOVER`. The numbers are rounded in one vectorised
    step (:func:`round_sig`) and go out as JSON numbers; the labels are set with NumPy
    masks (issue 14: the per-cell strings cost ~60 ms per diagram before). Both are
    plain lists: orjson then writes the whole figure in one call; a NumPy string array
    made plotly's encoder fall back to visiting every value in Python (~30 ms).
    """
    xi = np.asarray(xi, dtype=float)
    exists = np.asarray(exists, dtype=bool)
    shown = round_sig(xi, 4)
    labels = np.full(xi.shape, "", dtype=f"<U{len(CHAOTIC_HOVER)}")
    if chaotic is not None:
        labels[np.asarray(chaotic, dtype=bool) & np.isfinite(shown)] = CHAOTIC_HOVER
    labels[np.isposinf(shown)] = "∞"
    labels[np.isnan(shown) | np.isneginf(shown)] = "n/a"
    labels[~exists] = "no stable fixed point"
    labels = labels.tolist()  # orjson writes lists of str, not NumPy string arrays
    numbers = shown.tolist()
    for i, j in np.argwhere(~(exists & np.isfinite(shown))).tolist():
        numbers[i][j] = ""
    return numbers, labels


def bistable_outline(g: Any) -> tuple[list, list]:
    """Closed polygons (None-separated) around the cells flagged bistable."""
    b = np.asarray(g["bistable"], dtype=float)
    if b.shape[0] < 2 or b.shape[1] < 2 or not (b == 1.0).any():
        return [], []
    gen = contourpy.contour_generator(g.x, g.y, b, name="serial", fill_type="OuterOffset")
    xs: list[float | None] = []
    ys: list[float | None] = []
    points, offsets = gen.filled(0.5, 1.5)
    for pts, offs in zip(points, offsets, strict=True):
        for a, e in zip(offs[:-1], offs[1:], strict=True):
            xs += [float(v) for v in pts[a:e, 0]] + [None]
            ys += [float(v) for v in pts[a:e, 1]] + [None]
    return xs, ys


def _bistable_trace(g: Any, axes: dict, i: int) -> dict:
    xs, ys = bistable_outline(g)
    return {"type": "scatter", "mode": "lines", "x": xs, "y": ys, "fill": "toself",
            "fillcolor": "rgba(255,255,255,0.25)", "line": {"width": 0},
            "fillpattern": {"shape": "/", "fgcolor": "rgba(0,0,0,0.55)", "size": 7,
                            "solidity": 0.15},
            "name": "bistable", "legendgroup": "bistable",
            "showlegend": bool(xs), "hoverinfo": "skip", **axes}


def _line_traces(lines: Sequence[Any], kind: str, axes: dict, i: int, arch: str) -> list[dict]:
    xs: list[float | None] = []
    ys: list[float | None] = []
    for line in lines:
        if line.kind != kind:
            continue
        for seg in line.segments:
            xs += [float(v) for v in seg[:, 0]] + [None]
            ys += [float(v) for v in seg[:, 1]] + [None]
    name = (f"{CHI_HTML[arch]} = 1 (critical)" if kind == "chi_jac"
            else "saddle-node")
    dash = "solid" if kind == "chi_jac" else "dot"
    case = {"type": "scatter", "mode": "lines", "x": xs, "y": ys, "hoverinfo": "skip",
            "line": {"color": "white", "width": 6}, "showlegend": False, **axes}
    line = {"type": "scatter", "mode": "lines", "x": xs, "y": ys, "name": name,
            "line": {"color": "black", "width": 2.5, "dash": dash},
            "hovertemplate": f"{name}<extra></extra>", "legendgroup": kind,
            "showlegend": bool(xs) and (i == 0 or arch != "vanilla"), **axes}
    return [case, line]


def _layout(panels: Sequence[Any], view: Any) -> dict:
    n = len(panels)
    domains = [[0.0, 1.0]] if n == 1 else [[0.0, 0.45], [0.55, 1.0]]
    layout = base_layout(
        None, uirevision=f"{view.mode}-{view.compare}-{view.x}-{view.y}",
        clickmode="event", hovermode="closest", showlegend=True,
        margin={"l": 50, "r": 6, "t": 24, "b": 40},
        # grey enough for the white T = k xi dashes and the black lines both to show
        legend={"orientation": "h", "x": 0, "y": -0.19, "yanchor": "top", "itemwidth": 30,
                "font": {"size": 11}, "bgcolor": "#cccccc", "tracegroupgap": 0},
    )
    for i, dom in enumerate(domains):
        s = _suffix(i)
        layout["xaxis" + s] = _plane_axis(view, view.x, domain=dom, anchor="y" + s)
        layout["yaxis" + s] = _plane_axis(view, view.y, anchor="x" + s)
    return layout


def _plane_axis(view: Any, name: str, **extra: Any) -> dict:
    lo, hi = specs.slider_range(view.ranges, name)
    log = name in specs.LOG_AXES[view.ranges]
    rng = [math.log10(lo), math.log10(hi)] if log else [lo, hi]
    return axis(param_html(name), log=log, range=rng, showgrid=False, **extra)


def star_annotations(view: Any, i: int) -> list[dict]:
    """The current-point marker of panel ``i``: a black star under a white one."""
    x, y = getattr(view, view.x), getattr(view, view.y)
    if view.x in specs.LOG_AXES[view.ranges]:
        x = math.log10(x)
    if view.y in specs.LOG_AXES[view.ranges]:
        y = math.log10(y)
    s = _suffix(i)
    common = {"x": x, "y": y, "xref": "x" + s, "yref": "y" + s, "showarrow": False,
              "xanchor": "center", "yanchor": "middle", "text": "★"}
    return [{**common, "font": {"size": 30, "color": "black"}},
            {**common, "font": {"size": 19, "color": "white"}}]


def _annotations(points: Sequence[Any], view: Any, key: str) -> list[dict]:
    n = len(points)
    out = [a for i in range(n) for a in star_annotations(view, i)]
    out.append({"name": "state", "visible": False, "text": json.dumps(
        phase_state(points, view, key)), "x": 0, "y": 0, "xref": "paper", "yref": "paper",
        "showarrow": False})
    for i, p in enumerate(points):
        arch = p.params.arch
        x_mid = 0.5 if n == 1 else (0.225, 0.775)[i]
        title = specs.ARCH_LABELS[arch] + (f" ({specs.PHI_LABELS[view.phi]})"
                                           if arch == "vanilla" else
                                           f" ({specs.UNTIED_LABEL})" if arch in GATES
                                           else "")
        out.append({"text": f"<b>{title}</b>: {FIELD_HTML[view.field]} = "
                            f"{fmt(getattr(p, view.field), 4 if n == 1 else 3)} at ★",
                    "x": x_mid, "y": 1.0, "xref": "paper", "yref": "paper",
                    "xanchor": "center", "yanchor": "bottom", "showarrow": False,
                    "font": {"size": 13 if n == 1 else 12}})
        status = _status(p, view)
        if status:
            out.append({"text": status, "x": x_mid, "y": 0.97, "xref": "paper",
                        "yref": "paper", "xanchor": "center", "yanchor": "top",
                        "showarrow": False, "bgcolor": "rgba(255,255,255,0.9)",
                        "bordercolor": "#b00020", "borderwidth": 1.5,
                        "font": {"size": 12, "color": "#b00020"}})
    return out


def _status(p: Any, view: Any = None) -> str:
    """Warning shown on the plot when the current point is special, or its grid coarse."""
    if not p.exists:
        return "No stable fixed point at ★: q<sub>t</sub> grows without bound"
    if p.bistable:
        return f"Bistable at ★: showing the {p.branch} branch reached from h<sub>0</sub> = 0"
    if p.tied_warning:
        return (f"Real (tied) networks deviate at ★ (ρ<sub>tied</sub> = {fmt(p.rho_tied, 2)}): "
                "see the read-out")
    if view is not None and p.params.arch == "lstm" and p.params.closure == "gc4" and \
            view.n > specs.GC4_GRID_MAX:
        return (f"GC4 closure: grid {specs.GC4_GRID_MAX} × {specs.GC4_GRID_MAX} "
                "(costly per point)")
    return ""
