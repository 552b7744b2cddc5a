"""Trainability panel callbacks: parse -> read the maps and the theory -> draw.

* :func:`update` draws the panel (figure and caption) for the view's controls and
  the panel's own (map, checkpoint, view); :func:`register` wires it, the
  restoring of the panel's controls from the URL, the URL writer (in the
  browser: the three keys of :mod:`components.trainability_panel`) and the
  CSV/JSON download (:mod:`components.trainability_export`).
* Nothing here trains: the maps are the shipped files. A missing or unreadable
  map, or a theory error, becomes a message in the panel, never a failed request.
* While the theory's calculators compile at start-up, the map is drawn at once
  without the theory's curves; the panel's own poll (``TRAIN_POLL``, on only then)
  redraws it with them when they are ready.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from dash import Input, Output, State, ctx, no_update

from components import figures, ids, startup, trainability_panel, url_state
from components.callbacks import parse
from components.figures import trainability as tfig
from components.trainability_dynamics import caption as dynamics_caption
from components.trainability_dynamics import shipped_dynamics
from components.trainability_maps import TrainMap, catalogue
from components.trainability_text import caption, current_point, map_values, scatter_caption
from components.trainability_theory import curves
from components.viewstate import ViewState
from theory import ParameterError
from theory.warm import step_key

log = logging.getLogger(__name__)
VIEW_DEPS = frozenset(parse.NAMES) - {"N", "seed", "sample", "plane", "field", "n"}
_NAMES, _VIEW_INPUTS, _VIEW_STATES = parse.dependencies(VIEW_DEPS)


def resolve(name: str, view: ViewState) -> TrainMap | None:
    """The map chosen (``auto``: the first map of an architecture the view shows)."""
    return catalogue().choose(name, view.archs)


def waiting(m: TrainMap) -> list[str]:
    """Calculators the map's theory curves need that are still compiling at start-up."""
    return startup.pending([step_key("point", m.arch, str(m.base.get("phi", "tanh")))])


def update(view: ViewState, values: dict, notices: Sequence[str] = (),
           figure: bool = True) -> tuple[dict | None, str, bool]:
    """(figure, caption, whether the theory curves wait for the start-up).

    ``figure=False`` leaves the map's figure out (None): the caption alone, when the
    figure drawn already shows this (:func:`drawn_signature`).
    """
    key = url_state.encode(view)
    if values["view"] == "dynamics":
        d, why = shipped_dynamics()
        if d is None:
            return (figures.message_figure(why, {"key": key, "panel": "trainability"}),
                    "\n".join([why, *notices]), False)
        return tfig.dynamics_figure(d, key), "\n".join([dynamics_caption(d), *notices]), False
    cat = catalogue()
    problems = [f"Could not read {p}" for p in cat.problems]
    if not cat.maps:
        msg = "No trainability map is shipped (data/trainability/*.json.gz)."
        return (figures.message_figure(msg, {"key": key, "panel": "trainability"}),
                "\n".join([msg, *problems, *notices]), False)
    step = None if values["step"] == "last" else int(values["step"])
    if values["view"] == "scatter":
        entries = [(m, m.checkpoint_index(step)) for m in cat.maps]
        fig = tfig.scatter_figure(entries, key)
        text = scatter_caption(entries, fig["layout"]["meta"]["u_zero"])
        return fig, "\n".join([text, *problems, *notices]), False
    m = resolve(values["map"], view)
    ck = m.checkpoint_index(step)
    pending = waiting(m)
    theory_note, lines = "", None
    if pending:
        theory_note = "Theory curves: preparing the calculators (" + ", ".join(pending) + ")…"
    else:
        try:
            lines = curves(m, ck)
        except (ParameterError, ValueError, ArithmeticError) as exc:
            log.warning("trainability curves failed for %s: %s", m.name, exc)
            theory_note = f"Theory curves unavailable here: {exc}"
    current, where = current_point(m, view)
    fig = tfig.map_figure(m, ck, lines, current, key) if figure else None
    notes = [where, theory_note, *problems, *notices]
    if step is not None and step not in m.checkpoints:
        notes.insert(0, f"This map has no checkpoint at {step} steps: showing the last.")
    return fig, caption(m, ck, [n for n in notes if n]), bool(pending)


def drawn_signature(view: ViewState, values: dict, notices: Sequence[str] = ()) -> str:
    """What :func:`update`'s figure shows for ``view``, bar the view's key in ``meta``.

    Most moves of the view's controls leave the figure as it is (the map and its curves
    do not depend on the view; only the current point's marker does): when the
    signature is the one drawn, only the caption is sent and the browser redraws no
    figure (issue 14: a second figure redrawn per move cost both ends).
    """
    parts: tuple = (sorted(values.items()), tuple(notices))
    if values["view"] == "map" and catalogue().maps:
        m = resolve(values["map"], view)
        step = None if values["step"] == "last" else int(values["step"])
        parts += (m.name, m.checkpoint_index(step), current_point(m, view)[0],
                  bool(waiting(m)))
    return repr(parts)


