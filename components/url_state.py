"""The permalink: encode a :class:`ViewState` as a query string and back.

Keys are the section-11 names of ``shared/theory.md`` (``sigma_w``, ``mu_b``,
``T`` ...) plus ``arch`` (the cell: ``vanilla``/``minimal``/``gru``/``lstm``; old
links' ``both`` means the vanilla RNN compared with the minimalRNN), ``x``/``y`` (the
plane), ``xi`` (the timescale shown), ``n`` (grid points per axis), ``N``/``seed``
(the sampled network), ``sample`` (0/1) and ``v``, the schema version. Schema 1's
whitelist was extended (older links still load) by ``vs`` (the cell compared,
``none`` for none), the advanced gated-cell values ``mu_i``, ``mu_o``, ``mu_r``,
``gv`` (GRU variant), ``cl`` (LSTM closure; gated-cells.md 10) and ``sim`` (0/1,
the memory panel's simulated real network).

:func:`decode` never raises: unknown keys, bad or out-of-range values and
another schema version fall back to defaults or clamped values and are listed
in the returned notices, which the page shows.

Example
-------
>>> s = ViewState.default("minimal").replace(sigma_w=3.5)
>>> decode(encode(s))[0] == s
True
>>> decode("?sigma_w=abc")[1]
["sigma_w: 'abc' is not a number; using 1.2"]
"""

from __future__ import annotations

import math
from urllib.parse import parse_qsl, urlencode

from components import specs
from components.viewstate import ViewState, quantise
from theory import PHIS, PLANE_PARAMS
from theory.types import CLOSURES, GRU_VARIANTS

SCHEMA_VERSION = 1
#: Every key the URL may hold, in the order they are written.
KEYS = ("v", "arch", "phi", "weights", *specs.PARAM_NAMES, "T", "k", "x", "y", "xi",
        "n", "N", "seed", "sample", "vs", *specs.ADVANCED_SLIDERS, "gv", "cl", "sim")
#: URL key -> ViewState field, where they differ.
FIELD_OF = {"arch": "mode", "vs": "compare", "xi": "field", "gv": "gru_variant",
            "cl": "closure", "sim": "simulate"}
NO_COMPARE = specs.NO_COMPARE
_FLAGS01 = ("sample", "sim")
#: Keys of the trainability panel's own controls (map, checkpoint, view; decoded by
#: components/trainability_panel.py). Not part of the view: decode skips them and
#: assets/app.js keeps them in the address bar like the flags below.
PANEL_KEYS = ("tmap", "tstep", "tview")
#: Display flags of presentation mode (not part of the view; ``assets/app.js``
#: keeps them in the address bar, ``assets/present.js`` applies them), and the
#: panel keys. Adding them extended the whitelist of schema version 1: older links
#: still load.
FLAG_KEYS = ("present", "theme", "hide", *PANEL_KEYS)
THEMES = ("light", "dark")
#: Names ``hide=`` accepts: the explanations, side-bar sections, panels, controls.
HIDEABLE = ("explanations", "presets", "export", "phase", "spectrum", "readout", "memory",
            "arch", "phi", "weights", *specs.SLIDERS, "plane", "xi", "n", "N", "seed",
            "trainability")
_CHOICES = {"phi": PHIS, "weights": specs.WEIGHTS, "xi": tuple(f[3:] for f in specs.FIELDS),
            "gv": GRU_VARIANTS, "cl": CLOSURES}


def encode(state: ViewState) -> str:
    """Query string (with the leading ``?``) holding the whole view."""
    d = state.to_dict()
    values = {"v": SCHEMA_VERSION, "xi": state.field[3:], "vs": state.compare or NO_COMPARE,
              **{key: int(d[FIELD_OF.get(key, key)]) for key in _FLAGS01}}
    for key in KEYS:
        if key not in values:
            values[key] = _fmt(d[FIELD_OF.get(key, key)])
    return "?" + urlencode([(k, values[k]) for k in KEYS])


def _fmt(v: object) -> object:
    if isinstance(v, float):
        return repr(int(v)) if v.is_integer() else repr(v)
    return v


def decode(search: str | None) -> tuple[ViewState, list[str]]:
    """The view held by ``search`` and the notices about what was ignored."""
    if not isinstance(search, str):  # a forged request can send any JSON value
        search = ""
    pairs = parse_qsl(search.lstrip("?"), keep_blank_values=True)
    raw: dict[str, str] = {}
    notices: list[str] = []
    for key, value in pairs:
        if key in FLAG_KEYS:
            continue
        if key not in KEYS:
            notices.append(f"unknown link key {key!r} ignored")
        else:
            raw[key] = value
    if "v" in raw and raw["v"] != str(SCHEMA_VERSION):
        notices.append(f"link schema version {raw['v']!r} is not {SCHEMA_VERSION}; "
                       "values read as version 1")
    base = _base(raw, notices)
    changes = _choices(raw, base, notices)
    changes.update(_numbers(raw, base, notices))
    changes.update(_plane(raw, base, notices))
    notices += flags(search)[1]
    return base.replace(**changes), notices


