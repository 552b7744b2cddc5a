"""Page layout: a top bar, a side bar of controls and four panels.

``serve_layout()`` builds the page at the default view; the URL callback then
restores any state held by the link (:mod:`components.callbacks.state`).

Panels (CSS grid in ``assets/style.css``): phase diagram, spectrum and
read-out in the first row, memory depth across the second. The side bar is a
stack of titled sections; on narrow screens (phones, tablets) and in
presentation mode it becomes a drawer opened by the top bar's "Controls"
button (``assets/drawer.js``). The "Present" button toggles presentation mode
(``assets/present.js``).
"""

from __future__ import annotations

from dash import dcc, html

from components import controls, explain, export, ids, specs, trainability_panel, url_state
from components.callbacks import parse
from components.figures import message_figure
from components.viewstate import ViewState

#: Plotly config of every graph. The modebar's camera downloads SVG (file name set
#: by assets/filenames.js); the panels' SVG/PNG buttons (:func:`_downloads`) give
#: both formats. plotly.js 4's "Share chart" button uploads the figure to Plotly
#: Cloud: removed (the app works offline and sends nothing away).
GRAPH_CONFIG = {"displaylogo": False, "responsive": True,
                "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d",
                                           "sendChartToCloud"],
                "toImageButtonOptions": {"format": "svg"}}
#: Figures with download buttons: panel name -> (graph id, what the figure shows).
FIGURES = {"phase": (ids.PHASE_GRAPH, "phase diagram"),
           "spectrum": (ids.SPECTRUM_GRAPH, "spectrum"),
           "memory": (ids.MEMORY_GRAPH, "memory-depth figure")}


def serve_layout() -> html.Div:
    """The whole page at the default (vanilla) view."""
    s = ViewState.default("vanilla")
    return html.Div(className="app", children=[
        dcc.Location(id=ids.URL, refresh=False),
        *_stores(),
        _top_bar(),
        html.Div(className="body", children=[
            html.Aside([_side_bar_head(), *_side_bar(s)], id=ids.SIDEBAR, className="sidebar",
                       **{"aria-label": "Controls"}),
            html.Div(id=ids.DRAWER_BACKDROP, className="drawer-backdrop"),
            html.Main(_panels(), id=ids.PANELS, className=panels_class(s)),
        ]),
    ])


def panels_class(s: ViewState) -> str:
    """CSS class of the panel grid: two cells side by side get a wider diagram
    (``mode-both``, the class of the old side-by-side mode)."""
    return f"panels mode-{'both' if s.compare else s.mode}"


def _stores() -> list:
    config = {"keys": list(url_state.KEYS), "version": url_state.SCHEMA_VERSION,
              "flags": list(url_state.FLAG_KEYS),
              "names": list(parse.NAMES), "fields": url_state.FIELD_OF,
              "decimals": {name: spec.decimals for name, spec in specs.SLIDERS.items()}}
    return [dcc.Store(id=ids.CONFIG, data=config), dcc.Store(id=ids.READY, data=False),
            dcc.Store(id=ids.SAMPLE, data=False), dcc.Store(id=ids.SIMULATE, data=False),
            dcc.Store(id=ids.GRID_KEY, data=None),
            dcc.Store(id=ids.URL_SINK), dcc.Store(id=ids.MARKER_SINK)]


def _top_bar() -> html.Header:
    """Title, notices and the page's buttons: the controls drawer (narrow screens and
    presentation mode), presentation mode and the permalink."""
    return html.Header(className="topbar", children=[
        html.Button("Controls", id=ids.CONTROLS_BUTTON, className="btn btn-drawer",
                    title="Show the controls (Esc closes them)",
                    **{"aria-controls": ids.SIDEBAR, "aria-expanded": "false"}),
        html.H1("RNN Phase Explorer"),
        html.Span(["Mean-field theory of random RNNs, minimalRNNs, GRUs and LSTMs ",
                   html.Cite("(Chen, Pennington & Schoenholz, ICML 2018; Gilboa et al. 2019)")],
                  className="subtitle"),
        html.Div(id=ids.NOTICE, className="notice", role="status", hidden=True),
        html.Button("Present", id=ids.PRESENT_BUTTON, className="btn btn-present",
                    title="Present (P): a large phase diagram and large fonts for a "
                          "projector; P or Esc leaves",
                    **{"aria-pressed": "false", "aria-keyshortcuts": "P"}),
        html.Button("Copy link", id=ids.COPY_LINK, className="btn",
                    title="Copy a link that restores this exact view"),
        html.Span(id=ids.COPY_STATUS, className="copy-status", role="status"),
    ])


