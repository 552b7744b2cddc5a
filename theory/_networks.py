"""Finite gated networks: weight draws and one-step Jacobians (private, NumPy).

Shared by the gated cells' samplers and simulators (``theory.cells.gru``,
``theory.cells.lstm``); nothing here knows a particular cell's equations.

* :func:`draw_gate_matrices` draws the recurrent matrices W_k of every gate for n
  networks in the three laws of gated-cells.md 1.3: ``gaussian`` (entries
  N(0, sigma_{w,k}^2 / N)), ``orthogonal`` (sigma_{w,k} times an independent
  Haar-orthogonal matrix per gate) and ``block-orthogonal`` (one G N x N matrix with
  orthonormal columns cut into G blocks and rescaled to per-entry variance
  sigma_{w,k}^2 / N: what Keras and Flax-nnx build, gated-cells.md 7).
* :class:`SumFactor` is a one-step Jacobian J = diag(a) + sum_k diag(b_k) W_k M_k with
  optional inner factors M_k = diag(m_k) + diag(p_k) W_p (the GRU reset_before
  candidate), applied to a block of vectors without forming J.
"""

from __future__ import annotations

import math

import numpy as np


def _haar(N: int, rng: np.random.Generator) -> np.ndarray:
    """A Haar-orthogonal N x N matrix (QR of a Gaussian matrix, signs of diag(R) fixed)."""
    Q, R = np.linalg.qr(rng.standard_normal((N, N)))
    return Q * np.sign(np.diag(R))


def draw_gate_matrices(weights: str, scales: list[float], N: int, n: int,
                       rng: np.random.Generator) -> list[np.ndarray]:
    """Recurrent matrices of G gates with scales ``scales`` for n networks: G arrays (n, N, N)."""
    G = len(scales)
    out = [np.empty((n, N, N)) for _ in range(G)]
    for k in range(n):
        if weights == "block-orthogonal":
            Q, R = np.linalg.qr(rng.standard_normal((G * N, N)))
            U = Q * np.sign(np.diag(R))  # G N x N with orthonormal columns (Haar)
            for g in range(G):
                out[g][k] = math.sqrt(G) * scales[g] * U[g * N:(g + 1) * N]
        else:
            for g in range(G):
                if weights == "orthogonal":
                    out[g][k] = scales[g] * _haar(N, rng)
                else:
                    out[g][k] = rng.standard_normal((N, N)) * (scales[g] / math.sqrt(N))
    return out


class SumFactor:
    """J = diag(a) + sum_k diag(b_k) W_k [diag(m_k) + diag(p_k) W_p], for ``apply(Y) = J Y``.

    ``terms`` is a list of (b, W, |W|_2, inner) with ``inner`` None (W alone) or
    (m, p, W_p, |W_p|_2). ``cond_bound`` bounds cond(J) by |a| and the terms' norms (inf
    when that bound cannot exclude a singular J; the sampler then orthogonalises after
    every step).
    """

    def __init__(self, a: np.ndarray, terms: list) -> None:
        self.a, self.terms = a, terms

    def apply(self, Y: np.ndarray) -> np.ndarray:
        out = self.a[:, None] * Y
        for b, W, _, inner in self.terms:
            if inner is None:
                out += b[:, None] * (W @ Y)
            else:
                m, p, Wp, _ = inner
                out += b[:, None] * (W @ (m[:, None] * Y + p[:, None] * (Wp @ Y)))
        return out

    def cond_bound(self) -> float:
        spread = 0.0
        for b, _, norm_w, inner in self.terms:
            norm = float(np.max(np.abs(b))) * norm_w
            if inner is not None:
                m, p, _, norm_p = inner
                norm *= float(np.max(np.abs(m))) + float(np.max(np.abs(p))) * norm_p
            spread += norm
        hi = float(np.max(np.abs(self.a))) + spread
        lo = float(np.min(np.abs(self.a))) - spread
        return math.inf if lo <= 0.0 else hi / lo


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic sigmoid without overflow."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def frobenius_rows(b: np.ndarray, W: np.ndarray) -> np.ndarray:
    """diag(b) W for n networks: b (n, N), W (n, N, N)."""
    return b[:, :, None] * W
