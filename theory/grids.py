"""Phase-diagram grids and critical lines in any plane of two parameters.

``grid(params, x=("sigma_w", xs), y=("sigma_b", ys))`` evaluates every quantity
of :func:`theory.point` on the tensor grid (the other parameters are taken from
``params``) and returns a :class:`~theory.types.GridResult`;
``critical_lines(result)`` extracts chi_jac = 1 (and, for the minimalRNN, the
saddle-node edges of the bistable region) as polylines.

Example
-------
>>> import numpy as np, theory
>>> g = theory.grid(theory.Params(), x=("sigma_w", np.linspace(0.5, 3, 20)),
...                 y=("sigma_b", np.linspace(0, 1, 10)))
>>> g["xi_jac"].shape
(10, 20)
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import contourpy
import numpy as np

from theory import _gate_roots, _grid, cells
from theory._gauss import SIGMOID
from theory._smooth_cache import low_profile_stack, moment_stack
from theory._solve import OUT_NAMES
from theory._tables import MU_TAB_MAX, build_table, table_at_mu
from theory.types import (
    PHASE_TOL,
    PLANE_PARAMS,
    CriticalLine,
    GridResult,
    ParameterError,
    Params,
    check_number,
)

#: Fields that need the 2-D (correlation) expectations; the expensive ones.
C_FIELDS = frozenset({"c_star", "C_star", "chi_c", "xi_c", "Cc_star"})
GRID_FIELDS = (
    "q_star", "Q_star", "c_star", "C_star", "chi_q", "chi_c", "chi_jac",
    "xi_q", "xi_c", "xi_jac", "exists", "bistable", "branch_high", "phase",
    "converged", "tau_jac",
)
MAX_GRID_POINTS = 1_000_000
MAX_AXIS_POINTS = 2000


@functools.lru_cache(maxsize=1024)
def _table(code: int, mu: float) -> np.ndarray:
    """The 1-D moment table at ``mu``: interpolated in mu from the cached stack."""
    if abs(mu) <= MU_TAB_MAX:
        return table_at_mu(moment_stack(code), mu)
    return build_table(code, mu)


@functools.lru_cache(maxsize=1024)
def _profile(mu: float) -> np.ndarray:
    """The gate profile at ``mu`` (``_gate_roots.fill_profile``) that gated grids walk."""
    if abs(mu) <= MU_TAB_MAX:
        low = _gate_roots.low_profile_at_mu(low_profile_stack(), mu)
    else:
        low = _gate_roots.low_profile(mu)
    prof = np.zeros((3, _gate_roots.N_PROFILE))
    return _gate_roots.fill_profile(_table(SIGMOID, mu), low, prof, 0.0, math.inf)


@functools.lru_cache(maxsize=4)
def _stacked(code: int, mus: tuple[float, ...], profiles: bool):
    tabs = np.stack([_table(code, mu) for mu in mus])
    if not profiles:
        return tabs
    return tabs, np.stack([_profile(mu) for mu in mus])


def stacked_tables(code: int, mus: np.ndarray, profiles: bool = False):
    """1-D moment tables (and, for the sigmoid, root profiles) of every ``mu``, stacked.

    Cached: a redrawn plane with the same mu values (the usual case: mu_b is not on
    an axis, or the axis did not change) reuses the stacks instead of copying ~10 MB.
    """
    return _stacked(code, tuple(float(mu) for mu in mus), profiles)


@dataclass(frozen=True)
class Plane:
    """The parameter arrays of a grid's nodes, shape (ny, nx), for a cell's grid kernel.

    ``sigma_w``, ``sigma_b``, ``sigma_v``, ``mu_b`` hold every node's value (the axes'
    values, the others constant). ``mus`` are the distinct ``mu_b`` values and
    ``tab_idx[j, i]`` the index of node (j, i)'s one in ``mus`` (one 1-D table each).
    """

    sigma_w: np.ndarray
    sigma_b: np.ndarray
    sigma_v: np.ndarray
    mu_b: np.ndarray
    mus: np.ndarray
    tab_idx: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.sigma_w.shape


def plane_of(p: Params, xn: str, xs: np.ndarray, yn: str, ys: np.ndarray) -> Plane:
    """The :class:`Plane` of the grid ``ys x xs`` (rows follow y)."""
    X, Y = np.meshgrid(xs, ys)
    arrays = {name: np.full(X.shape, float(getattr(p, name))) for name in PLANE_PARAMS}
    arrays[xn], arrays[yn] = X, Y
    # one table per distinct mu: from the mu axis if it is one (no sort of every node)
    if "mu_b" in (xn, yn):
        mus, inv = np.unique(xs if xn == "mu_b" else ys, return_inverse=True)
        tab_idx = np.broadcast_to(inv[None, :] if xn == "mu_b" else inv[:, None], X.shape)
    else:
        mus, tab_idx = np.array([p.mu_b]), np.zeros(X.shape)
    return Plane(*(np.ascontiguousarray(arrays[k])
                   for k in ("sigma_w", "sigma_b", "sigma_v", "mu_b")),
                 mus=mus, tab_idx=np.ascontiguousarray(tab_idx, dtype=np.int64))


def _check_axis(name: str, values: object) -> np.ndarray:
    if name not in PLANE_PARAMS:
        allowed = ", ".join(PLANE_PARAMS)
        raise ParameterError(f"{name}: not a plane parameter (use one of {allowed})")
    try:
        arr = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        raise ParameterError(f"{name}: axis values must be numbers") from None
    if arr.size < 1 or arr.size > MAX_AXIS_POINTS:
        raise ParameterError(f"{name}: an axis needs 1 to {MAX_AXIS_POINTS} points, got {arr.size}")
    for v in (arr.min(), arr.max()):
        check_number(name, v)
    if not np.all(np.isfinite(arr)):
        raise ParameterError(f"{name}: axis values must be finite")
    return arr


def grid(
    params: Params,
    x: tuple[str, object],
    y: tuple[str, object],
    fields: tuple[str, ...] | None = None,
) -> GridResult:
    """Every mean-field quantity on the grid ``y x x`` (theory.md sections 3, 4).

    Parameters
    ----------
    params : Params
        Supplies architecture, phi and the parameters not on an axis.
    x, y : (name, values)
        Axis parameter names (two different ones of ``PLANE_PARAMS``) and values.
    fields : tuple of str, optional
        Quantities wanted (default: all of ``GRID_FIELDS``; GRU and LSTM also offer
        their ``Cell.extra_names``, e.g. ``rho_tied``, ``Qc_star``). Leaving out the
        correlation fields (``C_FIELDS``) skips the 2-D expectations, which are
        several times more expensive than the rest.

    Returns
    -------
    GridResult
        ``fields[name]`` has shape (len(y), len(x)); xi is inf where chi >= 1,
        NaN where no fixed point exists (``exists`` = 0).
    """
    (xn, xv), (yn, yv) = x, y
    if xn == yn:
        raise ParameterError(f"{yn}: the two axes must be different parameters")
    xs, ys = _check_axis(xn, xv), _check_axis(yn, yv)
    if xs.size * ys.size > MAX_GRID_POINTS:
        raise ParameterError(f"{xn}: grid of {xs.size}x{ys.size} exceeds {MAX_GRID_POINTS} points")
    wanted = tuple(GRID_FIELDS if fields is None else fields)
    extra = cells.get(params.arch).extra_names
    unknown = set(wanted) - set(GRID_FIELDS) - set(extra)
    if unknown:
        raise ParameterError(f"fields: unknown {sorted(unknown)}")
    want_c = bool(C_FIELDS & set(wanted))
    raw = _raw_grid(params, xn, xs, yn, ys, want_c)
    out = _derived_fields(params, raw, wanted)
    return GridResult(params=params, x_name=xn, x=xs, y_name=yn, y=ys, fields=out)


def _raw_grid(p: Params, xn: str, xs: np.ndarray, yn: str, ys: np.ndarray,
              want_c: bool) -> np.ndarray:
    if xn == "mu_b" and want_c:
        # the kernels sweep rows; with mu constant along a row the cross table is
        # collapsed in mu once per row (``_cross_tables.set_mu``): transpose
        return np.swapaxes(_raw_grid(p, yn, ys, xn, xs, want_c), 1, 2).copy()
    return cells.get(p.arch).grid_raw(p, plane_of(p, xn, xs, yn, ys), want_c, stacked_tables)


def _derived_fields(p: Params, raw: np.ndarray, wanted: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The wanted fields: rows of ``raw`` (``_solve.OUT_NAMES``) and of the derived
    ones (``_grid.derive_fields``); each is a contiguous view, no copies."""
    derived = np.empty((len(_grid.DERIVED),) + raw.shape[1:])
    _grid.derive_fields(raw, cells.get(p.arch).has_branches, PHASE_TOL, derived)
    rows = dict(zip(OUT_NAMES, raw[:len(OUT_NAMES)], strict=True))
    rows.update(zip(cells.get(p.arch).extra_names, raw[len(OUT_NAMES):], strict=True))
    rows.update(zip(_grid.DERIVED, derived, strict=True))
    return {name: rows[name] for name in wanted}


