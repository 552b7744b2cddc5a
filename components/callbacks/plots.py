"""Panel callback: parse -> compute (cached theory) -> draw (pure builders).

Each ``update_*`` function is plain Python (unit-tested without a browser); one
Dash callback (:func:`register`) answers for all panels, leaving unchanged the
panels whose inputs did not fire. The phase diagram is sent whole only when its
grid changed (``GRID_KEY`` store); otherwise a ``Patch`` moves the star and the
titles (and the T = k xi line when T or k changed).

A theory error (``ParameterError`` and friends) becomes a panel that says what
went wrong, never a failed request. While the calculators a panel needs are still
being compiled at start-up (:func:`components.compute.preparing`), the panel says
"preparing" at once instead of waiting; the answer lists those panels
(``startup.PENDING``) and enables a poll (``startup.POLL``) that redraws only them
until they are drawn with data, then stops. The default view itself is answered at
once from its stored panels (:mod:`components.start_view`) while its calculators compile.
"""

from __future__ import annotations

import hashlib
import logging
from html import escape as html_escape
from typing import Any

from dash import Input, Output, Patch, State, ctx, no_update

from components import compute, figures, ids, specs, start_view, startup, url_state
from components.callbacks import parse
from components.figures._common import fmt
from components.figures.spectrum import has_density, sample_summary, theory_band
from components.readout import readout_html
from components.viewstate import ViewState
from theory import ParameterError

log = logging.getLogger(__name__)
#: Errors shown in the panel instead of failing the request.
SHOWN_ERRORS = (ParameterError, ValueError, ArithmeticError, NotImplementedError)
#: Panels in the order of :data:`PANEL_OUTPUTS`, with the index of their figure.
PANEL_FIGURE = {"phase": 0, "memory": 4, "spectrum": 5}
MAX_LISTED = 3  # calculators named in a "preparing" message


def preparing_figure(waiting: list[str], key: str) -> dict:
    """The panel while its calculators compile: what it waits for (``meta.preparing``).

    ``meta.key`` stays None: the panel does not show the view ``key`` yet.
    """
    names = ", ".join(waiting[:MAX_LISTED]) + (", ..." if len(waiting) > MAX_LISTED else "")
    text = (f"Preparing the calculators for this view ({names}): the first start on a "
            "machine compiles them once. This panel fills in by itself.")
    return figures.message_figure(text, {"key": None, "preparing": key})


def is_preparing(fig: Any) -> bool:
    """Whether ``fig`` is a :func:`preparing_figure`."""
    meta = fig.get("layout", {}).get("meta") if isinstance(fig, dict) else None
    return isinstance(meta, dict) and meta.get("preparing") is not None


def drawn_key(state: ViewState) -> dict:
    """What the phase figure in the browser shows: its grid and its T = k xi line."""
    key = repr([(compute.grid_key(state, a), compute.marker_key(state, a))
                for a in state.archs])
    return {"grid": hashlib.sha1(key.encode()).hexdigest()[:16], "tk": [state.T, state.k]}


def update_phase(state: ViewState, drawn: dict | None) -> tuple[Any, dict | None, Any, str]:
    """Phase figure (or Patch), what it shows, the read-out table and a status line.

    The figure is rebuilt only when the grid changed; if only T or k changed the
    T = k xi lines are patched, and if only the point moved only its stars, titles
    and meta are (see :mod:`components.figures.phase`).
    """
    key = url_state.encode(state)
    waiting = compute.preparing(state, "phase")
    if waiting:
        msg = "Preparing the calculators for this view…"
        return preparing_figure(waiting, key), None, html_escape(msg), msg
    try:
        panels = compute.phase_data(state)
    except compute.CostlyView as exc:  # the read-out's points are cheap: still shown
        msg = str(exc)
        points = [compute.point(compute.canonical(state.params(a))) for a in state.archs]
        return (figures.message_figure(msg, {"key": key}), None, readout_html(points, state),
                msg)
    except SHOWN_ERRORS as exc:
        log.warning("phase diagram failed for %s: %s", key, exc)
        msg = f"Cannot compute this view: {exc}"
        return figures.message_figure(msg, {"key": key}), None, html_escape(msg), msg
    points = [p.point for p in panels]
    new = drawn_key(state)
    if isinstance(drawn, dict) and drawn.get("grid") == new["grid"]:
        updates = figures.point_updates(points, state, key)
        if drawn.get("tk") != new["tk"]:
            updates = figures.contour_updates(panels, state) + updates
        fig: Any = _patch(updates)
    else:
        fig = figures.phase_figure(panels, state, key)
    status = "; ".join(f"{p.params.arch}: {state.field} = {fmt(getattr(p, state.field))}, "
                       f"{p.phase}" for p in points)
    return fig, new, readout_html(points, state), status


