"""Grid machinery: tabulated expectations and the grid/point agreement.

The tables (theory/_tables.py) are checked against the direct trapezoid
kernels, and grid nodes against `theory.point` (an independent code path for
the solves: bracketing + scan per point vs warm-started Newton on tables).
"""

import numpy as np
import pytest

import theory
from theory import Params
from theory._gauss import ERF, SIGMOID, TANH, phi_moments, sigmoid_moments
from theory._tables import build_table, lookup

GRID_RTOL = 1e-4  # the grid-vs-point tolerance


@pytest.mark.parametrize("code", [TANH, ERF, SIGMOID])
@pytest.mark.parametrize("mu", [-6.0, 0.0, 2.5, 10.0])
def test_table_interpolation_matches_direct_kernels(code, mu):
    tab = build_table(code, mu)
    out = np.zeros(6)
    worst = 0.0
    for q in np.geomspace(0.3, 999.0, 157):
        lookup(tab, code, mu, q, out)
        direct = sigmoid_moments(mu, q) if code == SIGMOID else phi_moments(code, mu, q)
        scale = abs(direct[0])  # chi's are O(E[f^2]); compare against that scale
        for j, d in enumerate(direct):
            if code != SIGMOID and j > 0:
                scale_j = max(abs(d), 1e-3 * scale)
            else:
                scale_j = max(abs(d), 1e-12) if j not in (3, 4) else max(abs(d), scale)
            worst = max(worst, abs(out[j] - d) / scale_j)
    assert worst < 2e-5


@pytest.mark.parametrize(
    "params,xaxis,yaxis",
    [
        (Params(), ("sigma_w", np.linspace(0.3, 4.0, 13)), ("sigma_b", np.linspace(0.0, 1.5, 5))),
        (Params(phi="erf", Sigma=1.0), ("sigma_w", np.linspace(0.3, 4.0, 11)),
         ("sigma_v", np.linspace(0.0, 2.0, 4))),
        (Params(mu_b=0.0, Sigma=0.5), ("mu_b", np.linspace(-2, 2, 5)),
         ("sigma_w", np.linspace(0.5, 3.0, 6))),
        (Params(phi="relu", Sigma=0.3), ("sigma_w", np.linspace(0.3, 1.6, 8)),
         ("sigma_b", np.linspace(0.0, 1.0, 3))),
        (Params(arch="minimal", sigma_v=1.0, sigma_b=0.0), ("sigma_w", np.geomspace(0.1, 10, 12)),
         ("mu_b", np.linspace(-4, 8, 7))),
        (Params(arch="minimal", sigma_v=1.0, sigma_b=0.3, mu_b=3.0, Sigma=1.0),
         ("sigma_w", np.geomspace(0.2, 10, 9)), ("sigma_v", np.linspace(0.2, 2, 3))),
    ],
)
def test_grid_nodes_equal_point_results(params, xaxis, yaxis):
    g = theory.grid(params, x=xaxis, y=yaxis)
    for j, yv in enumerate(yaxis[1]):
        for i, xv in enumerate(xaxis[1]):
            r = theory.point(params.replace(**{xaxis[0]: xv, yaxis[0]: yv}))
            assert bool(g["exists"][j, i]) == r.exists
            if not r.exists:
                assert np.isnan(g["q_star"][j, i])
                continue
            for name in ("q_star", "Q_star", "c_star", "C_star", "chi_q", "chi_c", "chi_jac"):
                want = getattr(r, name)
                # Absolute floor 1e-5: c*, C* can be exactly 0 (no shared input or bias) and
                # chi_q is a sum of O(1) terms (times sigma_w^2 R) that can cancel to ~0.
                assert g[name][j, i] == pytest.approx(want, rel=GRID_RTOL, abs=1e-5), (
                    name, xv, yv)
            assert bool(g["bistable"][j, i]) == r.bistable


def test_grid_fields_subset_skips_correlations():
    g = theory.grid(Params(), x=("sigma_w", [1.0, 2.0]), y=("sigma_b", [0.1, 0.2]),
                    fields=("chi_jac", "xi_jac"))
    assert set(g.fields) == {"chi_jac", "xi_jac"}


def test_critical_line_of_tanh_passes_through_point_solutions():
    p = Params(sigma_v=0.5)
    xs, ys = np.linspace(0.5, 3.0, 60), np.linspace(0.0, 1.0, 25)
    g = theory.grid(p, x=("sigma_w", xs), y=("sigma_b", ys), fields=("chi_jac",))
    (line,) = theory.critical_lines(g)
    assert line.kind == "chi_jac" and line.segments
    for x, y in line.segments[0][::5]:
        chi = theory.point(p.replace(sigma_w=x, sigma_b=y)).chi_jac
        # linear interpolation on a grid with spacing 0.042 in sigma_w: chi error <~ 1e-2
        assert chi == pytest.approx(1.0, abs=1e-2)