def _base(raw: dict[str, str], notices: list[str]) -> ViewState:
    """Start view of the link's cell (``arch``) and the cell compared (``vs``)."""
    mode = raw.get("arch", "vanilla")
    if mode == "both":  # old links: vanilla beside the minimalRNN
        return ViewState.default("both")
    if mode not in specs.MODES:
        notices.append(f"arch: {mode!r} is not one of {', '.join(specs.MODES)}; using vanilla")
        mode = "vanilla"
    base = ViewState.default(mode)
    compare = raw.get("vs", NO_COMPARE)
    if compare in ("", NO_COMPARE):
        return base
    if compare not in specs.MODES or compare == mode:
        others = ", ".join(m for m in specs.MODES if m != mode)
        notices.append(f"vs: {compare!r} is not {NO_COMPARE} or one of {others}; using "
                       f"{NO_COMPARE}")
        return base
    return base.replace(compare=compare)


def flags(search: str | None) -> tuple[dict, list[str]]:
    """Presentation flags of ``search``: ``{"present": bool, "theme": str, "hide": [...]}``.

    Unknown values are dropped with a notice (never an error).
    """
    raw = dict(parse_qsl((search or "").lstrip("?"), keep_blank_values=True))
    out: dict = {"present": False, "theme": "light", "hide": []}
    notices: list[str] = []
    if "present" in raw:
        if raw["present"] in ("0", "1"):
            out["present"] = raw["present"] == "1"
        else:
            notices.append(f"present: {raw['present']!r} is not 0 or 1; using 0")
    if "theme" in raw:
        if raw["theme"] in THEMES:
            out["theme"] = raw["theme"]
        else:
            notices.append(f"theme: {raw['theme']!r} is not one of light, dark; using light")
    for name in filter(None, raw.get("hide", "").split(",")):
        if name in HIDEABLE:
            out["hide"].append(name)
        else:
            notices.append(f"hide: {name!r} is not one of {', '.join(HIDEABLE)}; ignored")
    return out, notices


def _choices(raw: dict[str, str], base: ViewState, notices: list[str]) -> dict:
    out: dict[str, object] = {}
    for key, choices in _CHOICES.items():
        if key not in raw:
            continue
        if raw[key] in choices:
            out[FIELD_OF.get(key, key)] = ("xi_" + raw[key]) if key == "xi" else raw[key]
        else:
            default = base.field[3:] if key == "xi" else getattr(base, FIELD_OF.get(key, key))
            notices.append(f"{key}: {raw[key]!r} is not one of {', '.join(choices)}; "
                           f"using {default}")
    if out.get("weights") == "block-orthogonal" and not base.gated:
        notices.append("weights: 'block-orthogonal' applies to the GRU and the LSTM only; "
                       "using orthogonal")
        out["weights"] = "orthogonal"
    for key in _FLAGS01:
        if key not in raw:
            continue
        if raw[key] in ("0", "1"):
            out[FIELD_OF.get(key, key)] = raw[key] == "1"
        else:
            notices.append(f"{key}: {raw[key]!r} is not 0 or 1; using 0")
    return out


def _numbers(raw: dict[str, str], base: ViewState, notices: list[str]) -> dict:
    out: dict[str, object] = {}
    for key in (*specs.SLIDERS, "n", "N", "seed"):
        if key not in raw:
            continue
        default = getattr(base, key)
        try:
            x = float(raw[key])
        except ValueError:
            notices.append(f"{key}: {raw[key]!r} is not a number; using {default}")
            continue
        if not math.isfinite(x):
            notices.append(f"{key}: {raw[key]!r} is not finite; using {default}")
            continue
        value, note = _clamp(key, x, base.ranges)
        if note:
            notices.append(note)
        out[key] = value
    return out


def _clamp(key: str, x: float, ranges: str) -> tuple[object, str]:
    """Clamped/rounded value and a notice if it had to move."""
    if key == "n":
        n = min(specs.GRID_SIZES, key=lambda g: abs(g - x))
        return n, "" if n == x else f"n: {x:g} is not one of {specs.GRID_SIZES}; using {n}"
    if key in ("N", "seed"):
        lo, hi = specs.N_RANGE if key == "N" else specs.SEED_RANGE
    else:
        lo, hi = specs.slider_range(ranges, key)
    v = min(max(x, lo), hi)
    if key in ("N", "seed"):
        v = int(round(v))
    else:
        v = quantise(key, v, lo, hi)
    return v, "" if lo <= x <= hi else f"{key}: {x:g} is outside [{lo:g}, {hi:g}]; using {v}"


def _plane(raw: dict[str, str], base: ViewState, notices: list[str]) -> dict:
    x, y = raw.get("x", base.x), raw.get("y", base.y)
    if (x, y) in specs.PLANES:
        return {"x": x, "y": y}
    if "x" in raw or "y" in raw:
        notices.append(f"plane ({x}, {y}) is not two different parameters of "
                       f"{', '.join(PLANE_PARAMS)}; using ({base.x}, {base.y})")
    return {}
