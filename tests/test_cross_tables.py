"""The 3-D cross-moment tables of the grids (theory/_cross_tables.py).

Each interpolated moment is compared with the direct 2-D trapezoid rule of
``_gauss`` (h = 0.25 / sqrt(q), itself checked against SciPy in test_reference)
at seeded random (mu, q, c), half of them with c within 1e-8..1e-1 of 1, where
E[f' f'] is sharpest. Tolerances: the c-map is c q = sigma_w^2 E[f f] + const and
chi_c = sigma_w^2 E[f' f'] with sigma_w^2 <~ q on the grids, so an error e in E[f f]
moves c* by ~sigma_w^2 e / (q (1 - chi_c)) and an error e' in E[f' f'] moves
chi_c by ~q e'. Both must stay well below the 1e-4 grid tolerance: we require
e <= 1e-6 and q e' <= 5e-6 (measured worst over 400 points: 3.8e-7 and 2.2e-6).
"""

import math

import numpy as np
import pytest

from theory import _cross_tables as ct
from theory._gauss import ERF, GL_W, GL_X, SIGMOID, TANH, phi_cross, sigmoid_cross
from theory._smooth_cache import cross_table
from theory._solve import table_state


def _lookup(code, mu, q, c):
    ts = table_state(cross_table(code))
    ct.set_mu(ts[0], code, mu, ts[1], ts[2])
    ct.set_q(q, ts[4])
    ok = ct.cross_lookup(ts[0], ts[1], ts[2], ts[3], ts[4], c, ts[5])
    return ok, ts[5].copy()


def _direct(code, mu, q, c):
    if code == SIGMOID:
        e_uu, e_vv, e_dd = sigmoid_cross(mu, q, c)
        return np.array([e_uu, e_dd, e_vv])
    return np.array(list(phi_cross(code, mu, q, c, GL_X, GL_W)) + [0.0])


@pytest.mark.parametrize("code", [TANH, ERF, SIGMOID])
def test_interpolated_moments_match_the_direct_rule(code):
    rng = np.random.default_rng(100 + code)
    mu_max = 10.0 if code == SIGMOID else 4.0
    q_max = 440.0 if code == SIGMOID else 150.0
    worst = np.zeros(3)
    for _ in range(120):
        mu = rng.uniform(-mu_max, mu_max)
        q = math.exp(rng.uniform(math.log(ct.Q_LO), math.log(q_max)))
        c = rng.uniform(0, 1) ** 0.3 if rng.uniform() < 0.5 else 1 - 10 ** rng.uniform(-8, -1)
        ok, got = _lookup(code, mu, q, c)
        assert ok
        err = np.abs(got - _direct(code, mu, q, c)) * np.array([1.0, q, 1.0])
        worst = np.maximum(worst, err)
    assert worst[0] <= 1e-6 and worst[2] <= 1e-6, worst
    assert worst[1] <= 5e-6, worst


def test_gate_symmetry_under_mu_sign_and_the_table_edges():
    # sigmoid(-x) = 1 - sigmoid(x): E[f f] at -mu is E[(1-f)(1-f)] at mu
    ok, plus = _lookup(SIGMOID, 3.3, 7.0, 0.6)
    ok2, minus = _lookup(SIGMOID, -3.3, 7.0, 0.6)
    assert ok and ok2
    assert minus[0] == pytest.approx(plus[2], abs=1e-9)
    assert minus[2] == pytest.approx(plus[0], abs=1e-9)
    assert minus[1] == pytest.approx(plus[1], abs=1e-9)
    # outside the table the lookup declines and leaves the output alone
    for mu, q, c in [(0.0, 0.5 * ct.Q_LO, 0.5), (0.0, 2 * ct.Q_HI, 0.5), (10.5, 1.0, 0.5),
                     (0.0, 1.0, -0.1)]:
        assert not _lookup(TANH, mu, q, c)[0]


def test_tables_are_rebuilt_identically_from_their_rows():
    """A row rebuilt in isolation equals the cached table (no stale cache file)."""
    from theory._smooth_cache import smoothing_table

    tab = cross_table(TANH)
    row = np.zeros_like(tab)
    k = 17  # mu = 1.875
    ct.build_mu_rows(TANH, smoothing_table(TANH), GL_X, GL_W, k, k + 1, row)
    np.testing.assert_array_equal(row[:, k], tab[:, k])
