"""GRU mean field, brute force (gated-cells.md section 3; eqs. 2.1-2.3, 3.1-3.9).

Contract (symmetric case: candidate bias means 0, so M = nu_1 = 0 and only Q, Q^{ab} move):

* :func:`residual` -- g(Q) = F(Q) - Q of the length map (3.2), F(Q) = E[z^2] Q + E[(1-z)^2] nu_2;
* :func:`slopes` -- chi_q (3.4) and chi_jac (3.6) at a fixed point, and the moments behind them;
* :func:`pair` -- the covariance map (3.7) Q^{ab} -> G(Q^{ab}) at Q = Q*, its residual and its
  slope chi_c (3.8); for ``reset_after`` E[n^a n^b] is the 4-D integral :func:`cross_nn`.

Quadrature (``reference_gated_quad``): adaptive quad for 1-D gate moments; nested (adaptive
outer, Gauss-Legendre inner) for the bivariate gate pairs and the reset_after mixture (2.3).
:func:`cross_nn`: E[n^a n^b] = E_{r^a, r^b}[K(r^a, r^b)] with K(r^a, r^b) = E[tanh U^a tanh U^b]
(U Gaussian given r) interpolated on a Chebyshev grid in (r^a, r^b) in [0, 1]^2 (K is analytic
for |Im r| < sqrt(q_a/q_s)) and K itself by a tensor trapezoid in the conditional coordinates of
(U^a, U^b); the outer (u_r^a, u_r^b) Gaussian by a tensor trapezoid whose step respects the
strip of analyticity of K(sigma(u)) in u (:func:`_eta_star`), narrower than the sigmoid's.
Its convergence under refinement is shown in ``test_reference_gated.py`` (<= 3e-12; the spec's
9.1 outer step 0.8/sqrt(q_r) is 4e-9 off at q_a/q_s = 1/9, q_r = 20).

Spec correction (found by the untied Monte Carlo): for ``reset_before`` the reset path
W_n (diag(h r') W_r) carries sigma_{w,n}^2 sigma_{w,r}^2, so J_r of eq. (3.6) is
sigma_{w,n}^2 E_n[n'^2] Q* E_r[r'^2] (the spec omits sigma_{w,n}^2); with it, chi_c at
Sigma = 1, C = 1 equals chi_jac (3.9), which it does not otherwise when sigma_{w,n} != 1.
"""

from __future__ import annotations

import functools
import math

import numpy as np

try:
    from tests import reference_gated_quad as gq
except ImportError:  # run as a script, or with tests/ on sys.path
    import reference_gated_quad as gq

sig, dsig, sech2 = gq.sig, gq.dsig, gq.sech2
expect1, expect2, mix_expect = gq.expect1, gq.expect2, gq.mix_expect
EPS0 = 1e-16  #: absolute quad floor for integrands that may vanish (values are O(1))


# ---------------------------------------------------------------------------
# Integrands: z = sigma(x), 1 - z = sigma(-x); d/dq E[F] = (1/2) E[F''] (Stein / heat equation)
# ---------------------------------------------------------------------------
def _s2(x):
    return sig(x) ** 2


def _m2(x):
    return sig(-x) ** 2


def _mp(x):  # (1 - z)(1 + z) = 1 - z^2 without cancellation
    return sig(-x) * (1.0 + sig(x))


def _ds2(x):
    return dsig(x) ** 2


def _hq_s2(x):  # (1/2) (sigma^2)'' = sigma' sigma (2 - 3 sigma)
    s = sig(x)
    return dsig(x) * s * (2.0 - 3.0 * s)


def _hq_m2(x):  # (1/2) ((1 - sigma)^2)'' = sigma' (1 - sigma) (3 sigma - 1)
    return dsig(x) * sig(-x) * (3.0 * sig(x) - 1.0)


def _t2(x):
    return math.tanh(x) ** 2


def _hq_t2(x):  # (1/2) (tanh^2)'' = sech^2 (1 - 3 tanh^2)
    return sech2(x) * (1.0 - 3.0 * math.tanh(x) ** 2)