def _patch(updates: list) -> dict:
    """A Dash ``Patch`` assigning each (path, value), in the JSON form it is sent in.

    The dict, not the ``Patch`` object: plotly's encoder hands a whole answer to orjson
    only when every value is a plain type, and otherwise visits every value in Python
    (issue 14; the renderer reads the same JSON either way).
    """
    patch = Patch()
    for path, value in updates:
        target = patch
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value
    return patch.to_plotly_json()


def update_memory(state: ViewState) -> dict:
    """Memory-depth figure (cut along the x axis and trajectories)."""
    key = url_state.encode(state)
    waiting = compute.preparing(state, "memory")
    if waiting:
        return preparing_figure(waiting, key)
    try:
        fig = figures.memory_figure(compute.memory_data(state), state, key)
    except SHOWN_ERRORS as exc:
        log.warning("memory panel failed for %s: %s", key, exc)
        return figures.message_figure(f"Cannot compute the memory panel: {exc}", {"key": key})
    if state.simulate and not compute.simulate_allowed(state):
        fig["layout"]["annotations"].append(simulate_refusal(state))
    return fig


def simulate_refusal(state: ViewState) -> dict:
    """Annotation saying why the simulated network is not drawn (over the budget)."""
    text = (f"Simulation skipped: {'2 × ' if len(state.archs) > 1 else ''}(N²·T + N³/8) = "
            f"{compute.simulate_cost(state):.2g} is above the budget of "
            f"{specs.SIMULATE_BUDGET:.2g}; lower N or T.")
    return {"text": text, "name": "simulate-refused", "x": 1.0, "y": 0.02, "xref": "paper",
            "yref": "paper", "xanchor": "right", "yanchor": "bottom", "showarrow": False,
            "font": {"size": 12, "color": "#b00020"}, "bgcolor": "rgba(255,255,255,0.9)"}


def update_spectrum(state: ViewState) -> tuple[dict, str]:
    """Spectrum figure and the moments as text."""
    key = url_state.encode(state)
    waiting = compute.preparing(state, "spectrum")
    if waiting:
        return preparing_figure(waiting, key), "Preparing the calculators for this view…"
    try:
        panels = compute.spectrum_data(state)
    except SHOWN_ERRORS as exc:
        log.warning("spectrum failed for %s: %s", key, exc)
        msg = f"Cannot compute the spectrum: {exc}"
        return figures.message_figure(msg, {"key": key}), msg
    return figures.spectrum_figure(panels, state, key), spectrum_text(panels, state)


def spectrum_text(panels: list, state: ViewState) -> str:
    """Moments m1, m2 and the share of s in [1/2, 2], theory and sample (one line each).

    Plain text (one DOM text node): rich components here cost the browser tens of
    milliseconds per slider move.
    """
    lines = []
    for p in panels:
        sp = p.spectrum
        label = "" if len(panels) == 1 else f"{p.arch}: "
        if has_density(sp):
            text = (f"{label}theory m₁ = {fmt(sp.m1)}, m₂ = {fmt(sp.m2)}, "
                    f"P(½\u00a0≤\u00a0s\u00a0≤\u00a02) = {fmt(theory_band(sp), 3)}")
        else:
            text = (f"{label}theory m₁ = {fmt(sp.m1)} ({specs.UNTIED_LABEL}); no theory "
                    "density for the LSTM (moments only, gated-cells.md 5.2): sample a "
                    "network for the histogram")
        if p.log_samples is not None:
            s = sample_summary(p.log_samples)
            text += (f" · sample m₁ = {fmt(s['m1'])}, m₂ = {fmt(s['m2'])}, "
                     f"P = {fmt(s['band'], 3)}")
        lines.append(text)
    if state.sample and not compute.sample_allowed(state):
        cost = compute.sample_cost(state)
        lines.append(f"Sampling skipped: {'2 × ' if len(state.archs) > 1 else ''}N³·T = "
                     f"{cost:.2g} is above the budget of {specs.SAMPLE_BUDGET:.2g}; "
                     "lower N or T.")
    return "\n".join(lines)


