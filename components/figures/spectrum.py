"""Singular-value density of the T-step Jacobian, theory and sampled network.

The theory curve is :attr:`theory.Spectrum.pdf_log_s` (density per unit ln s)
on a log-s axis, so equal areas mean equal probability. A sampled network is
drawn as a step histogram in ln s with the same normalisation. The band
s in [1/2, 2] is shaded; the fraction of singular values inside it is given in
the text beside the plot (:func:`spectrum_numbers`). The LSTM has no theory
density (``Spectrum.has_density`` False, gated-cells.md 5.2): only its m1 is drawn, as
a vertical line at s = sqrt(m1), and the panel text says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from components import specs
from components.figures._common import (
    ARCH_COLOURS,
    ARCH_DASH,
    axis,
    base_layout,
    fmt,
    json_number,
    plain,
)

BAND = (0.5, 2.0)
LN_BAND = (math.log(BAND[0]), math.log(BAND[1]))


def log_histogram(log_s: np.ndarray, bins: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Bin edges (in s) and density per unit ln s of the finite ``log_s`` values.

    Exact zeros (``-inf``, ReLU) are left out; their share is reported by
    :func:`sample_summary`. The density integrates to the finite share.
    """
    ls = np.asarray(log_s, dtype=float)
    finite = ls[np.isfinite(ls)]
    if finite.size == 0:
        return np.array([]), np.array([])
    bins = bins or int(np.clip(round(2 * finite.size ** (1 / 3)), 10, 60))
    lo, hi = float(finite.min()), float(finite.max())
    if hi - lo < 1e-9:
        lo, hi = lo - 0.05, hi + 0.05
    counts, edges = np.histogram(finite, bins=bins, range=(lo, hi))
    density = counts / (ls.size * np.diff(edges))
    return np.exp(edges), density


def sample_summary(log_s: np.ndarray) -> dict[str, float]:
    """m1, m2 (means of s^2, s^4), fraction in [1/2, 2] and of exact zeros."""
    ls = np.asarray(log_s, dtype=float)
    with np.errstate(over="ignore"):
        m1 = float(np.mean(np.exp(2 * ls)))
        m2 = float(np.mean(np.exp(4 * ls)))
    band = float(np.mean((ls >= LN_BAND[0]) & (ls <= LN_BAND[1])))
    return {"m1": m1, "m2": m2, "band": band, "zeros": float(np.mean(np.isneginf(ls)))}


def has_density(spectrum: Any) -> bool:
    """Whether the theory gives a density (False: moments only, the LSTM)."""
    return bool(getattr(spectrum, "has_density", True))


def theory_band(spectrum: Any) -> float:
    """Probability of s in [1/2, 2] under the theory law (from its CDF; NaN without one)."""
    if not has_density(spectrum):
        return math.nan
    lo, hi = spectrum.cdf_log_s(np.array(LN_BAND))
    return float(hi - lo)


def spectrum_figure(panels: Sequence[Any], view: Any, key: str) -> dict:
    """Theory density (and sampled histogram) of ``panels`` (compute.SpectrumData)."""
    data: list[dict] = []
    notes: list[dict] = []
    shapes: list[dict] = []
    for p in panels:
        data += _theory_traces(p)
        if p.log_samples is not None:
            data.append(_histogram_trace(p))
        notes += _atom_notes(p, len(notes))
        shapes += m1_marker(p)
    meta = spectrum_meta(panels, view, key)
    shapes += [{"type": "rect", "xref": "x", "yref": "paper", "x0": BAND[0], "x1": BAND[1],
               "y0": 0, "y1": 1, "fillcolor": "rgba(0,158,115,0.10)", "line": {"width": 0},
               "layer": "below"}]
    # at the foot of the band: its top is where a peak near s = 1 is drawn
    notes.append({"x": 0.0, "y": 0.01, "xref": "x", "yref": "paper", "xanchor": "center",
                  "yanchor": "bottom", "showarrow": False, "text": "s ∈ [½, 2]",
                  "font": {"size": 11, "color": "#007a58"}, "bgcolor": "rgba(255,255,255,0.7)"})
    layout = base_layout(
        meta, shapes=shapes, annotations=notes, hovermode="x unified",
        margin={"l": 56, "r": 10, "t": 26, "b": 44}, showlegend=True,
        # T heads the legend rather than ending the axis title: both must fit a narrow panel
        legend={"orientation": "h", "x": 0.0, "y": 1.0, "yanchor": "bottom",
                "font": {"size": 11}, "title": {"text": f"T = {view.T} steps", "side": "top"}},
        xaxis=axis("singular value s", log=True, exponentformat="power",
                   dtick=decade_step(panels), tickangle=0, **m1_range(panels)),
        yaxis=axis("density per ln s", rangemode="tozero"),
    )
    return {"data": data, "layout": layout}


def decade_step(panels: Sequence[Any], max_ticks: int = 3) -> int:
    """Log-axis tick step in whole decades, so that at most ~``max_ticks`` labels show."""
    lo, hi = math.inf, -math.inf
    for p in panels:
        s = np.asarray(p.spectrum.s, dtype=float)
        s = s[np.isfinite(s) & (s > 0)]
        if s.size:
            lo, hi = min(lo, math.log10(s[0])), max(hi, math.log10(s[-1]))
        if p.log_samples is not None:  # a histogram beyond the theory curve (LSTM: no curve)
            ls = np.asarray(p.log_samples, dtype=float)
            ls = ls[np.isfinite(ls)] / math.log(10.0)
            if ls.size:
                lo, hi = min(lo, float(ls.min())), max(hi, float(ls.max()))
    if not math.isfinite(lo):
        return 1
    return max(1, math.ceil((max(hi, 0.5) - min(lo, -0.5)) / max_ticks))


