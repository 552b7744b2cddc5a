"""Finite-width simulation of the UNTIED GRU / LSTM ensemble (gated-cells.md 2.2), NumPy only.

Contract: :func:`simulate` runs N units for T steps from h_0 = c_0 = 0 with two input sequences
(a, b: independent inputs at t = 1, correlation Sigma afterwards) and a tangent vector on
sequence a, and returns per-step averages over units (arrays of length T, index t - 1):
``Q`` (1/N |h^a|^2), ``X`` (1/N h^a . h^b), ``Qc``/``Xc`` (LSTM cell), ``q``/``qab`` (empirical
variance / covariance of the memory gate's pre-activation about its mean) and ``growth``
(the tangent's squared-norm ratio per step; GRU |dh|^2, LSTM |dc|^2 + |dh|^2).

Untied ensemble: every recurrent matrix W_k (entries N(0, sigma_{w,k}^2/N)) and every bias
(N(mu_k, sigma_{b,k}^2) per unit) is drawn afresh at every step; inputs enter as fresh Gaussian
fields of covariance sigma_{v,k}^2 R [[1, Sigma], [Sigma, 1]] (fresh V, or N_in -> infinity).
Given the vectors it multiplies (independent of the fresh W), the rows of W [v_1, ..., v_m] are
i.i.d. Gaussian with covariance sigma_w^2 G, G = V^T V / N: ``fields="gram"`` samples exactly
that (O(N) per step, the same law as explicit matrices); ``fields="matrix"`` multiplies explicit
N x N matrices (O(N^2)).
"""

from __future__ import annotations

import math

import numpy as np

try:
    from tests import reference_gated_quad as gq
except ImportError:  # run as a script, or with tests/ on sys.path
    import reference_gated_quad as gq

sig, dsig, sech2 = gq.sig_v, gq.dsig_v, gq.sech2_v


class _Net:
    """Field sampler of one simulation (holds the RNG and the width)."""

    def __init__(self, c, N, rng, fields):
        self.c, self.N, self.rng, self.matrix = c, N, rng, fields == "matrix"

    def recurrent(self, sw, vecs):
        """W [v_1, ..., v_m] for a fresh W with entries N(0, sw^2/N): array (m, N)."""
        V = np.stack(vecs)
        if self.matrix:
            W = self.rng.standard_normal((self.N, self.N)) * (sw / math.sqrt(self.N))
            return (W @ V.T).T
        lam, U = np.linalg.eigh(V @ V.T * (sw * sw / self.N))
        L = U * np.sqrt(np.maximum(lam, 0.0))
        return L @ self.rng.standard_normal((len(vecs), self.N))

    def inputs(self, k, S):
        """Input field plus bias of gate k for sequences a and b (the bias is shared)."""
        g = self.c.gate[k]
        za, zb = self.rng.standard_normal((2, self.N))
        sv = g.sv * math.sqrt(self.c.R)
        bias = g.mu + g.sb * self.rng.standard_normal(self.N)
        return sv * za + bias, sv * (S * za + math.sqrt(1.0 - S * S) * zb) + bias

    def pre(self, k, vecs, S):
        """(u^a, u^b, du) of gate k: recurrent fields of (h^a, h^b, dh) + input + bias."""
        wa, wb, wd = self.recurrent(self.c.gate[k].sw, vecs)
        xa, xb = self.inputs(k, S)
        return wa + xa, wb + xb, wd


