"""Shared pieces of the figure builders: labels, colours, array encoding.

Figures are plain dicts (the JSON form of ``plotly.graph_objects.Figure``):
building them skips Plotly's per-property validation. Numeric arrays are sent
as JSON lists rounded to what the plot can show (:func:`plain`), not as base64
typed arrays: plotly.js decodes a typed array again on every ``Plotly.react``,
which cost ~55 ms per redraw of the 150x150 phase diagram on this machine
(lists: ~14 ms), and every slider move redraws the figure.
"""

from __future__ import annotations

import math
import textwrap

import numpy as np

from components import specs

#: Okabe-Ito colours (colour-blind safe), one per architecture.
ARCH_COLOURS = {"vanilla": "#0072B2", "minimal": "#D55E00", "gru": "#009E73",
                "lstm": "#CC79A7"}
ARCH_DASH = {"vanilla": "solid", "minimal": "dash", "gru": "dot", "lstm": "dashdot"}
FONT = {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 13,
        "color": "#1a1a1a"}

FIELD_HTML = {"xi_jac": "ξ<sub>jac</sub>", "xi_c": "ξ<sub>c</sub>", "xi_q": "ξ<sub>q</sub>"}
CHI_HTML = {"vanilla": "χ<sub>1</sub>", "minimal": "χ<sub>J</sub>", "gru": "χ<sub>jac</sub>",
            "lstm": "χ<sub>jac</sub>"}


def plain(arr: np.ndarray, sig: int = 6) -> list:
    """``arr`` as (nested) JSON lists, ``sig`` significant digits, None for NaN/inf."""
    a = np.asarray(arr, dtype=float)
    flat = [float(f"{v:.{sig}g}") if math.isfinite(v) else None for v in a.ravel().tolist()]
    if a.ndim < 2:
        return flat
    n = a.shape[-1]
    return [flat[i:i + n] for i in range(0, len(flat), n)]


def as_array(values: list) -> np.ndarray:
    """Inverse of :func:`plain` (None -> NaN), for tests and debugging."""
    return np.array(values, dtype=float)


def param_html(name: str) -> str:
    """Axis label of a parameter, e.g. ``σ<sub>w</sub>``."""
    return specs.SLIDERS[name].html


def fmt(x: float, digits: int = 4) -> str:
    """Number for text: ∞ for inf, 'n/a' for NaN/None, else ``digits`` significant."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    return f"{x:.{digits}g}"


def json_number(x: float) -> float | None:
    """Float for ``layout.meta`` (JSON has no inf/NaN: those become None)."""
    return float(x) if x is not None and math.isfinite(x) else None


def base_layout(meta: dict | None, uirevision: str = "keep", **extra) -> dict:
    """Layout shared by every panel (fonts, margins, white background).

    ``meta`` (the state drawn) is left out when None: see the phase diagram.
    """
    layout = {
        "font": FONT,
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "margin": {"l": 56, "r": 16, "t": 28, "b": 44},
        "hoverlabel": {"font": {"size": 13}},
        "uirevision": uirevision,
        "legend": {"orientation": "h", "x": 0, "y": -0.22, "yanchor": "top",
                   "font": {"size": 12}},
    }
    if meta is not None:
        layout["meta"] = meta
    layout.update(extra)
    return layout


def message_figure(text: str, meta: dict) -> dict:
    """An empty panel that says why nothing is drawn (error, missing data)."""
    text = "<br>".join(textwrap.wrap(text, 48)) or text
    return {
        "data": [],
        "layout": base_layout(meta, xaxis={"visible": False}, yaxis={"visible": False},
                              annotations=[{"text": text, "showarrow": False, "x": 0.5,
                                            "y": 0.5, "xref": "paper", "yref": "paper",
                                            "font": {"size": 14}}]),
    }


def axis(title: str, log: bool = False, **extra) -> dict:
    """An axis with a title, light grid lines and a frame."""
    # ticklabeloverflow "allow": Plotly then skips measuring every label for
    # overflow, ~30 % of a redraw of these small panels (measured)
    out = {"title": {"text": title, "standoff": 6}, "type": "log" if log else "linear",
           "showline": True, "linecolor": "#444", "mirror": True, "ticks": "outside",
           "gridcolor": "#e6e6e6", "zeroline": False, "ticklabeloverflow": "allow"}
    out.update(extra)
    return out
