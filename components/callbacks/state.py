"""The single writer of control values.

One callback owns every control's ``value`` (and the slider ranges and the
disabled flags that depend on the architecture), so Dash never sees two writers
of one property. It reacts to:

* the URL (page load or an opened permalink): decode, clamp, show notices;
* the architecture radio: load that architecture's defaults and plane;
* the "Compare with" dropdown: show a second cell (slider ranges become the union);
* a click on the phase diagram: move the current point there;
* the sample / clear buttons: switch the sampled-network overlay (spectrum) and
  the simulate / clear buttons the simulated real network (memory panel);
* the preset dropdown (``theory/presets.py``) and the Reset button.

Only values that change are sent (``no_update`` otherwise), so unchanged panels
are not recomputed.
"""

from __future__ import annotations

from typing import Any

from dash import Input, Output, State, no_update

from components import ids, specs, url_state
from components.callbacks import parse
from components.controls import compare_options, plane_value, weight_options
from components.layout import panels_class
from components.viewstate import ViewState
from theory import ParameterError, presets

# "mode" (and "compare") come as Inputs; sync_state receives "compare" first among the
# other controls (the order of parse.CONTROLS), every other control is read as State.
_NAMES, _MODE_INPUT, _STATES = parse.dependencies({"mode"})
_COMPARE_STATE = 0  # index of "compare" in _STATES (parse.CONTROLS[1])
#: Controls that apply to some cells only: (state name, control id, wrapper id).
SWITCHED = (("phi", ids.PHI, ids.PHI_WRAP),
            *((n, ids.control(n), ids.wrap(n)) for n in specs.ADVANCED_SLIDERS),
            ("gru_variant", ids.GRU_VARIANT, ids.GRU_VARIANT_WRAP),
            ("closure", ids.CLOSURE, ids.CLOSURE_WRAP))


def outputs() -> list[Output]:
    """Every property written by :func:`sync_state`, in order."""
    outs = [Output(i, p) for _, i, p in parse.CONTROLS]
    for name in specs.SLIDERS:
        outs += [Output(ids.control(name), "min"), Output(ids.control(name), "max")]
    for _, control, wrapper in SWITCHED:
        outs += [Output(control, "disabled"), Output(wrapper, "title")]
    outs += [Output(ids.WEIGHTS, "options"), Output(ids.WEIGHTS_WRAP, "title"),
             Output(ids.COMPARE, "options"),
             Output(ids.PANELS, "className"),
             Output(ids.NOTICE, "children"), Output(ids.NOTICE, "hidden"),
             Output(ids.READY, "data"),
             Output(ids.PRESET_CAPTION, "children"), Output(ids.PRESET, "value")]
    return outs


def inputs() -> list[Input]:
    """URL, architecture, compared cell, diagram click, the sample and simulate buttons,
    preset and reset."""
    return [Input(ids.URL, "search"), *_MODE_INPUT, Input(ids.COMPARE, "value"),
            Input(ids.PHASE_GRAPH, "clickData"),
            Input(ids.SAMPLE_BUTTON, "n_clicks"), Input(ids.CLEAR_BUTTON, "n_clicks"),
            Input(ids.SIMULATE_BUTTON, "n_clicks"), Input(ids.SIMULATE_CLEAR, "n_clicks"),
            Input(ids.PRESET, "value"), Input(ids.RESET, "n_clicks")]


def states() -> list[State]:
    """Every control but the architecture and the compared cell (the old state)."""
    return [st for i, st in enumerate(_STATES) if i != _COMPARE_STATE]


def sync_state(trigger: str | None, search: str | None, mode: str | None,
               click: dict | None, *controls: Any, preset: str | None = None) -> tuple:
    """Outputs for the control that fired (``trigger`` is its id).

    ``controls`` are the values of every control but the architecture, in the
    order of :func:`states`; ``preset`` is the preset dropdown's value.
    """
    old = parse.parse(_NAMES, (mode, *controls))
    notices: list[str] | None = None
    ranges = False
    caption: Any = no_update
    clear_preset: Any = no_update
    if trigger == ids.PRESET and preset:
        new, caption = apply_preset(old, preset)
        ranges, notices = True, []
    elif trigger == ids.RESET:
        new, ranges, notices = ViewState.default(old.mode), True, []
        caption, clear_preset = "Reset to the start view.", None
    elif trigger == ids.MODE and mode in specs.MODES:
        new, ranges, notices = _switch_mode(old, mode), True, []
    elif trigger == ids.COMPARE:  # old already holds the new cell: new ranges, clamped
        new, ranges, notices = old, True, []
    elif trigger == ids.PHASE_GRAPH and click:
        new = _clicked(old, click)
    elif trigger in (ids.SAMPLE_BUTTON, ids.CLEAR_BUTTON):
        new = old.replace(sample=trigger == ids.SAMPLE_BUTTON)
    elif trigger in (ids.SIMULATE_BUTTON, ids.SIMULATE_CLEAR):
        new = old.replace(simulate=trigger == ids.SIMULATE_BUTTON)
    elif trigger in (None, ids.URL):
        new, notices = url_state.decode(search)
        ranges = True
    else:
        new = old
    return (*_outputs(old, new, ranges, notices), caption, clear_preset)


