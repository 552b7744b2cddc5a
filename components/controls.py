"""Small factories for the labelled controls of the side bar.

Each numeric control is a visible label (symbol and meaning), a Dash slider with
an explicit ``step`` and its built-in numeric box for exact values (Dash 4's
``allow_direct_input``; ``assets/style.css`` keeps the box visible in narrow
columns and ``assets/a11y.js`` gives thumb and box the label's text as their
accessible name).

Example
-------
>>> row = labelled_slider("sigma_w", "vanilla", 1.2)
>>> row.id
'wrap-sigma_w'
"""

from __future__ import annotations

import re

from dash import dcc, html

from components import ids, specs
from theory import PHIS
from theory.presets import PRESETS

_SUB = re.compile(r"<sub>(.*?)</sub>")


def symbol(markup: str) -> list:
    """``"σ<sub>w</sub>"`` -> ``["σ", html.Sub("w")]`` (Dash children)."""
    out: list = []
    pos = 0
    for m in _SUB.finditer(markup):
        if m.start() > pos:
            out.append(markup[pos:m.start()])
        out.append(html.Sub(m.group(1)))
        pos = m.end()
    if pos < len(markup):
        out.append(markup[pos:])
    return out


def labelled_slider(name: str, ranges: str, value: float) -> html.Div:
    """Slider row: label, slider and numeric box for parameter ``name``.

    ``ranges`` is the range key of the view (:func:`specs.range_key`).
    """
    spec = specs.SLIDERS[name]
    lo, hi = specs.slider_range(ranges, name)
    return html.Div(
        id=ids.wrap(name), className="ctl-row", **{"data-label": f"{spec.symbol}, {spec.help}"},
        children=[
            html.Div(className="ctl-label", children=[
                html.Span(symbol(spec.html), className="sym"),
                html.Span(spec.help, className="help", title=spec.help)]),
            dcc.Slider(id=ids.control(name), min=lo, max=hi, step=spec.step, value=value,
                       marks=None, updatemode="mouseup", allow_direct_input=True,
                       className="param-slider"),
        ])


def section(title: str, children: list, sid: str | None = None) -> html.Section:
    """A titled group of controls (``sid``: its id, for ``hide=`` links)."""
    kw = {"id": sid} if sid else {}
    return html.Section(className="ctl-section", **kw, children=[html.H2(title), *children])


def field_row(label: str, control, wrap_id: str | None = None, note: str = "") -> html.Div:
    """A labelled non-slider control (dropdown, radio items, number box)."""
    kw = {"id": wrap_id} if wrap_id else {}
    return html.Div(className="ctl-row", **kw, children=[
        html.Label(label, className="ctl-label"), control,
        html.Div(note, className="ctl-note") if note else None])


def mode_radio(value: str) -> dcc.RadioItems:
    return dcc.RadioItems(id=ids.MODE, value=value, className="radio-col",
                          options=[{"label": specs.MODE_LABELS[m], "value": m}
                                   for m in specs.MODES])


def compare_dropdown(mode: str, value: str) -> dcc.Dropdown:
    """"Compare with": none or one of the other cells, drawn side by side."""
    return dcc.Dropdown(id=ids.COMPARE, value=value or specs.NO_COMPARE, clearable=False,
                        searchable=False, options=compare_options(mode))


def compare_options(mode: str) -> list[dict]:
    """Options of the "Compare with" dropdown: none and the cells other than ``mode``."""
    return [{"label": "none", "value": specs.NO_COMPARE}] + [
        {"label": specs.MODE_LABELS[m], "value": m} for m in specs.MODES if m != mode]


def choice_dropdown(name: str, value: str) -> dcc.Dropdown:
    """Dropdown of an advanced choice (``specs.ADVANCED_CHOICES``: GRU variant, closure)."""
    choices, labels = specs.ADVANCED_CHOICES[name]
    id_ = {"gru_variant": ids.GRU_VARIANT, "closure": ids.CLOSURE}[name]
    return dcc.Dropdown(id=id_, value=value, clearable=False, searchable=False,
                        options=[{"label": labels[c], "value": c} for c in choices])


def preset_dropdown() -> dcc.Dropdown:
    """Named teaching views (theory/presets.py); applied by the state writer."""
    return dcc.Dropdown(id=ids.PRESET, value=None, clearable=True, searchable=False,
                        placeholder="Choose a preset…",
                        options=[{"label": p.label, "value": p.name} for p in PRESETS.values()])


def phi_dropdown(value: str) -> dcc.Dropdown:
    return dcc.Dropdown(id=ids.PHI, value=value, clearable=False, searchable=False,
                        options=[{"label": specs.PHI_LABELS[p], "value": p} for p in PHIS])


def weights_radio(value: str, gated: bool = False) -> dcc.RadioItems:
    return dcc.RadioItems(id=ids.WEIGHTS, value=value, className="radio-row",
                          options=weight_options(gated))


def weight_options(gated: bool) -> list[dict]:
    """Weight laws; block-orthogonal is disabled unless a GRU or LSTM is shown."""
    return [{"label": specs.WEIGHT_LABELS[w], "value": w,
             "disabled": w == "block-orthogonal" and not gated} for w in specs.WEIGHTS]


def plane_value(x: str, y: str) -> str:
    """Dropdown value of the plane (x, y)."""
    return f"{x},{y}"


def plane_dropdown(value: str) -> dcc.Dropdown:
    options = [{"label": f"{specs.SLIDERS[x].symbol} (x) × {specs.SLIDERS[y].symbol} (y)",
                "value": plane_value(x, y)} for x, y in specs.PLANES]
    return dcc.Dropdown(id=ids.PLANE, value=value, options=options, clearable=False,
                        searchable=False)


def field_radio(value: str) -> dcc.RadioItems:
    labels = {"xi_jac": "ξ_jac: gradients (−1/ln χ_jac)",
              "xi_c": "ξ_c: correlations (−1/ln χ_c)",
              "xi_q": "ξ_q: variance (−1/ln χ_q)"}
    return dcc.RadioItems(id=ids.FIELD, value=value, className="radio-col",
                          options=[{"label": labels[f], "value": f} for f in specs.FIELDS])


def grid_dropdown(value: int) -> dcc.Dropdown:
    return dcc.Dropdown(id=ids.GRID_N, value=value, clearable=False, searchable=False,
                        options=[{"label": f"{n} × {n}", "value": n} for n in specs.GRID_SIZES])


def int_box(id_: str, value: int, lo: int, hi: int) -> dcc.Input:
    return dcc.Input(id=id_, type="number", value=value, min=lo, max=hi, step=1,
                     debounce=True, className="num-box")
