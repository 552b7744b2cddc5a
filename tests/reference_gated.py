"""Brute-force reference of the GRU and LSTM mean field (gated-cells.md), NumPy + SciPy only.

It shares no code with :mod:`theory` (it imports nothing from it) and is deliberately slow and
simple; the maps live in ``reference_gated_gru`` / ``reference_gated_lstm``, the quadrature in
``reference_gated_quad``, the Jacobian's m2 (5.1) in ``reference_gated_spectra``, the exact
LSTM cell law in ``reference_gated_exact`` and the untied finite-N simulator in
``reference_gated_sim``. Public functions (input: a plain dict ``p`` with
the keys of gated-cells.md 10, missing keys take ``reference_gated_params.DEFAULTS``):

* :func:`point` -- fixed points, slopes and timescales (names of theory.md 11 / gated-cells.md 10);
* :func:`trajectory` -- q_t, Q_t, c_t, C_t (and Qc_t for the LSTM) for t = 0..T;
* :func:`critical_sigma_w` -- the shared sigma_w with chi_jac = 1;
* :func:`jacobian_moments` -- m1 = chi_jac^T (GRU; LSTM eq. 4.12) and the free-factor m2 (5.3);
* :func:`lstm_exact` -- E[tanh^2 c] under GC, GC4 and the exact law (4.14-4.15a), exact-law Q*
  (:func:`lstm_exact_tanh2`: the exact E[tanh^2 c] alone).

Conventions (they match ``theory.point``): Q* is the root of the length map reached from the
zero state (the smallest one: the maps are increasing from Q = 0, so the iteration from h_0 = 0
climbs monotonically to it); ``bistable`` is True when the map has more than one stable root
(scan of ``reference_gated_solve.Q_SCAN``). Two sequences: first inputs independent, then input
correlation Sigma; Q^{ab*} is the smallest root of the covariance map above 0 (reached from
uncorrelated states); with identical inputs and chi_jac <= 1, C* = 1 exactly (decided from
chi_jac, as the vanilla reference does). chi_c is the slope of the covariance map at Q^{ab*}
(LSTM: the spectral radius of the 2x2 Jacobian of 4.6-4.7). LSTM ``closure="gc4"``: GC4 for the
one-sequence quantities (q_star, q_gates, Q_star, Qc_star, chi_q, chi_jac, jac_matrix,
rho_tied, bistable); the two-sequence ones (c_star, C_star, Cc_star, chi_c) are the GC values
(the pair map is GC, gated-cells.md 4.4), identical to closure "gc".

Run ``python tests/reference_gated.py --write`` to recompute ``tests/data/gated_reference.json``.
"""

from __future__ import annotations

import math
import sys

import numpy as np

try:
    from tests import reference_gated_exact as gx
    from tests import reference_gated_gru as gru
    from tests import reference_gated_lstm as lstm
    from tests import reference_gated_params as gp
    from tests import reference_gated_solve as gs
    from tests import reference_gated_spectra as gsp
except ImportError:  # run as a script, or with tests/ on sys.path
    import reference_gated_exact as gx
    import reference_gated_gru as gru
    import reference_gated_lstm as lstm
    import reference_gated_params as gp
    import reference_gated_solve as gs
    import reference_gated_spectra as gsp

xi_of = gs.xi_of


# ---------------------------------------------------------------------------
# Fixed points
# ---------------------------------------------------------------------------
def _q_star(c, closure=None, scan=True):
    """(Q*, roots) of the length map; roots [(Q, stable), ...] from the scan (or None)."""
    if c.arch == "gru":
        res = lambda Q: gru.residual(c, Q)  # noqa: E731
    else:
        res = lambda Q: lstm.residual(c, Q, closure)  # noqa: E731
    if res(0.0) <= 0.0:
        raise ValueError("no input or bias drives the candidate: Q* = 0")
    Q = gs.root_from_below(res, 0.0, 1.0, n_iter=20)
    roots = gs.all_roots(res) if scan else None
    if roots and abs(roots[0][0] - Q) > 1e-9 * Q:
        raise RuntimeError(f"the iteration from 0 reached Q = {Q!r}, the scan's first root "
                           f"is {roots[0][0]!r}")
    return Q, roots


