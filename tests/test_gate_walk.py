"""The minimalRNN Q-map's stable roots: the profile walk against a dense sign scan.

``theory._gate_roots`` decides, for grids and points, which root of the Q-map
(eq. 4.1) h_0 = 0 reaches and how many stable roots there are (the ``bistable``
flag). The reference here is independent of it: F(Q) = E[u^2] Q + E[(1-u)^2] R - Q
by a vectorised NumPy trapezoid (step 0.01 in z on [-10, 10]; its error,
~exp(-2 pi^2 / (0.01 sqrt(q))) ~ 1e-38 at q = 500, is far below the F values
compared) on 3000 log-spaced Q per case; the stable roots are its + -> - sign
changes.
"""

import math

import numpy as np
import pytest

import theory
import theory.grids as grids
from theory._gate_roots import _gate_F, walk_gate_Q

Z = np.arange(-10.0, 10.0 + 1e-12, 0.01)
W = np.exp(-0.5 * Z**2)
W /= W.sum()
N_DENSE = 3000


def dense_F(mu, v, R, sw2, Q):
    """F on an array Q by the NumPy trapezoid (rows: Q, columns: z)."""
    e = mu + np.sqrt(sw2 * Q + v)[:, None] * Z[None, :]
    u = 0.5 * (1.0 + np.tanh(0.5 * e))  # logistic sigmoid, no overflow
    e_uu = (u**2) @ W
    e_vv = ((1.0 - u) ** 2) @ W
    return e_uu * Q + e_vv * R - Q


def dense_roots(mu, v, R, sw2):
    """(first stable root bracket, number of stable roots) from the dense sign scan."""
    Q = np.concatenate(([0.0], R * np.geomspace(1e-9, 1.0, N_DENSE)))
    F = dense_F(mu, v, R, sw2, Q)
    down = np.flatnonzero((F[:-1] > 0) & (F[1:] <= 0))
    return (Q[down[0]], Q[down[0] + 1]), len(down)


def walk(mu, v, R, sw2):
    tab, prof = grids._table(4, mu), grids._profile(mu)
    lo, hi, n_stable, guess, ok = walk_gate_Q(prof, tab, sw2, v, mu, R)
    assert ok and lo < hi and _gate_F(tab, sw2, v, mu, R, lo) > 0.0
    return (lo, hi), n_stable


def random_cases(n, seed):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        mu = float(np.round(rng.uniform(-6.0, 10.0), 3))
        v = float(rng.choice([0.0, 1e-4, rng.uniform(0.0, 0.3), rng.uniform(0.3, 10.0)]))
        yield mu, v, float(rng.uniform(0.05, 4.0)), float(math.exp(rng.uniform(-6.0, 4.6)))


#: Root pairs next to the saddle-node, closer than a 64-point scan resolves:
#: (mu_b, v, R, sigma_w^2), found by comparing the scan with the walk on 90,000 nodes.
HARD = [
    (7.5, 0.0, 1.0, 44.98948853837109),  # pair at Q ~ 2.8e-4, second stable root 0.33
    (5.5, 0.3, 4.0, 7.761673662214696),  # pair at Q ~ 0.0151, second stable root 1.05
    (6.0, 1.0, 1.0, 7.3664**2),  # theory.md 4.3: 1e-4 below the saddle-node at 7.3665
]


@pytest.mark.parametrize("case", list(random_cases(60, seed=11)) + HARD)
def test_walk_finds_the_stable_roots_of_a_dense_scan(case):
    mu, v, R, sw2 = case
    (rlo, rhi), n_ref = dense_roots(mu, v, R, sw2)
    (lo, hi), n = walk(mu, v, R, sw2)
    assert n == n_ref, f"{case}: walk {n} stable roots, dense scan {n_ref}"
    # the same root: the two brackets overlap
    assert max(lo, rlo) <= min(hi, rhi), f"{case}: walk [{lo}, {hi}], dense [{rlo}, {rhi}]"


@pytest.mark.parametrize("case", HARD)
def test_point_reports_the_hidden_pairs_as_bistable(case):
    mu, v, R, sw2 = case
    p = theory.Params(arch="minimal", mu_b=mu, sigma_v=math.sqrt(v / R), sigma_b=0.0, R=R,
                      sigma_w=math.sqrt(sw2))
    r = theory.point(p)
    assert r.bistable and r.branch == "low"
    (rlo, rhi), _ = dense_roots(mu, v, R, sw2)
    assert rlo <= r.Q_star <= rhi


def test_walk_sweeps_through_the_saddle_node():
    """sigma_w across the saddle-node at 7.3665 (mu_b = 6, sigma_v = R = 1): two stable
    roots below it, the low one reached; one (high) root above it."""
    for sw, n_expected, q_max in [(7.30, 2, 0.02), (7.3664, 2, 0.02), (7.3666, 1, 1.0),
                                  (7.45, 1, 1.0)]:
        (lo, hi), n = walk(6.0, 1.0, 1.0, sw * sw)
        assert n == n_expected and hi <= q_max
        if n_expected == 1:
            assert lo > 0.5  # the high branch, Q* ~ 0.6