def _side_bar_head() -> html.Div:
    """Title and close button of the side bar, shown when it is a drawer."""
    return html.Div(className="drawer-head", children=[
        html.H2("Controls", className="drawer-title"),
        html.Button("×", id=ids.DRAWER_CLOSE, className="btn drawer-close",
                    title="Close the controls (Esc)", **{"aria-label": "Close the controls"}),
    ])


def _side_bar(s: ViewState) -> list:
    sliders = {name: controls.labelled_slider(name, s.ranges, getattr(s, name))
               for name in specs.SLIDERS}
    return [
        controls.section("Presets", sid="sec-presets", children=[
            controls.field_row("Named view", controls.preset_dropdown()),
            html.Button("Reset", id=ids.RESET, className="btn",
                        title="Back to the start view of the current architecture"),
            html.Div(id=ids.PRESET_CAPTION, className="ctl-note preset-caption",
                     role="status"),
        ]),
        controls.section("Model", [
            controls.field_row("Architecture", controls.mode_radio(s.mode), "wrap-arch",
                               note="Switching loads that model's defaults and plane."),
            controls.field_row("Compare with", controls.compare_dropdown(s.mode, s.compare),
                               ids.COMPARE_WRAP, note="A second cell drawn side by side."),
            controls.field_row("Nonlinearity φ", controls.phi_dropdown(s.phi), ids.PHI_WRAP),
            controls.field_row("Recurrent weights", controls.weights_radio(s.weights, s.gated),
                               ids.WEIGHTS_WRAP,
                               note="W only changes the spectrum and the simulations."),
        ]),
        controls.section("Initialisation", [sliders[n] for n in specs.PARAM_NAMES]),
        _advanced_section(s, sliders),
        controls.section("Sequence", [sliders["T"], sliders["k"]]),
        controls.section("Phase diagram", [
            controls.field_row("Plane", controls.plane_dropdown(
                controls.plane_value(s.x, s.y)), "wrap-plane"),
            controls.field_row("Colour: timescale ξ", controls.field_radio(s.field), "wrap-xi"),
            controls.field_row("Grid", controls.grid_dropdown(s.n), "wrap-n"),
        ]),
        controls.section("Sampled network", [
            controls.field_row("Width N", controls.int_box(ids.N, s.N, *specs.N_RANGE), "wrap-N"),
            controls.field_row("Seed", controls.int_box(ids.SEED, s.seed, *specs.SEED_RANGE),
                               "wrap-seed"),
        ]),
        _export_section(),
    ]


def _advanced_section(s: ViewState, sliders: dict) -> html.Section:
    """Per-gate bias means and the GRU/LSTM variants (gated-cells.md 1.4), collapsed."""
    return html.Section(className="ctl-section", id=ids.ADVANCED, children=[html.Details([
        html.Summary("Advanced (GRU, LSTM)"),
        html.P("LSTM", className="ctl-note"), sliders["mu_i"], sliders["mu_o"],
        controls.field_row("LSTM closure", controls.choice_dropdown("closure", s.closure),
                           ids.CLOSURE_WRAP),
        html.P("GRU", className="ctl-note"), sliders["mu_r"],
        controls.field_row("GRU variant", controls.choice_dropdown("gru_variant",
                                                                   s.gru_variant),
                           ids.GRU_VARIANT_WRAP)])])


