"""Parse step shared by every callback: control values -> :class:`ViewState`.

``CONTROLS`` lists (state field, component id, property) for every control; a
callback subscribes to the fields it depends on as ``Input`` and receives the
others as ``State`` (:func:`dependencies`), so, e.g., the sampling seed does not
redraw the phase diagram. :func:`parse` never raises: a value the browser sends
that is missing or invalid (an emptied number box) falls back to the mode's
default.

Example
-------
>>> names, inputs, states = dependencies({"sigma_w"})
>>> names[0], len(inputs), len(inputs) + len(states) == len(CONTROLS)
('sigma_w', 1, True)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from dash import Input, State

from components import ids, specs
from components.viewstate import ViewState

CONTROLS: tuple[tuple[str, str, str], ...] = (
    ("mode", ids.MODE, "value"),
    ("compare", ids.COMPARE, "value"),
    ("phi", ids.PHI, "value"),
    ("weights", ids.WEIGHTS, "value"),
    *((name, ids.control(name), "value") for name in specs.SLIDERS),
    ("plane", ids.PLANE, "value"),
    ("field", ids.FIELD, "value"),
    ("n", ids.GRID_N, "value"),
    ("N", ids.N, "value"),
    ("seed", ids.SEED, "value"),
    ("sample", ids.SAMPLE, "data"),
    ("gru_variant", ids.GRU_VARIANT, "value"),
    ("closure", ids.CLOSURE, "value"),
    ("simulate", ids.SIMULATE, "data"),
)
NAMES = tuple(c[0] for c in CONTROLS)
#: Value of the "Compare with" dropdown when one cell is shown (ViewState.compare "").
NO_COMPARE = specs.NO_COMPARE

#: What each panel depends on (the rest is passed as State). N enters the phase
#: diagram through the framework-default markers (PyTorch's bias spread depends on the
#: width); the memory panel's simulated network, when shown, on SIMULATION_DEPS too.
PHASE_DEPS = frozenset(NAMES) - {"weights", "seed", "sample", "simulate"}
MEMORY_DEPS = frozenset(NAMES) - {"weights", "N", "seed", "sample", "n"}
SIMULATION_DEPS = frozenset({"weights", "N", "seed"})
SPECTRUM_DEPS = frozenset(NAMES) - {"plane", "field", "n", "k", "simulate"}


def dependencies(deps: Iterable[str]) -> tuple[list[str], list[Input], list[State]]:
    """Field order, ``Input`` list and ``State`` list for a callback on ``deps``."""
    deps = set(deps)
    ins = [c for c in CONTROLS if c[0] in deps]
    sts = [c for c in CONTROLS if c[0] not in deps]
    names = [c[0] for c in ins] + [c[0] for c in sts]
    return (names, [Input(i, p) for _, i, p in ins], [State(i, p) for _, i, p in sts])


def parse(names: Sequence[str], values: Sequence[Any]) -> ViewState:
    """The view held by control ``values`` (in the order of ``names``)."""
    raw = dict(zip(names, values, strict=True))
    mode = raw.get("mode")
    legacy = mode == "both"  # old side-by-side value: vanilla compared with minimal
    state = ViewState.default(mode if mode in specs.MODES or legacy else "vanilla")
    if not legacy and raw.get("compare") not in (None, NO_COMPARE):
        state = _apply(state, "compare", raw["compare"])
    for name, value in raw.items():
        if name in ("mode", "compare") or value is None or _holds(state, name, value):
            continue
        state = _apply(state, name, value)
    return state


def _holds(state: ViewState, name: str, value: Any) -> bool:
    """Whether ``state`` already has ``value`` for control ``name`` (then applying it
    would give the same state: each ``replace`` re-checks the whole view, ~0.1 ms)."""
    if name == "plane":
        return value == f"{state.x},{state.y}"
    current = getattr(state, name, None)
    return type(value) is type(current) and value == current


def _apply(state: ViewState, name: str, value: Any) -> ViewState:
    """``state`` with one control value applied, unchanged if the value is bad."""
    try:
        if name == "plane":
            x, y = str(value).split(",")
            return state.replace(x=x, y=y)
        if name in ("n", "N", "seed"):
            return state.replace(**{name: int(value)})
        if name in ("sample", "simulate"):  # a JSON boolean (0/1 accepted), never "false"
            if isinstance(value, bool) or value in (0, 1):
                return state.replace(**{name: bool(value)})
            return state
        return state.replace(**{name: value})
    except (TypeError, ValueError, OverflowError):
        return state