def test_minimal_saddle_node_line_bounds_the_bistable_region():
    p = Params(arch="minimal", sigma_v=1.0, sigma_b=0.0)
    g = theory.grid(p, x=("sigma_w", np.geomspace(1, 10, 40)), y=("mu_b", np.linspace(2, 8, 25)),
                    fields=("chi_jac", "bistable"))
    kinds = {line.kind: line for line in theory.critical_lines(g)}
    assert g["bistable"].any() and kinds["saddle_node"].segments
    # theory.md 4.3: mu_b = 6, sigma_w = 6 is bistable (Q ~ 0.0078 and 0.41 stable).
    r = theory.point(p.replace(mu_b=6.0, sigma_w=6.0))
    assert r.bistable and r.branch == "low" and r.Q_star == pytest.approx(0.0078, rel=0.05)


@pytest.mark.parametrize("bad", [
    dict(x=("sigma_w", [1.0]), y=("sigma_w", [1.0])),
    dict(x=("R", [1.0]), y=("sigma_b", [0.1])),
    dict(x=("sigma_w", np.linspace(0.1, 1, 2001)), y=("sigma_b", [0.1])),
    dict(x=("sigma_w", [0.1, 20.0]), y=("sigma_b", [0.1])),
    dict(x=("sigma_w", ["a"]), y=("sigma_b", [0.1])),
])
def test_bad_grids_raise_parameter_error(bad):
    with pytest.raises(theory.ParameterError):
        theory.grid(Params(), **bad)


@pytest.mark.parametrize("code", [TANH, SIGMOID])
def test_smoothing_table_is_finite_and_matches_direct_2d_rule(code):
    from theory._gauss import _cross_trapezoid
    from theory._smooth import T_HALF, cross
    from theory._smooth_cache import smoothing_table

    tab = smoothing_table(code)
    assert np.all(np.isfinite(tab))
    mus = [0.0, 1.0] if code == TANH else [-4.0, 0.0, 6.0]
    for mu in mus:
        for q in (0.05, 1.0, 20.0, 300.0):
            for c in (-0.5, 0.0, 0.7, 0.99, 0.99999):
                direct = _cross_trapezoid(code, mu, q, c, 0.3)
                fast = cross(code, tab, T_HALF[code], mu, q, c, 0.3)
                for d, f in zip(direct, fast, strict=True):
                    # table interpolation error measured <= 9e-7 relative (scale 1e-3 floor)
                    assert f == pytest.approx(d, rel=5e-6, abs=5e-9), (mu, q, c)


@pytest.mark.parametrize("arch", ["vanilla", "minimal", "gru", "lstm"])
def test_variance_fields_and_spectrum_do_not_depend_on_sigma(arch):
    """The dashboard keys its grids (xi_jac, xi_q views) and spectra without Sigma (the
    input correlation): everything but the correlation fields must then be equal at any
    Sigma. The correlation fields must not be (else the check would be empty)."""
    from theory.grids import C_FIELDS

    base = Params(arch=arch, sigma_w=1.3, sigma_b=0.3, sigma_v=0.8, mu_b=0.5)
    axes = dict(x=("sigma_w", np.array([0.8, 1.6, 2.4])), y=("mu_b", np.array([-1.0, 1.0])))
    variance = ("chi_jac", "tau_jac", "xi_jac", "xi_q", "exists", "bistable", "branch_high",
                *(("rho_tied",) if arch in ("gru", "lstm") else ()))
    grids = [theory.grid(base.replace(Sigma=s), fields=variance + ("xi_c",), **axes)
             for s in (0.0, 0.35, 0.9)]
    for g in grids[1:]:
        for name in variance:
            np.testing.assert_array_equal(g[name], grids[0][name], err_msg=name)
        assert not np.allclose(g["xi_c"], grids[0]["xi_c"], equal_nan=True)
    assert "xi_c" in C_FIELDS and not C_FIELDS & set(variance)
    spectra = [theory.spectrum(base.replace(Sigma=s), 12, n_points=64) for s in (0.0, 0.9)]
    np.testing.assert_array_equal(spectra[0].pdf, spectra[1].pdf)
    np.testing.assert_array_equal([spectra[0].m1, spectra[0].m2], [spectra[1].m1, spectra[1].m2])
