"""The single writer of control values.

One callback owns every control's ``value`` (and the slider ranges and the
disabled flags that depend on the architecture), so Dash never sees two writers
of one property. It reacts to:

* the URL (page load or an opened permalink): decode, clamp, show notices;
* the architecture radio: load that architecture's defaults and plane;
* a click on the phase diagram: move the current point there;
* the sample / clear buttons: switch the sampled-network overlay;
* the preset dropdown (``theory/presets.py``) and the Reset button.

Only values that change are sent (``no_update`` otherwise), so unchanged panels
are not recomputed.
"""

from __future__ import annotations

from typing import Any

from dash import Input, Output, State, no_update

from components import ids, specs, url_state
from components.callbacks import parse
from components.controls import plane_value
from components.layout import panels_class
from components.viewstate import ViewState
from theory import ParameterError, presets

# "mode" comes as an Input; every other control is read as State.
_NAMES, _MODE_INPUT, _STATES = parse.dependencies({"mode"})


def outputs() -> list[Output]:
    """Every property written by :func:`sync_state`, in order."""
    outs = [Output(i, p) for _, i, p in parse.CONTROLS]
    for name in specs.SLIDERS:
        outs += [Output(ids.control(name), "min"), Output(ids.control(name), "max")]
    outs += [Output(ids.PHI, "disabled"), Output(ids.PHI_WRAP, "title"),
             Output(ids.PANELS, "className"),
             Output(ids.NOTICE, "children"), Output(ids.NOTICE, "hidden"),
             Output(ids.READY, "data"),
             Output(ids.PRESET_CAPTION, "children"), Output(ids.PRESET, "value")]
    return outs


def inputs() -> list[Input]:
    """URL, architecture, diagram click, the sample buttons, preset and reset."""
    return [Input(ids.URL, "search"), *_MODE_INPUT, Input(ids.PHASE_GRAPH, "clickData"),
            Input(ids.SAMPLE_BUTTON, "n_clicks"), Input(ids.CLEAR_BUTTON, "n_clicks"),
            Input(ids.PRESET, "value"), Input(ids.RESET, "n_clicks")]


def states() -> list[State]:
    """Every control but the architecture (the old state)."""
    return list(_STATES)


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
    elif trigger == ids.PHASE_GRAPH and click:
        new = _clicked(old, click)
    elif trigger in (ids.SAMPLE_BUTTON, ids.CLEAR_BUTTON):
        new = old.replace(sample=trigger == ids.SAMPLE_BUTTON)
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
                                         "sample")}
    changes = {k: v for k, v in values.items() if k != "mode"}
    new = ViewState.default(values["mode"]).replace(**{**keep, **changes})
    p = presets.PRESETS[name]
    return new, f"{p.label}: {caption} Source: {p.source}."


def _switch_mode(old: ViewState, mode: str) -> ViewState:
    """Defaults and plane of ``mode``, keeping T, k, timescale, grid and sampling."""
    keep = {k: getattr(old, k) for k in ("phi", "weights", "T", "k", "field", "n",
                                         "N", "seed", "sample")}
    return ViewState.default(mode).replace(**keep)


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
    return out


def _outputs(old: ViewState, new: ViewState, ranges: bool,
             notices: list[str] | None) -> tuple:
    before, after = control_values(old), control_values(new)
    # after a mode switch or a URL load every control is rewritten (ranges changed)
    vals = [after[n] if ranges or after[n] != before[n] else no_update for n in parse.NAMES]
    rng: list[Any] = []
    for name in specs.SLIDERS:
        lo, hi = specs.slider_range(new.mode, name)
        rng += [lo, hi] if ranges else [no_update, no_update]
    why = specs.DISABLED_WHY[new.mode].get("phi", "")
    extra = ([bool(why), why or "φ: nonlinearity of the vanilla RNN", panels_class(new.mode)]
             if ranges else [no_update] * 3)
    if notices is None:
        note = [no_update, no_update]
    else:
        note = [("Link: " + "; ".join(notices)) if notices else "", not notices]
    return (*vals, *rng, *extra, *note, True)