def _export_section() -> html.Section:
    """Data download (CSV/JSON), the "copy as Python" code and the citation."""
    return controls.section("Export & cite", sid="sec-export", children=[
        controls.field_row("Data of", dcc.RadioItems(
            id=ids.EXPORT_DATASET, value="phase", className="radio-col",
            options=[{"label": v, "value": k} for k, v in export.DATASETS.items()])),
        html.Div(className="btn-row", children=[
            html.Button("CSV", id=ids.EXPORT_CSV, className="btn",
                        title="Download this panel's numbers as CSV (header: parameters, "
                              "version, date)"),
            html.Button("JSON", id=ids.EXPORT_JSON, className="btn",
                        title="Download this panel's numbers as JSON")]),
        dcc.Download(id=ids.DOWNLOAD),
        html.Details(className="explain", id="snippet-box", children=[
            html.Summary("Copy as Python"),
            html.Button("Show code for this view", id=ids.SNIPPET_BUTTON, className="btn"),
            html.Pre(id=ids.SNIPPET, className="code"),
            dcc.Clipboard(target_id=ids.SNIPPET, title="Copy the code")]),
        html.Details(className="explain", id="cite-box", children=[
            html.Summary("Cite"),
            html.P(export.CITATION, id=ids.CITE),
            html.Pre(export.BIBTEX, className="code"),
            dcc.Clipboard(target_id=ids.CITE, title="Copy the reference")]),
    ])


def _graph(id_: str, label: str) -> html.Div:
    graph = dcc.Graph(id=id_, figure=message_figure("Computing…", {"key": None}),
                      config=GRAPH_CONFIG, className="graph")
    return html.Div(graph, className="graph-wrap", role="group", **{"aria-label": label})


def _downloads(panel: str) -> html.Div:
    """SVG and PNG buttons of a figure (handled in assets/filenames.js)."""
    graph_id, what = FIGURES[panel]
    return html.Div(className="dl-group", role="group",
                    **{"aria-label": f"Download the {what}"}, children=[
        html.Button(fmt.upper(), className="btn btn-small dl-btn", id=ids.download(panel, fmt),
                    title=f"Download the {what} as {fmt.upper()} (the file name carries "
                          "the parameters)",
                    **{"aria-label": f"Download the {what} as {fmt.upper()}",
                       "data-graph": graph_id, "data-format": fmt})
        for fmt in ("svg", "png")])


def _panel(title: str, body: list, panel: str, tools: list | None = None) -> html.Section:
    """A panel: head (title, tools), body, and a foot with its explanation's
    summary and (figures only) the download buttons."""
    foot = [explain.details(panel), _downloads(panel) if panel in FIGURES else None]
    return html.Section(className=f"panel p-{panel}", children=[
        html.Div(className="panel-head", children=[html.H2(title), *(tools or [])]),
        *body, html.Div(className="panel-foot", children=foot)])


def _panels() -> list:
    sample_tools = [
        html.Button("Sample a network", id=ids.SAMPLE_BUTTON, className="btn btn-primary",
                    title="Overlay the singular values of a random network (width N, seed)"),
        html.Button("Clear", id=ids.CLEAR_BUTTON, className="btn",
                    title="Remove the sampled histogram")]
    simulate_tools = [
        html.Button("Simulate a real network", id=ids.SIMULATE_BUTTON,
                    className="btn btn-primary",
                    title="Overlay q_t and C_t measured on a finite network with tied weights "
                          "(width N, seed): real GRUs and LSTMs deviate from the untied mean "
                          "field"),
        html.Button("Clear", id=ids.SIMULATE_CLEAR, className="btn",
                    title="Remove the simulated network")]
    return [
        _panel("Phase diagram", [
            _graph(ids.PHASE_GRAPH, "Phase diagram: timescale over the parameter plane; "
                                    "click to move the current point"),
            html.Div(id=ids.PHASE_STATUS, className="sr-only", role="status")], "phase"),
        _panel("Jacobian spectrum", [
            _graph(ids.SPECTRUM_GRAPH, "Singular-value density of the T-step Jacobian"),
            html.Div(id=ids.SPECTRUM_TEXT, className="spectrum-text")], "spectrum",
            sample_tools),
        _panel("Read-out at ★", [html.Div(
            dcc.Markdown(id=ids.READOUT, dangerously_allow_html=True),
            className="readout", **{"aria-live": "polite"})], "readout"),
        _panel("Memory depth", [_graph(ids.MEMORY_GRAPH, "Memory depth along a cut and "
                                                         "the trajectories C_t, q_t")],
               "memory", simulate_tools),
        trainability_panel.panel(GRAPH_CONFIG),  # below the others; only reads shipped maps
    ]