def apply_preset(old: ViewState, name: str) -> tuple[ViewState, str]:
    """``old`` with preset ``name`` applied, and the caption to show.

    The preset's architecture defaults are loaded first (sampling, grid, N, seed,
    k and phi are kept); the minimalRNN critical preset uses the current T and,
    in a minimalRNN view, the current input statistics (theory.md 6.3).
    """
    gated = old.mode != "vanilla"
    try:
        values, caption = presets.resolve(
            name, T=old.T, sigma_v=old.sigma_v if gated else 1.0,
            R=old.R if gated else 1.0, sigma_b=old.sigma_b if gated else 0.0)
    except ParameterError as exc:
        return old, f"Preset not applied: {exc}"
    keep = {k: getattr(old, k) for k in ("phi", "weights", "T", "k", "n", "N", "seed",
                                         "sample", "simulate")}
    changes = {k: v for k, v in values.items() if k != "mode"}
    start = ViewState.default(values["mode"])
    compare = old.compare if old.compare not in ("", values["mode"]) else ""
    new = start.replace(compare=compare, **{**keep, **changes})
    p = presets.PRESETS[name]
    return new, f"{p.label}: {caption} Source: {p.source}."


def _switch_mode(old: ViewState, mode: str) -> ViewState:
    """Defaults and plane of ``mode``, keeping the compared cell (unless it is ``mode``),
    T, timescale, grid, sampling, simulation and a k that was moved off its default
    (measured or assumed, per architecture)."""
    keep = {k: getattr(old, k) for k in ("phi", "weights", "T", "k", "field", "n",
                                         "N", "seed", "sample", "simulate")}
    # a k at an architecture's default (measured or assumed) follows the architecture;
    # ``old`` already carries the new mode, so every mode's default counts
    if old.k in {ViewState.default(m).k for m in specs.MODES}:
        del keep["k"]
    compare = old.compare if old.compare != mode else ""
    return ViewState.default(mode).replace(compare=compare, **keep)


def _clicked(old: ViewState, click: dict) -> ViewState:
    """``old`` with the plane's parameters set to the clicked point.

    A click near a line reports the line's nearest vertex as well; the heatmap's
    cell (the point that has a ``z``) is preferred.
    """
    try:
        points = click["points"]
        pt = next((p for p in points if "z" in p), points[0])
        return old.replace(**{old.x: float(pt["x"]), old.y: float(pt["y"])})
    except (KeyError, IndexError, TypeError, ValueError):
        return old


def control_values(s: ViewState) -> dict[str, Any]:
    """Value of each control (by state field) that shows ``s``."""
    out = {name: getattr(s, name) for name in parse.NAMES if name != "plane"}
    out["plane"] = plane_value(s.x, s.y)
    out["compare"] = s.compare or specs.NO_COMPARE
    return out


def _outputs(old: ViewState, new: ViewState, ranges: bool,
             notices: list[str] | None) -> tuple:
    before, after = control_values(old), control_values(new)
    # after a mode switch or a URL load every control is rewritten (ranges changed)
    vals = [after[n] if ranges or after[n] != before[n] else no_update for n in parse.NAMES]
    rng: list[Any] = []
    for name in specs.SLIDERS:
        lo, hi = specs.slider_range(new.ranges, name)
        rng += [lo, hi] if ranges else [no_update, no_update]
    extra = applicability(new) if ranges else [no_update] * (2 * len(SWITCHED) + 4)
    if notices is None:
        note = [no_update, no_update]
    else:
        note = [("Link: " + "; ".join(notices)) if notices else "", not notices]
    return (*vals, *rng, *extra, *note, True)


def applicability(s: ViewState) -> list[Any]:
    """Disabled flags and tooltips of the cell-specific controls, weight and compare
    options, and the panel grid's class, for view ``s`` (``specs.disabled_why``)."""
    why = specs.disabled_why(s.archs)
    out: list[Any] = []
    for name, _, _ in SWITCHED:
        out += [name in why, why.get(name) or specs.APPLIES_TO[name]]
    weights_why = ("" if s.gated else "Block-orthogonal W (one orthogonal matrix cut into "
                   "gate blocks, Keras and Flax-nnx) applies to the GRU and the LSTM only")
    return [*out, weight_options(s.gated), weights_why, compare_options(s.mode),
            panels_class(s)]
