"""Input parsers and output writers of the command line (:mod:`theory.cli`).

Parsers (``number``, ``param_type``, ``float_in``, ``int_in``, ``axis``) turn
one flag's text into a value or raise ``argparse.ArgumentTypeError`` with a
one-line message (argparse prefixes the flag); ``OneLineParser``,
``flag_message`` and ``join_negative_values`` keep every error to one line
naming the flag. Writers turn finished results into strict JSON, readable
tables or grid files. Nothing here computes theory. JSON is strict
(``allow_nan=False``): every non-finite number becomes ``null``, so ``xi_*``
is ``null`` where the matching chi >= 1 (theory.md section 11).

Grid files (``write_grid``), chosen by the extension of the path:

* ``.npz``: the two axes under their parameter names (1-D), one 2-D float64
  array of shape ``(len(y), len(x))`` per quantity under its section-11 name,
  ``x_name``/``y_name`` (0-d strings) and ``params`` (the fixed parameters as a
  JSON string). Non-finite values are kept (``inf``/``nan``).
* ``.json``: the same keys; 2-D arrays as lists of rows; non-finite -> ``null``.
* ``.csv``: long format, one row per grid node in row-major (y-major) order,
  columns ``<x_name>, <y_name>`` then every quantity; floats are written with
  ``repr`` (exact round trip), non-finite as ``inf``/``-inf``/``nan``.

Example
-------
>>> to_jsonable({"a": float("inf"), "b": [1.0, float("nan")]})
{'a': None, 'b': [1.0, None]}
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import math
from pathlib import Path
from typing import Any, NoReturn, TextIO

import numpy as np

from theory.types import (
    OVERRIDE_RANGES,
    PARAM_RANGES,
    PLANE_PARAMS,
    ParameterError,
    check_number,
    override_names,
)

#: File extensions ``write_grid`` understands.
GRID_FORMATS = (".npz", ".csv", ".json")
MAX_AXIS_POINTS = 1000  # a grid is at most 1000 x 1000 nodes

__all__ = [
    "GRID_FORMATS",
    "OneLineParser",
    "axis",
    "dumps",
    "flag_message",
    "flag_of",
    "float_in",
    "int_in",
    "join_negative_values",
    "number",
    "param_type",
    "print_columns",
    "print_mapping",
    "to_jsonable",
    "write_grid",
]


def number(text: str) -> float:
    """A finite float, or ArgumentTypeError."""
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(x):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return x


def param_type(name: str):
    """Parser of a section-11 parameter: a finite float in ``PARAM_RANGES[name]``."""

    def parse(text: str) -> float:
        try:
            return check_number(name, number(text))
        except ParameterError as exc:
            raise argparse.ArgumentTypeError(str(exc).split(": ", 1)[-1]) from None

    parse.__name__ = name
    return parse


def override_type(name: str):
    """Parser of a per-gate override (``sigma_w_g`` ...): a finite float in its range."""

    def parse(text: str) -> float:
        try:
            return check_number(name, number(text), OVERRIDE_RANGES[name.rsplit("_", 1)[0]])
        except ParameterError as exc:
            raise argparse.ArgumentTypeError(str(exc).split(": ", 1)[-1]) from None

    parse.__name__ = name
    return parse


def float_in(lo: float, hi: float):
    """Parser of a finite float in ``(lo, hi]``."""

    def parse(text: str) -> float:
        x = number(text)
        if not lo < x <= hi:
            raise argparse.ArgumentTypeError(f"{x:g} is outside ({lo:g}, {hi:g}]")
        return x

    return parse


def int_in(lo: int, hi: int):
    """Parser of an integer in ``[lo, hi]``."""

    def parse(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if not lo <= n <= hi:
            raise argparse.ArgumentTypeError(f"{n} is outside [{lo}, {hi}]")
        return n

    return parse


def axis(text: str) -> tuple[str, np.ndarray]:
    """Parse ``NAME:START:STOP:NUM[:log]`` into ``(name, values)``."""
    parts = text.split(":")
    if len(parts) not in (4, 5) or (len(parts) == 5 and parts[4] not in ("lin", "log")):
        raise argparse.ArgumentTypeError(f"expected NAME:START:STOP:NUM[:log], got {text!r}")
    name = parts[0].strip().replace("-", "_")
    if name not in PLANE_PARAMS:
        raise argparse.ArgumentTypeError(f"{parts[0]!r} is not one of {', '.join(PLANE_PARAMS)}")
    try:
        start, stop = (check_number(name, number(s)) for s in parts[1:3])
    except (argparse.ArgumentTypeError, ParameterError) as exc:
        msg = str(exc).removeprefix(f"{name}: ")
        raise argparse.ArgumentTypeError(f"START/STOP of {name}: {msg}") from None
    num = int_in(2, MAX_AXIS_POINTS)(parts[3])
    if not start < stop:
        raise argparse.ArgumentTypeError(f"START must be < STOP, got {text!r}")
    if len(parts) == 5 and parts[4] == "log":
        if start <= 0:
            raise argparse.ArgumentTypeError(f"a log axis needs START > 0, got {text!r}")
        return name, np.geomspace(start, stop, num)
    return name, np.linspace(start, stop, num)


# --- command-line flags and errors --------------------------------------------
#: Names used by theory error messages -> the flag a user typed.
_FLAGS = {name: "--" + name.replace("_", "-") for name in PARAM_RANGES}
_FLAGS.update(
    {
        "R": "--R",
        "Sigma": "--Sigma",
        "T": "--T",
        "q_star": "--q-star",
        "N": "--sample",
        "delta": "--delta",
        "n_points": "--n-points",
        "phi": "--phi",
        "weights": "--weights",
        "arch": "--arch",
        "x": "--x",
        "y": "--y",
        "seed": "--seed",
        "out": "--out",
        "gru_variant": "--gru-variant",
        "closure": "--closure",
        "overrides": "--sigma-w-<gate>",
        "gate": "--arch",
    }
)
_FLAGS.update({name: "--" + name.replace("_", "-")
               for arch in ("gru", "lstm") for variant in ("reset_after", "reset_before")
               for name in override_names(arch, variant)})


class OneLineParser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        text = " ".join(message.split())
        self.exit(2, f"{self.prog}: error: {text} (see --help)\n")


def flag_of(name: str) -> str:
    """The command-line flag of a parameter name (``sigma_w`` -> ``--sigma-w``)."""
    return _FLAGS.get(name, "--" + name.replace("_", "-"))


def join_negative_values(argv: list[str], parser: argparse.ArgumentParser) -> list[str]:
    """Turn ``--mu-b -1e-3`` into ``--mu-b=-1e-3`` (argparse takes it for a flag)."""
    takes_value = {
        s
        for a in _all_actions(parser)
        if a.nargs is None
        for s in a.option_strings
        if s.startswith("--")
    }
    out: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        nxt = argv[i + 1] if i + 1 < len(argv) else ""
        if a in takes_value and nxt.startswith("-") and not nxt.startswith("--"):
            out.append(f"{a}={nxt}")
            i += 2
        else:
            out.append(a)
            i += 1
    return out


def _all_actions(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    actions = list(parser._actions)
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            for sp in a.choices.values():
                actions += sp._actions
    return actions


def flag_message(exc: Exception) -> str:
    """One line from a theory error, its leading parameter name turned into the flag."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    name, sep, rest = text.partition(": ")
    if sep and name in _FLAGS:
        return f"argument {_FLAGS[name]}: {rest}"
    return text


