"""Export callbacks: panel data as a CSV/JSON download and the "copy as Python" code.

Both read the controls as ``State`` (they fire only on their buttons), parse them
into a :class:`ViewState` and format what :mod:`components.export` returns.
"""

from __future__ import annotations

from dash import Input, Output, State, ctx, no_update

from components import export, ids
from components.callbacks import parse

_STATES = [State(i, p) for _, i, p in parse.CONTROLS]


def download(trigger: str | None, dataset: str | None, *controls) -> dict | None:
    """``dcc.Download`` payload for the button ``trigger`` (CSV or JSON)."""
    if not isinstance(trigger, str) or trigger not in (ids.EXPORT_CSV, ids.EXPORT_JSON):
        return None
    state = parse.parse(parse.NAMES, controls)
    dataset = dataset if isinstance(dataset, str) and dataset in export.DATASETS else "phase"
    stem = f"{export.file_stem(state)}_{dataset}"
    if trigger == ids.EXPORT_CSV:
        return {"content": export.to_csv(state, dataset), "filename": stem + ".csv",
                "type": "text/csv"}
    return {"content": export.to_json(state, dataset), "filename": stem + ".json",
            "type": "application/json"}


def register(app) -> None:
    """Register the export callbacks on ``app``."""

    @app.callback(Output(ids.DOWNLOAD, "data"),
                  [Input(ids.EXPORT_CSV, "n_clicks"), Input(ids.EXPORT_JSON, "n_clicks")],
                  [State(ids.EXPORT_DATASET, "value"), *_STATES], prevent_initial_call=True)
    def send(_csv, _json, dataset, *controls):
        return download(ctx.triggered_id, dataset, *controls) or no_update

    @app.callback(Output(ids.SNIPPET, "children"), Input(ids.SNIPPET_BUTTON, "n_clicks"),
                  _STATES, prevent_initial_call=True)
    def snippet(_n, *controls):
        return export.python_snippet(parse.parse(parse.NAMES, controls))
