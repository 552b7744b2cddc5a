"""Callbacks of the dashboard; :func:`register` wires them all onto an app.

* :mod:`.state`: the single writer of control values (URL, architecture,
  click on the diagram, sample buttons);
* :mod:`.plots`: parse -> compute -> draw for each panel;
* :mod:`.clientside`: URL writing, marker dragging and link copying in the browser.
"""

from __future__ import annotations

from dash import ctx


def register(app) -> None:
    """Register every callback of the dashboard on ``app``."""
    from components.callbacks import clientside, export, plots, state, trainability

    @app.callback(state.outputs(), state.inputs(), state.states())
    def sync_state(search, mode, compare, click, _sample, _clear, _sim, _sim_clear, preset,
                   _reset, *controls):
        return state.sync_state(ctx.triggered_id, search, mode, click, compare, *controls,
                                preset=preset)

    plots.register(app)
    export.register(app)
    clientside.register(app)
    trainability.register(app)