def _gru_step(net, st, S):
    ha, hb, dh = st["ha"], st["hb"], st["dh"]
    c = net.c
    uza, uzb, duz = net.pre("z", [ha, hb, dh], S)
    ura, urb, dur = net.pre("r", [ha, hb, dh], S)
    ra, rb, dra = sig(ura), sig(urb), dsig(ura)
    n = c.gate["n"]
    if c.variant == "reset_after":
        sa, sb_, ds = net.recurrent(n.sw, [ha, hb, dh])
        bh = c.sbh * net.rng.standard_normal(net.N)
        sa, sb_ = sa + bh, sb_ + bh
        xa, xb = net.inputs("n", S)
        una, unb = xa + ra * sa, xb + rb * sb_
        dun = dra * dur * sa + ra * ds
    else:
        ya, yb, dy = net.recurrent(n.sw, [ra * ha, rb * hb, dra * dur * ha + ra * dh])
        xa, xb = net.inputs("n", S)
        una, unb, dun = ya + xa, yb + xb, dy
    za, zb, na, nb = sig(uza), sig(uzb), np.tanh(una), np.tanh(unb)
    new = {"ha": za * ha + (1 - za) * na, "hb": zb * hb + (1 - zb) * nb}
    new["dh"] = za * dh + dsig(uza) * duz * (ha - na) + (1 - za) * (1 - na * na) * dun
    return new, uza, uzb


def _lstm_step(net, st, S):
    vecs = [st["ha"], st["hb"], st["dh"]]
    u = {k: net.pre(k, vecs, S) for k in ("f", "i", "g", "o")}
    f = [sig(x) for x in u["f"][:2]]
    i = [sig(x) for x in u["i"][:2]]
    g = [np.tanh(x) for x in u["g"][:2]]
    o = [sig(x) for x in u["o"][:2]]
    ca = f[0] * st["ca"] + i[0] * g[0]
    cb = f[1] * st["cb"] + i[1] * g[1]
    dc = (f[0] * st["dc"] + st["ca"] * dsig(u["f"][0]) * u["f"][2]
          + g[0] * dsig(u["i"][0]) * u["i"][2] + i[0] * (1 - g[0] ** 2) * u["g"][2])
    ta = np.tanh(ca)
    dh = o[0] * sech2(ca) * dc + ta * dsig(u["o"][0]) * u["o"][2]
    new = {"ca": ca, "cb": cb, "ha": o[0] * ta, "hb": o[1] * np.tanh(cb), "dc": dc, "dh": dh}
    return new, u["f"][0], u["f"][1]


def simulate(c, N: int, T: int, rng: np.random.Generator, fields: str = "gram",
             return_state: bool = False):
    """Run the untied network (module docstring); ``c`` is a ``reference_gated_params.Cell``.

    With ``return_state`` also returns the final state dict (h^a, h^b, tangent; LSTM c too).
    """
    z = np.zeros(N)
    st = {"ha": z, "hb": z, "dh": rng.standard_normal(N)}
    if c.arch == "lstm":
        st.update(ca=z, cb=z, dc=rng.standard_normal(N))
    step = _lstm_step if c.arch == "lstm" else _gru_step
    mu = c.gate["f" if c.arch == "lstm" else "z"].mu
    keys = ("Q", "X", "Qc", "Xc", "q", "qab", "growth")
    out = {k: np.full(T, math.nan) for k in keys}
    net = _Net(c, N, rng, fields)
    for t in range(T):
        S = 0.0 if t == 0 else c.Sigma
        norm0 = _tangent_norm(st)
        st, ua, ub = step(net, st, S)
        norm1 = _tangent_norm(st)
        out["growth"][t] = norm1 / norm0
        # renormalise, with a random sign per unit: keeps (1/N) h . dh at O(1/sqrt(N)) as in
        # the N -> infinity limit (see the module docstring)
        scale = rng.choice((-1.0, 1.0), size=N) / math.sqrt(norm1)
        st["dh"] = st["dh"] * scale
        if "dc" in st:
            st["dc"] = st["dc"] * scale
        out["Q"][t], out["X"][t] = np.mean(st["ha"] ** 2), np.mean(st["ha"] * st["hb"])
        if "ca" in st:
            out["Qc"][t], out["Xc"][t] = np.mean(st["ca"] ** 2), np.mean(st["ca"] * st["cb"])
        out["q"][t] = np.mean((ua - mu) ** 2)
        out["qab"][t] = np.mean((ua - mu) * (ub - mu))
    return (out, st) if return_state else out


def _tangent_norm(st) -> float:
    n = float(np.mean(st["dh"] ** 2))
    return n + float(np.mean(st["dc"] ** 2)) if "dc" in st else n
