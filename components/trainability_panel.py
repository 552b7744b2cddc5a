"""The Trainability panel's layout and its part of the permalink.

:func:`panel` builds the panel (below the others): a map chooser, a checkpoint
(training budget) chooser, the view ("map", "measured vs predicted" or "training
curves"), CSV/JSON
buttons, the graph and its caption, and a foot with the explanation and the
SVG/PNG buttons. The panel only reads the shipped maps
(:mod:`components.trainability_maps`); training never runs in the web app.

Its controls live in the URL as three keys (:data:`KEYS`; ``hide=trainability`` hides
the panel, whose id is ``wrap-trainability``), written only when they
differ from the defaults, so links made before the panel existed load unchanged:
``tmap`` (a map's file stem; default ``auto``: the map of the current
architecture), ``tstep`` (a checkpoint; default ``last``) and ``tview``
(``map``, ``scatter`` or ``dynamics``).

Example
-------
>>> decode("?tview=scatter&tstep=250")
({'map': 'auto', 'step': '250', 'view': 'scatter'}, [])
>>> decode("?tview=3d")[1]
["tview: '3d' is not one of map, scatter, dynamics; using map"]
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from dash import dcc, html

from components import ids, url_state
from components.figures import message_figure
from components.trainability_maps import catalogue

KEYS = url_state.PANEL_KEYS
VIEWS = {"map": "Accuracy map", "scatter": "Measured vs predicted",
         "dynamics": "Training curves"}
DEFAULTS = {"map": "auto", "step": "last", "view": "map"}
POLL_MS = 1000  # while the theory's calculators compile at start-up
_FIELD = {"tmap": "map", "tstep": "step", "tview": "view"}

EXPLAIN = r"""
Small RNNs (width N = 64) were **trained** from exactly the random initialisations the
theory describes, on a task that needs memory: the class of a sequence is shown only at its
first step, followed by T − 1 steps of noise. Colour: held-out accuracy (mean over seeds;
chance 0.1). A network counts as trained at accuracy ≥ 0.55.

The theory predicts training works while $T - 1 < k\,\tau$ for a timescale τ of the
initialisation. Two candidates were measured against each other: $\xi_c$, the memory of two
independent input streams (Σ = 0, as in this task), and
$\tau_{\rm jac} = 1/|\ln\chi_{\rm jac}|$, over which gradients vanish (ordered side) or
grow (chaotic side). The caption says how many networks each one misclassifies: on the
shipped maps $\tau_{\rm jac}$ does at least as well everywhere and clearly better on the
vanilla RNN's chaotic side, so the maps' k, the curves here and the phase diagram's default
use $\tau_{\rm jac}$. **Solid**: the edge for the k fitted to this map (a logistic in
$\ln u$, $u = (T-1)/\tau_{\rm jac}$, 95 % bootstrap interval); **dashed**: k = 6
(Schoenholz et al. 2017). × marks runs where training rewrote the
initial weight scale by more than 25 %: they measure the optimiser more than the
initialisation. k grows with the training budget: choose it with *Budget*.

*Measured vs predicted* puts every cell of every map on one axis u: if the theory is right,
the maps collapse onto one curve.

*Training curves* redoes the paper's training-dynamics figure on this task: accuracy against
training step at long T for critical and off-critical initialisations, orthogonal and
Gaussian W (vanilla RNN and minimalRNN); the caption says whether the paper's result holds
here. How all of this was measured: docs/trainability.md.
"""


def decode(search: str | None) -> tuple[dict[str, str], list[str]]:
    """The panel's control values held by ``search`` and notices about bad ones."""
    raw = dict(parse_qsl((search or "").lstrip("?") if isinstance(search, str) else ""))
    out, notices = dict(DEFAULTS), []
    names = [m.name for m in catalogue().maps]
    if "tmap" in raw:
        if raw["tmap"] in ("auto", *names):
            out["map"] = raw["tmap"]
        else:
            notices.append(f"tmap: {raw['tmap']!r} is not one of the shipped maps "
                           f"({', '.join(names) or 'none'}); using the current architecture's")
    if "tstep" in raw:
        if raw["tstep"] == "last" or raw["tstep"].isdigit() and len(raw["tstep"]) < 10:
            out["step"] = raw["tstep"]
        else:
            notices.append(f"tstep: {raw['tstep']!r} is not a number of steps; using the last")
    if "tview" in raw:
        if raw["tview"] in VIEWS:
            out["view"] = raw["tview"]
        else:
            notices.append(f"tview: {raw['tview']!r} is not one of {', '.join(VIEWS)}; using map")
    return out, notices


