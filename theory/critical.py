"""Critical initialisations (theory.md section 6, gated-cells.md section 6).

Each cell's rule lives in its module (``theory.cells``); this module is their
public front.

* ``critical_init_vanilla(q_star)``: the point of the vanilla RNN's chi_1 = 1 line
  with a given fixed-point variance (theory.md 6.2).
* ``critical_init_minimal(T, delta)``: a minimalRNN gate bias and weight scale whose
  T-step Jacobian stays close to an isometry (6.3): the closed-form rule, refined on
  the branch reached from h_0 = 0 until |1 - chi_J| <= delta/T.
* ``critical_init_gru(T, delta)``, ``critical_init_lstm(T, delta)``: a memory-gate bias
  with memory of order T/delta, refined on the mean field (gated-cells.md 6.1-6.3).
* ``critical_sigma_w(params)``: the shared sigma_w of chi_jac = 1 for any cell.

Example
-------
>>> from theory import critical_init_vanilla
>>> ci = critical_init_vanilla(0.1)
>>> round(ci.chi_jac, 12)
1.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from theory.cells.minimal import MinimalCriticalInit, critical_init_minimal
from theory.cells.vanilla import VanillaCriticalInit, critical_init_vanilla
from theory.types import Params

__all__ = ["GatedCriticalInit", "MinimalCriticalInit", "VanillaCriticalInit",
           "critical_init_gru", "critical_init_lstm", "critical_init_minimal",
           "critical_init_vanilla", "critical_sigma_w"]


@dataclass(frozen=True)
class GatedCriticalInit:
    """A GRU or LSTM initialisation with memory of at least about T steps (gated-cells.md 6).

    ``params`` is the :class:`~theory.types.Params` to use (memory-gate bias ``mu_b``,
    shared ``sigma_w`` and, for the LSTM, the overrides ``sigma_w_i = sigma_w_g`` on the
    ordered side of the critical surface). ``closed_form_mu_b`` is the design rule
    mu = ln(2T/delta) + q/2 before refinement; ``converged`` is True when
    1 - delta/T <= chi_jac <= 1 on the branch reached from h_0 = 0.
    """

    arch: str
    T: int
    delta: float
    params: Params
    closed_form_mu_b: float
    chi_jac: float
    xi_jac: float
    Q_star: float
    branch: str
    converged: bool
    in_range: bool
    message: str = ""


def critical_sigma_w(params: Params, lo: float = 1e-3, hi: float = 10.0) -> float:
    """The shared sigma_w at which chi_jac = 1, the other parameters those of ``params``.

    Brent's method on chi_jac(sigma_w) - 1 over [lo, hi] (gated-cells.md 6.1-6.3; theory.md
    3.4, 4.3). Returns NaN when chi_jac - 1 has one sign on the interval, or when it jumps
    across 1 instead of crossing it (the saddle-node of a bistable cell, theory.md 4.3).
    """
    from scipy.optimize import brentq

    from theory.meanfield import point

    def f(sw: float) -> float:
        return point(params.replace(sigma_w=sw)).chi_jac - 1.0

    f_lo, f_hi = f(lo), f(hi)
    if not (f_lo < 0.0 < f_hi):
        return math.nan
    root = brentq(f, lo, hi, xtol=1e-12, rtol=1e-12)
    return root if abs(f(root)) < 1e-6 else math.nan


def critical_init_gru(T: int, delta: float = 0.1, sigma_v: float = 1.0, R: float = 1.0,
                      sigma_b: float = 0.0,
                      gru_variant: str = "reset_after") -> GatedCriticalInit:
    """GRU critical initialisation for sequence length T (gated-cells.md 6.1); see the cell."""
    from theory.cells.gru import critical_init

    return critical_init(T, delta, sigma_v, R, sigma_b, gru_variant)


def critical_init_lstm(T: int, delta: float = 0.1, sigma_v: float = 1.0, R: float = 1.0,
                       sigma_b: float = 0.0, sigma_w: float = 1.0) -> GatedCriticalInit:
    """LSTM critical initialisation for sequence length T (gated-cells.md 6.2-6.3); see the cell."""
    from theory.cells.lstm import critical_init

    return critical_init(T, delta, sigma_v, R, sigma_b, sigma_w)
