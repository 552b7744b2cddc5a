"""Browser-side callbacks (``assets/app.js``, namespace ``rnn``).

* ``writeUrl``: every control change writes the permalink with
  ``history.replaceState`` (no server round trip, no history spam); it waits for
  the URL callback to have restored the state first (``READY``).
* ``moveMarker``: while a plane slider is dragged, its ``drag_value`` moves the
  star in the phase diagram at once (``Plotly.relayout`` of two annotations); the
  server redraws the heavy panels only on release (``value``). A key press
  changes ``value`` and ``drag_value`` together: then the server's answer moves
  the star and the browser does nothing extra.
* ``copyLink``: copy the permalink to the clipboard (or show it to copy by hand).
"""

from __future__ import annotations

from dash import ClientsideFunction, Input, Output, State

from components import ids
from components.callbacks import parse
from theory import PLANE_PARAMS

#: Order of the values ``writeUrl`` receives after (ready, config).
URL_INPUT_NAMES = parse.NAMES


def register(app) -> None:
    """Register the clientside callbacks on ``app``."""
    app.clientside_callback(
        ClientsideFunction("rnn", "writeUrl"),
        Output(ids.URL_SINK, "data"),
        [Input(ids.READY, "data"), *[Input(i, p) for _, i, p in parse.CONTROLS]],
        State(ids.CONFIG, "data"),
    )
    app.clientside_callback(
        ClientsideFunction("rnn", "moveMarker"),
        Output(ids.MARKER_SINK, "data"),
        [Input(ids.control(name), "drag_value") for name in PLANE_PARAMS],
        [*(State(ids.control(name), "value") for name in PLANE_PARAMS),
         State(ids.PLANE, "value")],
    )
    app.clientside_callback(
        ClientsideFunction("rnn", "copyLink"),
        Output(ids.COPY_STATUS, "children"),
        Input(ids.COPY_LINK, "n_clicks"),
        prevent_initial_call=True,
    )
