"""Trainability figures: the measured map and "measured vs predicted".

:func:`map_figure` draws one map (:class:`~components.trainability_maps.TrainMap`)
at one checkpoint: the held-out accuracy (mean over seeds) as a heatmap over
(swept parameter, T) with T on a log axis, the theory's edges of the trainable
region T - 1 = k·xi for the fitted k and for k = 6 (``curves``, a
:class:`~components.trainability_theory.Curves`), crosses on the cells where the
initialisation drifted, and the current point when it lies on the map's cut.

:func:`scatter_figure` puts every cell of every map on one axis: accuracy against
u = (T - 1)/xi (log axis; the xi the fit used, stored in the map), one colour per
map, with each map's fitted logistic P(trained | u) and the threshold.

Pure builders (no Dash, no theory calls). ``layout.meta`` says what is drawn.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from components.figures._common import axis, base_layout, fmt, param_html, plain
from components.trainability_maps import TrainMap

#: Trace names of the map figure (tests find the traces by these).
HEAT, FIT, SIX, DRIFT, CURRENT = ("accuracy", "fit", "k6", "drifted", "current")
ACC_SCALE = [[0.0, "#f7f7f7"], [0.25, "#c6dbef"], [0.5, "#6baed6"], [0.75, "#2171b5"],
             [1.0, "#08306b"]]  # light (chance) to dark blue (perfect)
MAP_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
OVERLAY_HTML = {"xi_c(Sigma=0)": "ξ<sub>c</sub>", "tau_jac": "τ<sub>jac</sub>",
                "xi_jac(sigma_v=0)": "ξ<sub>jac</sub>"}


def _edges(values: np.ndarray, log: bool) -> list[float]:
    """Cell edges around sorted ``values`` (geometric midpoints on a log axis)."""
    v = np.log(values) if log else np.asarray(values, float)
    if v.size == 1:
        e = np.array([v[0] - 0.5, v[0] + 0.5])
    else:
        mid = (v[1:] + v[:-1]) / 2
        e = np.concatenate([[2 * v[0] - mid[0]], mid, [2 * v[-1] - mid[-1]]])
    return plain(np.exp(e) if log else e, 8)


def cell_text(m: TrainMap, ck: int) -> list[list[str]]:
    """Hover text of each (T, x) cell: the seeds' accuracies, trained count, drift."""
    acc, ok, dr = m.accuracy[ck], m.finite[ck], m.drifted[ck]
    out = []
    for t in range(len(m.T)):
        row = []
        for j in range(len(m.x)):
            accs = ", ".join(fmt(a, 3) if ok[t, s, j] else "diverged"
                             for s, a in enumerate(acc[t, :, j]))
            n_tr = int(np.sum(ok[t, :, j] & (np.nan_to_num(acc[t, :, j]) >= m.threshold)))
            row.append(f"seeds: {accs}<br>trained {n_tr}/{len(m.seeds)}"
                       + ("<br>initialisation drifted" if dr[t, :, j].any() else ""))
        out.append(row)
    return out


def _line(name: str, x: np.ndarray, T: np.ndarray, label: str, dash: str) -> list[dict]:
    ys = [None if not math.isfinite(v) else v for v in np.minimum(T, 1e6).tolist()]
    xs = plain(x, 8)
    case = {"type": "scatter", "mode": "lines", "x": xs, "y": ys, "hoverinfo": "skip",
            "line": {"color": "white", "width": 5}, "showlegend": False,
            "name": name + "-case"}
    line = {"type": "scatter", "mode": "lines", "x": xs, "y": ys, "name": label,
            "meta": name, "line": {"color": "black", "width": 2, "dash": dash},
            "hovertemplate": f"{label}<br>T = %{{y:.4g}}<extra></extra>"}
    return [case, line]