def critical_lines(g: GridResult) -> list[CriticalLine]:
    """chi_jac = 1 and (minimalRNN) saddle-node lines of a computed grid.

    The chi_jac = 1 line is the 1-level contour of ``g["chi_jac"]`` (theory.md
    3.4 / 4.3), the saddle-node lines are the 0.5-level contour of the
    ``bistable`` indicator: both edges of the region with two stable fixed points
    (chi_q = 1 on each edge). Contours are traced with ``contourpy`` and are
    accurate to the grid spacing; ask for a finer grid for a finer line.

    Returns
    -------
    list of CriticalLine
    """
    branches = cells.get(g.params.arch).has_branches
    need = {"chi_jac"} | ({"bistable"} if branches else set())
    missing = need - set(g.fields)
    if missing:
        raise ParameterError(f"fields: critical_lines needs {sorted(missing)} in the grid")
    lines = [CriticalLine("chi_jac", g.x_name, g.y_name, _contour(g, g["chi_jac"], 1.0))]
    if branches:
        lines.append(CriticalLine("saddle_node", g.x_name, g.y_name,
                                  _contour(g, g["bistable"], 0.5)))
    return lines


def _contour(g: GridResult, z: np.ndarray, level: float) -> list[np.ndarray]:
    if g.x.size < 2 or g.y.size < 2:
        return []
    z = np.ma.masked_invalid(np.asarray(z, dtype=float))
    gen = contourpy.contour_generator(g.x, g.y, z, name="serial")
    return [np.asarray(seg) for seg in gen.lines(level) if len(seg) >= 2 and math.isfinite(level)]
