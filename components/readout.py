"""Read-out panel: the numbers at the current point as an HTML table.

Screen readers and projectors need numbers, not only colours. One column per
architecture; rows use the symbols of theory.md section 11, each with a
tooltip saying what it is.

The table is one HTML string shown by a single ``dcc.Markdown``: as ~50 Dash
``html`` components it cost the browser ~60 ms per slider move (measured), as
one string a few ms. Every value in it is generated here, never user input.

Example
-------
>>> import theory
>>> from components.viewstate import ViewState
>>> "<table" in readout_html([theory.point(theory.Params())], ViewState())
True
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from components import specs
from components.figures._common import fmt

ROWS = (
    ("q_star", "q<sup>*</sup>", "pre-activation variance"),
    ("Q_star", "Q<sup>*</sup>", "state second moment"),
    ("c_star", "c<sup>*</sup>", "pre-activation correlation"),
    ("C_star", "C<sup>*</sup>", "state correlation"),
    ("chi_q", "χ<sub>q</sub>", "slope of the variance map"),
    ("chi_c", "χ<sub>c</sub>", "slope of the correlation map"),
    ("chi_jac", "χ<sub>jac</sub>", "mean squared singular value of ∂h_t/∂h_{t−1}"),
    ("xi_q", "ξ<sub>q</sub>", "−1/ln χ_q"),
    ("xi_c", "ξ<sub>c</sub>", "−1/ln χ_c"),
    ("xi_jac", "ξ<sub>jac</sub>", "−1/ln χ_jac"),
)


def readout_html(points: Sequence[Any], view: Any) -> str:
    """HTML table of the fixed points, slopes, timescales, phase and branch."""
    head = "".join(f'<th scope="col">{specs.ARCH_LABELS[p.params.arch]}</th>' for p in points)
    rows = [_row(sym, help_, [fmt(getattr(p, name), 5) for p in points],
                 "hl" if name == view.field else "")
            for name, sym, help_ in ROWS]
    rows.append(_row("phase", "", [_phase_text(p) for p in points]))
    rows.append(_row(f"T &lt; k·ξ<sub>{view.field[3:]}</sub>",
                     "predicted trainable (Schoenholz et al. 2017)",
                     [_trainable_text(p, view) for p in points]))
    return (f'<table class="readout-table"><thead><tr><th></th>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def _row(symbol: str, help_: str, cells: list[str], cls: str = "") -> str:
    title = f' title="{escape(help_)}"' if help_ else ""
    klass = f' class="{cls}"' if cls else ""
    tds = "".join(f"<td>{escape(c)}</td>" for c in cells)
    return f'<tr{klass}><th scope="row"{title}>{symbol}</th>{tds}</tr>'


def _phase_text(p: Any) -> str:
    if not p.exists:
        return "no stable fixed point"
    text = p.phase
    if p.branch:
        text += f", {p.branch} branch"
    if p.bistable:
        text += " (bistable)"
    if not p.converged:
        text += " (not converged)"
    return text


def _trainable_text(p: Any, view: Any) -> str:
    xi = getattr(p, view.field)
    if not p.exists or xi != xi:
        return "n/a"
    bound = view.k * xi
    verdict = "yes" if view.T < bound else "no"
    return f"{verdict}: {view.T} vs {fmt(bound, 4)}"
