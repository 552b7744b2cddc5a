"""Read-out panel: the numbers at the current point as an HTML table.

Screen readers and projectors need numbers, not only colours. One column per
architecture; rows use the symbols of theory.md section 11 and gated-cells.md
section 10, each with a tooltip saying what it is. GRU and LSTM columns are headed
"untied mean field" and add the tied-network indicator rho_tied (eq. 2.5), the LSTM
cell moments and closure; where the indicator fires, a warning under the table gives
the deviations measured on real (tied) networks (gated-cells.md 2.3).

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
from theory.types import GATES, RHO_TIED_MAX, SIGMA_B_TIED_MAX

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
#: Rows of the gated cells only (gated-cells.md 10); "—" in the other columns.
GATED_ROWS = (
    ("Qc_star", "Q<sub>c</sub><sup>*</sup>", "LSTM cell second moment", ("lstm",)),
    ("Cc_star", "C<sub>c</sub><sup>*</sup>", "LSTM cell correlation", ("lstm",)),
    ("rho_tied", "ρ<sub>tied</sub>", "tied-network indicator (gated-cells.md 2.5): real "
     "networks deviate above 0.3", tuple(GATES)),
)
CLOSURE_TEXT = {"gc": "Gaussian (GC, 4.4)", "gc4": "4th cumulant (GC4, 4.4b)"}


def readout_html(points: Sequence[Any], view: Any) -> str:
    """HTML table of the fixed points, slopes, timescales, phase and branch, and the
    tied-network warning of the gated cells (gated-cells.md 2.3)."""
    head = "".join(f'<th scope="col">{_head(p.params.arch)}</th>' for p in points)
    rows = [_row(sym, help_, [fmt(getattr(p, name), 5) for p in points],
                 "hl" if name == view.field else "")
            for name, sym, help_ in ROWS]
    archs = {p.params.arch for p in points}
    for name, sym, help_, cells in GATED_ROWS:
        if archs & set(cells):
            rows.append(_row(sym, help_, [fmt(getattr(p, name), 4)
                                          if p.params.arch in cells else "—" for p in points]))
    if "lstm" in archs:
        rows.append(_row("closure", "E[tanh² c] of the LSTM (gated-cells.md 4.4)",
                         [CLOSURE_TEXT[p.params.closure] if p.params.arch == "lstm" else "—"
                          for p in points]))
    rows.append(_row("phase", "", [_phase_text(p) for p in points]))
    jac = view.field == "xi_jac"
    label = "T &lt; k·τ<sub>jac</sub>" if jac else f"T &lt; k·ξ<sub>{view.field[3:]}</sub>"
    rows.append(_row(label,
                     "predicted trainable (Schoenholz et al. 2017); τ_jac = 1/|ln χ_jac|: ξ_jac "
                     "when ordered, the gradients' growth time when chaotic" if jac else
                     "predicted trainable (Schoenholz et al. 2017)",
                     [_trainable_text(p, view) for p in points]))
    table = (f'<table class="readout-table"><thead><tr><th></th>{head}</tr></thead>'
             f'<tbody>{"".join(rows)}</tbody></table>')
    notes = [tied_note(p) for p in points if p.params.arch in GATES]
    # warnings above the table (seen without scrolling), the plain caveat below it
    return ("".join(n for n in notes if "tied-warning" in n) + table
            + "".join(n for n in notes if "tied-warning" not in n))


def _head(arch: str) -> str:
    label = specs.ARCH_LABELS[arch]
    if arch in GATES:
        # a span, not <br>: dcc.Markdown renders nothing for a <br> in a table head
        return f'{label} <span class="untied">{specs.UNTIED_LABEL}</span>'
    return label


def tied_note(p: Any) -> str:
    """Note under the table for a GRU/LSTM point: the untied caveat, and where the
    indicator (2.5) fires a warning with the sizes measured on tied networks (2.3)."""
    label = escape(specs.ARCH_LABELS[p.params.arch])
    if not p.tied_warning:
        return (f'<p class="untied-note">{label}: untied mean field (W redrawn every step). '
                "Real (tied) networks forget 15–30 % more slowly than χ<sub>jac</sub> says "
                "(gated-cells.md 2.3).</p>")
    why = []
    if p.rho_tied > RHO_TIED_MAX:
        why.append(f"ρ<sub>tied</sub> = {fmt(p.rho_tied, 3)} &gt; {RHO_TIED_MAX:g}")
    if p.params.sigma_b > SIGMA_B_TIED_MAX:
        why.append(f"σ<sub>b</sub> = {fmt(p.params.sigma_b, 3)} &gt; {SIGMA_B_TIED_MAX:g}: a "
                   "fixed bias is a static field (tied Q +80–90 % at σ<sub>b</sub> = 0.5)")
    return (f'<p class="tied-warning" role="note"><b>⚠ {label}: real networks deviate '
            f'here</b> ({"; ".join(why)}). Measured on tied networks (gated-cells.md 2.3): '
            "memory rate 15–30 % above χ<sub>jac</sub> (up to +70 % with weak input); "
            "forward statistics +8 % up to ×6.7 in Q, the LSTM cell variance ×25 at long "
            "memory (μ<sub>f</sub> = 5, σ<sub>w</sub> = 1), and the correlation C* collapses. "
            "Use “Simulate a real network” in the memory panel to measure them.</p>")


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
    """T against k times the shown timescale; for xi_jac the two-sided tau_jac, so a
    chaotic network (gradients growing like chi_jac^T) is not called trainable."""
    xi = p.tau_jac if view.field == "xi_jac" else getattr(p, view.field)
    if not p.exists or xi != xi:
        return "n/a"
    bound = view.k * xi
    verdict = "yes" if view.T < bound else "no"
    return f"{verdict}: {view.T} vs {fmt(bound, 4)}"