def _correlation(c, Q, Qc, chi_jac):
    """(Q^{ab*}, pair dict with chi_c) at the one-sequence fixed point (Q, Qc)."""
    if c.identical_inputs and chi_jac <= 1.0:
        return Q, None
    hi = Q * (1.0 - 1e-9) if c.identical_inputs else Q
    if c.arch == "gru":
        X = gs.root_from_below(lambda X: gru.pair(c, Q, X)["g"], 0.0, hi)
        if X is None:  # no root below hi: at chi_jac = 1 + O(1e-12) the two roots merge at Q
            return Q, None
        return X, gru.pair(c, Q, X, deriv=True)
    X = gs.root_from_below(lambda X: lstm.pair(c, Q, Qc, X)["g"], 0.0, hi)
    if X is None:  # no root below hi: at chi_jac = 1 + O(1e-12) the two roots merge at Q
        return Q, None
    return X, lstm.pair(c, Q, Qc, X, deriv=True)


def point(p: dict, scan: bool = True) -> dict:
    """Reference fixed points, slopes and timescales of a GRU or LSTM point (module docstring).

    ``scan=False`` skips the root scan (``bistable`` and ``roots`` are then None).
    """
    c = gp.cell(p)
    Q, roots = _q_star(c, scan=scan)
    out = {"roots": roots, "bistable": None if roots is None else sum(s for _, s in roots) > 1}
    mem = "z" if c.arch == "gru" else "f"
    if c.arch == "gru":
        sl = gru.slopes(c, Q)
        qg = gru.q_gates(c, Q)
        Qc = math.nan
        X, pr = _correlation(c, Q, Qc, sl["chi_jac"])
        Q_two, chi_jac_two = Q, sl["chi_jac"]
        ximem, cand = xi_of(sl["Ez2"]), "n"
    else:
        sl = lstm.slopes(c, Q)
        qg = {k: c.q(k, Q) for k in gp.GATES["lstm"]}
        Qc = sl["Qc"]
        Q_two = Q if c.closure == "gc" else _q_star(c, "gc", False)[0]
        sl_gc = sl if c.closure == "gc" else lstm.slopes(c, Q_two, "gc")
        chi_jac_two = sl_gc["chi_jac"]
        X, pr = _correlation(c, Q_two, sl_gc["Qc"], chi_jac_two)
        out["Qc_star"], out["jac_matrix"] = Qc, sl["jac_matrix"].tolist()
        out["Cc_star"] = 1.0 if pr is None else pr["Xc"] / sl_gc["Qc"]
        ximem, cand = xi_of(sl["f2"]), "g"
    chi_c = chi_jac_two if pr is None else pr["chi_c"]
    out.update(
        arch=c.arch, q_star=qg[mem], q_gates=qg, Q_star=Q,
        C_star=X / Q_two,
        c_star=c.qab(mem, X) / c.q(mem, Q_two) if c.q(mem, Q_two) > 0.0 else math.nan,
        chi_q=sl["chi_q"], chi_c=chi_c, chi_jac=sl["chi_jac"],
        xi_q=xi_of(sl["chi_q"]), xi_c=xi_of(chi_c), xi_jac=xi_of(sl["chi_jac"]),
        rho_tied=ximem * c.gate[cand].sw ** 2 * Q / qg[cand],
    )
    return out


def branch(p: dict, Q: float) -> dict:
    """chi_q and chi_jac at any root Q of the length map (e.g. every root of a bistable GRU)."""
    c = gp.cell(p)
    sl = gru.slopes(c, Q) if c.arch == "gru" else lstm.slopes(c, Q)
    return {"chi_q": sl["chi_q"], "chi_jac": sl["chi_jac"]}


