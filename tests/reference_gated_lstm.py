"""LSTM mean field, brute force (gated-cells.md section 4; eqs. 4.1-4.11, GC and GC4).

Contract (symmetric case mu_g = 0: M_c = 0; only Q_c, Q and their cross moments move):

* :func:`gates` -- the gate moments E_k[.] at Q (eq. 2.1);
* :func:`residual` -- Psi(Q) - Q, Psi(Q) = E_o[o^2] E[tanh^2 c] with Q_c = E i^2 E g^2/(1 - E f^2)
  and E[tanh^2 c] under the Gaussian closure (4.4) or its fourth-cumulant correction (4.4b);
* :func:`slopes` -- chi_q (spectral radius of 4.5; GC4: of the exact (Q_c, E c^4) moment map
  with the GC4 read-out) and chi_jac = lambda_max of the matrix M of (4.9)-(4.11);
* :func:`pair` -- the two-sequence map (4.6)-(4.7) under the GC, reduced to the hidden cross
  moment X = Q^{ab} (the cell cross moment at its own fixed point given X), and chi_c, the
  spectral radius of the 2x2 Jacobian of (4.6)-(4.7).

Quadrature (``reference_gated_quad``): adaptive quad for the 1-D moments, nested adaptive /
Gauss-Legendre for the bivariate ones. Nothing is shared with ``theory/``.
"""

from __future__ import annotations

import math

import numpy as np

try:
    from tests import reference_gated_quad as gq
    from tests import reference_gated_solve as gs
except ImportError:  # run as a script, or with tests/ on sys.path
    import reference_gated_quad as gq
    import reference_gated_solve as gs

sig, dsig, sech2 = gq.sig, gq.dsig, gq.sech2
expect1, expect2 = gq.expect1, gq.expect2
EPS0 = 1e-16  #: absolute quad floor for integrands that may vanish (values are O(1))


# ---------------------------------------------------------------------------
# Gate moments. For phi = sigmoid or tanh: E[phi^2], E[phi^4], E[phi'^2], d/dq E[phi^2] and
# d/dq E[phi^4] (= (1/2) E[(phi^p)''], Stein), plus for f the complements 1 - E f^2, 1 - E f^4.
# ---------------------------------------------------------------------------
def _sig_funcs():
    def hq2(x):  # (1/2)(s^2)'' = s' s (2 - 3 s)
        s = sig(x)
        return dsig(x) * s * (2.0 - 3.0 * s)

    def hq4(x):  # (1/2)(s^4)'' = 2 s^3 s' (4 - 5 s)   [(s^4)' = 4 s^3 s', s'' = s'(1 - 2s)]
        s = sig(x)
        return 2.0 * s**3 * dsig(x) * (4.0 - 5.0 * s)

    return {"2": lambda x: sig(x) ** 2, "4": lambda x: sig(x) ** 4,
            "p2": lambda x: dsig(x) ** 2, "h2": hq2, "h4": hq4}


def _tanh_funcs():
    def hq2(x):  # (1/2)(t^2)'' = sech^2 (1 - 3 t^2)
        return sech2(x) * (1.0 - 3.0 * math.tanh(x) ** 2)

    def hq4(x):  # (1/2)(t^4)'' = 2 t^2 sech^2 (3 - 5 t^2)
        t = math.tanh(x)
        return 2.0 * t * t * sech2(x) * (3.0 - 5.0 * t * t)

    return {"2": lambda x: math.tanh(x) ** 2, "4": lambda x: math.tanh(x) ** 4,
            "p2": lambda x: sech2(x) ** 2, "h2": hq2, "h4": hq4}


SIG, TANH = _sig_funcs(), _tanh_funcs()
KIND = {"f": SIG, "i": SIG, "g": TANH, "o": SIG}
SIGNED = {"h2", "h4"}  #: moments that may vanish: they get an absolute floor


def gates(c, Q: float, names=("2", "4", "p2", "h2", "h4")) -> dict:
    """{"f2": E f^2, "f4": ..., "fh2": d/dq E f^2, ...} for every gate at Q, plus
    "1-f2" = E[(1-f)(1+f)] and "1-f4" = E[(1-f)(1+f)(1+f^2)] (no cancellation at large mu_f)."""
    out = {}
    for k, funcs in KIND.items():
        g = c.gate[k]
        qk = c.q(k, Q)
        for nm in names:
            out[k + nm] = expect1(funcs[nm], g.mu, qk, EPS0 if nm in SIGNED else 0.0)
    f = c.gate["f"]
    qf = c.q("f", Q)
    out["1-f2"] = expect1(lambda x: sig(-x) * (1.0 + sig(x)), f.mu, qf)
    out["1-f4"] = expect1(lambda x: sig(-x) * (1.0 + sig(x)) * (1.0 + sig(x) ** 2), f.mu, qf)
    return out