def spectrum_meta(panels: Sequence[Any], view: Any, key: str) -> dict:
    out = []
    for p in panels:
        sp = p.spectrum
        entry = {"arch": p.arch, "m1": json_number(sp.m1), "m2": json_number(sp.m2),
                 "exact": bool(sp.exact), "band": json_number(theory_band(sp)),
                 "sampled": p.log_samples is not None}
        if p.log_samples is not None:
            entry["sample"] = {k: json_number(v) for k, v in
                               sample_summary(p.log_samples).items()}
        out.append(entry)
    return {"panel": "spectrum", "key": key, "T": view.T, "weights": view.weights,
            "points": out}


def m1_marker(p: Any) -> list[dict]:
    """Vertical line at s = sqrt(m1) for a spectrum without a density (LSTM)."""
    m1 = p.spectrum.m1
    if has_density(p.spectrum) or not (math.isfinite(m1) and m1 > 0):
        return []
    s1 = math.sqrt(m1)
    return [{"type": "line", "xref": "x", "yref": "paper", "x0": s1, "x1": s1, "y0": 0,
             "y1": 1, "name": "m1", "line": {"color": ARCH_COLOURS[p.arch], "width": 2.5,
                                             "dash": "dashdot"}}]


def m1_range(panels: Sequence[Any]) -> dict:
    """An explicit log-axis range when some theory has no density (its √m1 line is a
    shape, which Plotly's autorange ignores) and nothing was sampled: from a decade
    below the lowest √m1 (or density) to s = 30 (room for the band's label at s = 1)."""
    if all(has_density(p.spectrum) for p in panels) or any(
            p.log_samples is not None for p in panels):
        return {}
    lows = [math.log10(math.sqrt(p.spectrum.m1)) for p in panels
            if not has_density(p.spectrum) and p.spectrum.m1 > 0
            and math.isfinite(p.spectrum.m1)]
    for p in panels:
        s = np.asarray(p.spectrum.s, dtype=float)
        if has_density(p.spectrum) and s.size and s[0] > 0:
            lows.append(math.log10(s[0]))
    return {"range": [min(lows, default=-1.0) - 1.0, 1.5]}


def _theory_traces(p: Any) -> list[dict]:
    sp = p.spectrum
    label = specs.ARCH_LABELS[p.arch] + (" theory" if sp.exact else " theory (approx.)")
    if p.arch in specs.UNTIED:
        label += f", {specs.UNTIED_LABEL}"
    s = np.asarray(sp.s, dtype=float)
    if s.size == 0 or not has_density(sp):
        return []
    return [{"type": "scatter", "mode": "lines", "x": plain(s),
             "y": plain(np.asarray(sp.pdf_log_s, dtype=float)), "name": label,
             "line": {"color": ARCH_COLOURS[p.arch], "width": 2.6, "dash": ARCH_DASH[p.arch]},
             "hovertemplate": "s = %{x:.4g}: %{y:.4g}<extra>" + label + "</extra>"}]


def _histogram_trace(p: Any) -> dict:
    edges, density = log_histogram(p.log_samples)
    # a closed step outline: (e0, 0) (e0, d0) (e1, d0) (e1, d1) ... (en, 0)
    xs = np.repeat(edges, 2)
    ys = np.concatenate(([0.0], np.repeat(density, 2), [0.0]))
    n = p.log_samples.size // (2 if p.arch == "lstm" else 1)  # LSTM: (c, h), 2N values
    colour = ARCH_COLOURS[p.arch]
    return {"type": "scatter", "mode": "lines", "x": plain(xs), "y": plain(ys),
            "name": f"sampled {specs.ARCH_LABELS[p.arch]} (N = {n})", "fill": "toself",
            "fillcolor": _rgba(colour, 0.22), "line": {"color": colour, "width": 1.2},
            "hovertemplate": "s = %{x:.4g}: %{y:.4g}<extra>sampled</extra>"}


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def _atom_notes(p: Any, offset: int) -> list[dict]:
    sp = p.spectrum
    text = []
    if sp.atom_at_zero > 0:
        text.append(f"atom at s = 0: mass {fmt(sp.atom_at_zero, 3)}")
    text += [f"atom at s = {fmt(s, 4)}: mass {fmt(m, 3)}" for s, m in sp.atoms if s > 0]
    if not has_density(sp):
        text.append(f"{specs.ARCH_LABELS[p.arch]}: no theory density; │ at √m₁ = "
                    f"{fmt(math.sqrt(sp.m1), 3) if sp.m1 > 0 else 'n/a'}")
    elif len(np.asarray(sp.s)) == 0:
        text.append("no continuous density: see the moments")
    return [{"x": 0.99, "y": 0.98 - 0.08 * (offset + j), "xref": "paper", "yref": "paper",
             "xanchor": "right", "yanchor": "top", "showarrow": False, "text": t,
             "font": {"size": 11, "color": ARCH_COLOURS[p.arch]}} for j, t in enumerate(text)]