def map_figure(m: TrainMap, ck: int, curves: Any, current: dict | None, key: str) -> dict:
    """The map at checkpoint index ``ck`` with the theory edges and ``current`` point.

    ``curves`` (a ``Curves``) is None while the theory is not available: no edges then.
    ``current`` is ``{"x": value, "T": value}`` when the view lies on the map's cut.
    """
    xl, xi = param_html(m.x_name), OVERLAY_HTML[m.overlay]
    heat = {"type": "heatmap", "x": _edges(m.x, False), "y": _edges(m.T, True),
            "z": plain(np.nanmean(m.accuracy[ck], axis=1), 4), "meta": HEAT,
            "zmin": 0.1, "zmax": 1.0, "colorscale": ACC_SCALE, "name": "accuracy",
            "text": cell_text(m, ck), "showlegend": False,
            "colorbar": {"title": {"text": "accuracy", "side": "top"}, "thickness": 12,
                         "tickvals": [0.1, m.threshold, 1.0],
                         "len": 0.9, "x": 1.01, "xpad": 4},
            "hovertemplate": (f"{xl} = %{{x:.3g}}, T = %{{y:.0f}}<br>mean accuracy "
                              "%{z:.3f}<br>%{text}<extra></extra>")}
    data = [heat]
    k = m.fits[ck].k
    if curves is not None and k is not None:
        data += _line(FIT, curves.x, curves.T_fit, f"T − 1 = {k:.3g}·{xi} (fitted k)", "solid")
    if curves is not None:
        data += _line(SIX, curves.x, curves.T_six, f"T − 1 = 6·{xi} (k = 6 assumed)", "dash")
    data.append(_drift_trace(m, ck))
    if current is not None:
        data.append({"type": "scatter", "mode": "markers", "meta": CURRENT, "name": "current point",
                     "x": [current["x"]], "y": [current["T"]],
                     "marker": {"symbol": "star", "size": 18, "color": "#ffd21f",
                                "line": {"color": "black", "width": 1.5}},
                     "hovertemplate": f"★ {xl} = %{{x:.3g}}, T = %{{y}}<extra></extra>"})
    lo, hi = math.log10(m.T.min() / 1.5), math.log10(m.T.max() * 1.5)
    layout = base_layout(
        {"panel": "trainability", "view": "map", "key": key, "map": m.name,
         "step": m.checkpoints[ck], "k": k, "current": current is not None,
         "curves": curves is not None},
        uirevision=f"train-{m.name}", hovermode="closest", showlegend=True,
        margin={"l": 52, "r": 8, "t": 10, "b": 40},
        xaxis=axis(xl, showgrid=False, range=[heat["x"][0], heat["x"][-1]]),
        yaxis=axis("sequence length T", log=True, range=[lo, hi], showgrid=False,
                   tickvals=plain(m.T, 6)),
        legend={"orientation": "h", "x": 0, "y": -0.16, "yanchor": "top",
                "font": {"size": 11}})
    return {"data": data, "layout": layout}


def _drift_trace(m: TrainMap, ck: int) -> dict:
    cells = np.argwhere(m.drifted[ck].any(axis=1))  # (T index, x index)
    return {"type": "scatter", "mode": "markers", "meta": DRIFT, "name": "drifted (×)",
            "x": plain(m.x[cells[:, 1]], 8), "y": plain(m.T[cells[:, 0]], 8),
            "marker": {"symbol": "x-thin", "size": 9, "color": "#b00020",
                       "line": {"color": "#b00020", "width": 2}},
            "hovertemplate": ("initialisation drifted: training moved the weight scale "
                              "or the gate bias by more than "
                              f"{100 * m.protocol.get('drift_limit', 0.25):g} %<extra></extra>"),
            "showlegend": bool(len(cells))}