def _s4(x):
    return sech2(x) ** 2


def t2_v(U):
    """tanh^2, vectorised."""
    return np.tanh(U) ** 2


def hq_t2_v(U):
    """(1/2)(tanh^2)'' = sech^2 (1 - 3 tanh^2), vectorised."""
    return gq.sech2_v(U) * (1.0 - 3.0 * np.tanh(U) ** 2)


def s4_v(U):
    """sech^4, vectorised."""
    return gq.sech2_v(U) ** 2


def _candidate(c, Q):
    """(q_a, q_s) of reset_after (2.3): u_n = a + r s, Var a = q_a, Var s = q_s."""
    n = c.gate["n"]
    return n.sv**2 * c.R + n.sb**2, n.sw**2 * Q + c.sbh**2


# ---------------------------------------------------------------------------
# One sequence
# ---------------------------------------------------------------------------
def nu2(c, Q: float) -> float:
    """nu_2 = E[n^2] of the candidate at Q (eq. 2.2 reset_before, 2.3 reset_after)."""
    r = c.gate["r"]
    if c.variant == "reset_before":
        n = c.gate["n"]
        qn = n.sw**2 * expect1(_s2, r.mu, c.q("r", Q)) * Q + n.sv**2 * c.R + n.sb**2
        return expect1(_t2, 0.0, qn)
    q_a, q_s = _candidate(c, Q)
    return mix_expect(lambda u, r_, dr, v, U: t2_v(U), r.mu, c.q("r", Q), q_a, q_s)


def residual(c, Q: float) -> float:
    """g(Q) = F(Q) - Q = E[(1-z)^2] nu_2 - E[(1-z)(1+z)] Q (eq. 3.2; no cancellation)."""
    z = c.gate["z"]
    qz = c.q("z", Q)
    return expect1(_m2, z.mu, qz) * nu2(c, Q) - expect1(_mp, z.mu, qz) * Q


def length_map(c, Q: float) -> float:
    """F(Q) = E[z^2] Q + E[(1-z)^2] nu_2 (eq. 3.2, symmetric case)."""
    z = c.gate["z"]
    qz = c.q("z", Q)
    return expect1(_s2, z.mu, qz) * Q + expect1(_m2, z.mu, qz) * nu2(c, Q)


def q_gates(c, Q: float) -> dict:
    """Every gate's pre-activation variance at Q. For n: reset_before eq. (2.2); reset_after
    the variance of the (non-Gaussian) u_n = a + r s, q_a + E[r^2] q_s."""
    r = c.gate["r"]
    Er2 = expect1(_s2, r.mu, c.q("r", Q))
    n = c.gate["n"]
    if c.variant == "reset_before":
        qn = n.sw**2 * Er2 * Q + n.sv**2 * c.R + n.sb**2
    else:
        q_a, q_s = _candidate(c, Q)
        qn = q_a + Er2 * q_s
    return {"z": c.q("z", Q), "r": c.q("r", Q), "n": qn}


