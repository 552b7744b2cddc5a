"""Every Dash component id of the app, in one place.

Callbacks, the layout and the browser tests refer to these names only;
``assets/app.js`` uses ``#phase-graph`` (:data:`PHASE_GRAPH`) and the ``ctl-``
prefix of :func:`control`; ``assets/present.js`` and ``assets/drawer.js`` use the
header buttons and the side bar (:data:`PRESENT_BUTTON`, :data:`CONTROLS_BUTTON`,
:data:`SIDEBAR`, :data:`DRAWER_CLOSE`, :data:`DRAWER_BACKDROP`).

Example
-------
>>> control("sigma_w")
'ctl-sigma_w'
"""

from __future__ import annotations

from components import specs

URL = "url"
CONFIG = "client-config"  # dcc.Store: URL keys and slider decimals for assets/app.js
READY = "state-ready"  # dcc.Store: True once the URL has been decoded
SAMPLE = "sample-on"  # dcc.Store: the "sample a network" overlay is on
GRID_KEY = "phase-grid-key"  # dcc.Store: key of the grid drawn in PHASE_GRAPH
URL_SINK = "url-sink"  # dcc.Store written by the clientside URL writer
MARKER_SINK = "marker-sink"  # dcc.Store written by the clientside marker mover

NOTICE = "notice"
COPY_LINK = "copy-link"
COPY_STATUS = "copy-status"
PRESENT_BUTTON = "present-button"  # toggles presentation mode (assets/present.js)
CONTROLS_BUTTON = "controls-button"  # opens the side bar as a drawer (assets/drawer.js)
SIDEBAR = "sidebar"  # the side bar of controls (a drawer on narrow screens and in present mode)
DRAWER_CLOSE = "drawer-close"  # the drawer's close button
DRAWER_BACKDROP = "drawer-backdrop"  # the shade behind an open drawer (a click closes it)

MODE = "ctl-arch"
COMPARE = "ctl-vs"  # "Compare with" dropdown (the second cell shown)
COMPARE_WRAP = "wrap-vs"
ADVANCED = "sec-advanced"  # the collapsible "Advanced" section (gated cells' extra values)
GRU_VARIANT = "ctl-gv"
GRU_VARIANT_WRAP = "wrap-gv"
CLOSURE = "ctl-cl"
CLOSURE_WRAP = "wrap-cl"
WEIGHTS_WRAP = "wrap-weights"
SIMULATE = "simulate-on"  # dcc.Store: the memory panel's "simulate a real network" overlay
SIMULATE_BUTTON = "simulate-button"
SIMULATE_CLEAR = "clear-simulate-button"
PHI = "ctl-phi"
PHI_WRAP = "wrap-phi"
WEIGHTS = "ctl-weights"
PLANE = "ctl-plane"
FIELD = "ctl-xi"
GRID_N = "ctl-n"
N = "ctl-N"
SEED = "ctl-seed"
SAMPLE_BUTTON = "sample-button"
CLEAR_BUTTON = "clear-sample-button"

PHASE_GRAPH = "phase-graph"
MEMORY_GRAPH = "memory-graph"
SPECTRUM_GRAPH = "spectrum-graph"
READOUT = "readout"
SPECTRUM_TEXT = "spectrum-text"
PHASE_STATUS = "phase-status"
PANELS = "panels"

PRESET = "ctl-preset"  # dropdown of theory.presets.PRESETS
RESET = "reset-button"
PRESET_CAPTION = "preset-caption"
EXPORT_DATASET = "ctl-export-dataset"
EXPORT_CSV = "export-csv"
EXPORT_JSON = "export-json"
DOWNLOAD = "export-download"
SNIPPET_BUTTON = "snippet-button"
SNIPPET = "python-snippet"
CITE = "cite-text"


def control(name: str) -> str:
    """Id of the slider of parameter ``name`` (a key of specs.SLIDERS)."""
    if name not in specs.SLIDERS:
        raise KeyError(name)
    return f"ctl-{name}"


def wrap(name: str) -> str:
    """Id of the labelled row around slider ``name`` (carries the tooltip)."""
    return f"wrap-{name}"




def download(panel: str, fmt: str) -> str:
    """Id of the button downloading figure ``panel`` as ``fmt`` ("svg" or "png")."""
    return f"download-{panel}-{fmt}"


# The trainability panel (components/trainability_panel.py, callbacks/trainability.py)
TRAIN_GRAPH = "train-graph"
TRAIN_MAP = "train-map"  # which shipped map ("auto": the current architecture's)
TRAIN_STEP = "train-step"  # which checkpoint (training budget; "last" by default)
TRAIN_VIEW = "train-view"  # "map" or "scatter" (measured vs predicted)
TRAIN_CAPTION = "train-caption"
TRAIN_CSV = "train-csv"
TRAIN_JSON = "train-json"
TRAIN_DOWNLOAD = "train-download"
TRAIN_READY = "train-ready"  # dcc.Store: the panel's controls were restored from the URL
TRAIN_URL_SINK = "train-url-sink"  # dcc.Store written by the clientside URL writer
TRAIN_NOTICES = "train-notices"  # dcc.Store: what the URL's panel keys got wrong
TRAIN_DRAWN = "train-drawn"  # dcc.Store: what the panel shows, bar the view's key
TRAIN_POLL = "train-poll"  # dcc.Interval: on while the theory curves wait for the start-up