# --- output ------------------------------------------------------------------------
def to_jsonable(obj: Any) -> Any:
    """Recursively convert ``obj`` to plain JSON types; non-finite floats -> None.

    Handles dataclasses, dicts, lists/tuples, NumPy arrays and scalars.
    """
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return to_jsonable(dataclasses.asdict(obj))
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return to_jsonable(obj.item())
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    return obj


def dumps(obj: Any) -> str:
    """Strict JSON text of ``obj`` (no NaN/Infinity tokens)."""
    return json.dumps(to_jsonable(obj), allow_nan=False)


def _fmt(v: Any) -> str:
    if v is None or v == "":
        return "-"
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return "nan" if math.isnan(v) else f"{v:.10g}"
    return str(v)


def print_mapping(d: dict[str, Any], out: TextIO) -> None:
    """Print ``key  value`` lines, keys padded to one column."""
    width = max((len(k) for k in d), default=0)
    out.writelines(f"{k:<{width}}  {_fmt(v)}\n" for k, v in d.items())


def print_columns(cols: dict[str, Any], out: TextIO, max_rows: int = 0) -> None:
    """Print equal-length 1-D arrays as aligned columns.

    ``max_rows > 0`` prints about that many evenly spaced rows (first and last
    always included).
    """
    names = list(cols)
    n = len(cols[names[0]]) if names else 0
    rows = np.arange(n)
    if 0 < max_rows < n:
        rows = np.unique(np.linspace(0, n - 1, max_rows).round().astype(int))
    out.write("  ".join(f"{k:>14}" for k in names) + "\n")
    out.writelines("  ".join(f"{_fmt(cols[k][i]):>14}" for k in names) + "\n" for i in rows)


def grid_arrays(g: Any) -> dict[str, np.ndarray]:
    """Axes (under their parameter names) and fields of a ``GridResult``."""
    arrays = {g.x_name: np.asarray(g.x, float), g.y_name: np.asarray(g.y, float)}
    for name, arr in g.fields.items():
        arrays[name] = np.asarray(arr, float)
    return arrays


def _write_npz(g: Any, path: Path) -> None:
    arrays = grid_arrays(g)
    meta = {
        "x_name": np.array(g.x_name),
        "y_name": np.array(g.y_name),
        "params": np.array(dumps(g.params.to_dict())),
    }
    with path.open("wb") as fh:
        np.savez(fh, **arrays, **meta)


def _write_json(g: Any, path: Path) -> None:
    doc: dict[str, Any] = {
        "x_name": g.x_name,
        "y_name": g.y_name,
        "params": g.params.to_dict(),
    }
    doc.update(grid_arrays(g))
    path.write_text(dumps(doc) + "\n", encoding="utf-8")


def _write_csv(g: Any, path: Path) -> None:
    names = list(g.fields)
    xx, yy = np.meshgrid(np.asarray(g.x, float), np.asarray(g.y, float))
    columns = [xx.ravel(), yy.ravel()]
    columns += [np.asarray(g.fields[k], float).ravel() for k in names]
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow([g.x_name, g.y_name, *names])
        for row in zip(*(c.tolist() for c in columns), strict=True):
            w.writerow([repr(v) for v in row])


def write_grid(g: Any, path: str | Path) -> None:
    """Write a ``GridResult`` to ``path``; the format follows the extension.

    Raises
    ------
    ValueError
        If the extension is not one of ``GRID_FORMATS``.
    OSError
        If the file cannot be written.
    """
    path = Path(path)
    writers = {".npz": _write_npz, ".csv": _write_csv, ".json": _write_json}
    suffix = path.suffix.lower()
    if suffix not in writers:
        raise ValueError(f"unknown extension {path.suffix!r} (use .npz, .csv or .json)")
    writers[suffix](g, path)