def _candidate_terms(c, Q: float) -> dict:
    """nu_2, d nu_2/dQ, J_n, J_r of eqs. (3.4) and (3.6)."""
    r, n = c.gate["r"], c.gate["n"]
    qr = c.q("r", Q)
    if c.variant == "reset_before":
        Er2, hEr2, Erp2 = (expect1(f, r.mu, qr) for f in (_s2, _hq_s2, _ds2))
        qn = n.sw**2 * Er2 * Q + n.sv**2 * c.R + n.sb**2
        T2, hT2, S4 = (expect1(f, 0.0, qn, EPS0) for f in (_t2, _hq_t2, _s4))
        return {
            "nu2": T2,
            "dnu2": n.sw**2 * (Er2 + r.sw**2 * Q * hEr2) * hT2,
            "Jn": S4 * Er2,
            # W_n (r h) moves with h through r' W_r: its variance carries sigma_{w,n}^2 too
            # (the spec's J_r for reset_before omits it; see the module docstring)
            "Jr": n.sw**2 * S4 * Q * Erp2,
        }
    q_a, q_s = _candidate(c, Q)
    mu = r.mu

    def mix(f, eps=0.0):
        return mix_expect(f, mu, qr, q_a, q_s, eps)

    def beta2(r_, v):
        return (r_ * q_s) ** 2 / v if v > 0.0 else 0.0

    # d/dq_r E_r[T2(v_r)] by Stein: E[(u - mu) T2'(v) q_s r r'] / q_r, T2' = E[(1/2)(tanh^2)'']
    stein = mix(lambda u, r_, dr, v, U: (u - mu) / qr * q_s * r_ * dr * hq_t2_v(U),
                EPS0) if qr > 0.0 else 0.0
    return {
        "nu2": mix(lambda u, r_, dr, v, U: t2_v(U)),
        "dnu2": n.sw**2 * mix(lambda u, r_, dr, v, U: r_**2 * hq_t2_v(U), EPS0) + r.sw**2 * stein,
        "Jn": mix(lambda u, r_, dr, v, U: r_**2 * s4_v(U)),
        "Jr": mix(
            lambda u, r_, dr, v, U: dr**2
            * (beta2(r_, v) / v * U**2 + q_s - beta2(r_, v) if v > 0.0 else q_s + 0.0 * U)
            * s4_v(U)
        ),
    }


def slopes(c, Q: float) -> dict:
    """chi_q (eq. 3.4) and chi_jac (eq. 3.6) at the fixed point Q, with their ingredients.

    Symmetric case: the mean mode decouples; chi_jac = E[z^2] + sigma_{w,z}^2 E[z'^2] (Q + nu_2)
    + E[(1-z)^2] (sigma_{w,n}^2 J_n + sigma_{w,r}^2 J_r).
    """
    z, n, r = c.gate["z"], c.gate["n"], c.gate["r"]
    qz = c.q("z", Q)
    A, B, Dz = (expect1(f, z.mu, qz) for f in (_s2, _m2, _ds2))
    hA, hB = (expect1(f, z.mu, qz, EPS0) for f in (_hq_s2, _hq_m2))
    cand = _candidate_terms(c, Q)
    nu = cand["nu2"]
    chi_q = A + z.sw**2 * (Q * hA + nu * hB) + B * cand["dnu2"]
    chi_jac = A + z.sw**2 * Dz * (Q + nu) + B * (n.sw**2 * cand["Jn"] + r.sw**2 * cand["Jr"])
    return {"chi_q": chi_q, "chi_jac": chi_jac, "Ez2": A, "E1mz2": B, "Ezp2": Dz, **cand}


# ---------------------------------------------------------------------------
# Two sequences
# ---------------------------------------------------------------------------
def pair(c, Q: float, X: float, Sigma: float | None = None, deriv: bool = False) -> dict:
    """The covariance map (3.7) at (Q, Q^{ab} = X): G(X), g(X) = G(X) - X, and (``deriv``)
    its slope chi_c (3.8). Gates z, r pairs at (q_k(Q), q_k(Q), q^{ab}_k(X)) by (2.1)."""
    S = c.Sigma if Sigma is None else Sigma
    z = c.gate["z"]
    qz, qzab = c.q("z", Q), c.qab("z", X, S)
    Ezz = expect2(sig, gq.sig_v, z.mu, qz, qzab)
    Emm = expect2(lambda x: sig(-x), lambda x: gq.sig_v(-x), z.mu, qz, qzab)
    # 1 - E[z^a z^b] = E[1 - z^a] + E[z^a (1 - z^b)], no cancellation at large mu_z
    one_m = expect1(lambda x: sig(-x), z.mu, qz) + expect2(
        sig, lambda x: gq.sig_v(-x), z.mu, qz, qzab
    )
    if c.variant == "reset_before":
        N, dN = _nn_before(c, Q, X, S, deriv)
    else:
        N, dN = cross_nn(c, Q, X, S, deriv)
    out = {"G": Ezz * X + Emm * N, "g": Emm * N - one_m * X, "Enn": N, "Ezz": Ezz, "Emm": Emm}
    if deriv:
        Ezpzp = expect2(dsig, gq.dsig_v, z.mu, qz, qzab)
        out["chi_c"] = Ezz + z.sw**2 * Ezpzp * (X + N) + Emm * dN
    return out


