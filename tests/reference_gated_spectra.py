"""Second moment of the GRU's one-step Jacobian, eq. (5.1) of gated-cells.md (reset_after).

Contract: :func:`m2_step` returns (m1, m2) = ((1/N) tr JJ^T, (1/N) tr (JJ^T)^2) of J = A +
sum_k B_k W_k (3.5) at the fixed point, with A = z, B_z = sigma_z z'(h - n),
B_n = sigma_n (1 - z) n' r, B_r = sigma_r (1 - z) n' s r', W_k Haar-orthogonal or Gaussian. It
needs the stationary E[h^4] of the untied GRU, (6 E[z^2 (1-z)^2] Q nu_2 + E[(1-z)^4] nu_4) /
(1 - E[z^4]) (h is independent of the step's gates and candidate; odd moments vanish). The
reset_before Jacobian has a product W_n diag(h r') W_r and is not of this form.
"""

from __future__ import annotations

try:
    from tests import reference_gated_gru as gru
except ImportError:  # run as a script, or with tests/ on sys.path
    import reference_gated_gru as gru

sig, dsig = gru.sig, gru.dsig
expect1, mix_expect = gru.expect1, gru.mix_expect
_s2, _ds2, _m2, _candidate = gru._s2, gru._ds2, gru._m2, gru._candidate
t2_v, s4_v = gru.t2_v, gru.s4_v


Z_MOMENTS = {  # update-gate integrands of eq. (5.1): z = sigma(x), 1 - z = sigma(-x)
    "z2": _s2, "z4": lambda x: sig(x) ** 4, "zp2": _ds2, "zp4": lambda x: dsig(x) ** 4,
    "z2zp2": lambda x: (sig(x) * dsig(x)) ** 2, "m2": _m2, "m4": lambda x: sig(-x) ** 4,
    "z2m2": lambda x: (sig(x) * sig(-x)) ** 2, "zp2m2": lambda x: (dsig(x) * sig(-x)) ** 2,
    "1-z4": lambda x: sig(-x) * (1.0 + sig(x)) * (1.0 + sig(x) ** 2),
}


def _candidate_moments(c, Q: float) -> dict:
    """Expectations over (u_r, a, s) of the candidate terms of (5.1), with
    W = sigma_n^2 r^2 + sigma_r^2 r'^2 s^2 and s | U ~ N(b U, g) given r (b = r q_s/v)."""
    r, n = c.gate["r"], c.gate["n"]
    wn, wr = n.sw**2, r.sw**2
    q_a, q_s = _candidate(c, Q)
    qr = c.q("r", Q)

    def cond(r_, v, U):  # E[s^2 | U], E[s^4 | U]
        b = r_ * q_s / v if v > 0.0 else 0.0
        g = q_s - b * b * v
        return (b * U) ** 2 + g, (b * U) ** 4 + 6.0 * (b * U) ** 2 * g + 3.0 * g * g

    def w1(r_, dr, v, U):  # E[W | U]
        return wn * r_**2 + wr * dr**2 * cond(r_, v, U)[0]

    def w2(r_, dr, v, U):  # E[W^2 | U]
        s2, s4 = cond(r_, v, U)
        return wn**2 * r_**4 + 2.0 * wn * wr * r_**2 * dr**2 * s2 + wr**2 * dr**4 * s4

    fns = {
        "nu2": lambda u, r_, dr, v, U: t2_v(U),
        "nu4": lambda u, r_, dr, v, U: t2_v(U) ** 2,
        "EnW": lambda u, r_, dr, v, U: s4_v(U) * w1(r_, dr, v, U),
        "En2W": lambda u, r_, dr, v, U: t2_v(U) * s4_v(U) * w1(r_, dr, v, U),
        "EW2": lambda u, r_, dr, v, U: s4_v(U) ** 2 * w2(r_, dr, v, U),
        "Bn": lambda u, r_, dr, v, U: wn * r_**2 * s4_v(U),
        "Br": lambda u, r_, dr, v, U: wr * dr**2 * cond(r_, v, U)[0] * s4_v(U),
    }
    return {k: mix_expect(f, r.mu, qr, q_a, q_s) for k, f in fns.items()}


def m2_step(c, Q: float, weights: str = "orthogonal") -> tuple[float, float]:
    """(m1, m2) of the one-step Jacobian (3.5) at the fixed point Q by eq. (5.1).

    ``weights`` "orthogonal" (Haar W_k) or "gaussian" (adds sum_k E[B_k^2]^2).
    """
    if c.variant != "reset_after":
        raise ValueError("m2_step: eq. (5.1) covers J = A + sum B_k W_k, i.e. reset_after")
    z = c.gate["z"]
    zm = {k: expect1(f, z.mu, c.q("z", Q)) for k, f in Z_MOMENTS.items()}
    cm = _candidate_moments(c, Q)
    nu2 = cm["nu2"]
    h4 = (6.0 * zm["z2m2"] * Q * nu2 + zm["m4"] * cm["nu4"]) / zm["1-z4"]
    hn2, hn4 = Q + nu2, h4 + 6.0 * Q * nu2 + cm["nu4"]  # E(h - n)^2, E(h - n)^4
    ES2 = (zm["z4"] + z.sw**4 * zm["zp4"] * hn4 + zm["m4"] * cm["EW2"]
           + 2.0 * z.sw**2 * zm["z2zp2"] * hn2 + 2.0 * zm["z2m2"] * cm["EnW"]
           + 2.0 * z.sw**2 * zm["zp2m2"] * (Q * cm["EnW"] + cm["En2W"]))
    A2 = zm["z2"]
    B2 = [z.sw**2 * zm["zp2"] * hn2, zm["m2"] * cm["Bn"], zm["m2"] * cm["Br"]]
    m2 = ES2 + 2.0 * A2 * sum(B2) + sum(B2) ** 2 - sum(b * b for b in B2)
    if weights == "gaussian":
        m2 += sum(b * b for b in B2)
    return A2 + sum(B2), m2