# ---------------------------------------------------------------------------
# The cell state and E[F(c)] under GC / GC4
# ---------------------------------------------------------------------------
def cell_moments(m: dict) -> tuple[float, float]:
    """Stationary Q_c (4.2) and E[c^4] (the exact fourth moment of section 4.1) given the gates."""
    I2G2 = m["i2"] * m["g2"]
    Qc = I2G2 / m["1-f2"]
    m4 = (6.0 * m["f2"] * I2G2 * Qc + m["i4"] * m["g4"]) / m["1-f4"]
    return Qc, m4


def _he4(z):
    return z**4 - 6.0 * z * z + 3.0


def tanh_avg(F, Qc: float, m4: float | None = None) -> float:
    """E[F(c)] for c with variance Q_c: Gaussian closure (m4 None, eq. 4.4) or GC4 (4.4b),
    E_N[F] + kappa_4/(24 Q_c^2) E[F(sqrt(Q_c) z) He_4(z)], kappa_4 = m4 - 3 Q_c^2."""
    base = expect1(F, 0.0, Qc)
    if m4 is None or Qc <= 0.0:
        return base
    s = math.sqrt(Qc)
    corr = gq.quad_z(lambda z: F(s * z) * _he4(z), gq.breaks(0.0, 1.0 / s), EPS0)
    return base + (m4 - 3.0 * Qc * Qc) / (24.0 * Qc * Qc) * corr


def _t2(x):
    return math.tanh(x) ** 2


def _s4(x):
    return sech2(x) ** 2


def psi(c, Q: float, closure: str | None = None) -> float:
    """Psi(Q) = E_o[o^2] E[tanh^2 c] at the cell's stationary law given the gates at Q (4.2-4.4)."""
    m = gates(c, Q, ("2", "4"))
    Qc, m4 = cell_moments(m)
    gc4 = (closure or c.closure) == "gc4"
    return m["o2"] * tanh_avg(_t2, Qc, m4 if gc4 else None)


def residual(c, Q: float, closure: str | None = None) -> float:
    """Psi(Q) - Q (section 4.2)."""
    return psi(c, Q, closure) - Q


# ---------------------------------------------------------------------------
# Slopes at the fixed point
# ---------------------------------------------------------------------------
def slopes(c, Q: float, closure: str | None = None) -> dict:
    """chi_q and chi_jac (eqs. 4.5, 4.9-4.11) at the fixed point Q, and the matrix M."""
    gc4 = (closure or c.closure) == "gc4"
    m = gates(c, Q)
    w2 = {k: c.gate[k].sw ** 2 for k in KIND}
    Qc, m4 = cell_moments(m)
    a = m["f2"]
    T2 = tanh_avg(_t2, Qc, m4 if gc4 else None)
    S4 = tanh_avg(_s4, Qc, m4 if gc4 else None)
    K = w2["f"] * m["fp2"] * Qc + w2["i"] * m["ip2"] * m["g2"] + w2["g"] * m["i2"] * m["gp2"]
    A1, B = m["o2"] * S4, w2["o"] * m["op2"] * T2
    Mjac = np.array([[a, K], [A1 * a, A1 * K + B]])
    tau = a + A1 * K + B
    chi_jac = 0.5 * (tau + math.sqrt(tau * tau - 4.0 * a * B))
    b = Qc * w2["f"] * m["fh2"] + w2["i"] * m["ih2"] * m["g2"] + w2["g"] * m["i2"] * m["gh2"]
    if gc4:
        chi_q = gs.spectral_radius(_gc4_length_jacobian(c, m, w2, Qc, m4, b))
    else:
        A2 = m["o2"] * expect1(_hq_t2, 0.0, Qc, EPS0)
        chi_q = gs.spectral_radius([[a, b], [A2 * a, w2["o"] * m["oh2"] * T2 + A2 * b]])
    return {"chi_q": chi_q, "chi_jac": chi_jac, "jac_matrix": Mjac, "Qc": Qc, "m4": m4,
            "Etanh2": T2, "Esech4": S4, **m}


def _hq_t2(x):  # (1/2)(tanh^2)'' = d/dv T_2
    return sech2(x) * (1.0 - 3.0 * math.tanh(x) ** 2)