def scatter_figure(entries: Sequence[tuple[TrainMap, int]], key: str) -> dict:
    """Accuracy (seed mean) against u = (T - 1)/xi for every cell of every map.

    ``entries`` are (map, checkpoint index). Cells with xi = inf (u = 0) cannot sit
    on the log axis and are left out (``layout.meta.u_zero`` counts them).
    """
    data: list[dict] = []
    u_all, u_zero = [], 0
    for i, (m, ck) in enumerate(entries):
        colour = MAP_COLOURS[i % len(MAP_COLOURS)]
        u = np.broadcast_to(m.u(), m.accuracy[ck][:, 0].shape)
        acc = np.nanmean(m.accuracy[ck], axis=1)
        ok = np.isfinite(u) & (u > 0) & np.isfinite(acc)
        u_zero += int(np.sum(u == 0))
        u_all += u[ok].tolist()
        Tg = np.broadcast_to(m.T[:, None], u.shape)[ok]
        xg = np.broadcast_to(m.x[None, :], u.shape)[ok]
        label = f"{m.name} ({m.checkpoints[ck]} steps)"
        data.append({"type": "scatter", "mode": "markers", "name": label, "meta": m.name,
                     "x": plain(u[ok], 6), "y": plain(acc[ok], 4),
                     "customdata": [[t, x] for t, x in zip(Tg.tolist(), xg.tolist(),
                                                           strict=True)],
                     "marker": {"color": colour, "size": 7, "opacity": 0.8,
                                "line": {"color": "white", "width": 0.5}},
                     "hovertemplate": (f"{param_html(m.x_name)} = %{{customdata[1]:.3g}}, "
                                       "T = %{customdata[0]}<br>u = %{x:.3g}<br>accuracy "
                                       f"%{{y:.3f}}<extra>{m.name}</extra>")})
        fit = m.fits[ck]
        if fit.k is not None and fit.beta is not None and u[ok].size:
            data.append(_logistic(m, fit, colour, u[ok]))
    data += _threshold(entries, u_all)
    layout = base_layout(
        {"panel": "trainability", "view": "scatter", "key": key,
         "maps": [m.name for m, _ in entries], "u_zero": u_zero},
        uirevision="train-scatter", hovermode="closest", showlegend=True,
        margin={"l": 52, "r": 8, "t": 10, "b": 40},
        xaxis=axis("u = (T − 1)/ξ (predicted: trainable while u < k)", log=True),
        yaxis=axis("accuracy (line: fitted P(trained))", range=[0, 1.04]),
        legend={"orientation": "h", "x": 0, "y": -0.16, "yanchor": "top",
                "font": {"size": 11}})
    return {"data": data, "layout": layout}


def _logistic(m: TrainMap, fit: Any, colour: str, u: np.ndarray) -> dict:
    """The fitted P(trained | u) = 1 / (1 + exp(beta (ln u - ln k)))."""
    grid = np.geomspace(u.min(), u.max(), 100)
    p = 1.0 / (1.0 + np.exp(fit.beta * (np.log(grid) - math.log(fit.k))))
    return {"type": "scatter", "mode": "lines", "x": plain(grid, 6), "y": plain(p, 4),
            "name": f"fit: k = {fit.k:.3g}", "meta": m.name + "-fit",
            "line": {"color": colour, "width": 2},
            "hovertemplate": "P(trained) = %{y:.2f} at u = %{x:.3g}<extra></extra>"}


def _threshold(entries: Sequence[tuple[TrainMap, int]], u: list) -> list[dict]:
    if not u or not entries:
        return []
    thr = entries[0][0].threshold
    return [{"type": "scatter", "mode": "lines", "x": [min(u), max(u)], "y": [thr, thr],
             "name": f"threshold {thr:g}", "meta": "threshold", "hoverinfo": "skip",
             "line": {"color": "#666", "width": 1, "dash": "dot"}}]


#: Colour and dash of each configuration of the training-curves view (critical: solid).
DYN_STYLE = {"critical-orthogonal": ("#0072B2", "solid"), "critical-gaussian": ("#56B4E9", "solid"),
             "off-orthogonal": ("#D55E00", "dash"), "off-gaussian": ("#E69F00", "dash")}