def _nn_before(c, Q, X, S, deriv):
    """E[n^a n^b] and its X-derivative for reset_before (eq. 2.2, 3.8)."""
    r, n = c.gate["r"], c.gate["n"]
    qr, qrab = c.q("r", Q), c.qab("r", X, S)
    rr = expect2(sig, gq.sig_v, r.mu, qr, qrab)
    qn = n.sw**2 * expect1(_s2, r.mu, qr) * Q + n.sv**2 * c.R + n.sb**2
    qnab = n.sw**2 * rr * X + n.sv**2 * c.R * S + n.sb**2
    N = expect2(math.tanh, np.tanh, 0.0, qn, qnab, EPS0)
    if not deriv:
        return N, math.nan
    npnp = expect2(sech2, gq.sech2_v, 0.0, qn, qnab)
    rprp = expect2(dsig, gq.dsig_v, r.mu, qr, qrab)
    return N, n.sw**2 * npnp * (rr + r.sw**2 * X * rprp)


# ---------------------------------------------------------------------------
# The 4-D reset_after cross term E[n^a n^b] (eq. 2.3 for two sequences)
# ---------------------------------------------------------------------------
H_IN = 0.3  #: inner trapezoid step x sqrt(variance): error ~ e^{-pi^2/0.3} ~ 5e-15
H_OUT = 2.0 * math.pi / 28.0  #: outer step = H_OUT eta*(b)/sqrt(q_r): error ~ e^{-28} ~ 7e-13
B_MIN = 0.1  #: smallest sqrt(q_a/q_s) accepted (K loses analyticity at r = 0 as b -> 0)


@functools.lru_cache(maxsize=256)
def _eta_star(b100: int) -> float:
    """Half-width eta* of the strip |Im u| < eta* where Re(q_a + q_s sigma(u)^2) > 0, i.e.
    min over real u0 of Re sigma(u0 + i eta)^2 > -b^2 (b = b100/100): K(sigma(u)) is analytic
    there. eta* = pi/4 at b = 0, 1.54 at b = 1/3, -> pi (the sigmoid's poles) as b grows."""
    b = b100 / 100.0
    u0 = np.linspace(-40.0, 40.0, 8001)

    def ok(eta):
        s = 1.0 / (1.0 + np.exp(-(u0 + 1j * eta)))
        return (s * s).real.min() > -b * b

    lo, hi = 0.0, math.pi
    if ok(hi):
        return math.pi
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if ok(mid) else (lo, mid)
    return lo


def n_cheb(b: float) -> int:
    """Chebyshev points per axis for K(r^a, r^b), analytic for |Im r| < b near r = 0 (the
    Bernstein ellipse through r = i b has rho = 2b + sqrt(1 + 4b^2)). Measured: b = 0.11 needs
    ~32 points for 1e-12, b = 0.23 ~24, b > 1 ~16; the count is checked by refinement in the
    tests."""
    if not math.isfinite(b):
        return 20
    rho = 2.0 * b + math.sqrt(1.0 + 4.0 * b * b)
    return int(min(64, max(20, math.ceil(6.0 / math.log(rho)) + 16)))


def _k_funcs(ra, rb, q_s, q_sab, va, vb, kab, deriv):
    """Integrands of K: tanh tanh, and for chi_c r^a r^b sech^2 sech^2 and
    E[s^a s^b | U] sech^2 sech^2 (the Price derivatives w.r.t. q_s^{ab} and q_r^{ab})."""
    if not deriv:
        return lambda ua, ub: [np.tanh(ua) * np.tanh(ub)]
    suu = np.array([[va, kab], [kab, vb]])
    csu = np.array([[ra * q_s, rb * q_sab], [ra * q_sab, rb * q_s]])
    A = csu @ np.linalg.pinv(suu)
    cov01 = q_sab - (A @ csu.T)[0, 1]

    def f(ua, ub):
        ta, tb = np.tanh(ua), np.tanh(ub)
        pp = (1.0 - ta * ta) * (1.0 - tb * tb)
        sasb = cov01 + (A[0, 0] * ua + A[0, 1] * ub) * (A[1, 0] * ua + A[1, 1] * ub)
        return [ta * tb, ra * rb * pp, sasb * pp]

    return f