def _gc4_length_jacobian(c, m, w2, Qc, m4, b):
    """3x3 Jacobian of (Q_c, E c^4, Q) -> next step under GC4 at the fixed point.

    Q_c' = a Q_c + I2G2, m4' = E f^4 m4 + 6 a I2G2 Q_c + I4G4 (exact moment recursions),
    Q' = E o^2 H(Q_c', m4'), H = T_2(Q_c) + (m4/(24 Q_c^2) - 1/8) P_4(Q_c),
    P_4(Q_c) = E[tanh^2(sqrt(Q_c) z) He_4(z)].
    """
    a, I2G2 = m["f2"], m["i2"] * m["g2"]
    s = math.sqrt(Qc)
    pts = gq.breaks(0.0, 1.0 / s)
    P4 = gq.quad_z(lambda z: _t2(s * z) * _he4(z), pts, EPS0)
    # dP4/dQc = E[(tanh^2)'(sqrt(Qc) z) z He4(z)] / (2 sqrt(Qc)), (tanh^2)' = 2 tanh sech^2
    dP4 = gq.quad_z(lambda z: 2.0 * math.tanh(s * z) * sech2(s * z) * z * _he4(z), pts, EPS0)
    dP4 /= 2.0 * s
    H = expect1(_t2, 0.0, Qc) + (m4 / (24.0 * Qc * Qc) - 0.125) * P4
    H_m4 = P4 / (24.0 * Qc * Qc)
    H_Qc = (expect1(_hq_t2, 0.0, Qc, EPS0) - m4 / (12.0 * Qc**3) * P4
            + (m4 / (24.0 * Qc * Qc) - 0.125) * dP4)
    d_aI = w2["f"] * m["fh2"] * I2G2 + a * (w2["i"] * m["ih2"] * m["g2"]
                                           + w2["g"] * m["i2"] * m["gh2"])
    d_I4G4 = w2["i"] * m["ih4"] * m["g4"] + w2["g"] * m["i4"] * m["gh4"]
    row_c = [a, 0.0, b]
    row_4 = [6.0 * a * I2G2, m["f4"], w2["f"] * m["fh4"] * m4 + 6.0 * d_aI * Qc + d_I4G4]
    row_q = [m["o2"] * (H_Qc * row_c[j] + H_m4 * row_4[j]) for j in range(3)]
    row_q[2] += w2["o"] * m["oh2"] * H
    return [row_c, row_4, row_q]


# ---------------------------------------------------------------------------
# Two sequences (GC)
# ---------------------------------------------------------------------------
def _pair_gates(c, Q, X, S):
    """E[k^a k^b] for every gate, and 1 - E[f^a f^b] = E[1 - f] + E[f^a (1 - f^b)]."""
    out = {}
    for k in KIND:
        g = c.gate[k]
        qk, qkab = c.q(k, Q), c.qab(k, X, S)
        if k == "g":
            out["gg"] = expect2(math.tanh, np.tanh, 0.0, qk, qkab, EPS0)
        else:
            out[k + k] = expect2(sig, gq.sig_v, g.mu, qk, qkab)
    f = c.gate["f"]
    qf, qfab = c.q("f", Q), c.qab("f", X, S)
    out["1-ff"] = expect1(lambda x: sig(-x), f.mu, qf) + expect2(
        sig, lambda x: gq.sig_v(-x), f.mu, qf, qfab)
    return out


def pair(c, Q: float, Qc: float, X: float, Sigma: float | None = None,
         deriv: bool = False) -> dict:
    """The GC two-sequence map (4.6)-(4.7) at hidden cross moment X, gates at (Q, X).

    The cell cross moment is at its fixed point given X: X_c = E[i i] E[g g]/(1 - E[f f]);
    Psi_ab(X) = E[o o] E_GC[tanh c^a tanh c^b] (variance Q_c, covariance X_c); g = Psi_ab - X.
    With ``deriv``: chi_c = spectral radius of [[a, K], [A1 a, A1 K + B]] with the pair
    moments a = E[f f], K = sigma_f^2 E[f'f'] X_c + sigma_i^2 E[i'i'] E[gg]
    + sigma_g^2 E[ii] E[g'g'], A1 = E[oo] E[sech^2 sech^2], B = sigma_o^2 E[o'o'] E[tanh tanh].
    """
    S = c.Sigma if Sigma is None else Sigma
    pg = _pair_gates(c, Q, X, S)
    Xc = pg["ii"] * pg["gg"] / pg["1-ff"]
    P = expect2(math.tanh, np.tanh, 0.0, Qc, Xc, EPS0)
    out = {"Xc": Xc, "Psi": pg["oo"] * P, "g": pg["oo"] * P - X, **pg}
    if deriv:
        w2 = {k: c.gate[k].sw ** 2 for k in KIND}
        d = {k: expect2(dsig, gq.dsig_v, c.gate[k].mu, c.q(k, Q), c.qab(k, X, S))
             for k in ("f", "i", "o")}
        gpgp = expect2(sech2, gq.sech2_v, 0.0, c.q("g", Q), c.qab("g", X, S))
        a = pg["ff"]
        K = w2["f"] * d["f"] * Xc + w2["i"] * d["i"] * pg["gg"] + w2["g"] * pg["ii"] * gpgp
        A1 = pg["oo"] * expect2(sech2, gq.sech2_v, 0.0, Qc, Xc)
        B = w2["o"] * d["o"] * P
        out["chi_c"] = gs.spectral_radius([[a, K], [A1 * a, A1 * K + B]])
    return out