# ---------------------------------------------------------------------------
# Trajectories
# ---------------------------------------------------------------------------
def trajectory(p: dict, T: int) -> dict:
    """Arrays t, q, Q, c, C (and Qc for the LSTM) for t = 0..T from the zero state.

    Index 0 is h_0 = 0: Q_0 = 0, C_0 = 1, q_0 = c_0 = NaN. Inputs independent at t = 1,
    correlation Sigma from t = 2. GRU: eqs. (3.2), (3.7); LSTM: (4.1)-(4.3) with the closure,
    (4.6)-(4.7) under the GC (with its own GC one-sequence sequence when closure is gc4).
    """
    c = gp.cell(p)
    mem = "z" if c.arch == "gru" else "f"
    out = {"t": list(range(T + 1)), "q": [math.nan], "Q": [0.0], "c": [math.nan], "C": [1.0]}
    if c.arch == "lstm":
        out["Qc"] = [0.0]
    Q = Qg = X = Qc = Qcg = Xc = m4 = 0.0
    for t in range(1, T + 1):
        S = 0.0 if t == 1 else c.Sigma
        q = c.q(mem, Q)
        cc = c.qab(mem, X, S) / c.q(mem, Qg) if c.q(mem, Qg) > 0.0 else math.nan
        if c.arch == "gru":
            X = gru.pair(c, Q, X, S)["G"]
            Q = gru.length_map(c, Q)
            Qg = Q
        else:
            m = lstm.gates(c, Q, ("2", "4"))
            Qc, m4 = m["f2"] * Qc + m["i2"] * m["g2"], (
                m["f4"] * m4 + 6.0 * m["f2"] * m["i2"] * m["g2"] * Qc + m["i4"] * m["g4"])
            mg = m if c.closure == "gc" else lstm.gates(c, Qg, ("2",))
            Qcg = mg["f2"] * Qcg + mg["i2"] * mg["g2"]
            pg = lstm._pair_gates(c, Qg, X, S)
            Xc = pg["ff"] * Xc + pg["ii"] * pg["gg"]
            X = pg["oo"] * gx.gq.expect2(math.tanh, np.tanh, 0.0, Qcg, Xc, lstm.EPS0)
            Q = m["o2"] * lstm.tanh_avg(lstm._t2, Qc, m4 if c.closure == "gc4" else None)
            Qg = Q if c.closure == "gc" else mg["o2"] * lstm.tanh_avg(lstm._t2, Qcg)
            out["Qc"].append(Qc)
        for k, v in zip("qQcC", (q, Q, cc, X / Qg), strict=True):
            out[k].append(v)
    return {k: np.array(v) for k, v in out.items()}


# ---------------------------------------------------------------------------
# Critical line, Jacobian moments
# ---------------------------------------------------------------------------
def chi_jac_at(p: dict, sigma_w: float) -> float:
    """chi_jac of the branch reached from 0 at shared sigma_w (overrides stay)."""
    c = gp.cell({**p, "sigma_w": sigma_w})
    Q, _ = _q_star(c, scan=False)
    return (gru.slopes(c, Q) if c.arch == "gru" else lstm.slopes(c, Q))["chi_jac"]


def critical_sigma_w(p: dict, lo: float = 0.05, hi: float = 10.0) -> float:
    """The shared sigma_w with chi_jac = 1 at the other parameters of p (spec 6.1-6.3).

    Scans sigma_w geometrically from ``lo`` for the first crossing, then brentq. Raises if
    chi_jac jumps across 1 (a saddle-node of the GRU's low branch) instead of crossing it.
    """
    grid = np.geomspace(lo, hi, 25)
    prev = None
    for s in grid:
        val = chi_jac_at(p, float(s)) - 1.0
        if prev is not None and prev[1] < 0.0 <= val:
            root = gs.brent(lambda x: chi_jac_at(p, x) - 1.0, prev[0], float(s))
            break
        prev = (float(s), val)
    else:
        raise ValueError(f"chi_jac does not cross 1 for sigma_w in [{lo}, {hi}]")
    if abs(chi_jac_at(p, root * (1 + 1e-7)) - chi_jac_at(p, root * (1 - 1e-7))) > 1e-3:
        raise ValueError(f"chi_jac jumps across 1 at sigma_w = {root:.6g} (saddle-node)")
    return root