def dynamics_figure(d: Any, key: str) -> dict:
    """Held-out accuracy against training step: rows vanilla RNN and minimalRNN, one column
    per sequence length of ``d`` (a :class:`~components.trainability_dynamics.Dynamics`).

    Lines are the seed means of the four configurations (critical/off-critical x
    orthogonal/Gaussian); the protocol's threshold is a dotted line.
    """
    from components.trainability_dynamics import ARCHS, CONFIG_TEXT, CONFIGS

    archs, Ts = list(ARCHS), list(d.T)
    gap_x, gap_y = 0.06, 0.2
    width = (1 - gap_x * (len(Ts) - 1)) / len(Ts)
    height = (1 - gap_y) / 2
    data, annotations = [], []
    layout_axes: dict[str, dict] = {}
    steps = plain(d.checkpoints, 8)
    for r, arch in enumerate(archs):
        for c, T in enumerate(Ts):
            n = r * len(Ts) + c + 1
            xa, ya = ("x", "y") if n == 1 else (f"x{n}", f"y{n}")
            x0 = c * (width + gap_x)
            y0 = (1 - r) * (height + gap_y)
            last_row = r == len(archs) - 1
            layout_axes["xaxis" if n == 1 else f"xaxis{n}"] = axis(
                "training step" if last_row else "", domain=[x0, x0 + width],
                anchor=ya, range=[0, float(d.checkpoints[-1]) * 1.02],
                showticklabels=last_row)  # one row of step labels: the titles fit above
            layout_axes["yaxis" if n == 1 else f"yaxis{n}"] = axis(
                "", domain=[y0, y0 + height], anchor=xa,
                range=[0, 1.04], tickvals=[0.1, d.threshold, 1.0])
            annotations.append({"text": f"<b>{ARCHS[arch]}</b>, T = {T}: accuracy",
                                "showarrow": False,
                                "xref": "paper", "yref": "paper", "x": x0 + width / 2,
                                "y": y0 + height, "yanchor": "bottom", "font": {"size": 13}})
            acc = d.accuracy[arch][str(T)]
            with np.errstate(all="ignore"):
                mean = np.nanmean(acc, axis=0)  # (configs, checkpoints)
            for j, cfg in enumerate(CONFIGS):
                colour, dash = DYN_STYLE[cfg]
                data.append({"type": "scatter", "mode": "lines", "x": steps,
                             "y": [None if not math.isfinite(v) else v
                                   for v in plain(mean[j], 4)],
                             "xaxis": xa, "yaxis": ya, "name": CONFIG_TEXT[cfg],
                             "legendgroup": cfg, "showlegend": n == 1,
                             "meta": f"{arch}-{T}-{cfg}",
                             "line": {"color": colour, "dash": dash, "width": 2.5},
                             "hovertemplate": (f"{ARCHS[arch]}, T = {T}<br>{CONFIG_TEXT[cfg]}"
                                               "<br>step %{x}: accuracy %{y:.3f}"
                                               "<extra></extra>")})
            data.append({"type": "scatter", "mode": "lines", "xaxis": xa, "yaxis": ya,
                         "x": [0, float(d.checkpoints[-1])], "y": [d.threshold] * 2,
                         "name": f"threshold {d.threshold:g}", "legendgroup": "threshold",
                         "showlegend": n == 1, "hoverinfo": "skip", "meta": "threshold",
                         "line": {"color": "#666", "width": 1, "dash": "dot"}})
    layout = base_layout(
        {"panel": "trainability", "view": "dynamics", "key": key, "file": d.name,
         "T": list(Ts)},
        uirevision="train-dynamics", hovermode="closest", showlegend=True,
        margin={"l": 44, "r": 8, "t": 24, "b": 40}, annotations=annotations,
        legend={"orientation": "h", "x": 0, "y": -0.16, "yanchor": "top", "font": {"size": 11}},
        **layout_axes)
    return {"data": data, "layout": layout}
