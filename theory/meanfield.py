"""Fixed points, slopes, timescales and trajectories at one parameter point.

``point(params)`` solves the mean-field maps of theory.md section 3 (vanilla RNN)
or section 4 (minimalRNN) and returns a :class:`~theory.types.PointResult`;
``trajectory(params, T)`` iterates them from h_0 = 0.

Example
-------
>>> from theory import Params, point
>>> r = point(Params(arch="vanilla", phi="linear", sigma_w=0.5, sigma_b=0.0,
...                  sigma_v=1.0, R=1.0))
>>> round(r.q_star, 12)  # (sigma_v^2 R) / (1 - sigma_w^2)
1.333333333333
"""

from __future__ import annotations

import numpy as np

from theory import cells
from theory.types import Params, PointResult, Trajectory, phase_of, xi_from_chi

MAX_T = 100_000


def _raw_point(p: Params) -> np.ndarray:
    """The cell kernel's output row for ``p`` (layout ``_solve.OUT_NAMES``)."""
    return cells.get(p.arch).point_row(p)


def branch_of(arch: str, chi_jac: float, bistable: bool) -> str | None:
    """Fixed-point branch reached from h_0 = 0 (cells with two branches, theory.md 4.3).

    In the bistable region h_0 = 0 selects the low branch. Outside it there is a
    single stable fixed point; we call it ``high`` where chi_jac > 1 (the
    continuation of the chaotic high-variance branch) and ``low`` otherwise.
    """
    if not cells.get(arch).has_branches:
        return None
    if bistable:
        return "low"
    return "high" if chi_jac > 1.0 else "low"


def point(params: Params) -> PointResult:
    """Mean-field fixed points, slopes chi and timescales xi at ``params``.

    Parameters
    ----------
    params : Params
        The initialisation (``weights`` does not enter the mean field).

    Returns
    -------
    PointResult
        q*, Q*, c*, C* (theory.md 3.2 / 4.1), chi_q, chi_c, chi_jac (3.3 / 4.2,
        eq. 4.3), xi = -1/ln chi (inf where chi >= 1), the phase from chi_jac,
        the minimalRNN branch and bistability flag, and convergence flags.

    Notes
    -----
    Expectations use the trapezoid rule of theory.md 10.1 (relative error below
    1e-10); fixed points are bracketed on the branch reached from h_0 = 0 and
    polished by safeguarded Newton to a relative step of 1e-14.
    """
    row = _raw_point(params)
    return point_from_row(params, row)


def point_from_row(params: Params, row: np.ndarray) -> PointResult:
    """Wrap one kernel output row as a :class:`PointResult`."""
    # the layout of _solve.OUT_NAMES
    (q_star, Q_star, c_star, C_star, chi_q, chi_c, chi_jac, exists, q_converged, c_converged,
     iterations, bistable, _n_stable) = row[:13].tolist()
    exists = exists == 1.0
    bistable = bistable == 1.0
    cell = cells.get(params.arch)
    extra = cell.extras(params, row) if (cell.extras is not None and exists) else {}
    return PointResult(
        params=params,
        q_star=q_star,
        Q_star=Q_star,
        c_star=c_star,
        C_star=C_star,
        chi_q=chi_q,
        chi_c=chi_c,
        chi_jac=chi_jac,
        xi_q=xi_from_chi(chi_q),
        xi_c=xi_from_chi(chi_c),
        xi_jac=xi_from_chi(chi_jac),
        phase=phase_of(chi_jac) if exists else "chaotic",
        branch=branch_of(params.arch, chi_jac, bistable) if exists else None,
        bistable=bistable,
        exists=exists,
        q_converged=q_converged == 1.0,
        c_converged=c_converged == 1.0,
        iterations=int(iterations) if exists else 0,
        message="" if exists else _no_fixed_point_message(params),
        **extra,
    )


def _no_fixed_point_message(p: Params) -> str:
    if p.phi == "linear":
        return (f"no fixed point: linear phi with sigma_w = {p.sigma_w:g} >= 1 "
                "makes the variance q_t grow without bound")
    return (f"no fixed point: {p.phi} with sigma_w = {p.sigma_w:g} makes the "
            "variance q_t grow without bound (sigma_w^2 E[phi'^2] >= 1 at large q)")


def trajectory(params: Params, T: int) -> Trajectory:
    """Mean-field q_t, Q_t, c_t, C_t for t = 0..T from h_0 = 0.

    Two sequences start from h_0 = 0, receive independent inputs at t = 1 and
    inputs of correlation ``params.Sigma`` afterwards (Sigma = 1: identical later
    inputs, so C_t -> 1 measures how fast the first input is forgotten).
    Implements eqs. (3.1)-(3.2) (vanilla) and (4.1)-(4.2) (minimalRNN).

    Parameters
    ----------
    params : Params
    T : int
        Number of steps, 1 <= T <= 100000.

    Returns
    -------
    Trajectory
        Arrays of length T + 1; index 0 is h_0 = 0 (see :class:`Trajectory`).
    """
    T = _check_T(T)
    rows = cells.get(params.arch).trajectory_rows(params, T)
    return Trajectory(params=params, t=np.arange(T + 1), q=rows[0], Q=rows[1],
                      c=rows[2], C=rows[3])


def _check_T(T: object) -> int:
    from theory.types import ParameterError

    if isinstance(T, bool) or not isinstance(T, (int, np.integer)):
        raise ParameterError(f"T: expected an integer, got {T!r}")
    if not 1 <= int(T) <= MAX_T:
        raise ParameterError(f"T: {T} is outside [1, {MAX_T}]")
    return int(T)