def jacobian_moments(p: dict, T: int) -> tuple[float, float]:
    """(m1, m2) of the T-step Jacobian. GRU: m1 = chi_jac^T (exact, 5.2); LSTM: (4.12)
    m1 = (1/2) (1, 1) M^T (1, 1)^T. m2: the free-factor approximation of 5.3,
    m2/m1^2 - 1 = T (m2^(1)/m1^(1)^2 - 1), one-step m2^(1) by (5.1) (GRU reset_after; NaN
    for reset_before and the LSTM, whose Jacobians are not of the form A + sum B_k W_k).
    """
    c = gp.cell(p)
    Q, _ = _q_star(c, scan=False)
    if c.arch == "lstm":
        M = np.array(lstm.slopes(c, Q)["jac_matrix"])
        return 0.5 * float(np.ones(2) @ np.linalg.matrix_power(M, T) @ np.ones(2)), math.nan
    chi = gru.slopes(c, Q)["chi_jac"]
    m1 = chi**T
    if c.variant != "reset_after":
        return m1, math.nan
    a1, a2 = gsp.m2_step(c, Q, c.weights)
    return m1, m1 * m1 * (1.0 + T * (a2 / (a1 * a1) - 1.0))


# ---------------------------------------------------------------------------
# LSTM: the exact law of the cell state (spec 4.6)
# ---------------------------------------------------------------------------
def lstm_exact(p: dict, q_star: bool = False, dk: float = gx.DK) -> dict:
    """E[tanh^2 c] and E[sech^4 c] under GC (4.4), GC4 (4.4b) and the exact law (4.14-4.15a)
    at the gate statistics of the GC fixed point; with ``q_star`` also Q* under GC, GC4 and the
    exact law (the fixed point with the exact E[tanh^2 c])."""
    c = gp.cell({**p, "arch": "lstm"})
    Q, _ = _q_star(c, "gc", False)
    m = lstm.gates(c, Q, ("2", "4"))
    Qc, m4 = lstm.cell_moments(m)
    ex = gx.exact_averages(c, Q, dk)
    out = {"Q_gc": Q, "Qc": Qc, "kappa4_rel": (m4 - 3 * Qc * Qc) / (Qc * Qc),
           "Etanh2_gc": lstm.tanh_avg(lstm._t2, Qc),
           "Etanh2_gc4": lstm.tanh_avg(lstm._t2, Qc, m4), "Etanh2_exact": ex["Etanh2"],
           "Esech4_gc": lstm.tanh_avg(lstm._s4, Qc),
           "Esech4_gc4": lstm.tanh_avg(lstm._s4, Qc, m4), "Esech4_exact": ex["Esech4"],
           "Qc_from_phi": ex["Qc_from_phi"]}
    if q_star:
        out["Q_gc4"] = _q_star(c, "gc4", False)[0]
        out["Q_exact"] = gx.exact_q_star(c, Q, dk)
    return out


def lstm_exact_tanh2(p: dict, dk: float = gx.DK) -> float:
    """E[tanh^2 c] under the exact law of the cell state (4.14-4.15a) at the GC fixed point's
    gate statistics (the entry "Etanh2_exact" of :func:`lstm_exact`)."""
    return lstm_exact(p, dk=dk)["Etanh2_exact"]


if __name__ == "__main__":  # pragma: no cover - the JSON writer
    if "--write" not in sys.argv:
        sys.exit("usage: python tests/reference_gated.py --write")
    try:
        from tests import reference_gated_points as pts
    except ImportError:
        import reference_gated_points as pts
    pts.write()