def encode(values: dict[str, str]) -> list[tuple[str, str]]:
    """URL pairs of the panel's values that differ from :data:`DEFAULTS`."""
    return [(k, str(values[f])) for k, f in _FIELD.items()
            if values.get(f) is not None and str(values[f]) != DEFAULTS[f]]


def map_options() -> list[dict]:
    """Dropdown options: the current architecture's map, then every shipped map."""
    return ([{"label": "Architecture's map", "value": "auto"}]
            + [{"label": m.name.replace("_", " "), "value": m.name} for m in catalogue().maps])


def step_options() -> list[dict]:
    """Checkpoints of any shipped map (a map without one shows its last)."""
    steps = sorted({c for m in catalogue().maps for c in m.checkpoints})
    return ([{"label": "last", "value": "last"}]
            + [{"label": f"{s} steps", "value": str(s)} for s in steps])


def _field(label: str, control, title: str, extra: str = "") -> html.Div:
    """A labelled control of the panel's head (``assets/a11y.js`` names it by the label)."""
    return html.Div(className=f"ctl-row train-field {extra}".strip(), title=title,
                    children=[html.Label(label, className="ctl-label"), control])


def _tools() -> list:
    return [
        _field("Map", dcc.Dropdown(id=ids.TRAIN_MAP, value="auto", options=map_options(),
                                   clearable=False, searchable=False),
               "Which measured map", "train-select"),
        _field("Budget", dcc.Dropdown(id=ids.TRAIN_STEP, value="last", options=step_options(),
                                      clearable=False, searchable=False),
               "Training budget: the checkpoint shown and its k", "train-select train-step"),
        _field("View", dcc.RadioItems(id=ids.TRAIN_VIEW, value="map", className="radio-row",
                                      options=[{"label": v, "value": k}
                                               for k, v in VIEWS.items()]),
               ("The measured map, every cell against the theory's u = (T − 1)/ξ, or "
                "accuracy against training step at critical and off-critical points")),
        html.Div(className="btn-row", children=[
            html.Button("CSV", id=ids.TRAIN_CSV, className="btn btn-small",
                        title="Download the measured map(s), the fits and the theory curves "
                              "as CSV"),
            html.Button("JSON", id=ids.TRAIN_JSON, className="btn btn-small",
                        title="Download them as JSON")]),
        dcc.Download(id=ids.TRAIN_DOWNLOAD),
    ]


def _foot() -> html.Div:
    explain = html.Details(className="explain panel-explain", id="explain-trainability",
                           children=[
        html.Summary("What is this?"),
        html.Div(className="explain-card", role="region",
                 **{"aria-label": "Explanation: Trainability, measured"}, children=[
            html.Div(className="explain-card-head", children=[
                html.Span("Trainability, measured", className="explain-card-title"),
                html.Button("×", className="btn explain-close", title="Close (Esc)",
                            **{"aria-label": "Close the explanation"})]),
            dcc.Markdown(EXPLAIN, mathjax=True, className="explain-body")])])
    buttons = [html.Button(fmt.upper(), className="btn btn-small dl-btn",
                           id=f"download-trainability-{fmt}",
                           title=f"Download the trainability figure as {fmt.upper()}",
                           **{"aria-label": f"Download the trainability figure as "
                                            f"{fmt.upper()}",
                              "data-graph": ids.TRAIN_GRAPH, "data-format": fmt})
               for fmt in ("svg", "png")]
    return html.Div(className="panel-foot", children=[
        explain, html.Div(buttons, className="dl-group", role="group",
                          **{"aria-label": "Download the trainability figure"})])


def panel(graph_config: dict) -> html.Section:
    """The Trainability panel (``graph_config``: the Plotly config of every graph)."""
    graph = dcc.Graph(id=ids.TRAIN_GRAPH, config=graph_config, className="graph",
                      figure=message_figure("Reading the measured maps…", {"key": None}))
    return html.Section(className="panel p-trainability", id="wrap-trainability", children=[
        html.Div(className="panel-head", children=[html.H2("Trainability, measured"),
                                                   *_tools()]),
        html.Div(graph, className="graph-wrap", role="group",
                 **{"aria-label": "Measured trainability with the theory's prediction"}),
        html.Div(id=ids.TRAIN_CAPTION, className="train-caption", role="status"),
        dcc.Store(id=ids.TRAIN_READY, data=False), dcc.Store(id=ids.TRAIN_URL_SINK),
        dcc.Store(id=ids.TRAIN_NOTICES, data=""), dcc.Store(id=ids.TRAIN_DRAWN),
        dcc.Interval(id=ids.TRAIN_POLL, interval=POLL_MS, disabled=True),
        _foot()])
