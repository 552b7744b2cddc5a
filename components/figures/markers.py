"""Phase-diagram overlays of the real-network caveats: framework defaults and tied deviation.

Two traces per panel (see :mod:`components.figures.phase`):

* **framework defaults** (gated-cells.md 7): where PyTorch, Keras and Flax initialise
  the current cell, placed at their (x, y) in the plane and labelled; defaults that
  share a position share one marker. The hover gives each default's chi_jac and xi_jac
  at its *own* parameters (its sigma_v and sigma_b may differ from the view's), from
  the untied mean field for the GRU and LSTM (gated-cells.md 2.3);
* **tied-network deviation** (gated-cells.md eq. 2.5): the region where
  rho_tied > 0.3 or sigma_b > 0.2, hatched orange with a dashed edge, i.e. where real
  (tied-weight) networks are measured to differ strongly from the untied mean field.

Example
-------
>>> float(tied_level(rho=0.6, sigma_b=0.0))
2.0
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import contourpy
import numpy as np

from components import specs
from components.figures._common import fmt, param_html
from theory.types import GATES, RHO_TIED_MAX, SIGMA_B_TIED_MAX

#: Short marker labels per framework key (``theory.frameworks.FRAMEWORKS``).
SHORT = {"pytorch": "PyTorch", "keras": "Keras", "flax-linen": "Flax", "flax-nnx": "Flax nnx"}
TIED_COLOUR = "#ff8c00"
TIED_NAME = "real networks deviate (ρ<sub>tied</sub> > 0.3 or σ<sub>b</sub> > 0.2)"


def tied_level(rho: Any, sigma_b: Any) -> Any:
    """max(rho_tied / 0.3, sigma_b / 0.2): above 1 where eq. (2.5) flags the point."""
    return np.maximum(np.asarray(rho, float) / RHO_TIED_MAX,
                      np.asarray(sigma_b, float) / SIGMA_B_TIED_MAX)


def tied_outline(g: Any, sigma_b: float) -> tuple[list, list]:
    """Closed polygons (None-separated) around the flagged region of grid ``g``.

    ``sigma_b`` is the view's value, used when sigma_b is not an axis of the plane.
    Empty without a ``rho_tied`` field (vanilla RNN, minimalRNN).
    """
    if "rho_tied" not in g.fields:
        return [], []
    rho = np.asarray(g["rho_tied"], dtype=float)
    X, Y = np.meshgrid(g.x, g.y)
    sb = X if g.x_name == "sigma_b" else Y if g.y_name == "sigma_b" else sigma_b
    z = tied_level(rho, np.broadcast_to(sb, rho.shape))
    if z.shape[0] < 2 or z.shape[1] < 2 or not (z >= 1.0).any():
        return [], []
    gen = contourpy.contour_generator(g.x, g.y, np.ma.masked_invalid(z), name="serial",
                                      fill_type="OuterOffset")
    xs: list[float | None] = []
    ys: list[float | None] = []
    points, offsets = gen.filled(1.0, float(np.nanmax(z)) + 1.0)
    for pts, offs in zip(points, offsets, strict=True):
        for a, e in zip(offs[:-1], offs[1:], strict=True):
            xs += [float(v) for v in pts[a:e, 0]] + [None]
            ys += [float(v) for v in pts[a:e, 1]] + [None]
    return xs, ys


def tied_trace(g: Any, view: Any, axes: dict, show_legend: bool) -> dict:
    """Orange-hatched region with a dashed edge (empty for ungated cells)."""
    xs, ys = tied_outline(g, view.sigma_b)
    return {"type": "scatter", "mode": "lines", "x": xs, "y": ys, "name": TIED_NAME,
            "fill": "toself", "fillcolor": "rgba(255,140,0,0.08)",
            "fillpattern": {"shape": "\\", "fgcolor": "rgba(255,140,0,0.7)", "size": 9,
                            "solidity": 0.08},
            "line": {"color": TIED_COLOUR, "width": 2, "dash": "dash"},
            "hoverinfo": "skip", "legendgroup": "tied",
            "showlegend": bool(xs) and show_legend, **axes}


def marker_groups(defaults: Sequence[Any], view: Any) -> list[dict]:
    """Framework defaults inside the plane, grouped by position.

    ``defaults`` are (``theory.FrameworkDefault``, ``PointResult``) pairs. Returns one
    dict per position: x, y, label (short names, one per line) and hover text.
    """
    groups: dict[tuple[float, float], dict] = {}
    for d, r in defaults:
        x, y = getattr(d.params, view.x), getattr(d.params, view.y)
        if not (_inside(view, view.x, x) and _inside(view, view.y, y)):
            continue
        g = groups.setdefault((round(x, 6), round(y, 6)), {"x": x, "y": y, "names": [],
                                                            "hover": []})
        g["names"].append(SHORT.get(d.key, d.key))
        g["hover"].append(_hover(d, r, view))
    return [{"x": g["x"], "y": g["y"], "label": "<br>".join(g["names"]),
             "hover": "<br><br>".join(g["hover"])} for g in groups.values()]


def label_positions(groups: Sequence[dict]) -> list[str]:
    """A text position per marker group, so neighbouring defaults do not write over each
    other: in the order of x, the first left of its marker, the last right of it, those
    between alternately above and below."""
    order = sorted(range(len(groups)), key=lambda i: (groups[i]["x"], groups[i]["y"]))
    out = ["middle right"] * len(groups)
    for rank, i in enumerate(order):
        if rank == len(order) - 1:
            break
        out[i] = ("middle left" if rank == 0 else
                  "top center" if rank % 2 else "bottom center")
    return out


def _inside(view: Any, name: str, value: float) -> bool:
    lo, hi = specs.slider_range(view.ranges, name)
    return lo <= value <= hi


def _hover(d: Any, r: Any, view: Any) -> str:
    p = d.params
    theory_name = specs.UNTIED_LABEL if p.arch in GATES else "mean field"
    others = ", ".join(f"{specs.SLIDERS[n].symbol} = {fmt(getattr(p, n), 3)}"
                       for n in ("sigma_w", "mu_b", "sigma_v", "sigma_b")
                       if n not in (view.x, view.y))
    return (f"<b>{d.label}</b> ({d.layer})<br>{others}, {specs.WEIGHT_LABELS[p.weights]}"
            f"<br>χ<sub>jac</sub> = {fmt(r.chi_jac, 3)}, ξ<sub>jac</sub> = {fmt(r.xi_jac, 3)}"
            f" ({theory_name})")


def framework_trace(defaults: Sequence[Any], view: Any, axes: dict,
                    show_legend: bool) -> dict:
    """Labelled diamonds at the framework defaults of the panel's cell."""
    groups = marker_groups(defaults, view)
    xl, yl = param_html(view.x), param_html(view.y)
    return {"type": "scatter", "mode": "markers+text", "name": "framework defaults",
            "x": [g["x"] for g in groups], "y": [g["y"] for g in groups],
            "text": [g["label"] for g in groups], "textposition": label_positions(groups),
            "textfont": {"size": 11, "color": "white", "shadow": "1px 1px 2px black"},
            "marker": {"symbol": "diamond", "size": 11, "color": "white",
                       "line": {"color": "black", "width": 1.5}},
            "customdata": [g["hover"] for g in groups],
            "hovertemplate": f"%{{customdata}}<br>{xl} = %{{x:.3g}}, {yl} = %{{y:.3g}}"
                             "<extra>framework default</extra>",
            "legendgroup": "frameworks", "showlegend": bool(groups) and show_legend, **axes}