def restore(search: Any) -> tuple:
    """The panel's control values from the URL (its notices go to the caption)."""
    values, notices = trainability_panel.decode(search)
    return values["map"], values["step"], values["view"], notices, True


WRITE_URL = """
function (ready, map, step, view) {
  var noUpdate = window.dash_clientside.no_update;
  if (!ready) { return noUpdate; }
  var q = new URLSearchParams(window.location.search);
  var want = {tmap: [map, "auto"], tstep: [step, "last"], tview: [view, "map"]};
  var changed = false;
  Object.keys(want).forEach(function (k) {
    var v = want[k][0];
    var value = (v === null || v === undefined || String(v) === want[k][1]) ? null : String(v);
    if (q.get(k) === value) { return; }
    changed = true;
    if (value === null) { q.delete(k); } else { q.set(k, value); }
  });
  if (!changed) { return noUpdate; }
  var s = q.toString() ? "?" + q.toString() : "";
  window.history.replaceState(window.history.state, "", window.location.pathname + s);
  return s;
}
"""


def register(app) -> None:
    """Register the panel's callbacks on ``app``."""
    from components.trainability_export import download

    panel_ins = [Input(ids.TRAIN_MAP, "value"), Input(ids.TRAIN_STEP, "value"),
                 Input(ids.TRAIN_VIEW, "value")]

    @app.callback([Output(ids.TRAIN_MAP, "value"), Output(ids.TRAIN_STEP, "value"),
                   Output(ids.TRAIN_VIEW, "value"), Output(ids.TRAIN_NOTICES, "data"),
                   Output(ids.TRAIN_READY, "data")], Input(ids.URL, "search"))
    def restore_panel(search):
        values = restore(search)
        return (*values[:3], "; ".join(values[3]), values[4])

    @app.callback([Output(ids.TRAIN_GRAPH, "figure"), Output(ids.TRAIN_CAPTION, "children"),
                   Output(ids.TRAIN_POLL, "disabled"), Output(ids.TRAIN_DRAWN, "data")],
                  [*panel_ins, *_VIEW_INPUTS, Input(ids.TRAIN_POLL, "n_intervals")],
                  [*_VIEW_STATES, State(ids.TRAIN_NOTICES, "data"),
                   State(ids.TRAIN_READY, "data"), State(ids.TRAIN_DRAWN, "data")])
    def draw(map_name, step, view_name, *rest):
        notices, ready, drawn = rest[-3:]
        if not ready:
            return no_update, no_update, no_update, no_update
        n_in = len(_VIEW_INPUTS)  # rest: view inputs, the poll, view states, 3 states
        view = parse.parse(_NAMES, (*rest[:n_in], *rest[n_in + 1:-3]))
        values = map_values(map_name, step, view_name)
        notes = [f"Link: {notices}"] if notices else []
        polled = ctx.triggered_id == ids.TRAIN_POLL
        signature = drawn_signature(view, values, notes)
        if signature == drawn and not polled:  # the figure already shows this
            return no_update, update(view, values, notes, figure=False)[1], no_update, no_update
        fig, text, pending = update(view, values, notes)
        if pending and polled:  # still compiling: keep waiting
            return no_update, no_update, False, no_update
        return fig, text, not pending, signature

    app.clientside_callback(WRITE_URL, Output(ids.TRAIN_URL_SINK, "data"),
                            [Input(ids.TRAIN_READY, "data"), *panel_ins])

    @app.callback(Output(ids.TRAIN_DOWNLOAD, "data"),
                  [Input(ids.TRAIN_CSV, "n_clicks"), Input(ids.TRAIN_JSON, "n_clicks")],
                  [*panel_ins_as_states(), *_VIEW_STATES_ALL], prevent_initial_call=True)
    def send(_csv, _json, map_name, step, view_name, *controls):
        view = parse.parse(parse.NAMES, controls)
        fmt = "csv" if ctx.triggered_id == ids.TRAIN_CSV else "json"
        return download(fmt, view, map_values(map_name, step, view_name)) or no_update


def panel_ins_as_states() -> list[State]:
    """The panel's three controls as ``State``."""
    return [State(ids.TRAIN_MAP, "value"), State(ids.TRAIN_STEP, "value"),
            State(ids.TRAIN_VIEW, "value")]


_VIEW_STATES_ALL = [State(i, p) for _, i, p in parse.CONTROLS]
