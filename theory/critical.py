"""Critical initialisations (theory.md section 6).

``critical_init_vanilla(q_star)`` returns the point of the vanilla RNN's
chi_1 = 1 line with a given fixed-point variance (6.2).
``critical_init_minimal(T, delta)`` returns a minimalRNN gate bias and weight
scale whose T-step Jacobian stays close to an isometry (6.3): the closed-form
rule, then refined on the branch reached from h_0 = 0 until |1 - chi_J| <= delta/T.

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

from theory import _solvers
from theory._cross_tables import NO_CROSS_TABLE
from theory._gate_walk import NO_LOW_STACK
from theory._gauss import PHI_CODES, vanilla_moments
from theory._smooth import NO_TABLE
from theory._tables import NO_STACK
from theory.types import PHIS, ParameterError, check_choice, check_number

MAX_Q_STAR = 1e3
MAX_T = 100_000
MAX_REFINE = 60
MAX_INPUT_VARIANCE = 3.0**2 * 4.0 + 2.0**2  # sigma_v^2 R + sigma_b^2 at the range limits


@dataclass(frozen=True)
class VanillaCriticalInit:
    """A point on chi_1 = 1 (theory.md eq. in 6.2).

    ``input_variance`` is sigma_v^2 R + sigma_b^2; any split between input and
    bias gives the same mean field. ``spectral_variance_per_step`` is
    mu_2/mu_1^2 - 1 (orthogonal W, theory.md 5.3). ``exists`` is False when the
    target q* needs a negative input variance; ``in_range`` is False when sigma_w
    or the input variance lie outside what the parameter ranges can express
    (sigma_w <= 10, sigma_v^2 R + sigma_b^2 <= 3^2 * 4 + 2^2 = 40).
    """

    q_star: float
    phi: str
    mu_b: float
    sigma_w: float
    input_variance: float
    Q_star: float
    chi_jac: float
    spectral_variance_per_step: float
    exists: bool
    message: str = ""
    in_range: bool = True


@dataclass(frozen=True)
class MinimalCriticalInit:
    """A minimalRNN initialisation near dynamical isometry (theory.md 6.3).

    ``mu_b``/``sigma_w`` are the refined values; ``closed_form_*`` the raw rule
    mu_b = ln(4T/delta) + q*/2, sigma_w = sqrt(2/R) exp(mu_b/2 - 3q*/4).
    ``converged`` is True when |1 - chi_jac| <= delta/T on the low branch.
    ``in_range`` is False when mu_b exceeds the dashboard's range [-6, 10].
    """

    T: int
    delta: float
    sigma_v: float
    R: float
    sigma_b: float
    mu_b: float
    sigma_w: float
    closed_form_mu_b: float
    closed_form_sigma_w: float
    q_star: float
    Q_star: float
    chi_jac: float
    xi_jac: float
    spectral_variance_per_step: float
    branch: str
    converged: bool
    in_range: bool
    message: str = ""


def critical_init_vanilla(
    q_star: float, phi: str = "tanh", mu_b: float = 0.0
) -> VanillaCriticalInit:
    """Vanilla RNN critical line parametrised by the target q* (theory.md 6.2).

    .. math:: \\sigma_w^2 = 1/E_{q^*}[\\phi'^2], \\qquad
              \\sigma_v^2R+\\sigma_b^2 = q^* - \\sigma_w^2 E_{q^*}[\\phi^2]

    Parameters
    ----------
    q_star : float
        Target fixed-point variance, 0 < q* <= 1000.
    phi : {"tanh", "erf", "relu", "linear"}
    mu_b : float
        Bias mean (default 0).
    """
    q = _check_positive("q_star", q_star, MAX_Q_STAR)
    check_choice("phi", phi, PHIS)
    mu = check_number("mu_b", mu_b)
    m0, m1, _ = vanilla_moments(PHI_CODES[phi], mu, q)
    if m1 <= 0.0:
        return VanillaCriticalInit(q, phi, mu, math.nan, math.nan, m0, math.nan, math.nan,
                                   False, "E[phi'^2] = 0: no sigma_w reaches chi_1 = 1")
    sw2 = 1.0 / m1
    v = q - sw2 * m0
    mu2 = _mean_phi_prime_4(phi, mu, q)
    exists = v >= -1e-12 * q
    msg = "" if exists else f"q* = {q:g} needs a negative input variance {v:.3g}"
    in_range = exists and sw2 <= 100.0 and v <= MAX_INPUT_VARIANCE
    if exists and not in_range:
        msg = f"sigma_w = {math.sqrt(sw2):.4g}, input variance {v:.4g}: outside the ranges"
    return VanillaCriticalInit(q, phi, mu, math.sqrt(sw2), max(v, 0.0) if exists else v, m0,
                               sw2 * m1, mu2 / (m1 * m1) - 1.0, exists, msg, in_range)


def _mean_phi_prime_4(phi: str, mu: float, q: float) -> float:
    """E[phi'^4] by the trapezoid rule of theory.md 10.1 (closed for relu/linear)."""
    import numpy as np

    if phi in ("relu", "linear"):
        return vanilla_moments(PHI_CODES[phi], mu, q)[1]
    h = min(0.5, 0.4 / math.sqrt(q))
    z = np.arange(-9.0, 9.0 + h / 2, h)
    w = np.exp(-0.5 * z * z)
    e = mu + math.sqrt(q) * z
    d = 1.0 - np.tanh(e) ** 2 if phi == "tanh" else 2.0 / math.sqrt(math.pi) * np.exp(-e * e)
    return float(np.sum(w * d**4) / np.sum(w))


def critical_init_minimal(T: int, delta: float = 0.1, sigma_v: float = 1.0, R: float = 1.0,
                          sigma_b: float = 0.0) -> MinimalCriticalInit:
    """minimalRNN critical initialisation for sequence length T (theory.md 6.3).

    Closed-form rule
    :math:`\\mu_b = \\ln(4T/\\delta) + q^*/2`,
    :math:`\\sigma_w = \\sqrt{2/R}\\,e^{\\mu_b/2-3q^*/4}` with
    :math:`q^* = \\sigma_w^2Q^* + \\sigma_v^2R + \\sigma_b^2` taken from the
    solved fixed point, then refined: sigma_w is halved while the point reached
    from h_0 = 0 is past the saddle-node (high branch) or chaotic, and mu_b is
    raised by ln 2 while 1 - chi_J > delta / T.

    Parameters
    ----------
    T : int
        Sequence length, 1 <= T <= 100000.
    delta : float
        Tolerance on the T-step spectral variance, 0 < delta <= 1.
    sigma_v, R, sigma_b : float
        Input scale, input second moment and bias spread (fixed).
    """
    T = _check_int("T", T, MAX_T)
    delta = _check_positive("delta", delta, 1.0)
    sigma_v, R, sigma_b = (check_number(n, v) for n, v in
                           (("sigma_v", sigma_v), ("R", R), ("sigma_b", sigma_b)))
    v = sigma_v**2 * R + sigma_b**2
    q = 1.0 + v  # sigma_w^2 Q* ~ 1 on the formal critical line (4.4)
    mu0 = math.log(4.0 * T / delta) + q / 2.0
    sw0 = math.sqrt(2.0 / R) * math.exp(mu0 / 2.0 - 0.75 * q)
    mu, sw = mu0, min(sw0, 10.0)
    tol = delta / T
    row, ok = None, False
    for _ in range(MAX_REFINE):
        row = _solvers.minimal_point(sw, sigma_b, sigma_v, mu, R, 1.0, NO_TABLE, NO_CROSS_TABLE,
                                     NO_STACK, NO_LOW_STACK)
        chi = row[6]
        if chi > 1.0 or (row[11] == 0.0 and row[4] > 1.0):
            sw *= 0.5
        elif 1.0 - chi > tol:
            mu += math.log(2.0)
        else:
            ok = True
            break
    chi = float(row[6])
    xi = math.inf if chi >= 1.0 else -1.0 / math.log(chi)
    in_range = mu <= 10.0
    msg = "" if ok else f"no point with |1 - chi_J| <= {tol:.3g} found in {MAX_REFINE} steps"
    if ok and not in_range:
        msg = f"mu_b = {mu:.3g} exceeds the dashboard range [-6, 10]"
    return MinimalCriticalInit(
        T=T, delta=delta, sigma_v=sigma_v, R=R, sigma_b=sigma_b, mu_b=mu, sigma_w=sw,
        closed_form_mu_b=mu0, closed_form_sigma_w=sw0, q_star=float(row[0]),
        Q_star=float(row[1]), chi_jac=chi, xi_jac=xi,
        spectral_variance_per_step=4.0 * math.exp(-mu + float(row[0]) / 2.0),
        branch="high" if chi > 1.0 else "low", converged=ok, in_range=in_range, message=msg,
    )


def _check_positive(name: str, value: object, upper: float) -> float:
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ParameterError(f"{name}: expected a number, got {value!r}") from None
    if not math.isfinite(x) or not 0.0 < x <= upper:
        raise ParameterError(f"{name}: {value!r} is outside (0, {upper:g}]")
    return x


def _check_int(name: str, value: object, upper: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) and not (
            isinstance(value, float) and value.is_integer()):
        try:
            import numpy as np

            if isinstance(value, np.integer):
                value = int(value)
            else:
                raise TypeError
        except TypeError:
            raise ParameterError(f"{name}: expected an integer, got {value!r}") from None
    n = int(value)  # type: ignore[arg-type]
    if not 1 <= n <= upper:
        raise ParameterError(f"{name}: {n} is outside [1, {upper}]")
    return n
