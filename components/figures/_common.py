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


def round_sig(arr: np.ndarray, sig: int) -> np.ndarray:
    """``arr`` rounded to ``sig`` significant digits, vectorised (non-finite kept).

    Each result is the double nearest to its decimal value (an integer divided or
    multiplied by an exact power of ten), so ``repr`` prints it in at most ``sig``
    digits, as ``f"{v:.{sig}g}"`` would (a half-way case may differ in the last digit).
    """
    a = np.asarray(arr, dtype=float)
    out = a.copy()
    ok = np.isfinite(a) & (a != 0)
    v = a[ok]
    e = sig - 1 - np.floor(np.log10(np.abs(v)))
    scale = 10.0 ** np.abs(e)
    out[ok] = np.where(e >= 0, np.round(v * scale) / scale, np.round(v / scale) * scale)
    return out


def plain(arr: np.ndarray, sig: int = 6) -> list:
    """``arr`` as (nested) JSON lists, ``sig`` significant digits, None for NaN/inf.

    Vectorised (:func:`round_sig`): a 150x150 grid takes ~2 ms, formatting each
    number in Python took ~25 ms.
    """
    a = round_sig(np.atleast_1d(arr), sig)
    out = a.tolist()
    bad = np.argwhere(~np.isfinite(a))
    for idx in bad.tolist():
        target = out
        for i in idx[:-1]:
            target = target[i]
        target[idx[-1]] = None
    return out


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