def _outer_matrices(mu, qr, qrab, h, rn, bw):
    """M[j, k] = E[l_j(r^a) l_k(r^b)] and M2 = E[r'^a r'^b l_j l_k] over the r pair."""
    if qr <= 0.0:
        L = gq.lagrange_matrix(np.array([sig(mu)]), rn, bw)
        M = L.T @ L
        return M, dsig(mu) ** 2 * M
    cr = max(-1.0, min(1.0, qrab / qr))
    z, w = gq.trap_rule(h)
    if cr >= 1.0 - 1e-15:
        ua = ub = mu + math.sqrt(qr) * z
        W = w
    else:
        Z1, Z2 = np.meshgrid(z, z, indexing="ij")
        W = np.outer(w, w)
        keep = W > 1e-18 * W.max()
        Z1, Z2, W = Z1[keep], Z2[keep], W[keep]
        ua = mu + math.sqrt(qr) * Z1
        ub = mu + math.sqrt(qr) * (cr * Z1 + math.sqrt(1.0 - cr * cr) * Z2)
    La = gq.lagrange_matrix(gq.sig_v(ua), rn, bw)
    Lb = gq.lagrange_matrix(gq.sig_v(ub), rn, bw)
    M = (La * W[:, None]).T @ Lb
    M2 = (La * (W * gq.dsig_v(ua) * gq.dsig_v(ub))[:, None]).T @ Lb
    return M, M2


def cross_nn(c, Q, X, S, deriv=False, n=None, h_in=H_IN, h_out=H_OUT):
    """E[n^a n^b] for reset_after and (``deriv``) dE[n^a n^b]/dQ^{ab}.

    dE/dX = sigma_{w,n}^2 E[r^a r^b n'^a n'^b] + sigma_{w,r}^2 E[r'^a r'^b s^a s^b n'^a n'^b]
    (Price's theorem in q_s^{ab} and in q_r^{ab}: d/dr^a d/dr^b tanh(a + r s) = s s tanh' tanh').
    ``n``, ``h_in``, ``h_out`` override the resolution (convergence tests).
    """
    r, gn = c.gate["r"], c.gate["n"]
    q_a, q_s = _candidate(c, Q)
    q_aab = gn.sv**2 * c.R * S + gn.sb**2
    q_sab = gn.sw**2 * X + c.sbh**2
    b = math.sqrt(q_a / q_s) if q_s > 0.0 else math.inf
    if b < B_MIN:
        raise ValueError(f"cross_nn: sqrt(q_a/q_s) = {b:.3g} < {B_MIN} (input part of the "
                         "candidate too weak for the Chebyshev-in-r method)")
    n = n or n_cheb(b)
    rn, bw = gq.cheb_nodes(n)
    nf = 3 if deriv else 1
    K = np.empty((nf, n, n))
    for j in range(n):
        for k in range(j, n):
            va, vb = q_a + rn[j] ** 2 * q_s, q_a + rn[k] ** 2 * q_s
            kab = q_aab + rn[j] * rn[k] * q_sab
            f = _k_funcs(rn[j], rn[k], q_s, q_sab, va, vb, kab, deriv)
            K[:, j, k] = K[:, k, j] = gq.bivariate_trap(va, vb, kab, h_in, f)
    qr = c.q("r", Q)
    eta = _eta_star(min(10000, int(b * 100.0))) if math.isfinite(b) else math.pi
    h = min(0.5, h_out * eta / math.sqrt(qr)) if qr > 0.0 else 1.0
    M, M2 = _outer_matrices(r.mu, qr, c.qab("r", X, S), h, rn, bw)
    N = float(np.sum(K[0] * M))
    if not deriv:
        return N, math.nan
    return N, gn.sw**2 * float(np.sum(K[1] * M)) + r.sw**2 * float(np.sum(K[2] * M2))