def update_panels(state: ViewState, fired: set[str] | None, drawn: dict | None,
                  redraw: frozenset[str] = frozenset()) -> tuple:
    """All panels in one answer; a panel whose inputs did not fire is ``no_update``.

    ``fired`` holds the names (``parse.NAMES``) of the controls that changed, or
    None on the first call (draw everything); the panels named in ``redraw``
    (:data:`PANEL_FIGURE`) are drawn in any case. One request and one browser
    update per control change instead of three: on this machine the renderer's
    work per answer cost more than the server's.
    """
    out: list[Any] = [no_update] * 7
    if fired is None or fired & parse.PHASE_DEPS or "phase" in redraw:
        out[0:4] = update_phase(state, drawn)
    memory = parse.MEMORY_DEPS | (parse.SIMULATION_DEPS if state.simulate else frozenset())
    if fired is None or fired & memory or "memory" in redraw:
        out[4] = update_memory(state)
    if fired is None or fired & parse.SPECTRUM_DEPS or "spectrum" in redraw:
        out[5:7] = update_spectrum(state)
    return tuple(out)


def answer(state: ViewState, prop_ids: dict, drawn: dict | None, pending: Any) -> tuple:
    """The panel callback's answer: :func:`update_panels` plus the poll's state.

    ``prop_ids`` is ``ctx.triggered_prop_ids``; ``pending`` the panels that said
    "preparing" (``startup.PENDING``, from the browser: anything else is ignored).
    A tick of the poll alone redraws those of them whose calculators are ready now.
    Returns the 7 panel outputs, whether the poll is off, and the panels preparing.
    """
    was = ({p for p in pending if isinstance(p, str) and p in PANEL_FIGURE}
           if isinstance(pending, list) else set())
    fired = fired_names(prop_ids)
    if fired is None and startup.POLL in prop_ids.values():
        ready = frozenset(p for p in was if not compute.preparing(state, p))
        if not ready:
            return (no_update,) * 9
        out = update_panels(state, set(), drawn, redraw=ready)
    else:
        first = drawn is None  # no grid drawn yet: the page's first answer
        out = (first and _stored_start_view(state)) or update_panels(state, fired, drawn)
    now = {p for p, i in PANEL_FIGURE.items() if out[i] is not no_update and is_preparing(out[i])}
    now |= {p for p in was if out[PANEL_FIGURE[p]] is no_update}
    return (*out, not now, sorted(now))


def _stored_start_view(state: ViewState) -> tuple | None:
    """The stored answer (:mod:`components.start_view`) for the default view while its
    calculators are still being prepared at start-up; None otherwise."""
    if not any(compute.preparing(state, panel) for panel in PANEL_FIGURE):
        return None
    return start_view.stored_answer(state)


PANEL_OUTPUTS = [
    Output(ids.PHASE_GRAPH, "figure"), Output(ids.GRID_KEY, "data"),
    Output(ids.READOUT, "children"), Output(ids.PHASE_STATUS, "children"),
    Output(ids.MEMORY_GRAPH, "figure"),
    Output(ids.SPECTRUM_GRAPH, "figure"), Output(ids.SPECTRUM_TEXT, "children"),
]
_BY_ID = {component: name for name, component, _ in parse.CONTROLS}


def fired_names(prop_ids: dict) -> set[str] | None:
    """Control names in Dash's ``ctx.triggered_prop_ids`` (None: initial call or poll)."""
    names = {_BY_ID[c] for c in prop_ids.values() if c in _BY_ID}
    return names or None


POLL_OUTPUTS = [Output(startup.POLL, "disabled"), Output(startup.PENDING, "data")]


def register(app) -> None:
    """Register the panel callback on ``app``."""
    _, ins, _ = parse.dependencies(parse.NAMES)

    @app.callback(PANEL_OUTPUTS + POLL_OUTPUTS, [*ins, Input(startup.POLL, "n_intervals")],
                  State(ids.GRID_KEY, "data"), State(startup.PENDING, "data"))
    def panels(*values):
        state = parse.parse(parse.NAMES, values[:-3])
        return answer(state, ctx.triggered_prop_ids, values[-2], values[-1])
