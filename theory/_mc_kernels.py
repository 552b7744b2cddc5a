"""Stepping loop of the finite-width simulator (private; see :mod:`theory.montecarlo`).

The loop is the same for every cell; the cell's ``Cell.simulator`` supplies the
network (``draw``), the input drive of a block of steps (``drive``), one step of
every network (``step``), its one-step Jacobian trace and the part of the state
that is the hidden vector h (``hidden``). NumPy, plus one Numba kernel for the
step's cost: W times the three states (rows a, b and the perturbed copy of a) of
every network, reading W once. It replaces
BLAS gemv/gemm calls, which OpenBLAS multithreads: on this shared 2-core machine a
threaded gemv per step spun and made the test suite 5x slower in CPU time, while
the serial kernel matches single-threaded BLAS (~0.4 ms at N = 1000). The
level-3 calls (QR of W, V times a block of inputs) stay in BLAS. Randomness comes
from the ``numpy.random.Generator`` passed in; nothing here validates arguments.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from theory.types import Params

#: Input steps drawn and multiplied by V at once (bounds the memory of inputs).
BLOCK = 64
#: Per-step observables averaged over networks by the caller.
OBS = ("q", "Q", "c", "C", "one_minus_C")
RECORDED = OBS + ("chi_trace",)


def draw_recurrent(params: Params, N: int, n: int, rng: np.random.Generator,
                   sigma_w: float | None = None) -> np.ndarray:
    """Recurrent matrices W (n, N, N) of theory.md 1.3 (scale ``sigma_w``, default params')."""
    sw = params.sigma_w if sigma_w is None else sigma_w
    W = rng.standard_normal((n, N, N))
    if params.weights == "orthogonal":
        # Haar measure: QR of a Gaussian matrix with the signs of diag(R) fixed. One
        # QR per matrix: numpy's stacked QR ran 4x slower with two BLAS threads here.
        for k in range(n):
            Qm, Rm = np.linalg.qr(W[k])
            W[k] = sw * Qm * np.sign(np.diagonal(Rm))
    else:
        W *= sw / math.sqrt(N)
    return W


def draw_network(params: Params, N: int, n: int, rng: np.random.Generator):
    """W (n, N, N), V (n, N, N), b (n, N) of theory.md 1.3 for n networks."""
    W = draw_recurrent(params, N, n, rng)
    V = rng.standard_normal((n, N, N)) * (params.sigma_v / math.sqrt(N))
    b = params.mu_b + params.sigma_b * rng.standard_normal((n, N))
    return W, V, b


def _draw_inputs(params: Params, shape: tuple[int, int, int], t0: int, rng):
    """Inputs of sequences a and b for steps t0 .. t0 + L - 1, shape (n, L, N).

    Zero-mean Gaussian, variance R per component; step 1 independent, later steps
    x^b = Sigma x^a + sqrt(1 - Sigma^2) x' (theory.md 1.3).
    """
    sd = math.sqrt(params.R)
    xa = sd * rng.standard_normal(shape)
    xp = sd * rng.standard_normal(shape)
    sig = np.full((shape[1], 1), params.Sigma)
    if t0 == 1:
        sig[0] = 0.0
    xb = sig * xa + np.sqrt(1.0 - sig**2) * xp
    return xa, xb


# fastmath without "nnan"/"ninf": NaN and inf still propagate (engineering-notes.md).
@njit(cache=True, nogil=True, fastmath={"reassoc", "contract", "arcp", "nsz"})
def _matvec3(W, H, out):  # pragma: no cover - compiled
    """out[k, r] = W[k] @ H[k, r] for r = 0, 1, 2; W (n, N, N), H and out (n, 3, N)."""
    n, N = W.shape[0], W.shape[1]
    for k in range(n):
        for i in range(N):
            a0 = 0.0
            a1 = 0.0
            a2 = 0.0
            for j in range(N):
                w = W[k, i, j]
                a0 += w * H[k, 0, j]
                a1 += w * H[k, 1, j]
                a2 += w * H[k, 2, j]
            out[k, 0, i] = a0
            out[k, 1, i] = a1
            out[k, 2, i] = a2


def _observe(E, H, out, t0):
    """Write q_t, Q_t, c_t, C_t, 1 - C_t for a block of steps starting at t0.

    ``E``, ``H``: pre-activations and states of sequences a, b, shape (n, L, 2, N).
    """
    d = E - E.mean(axis=-1, keepdims=True)
    q = (d * d).mean(axis=-1).mean(axis=-1)
    sl = slice(t0, t0 + E.shape[1])
    out["q"][:, sl] = q
    out["c"][:, sl] = (d[:, :, 0] * d[:, :, 1]).mean(axis=-1) / q
    sq = (H * H).sum(axis=-1).sum(axis=-1)
    out["Q"][:, sl] = sq / (2 * H.shape[-1])
    out["C"][:, sl] = 2 * (H[:, :, 0] * H[:, :, 1]).sum(axis=-1) / sq
    diff = H[:, :, 0] - H[:, :, 1]
    out["one_minus_C"][:, sl] = (diff * diff).sum(axis=-1) / sq


def _renormalise(H, eps, rng=None):
    """Set row 2 of H to row 0 plus a perturbation of norm eps |h^a|; return that norm.

    With ``rng`` the direction is drawn isotropically, otherwise the current
    difference is rescaled (Benettin renormalisation).
    """
    ha = H[:, 0]
    d = rng.standard_normal(ha.shape) if rng is not None else H[:, 2] - ha
    norm_a = np.linalg.norm(ha, axis=1)
    target = eps * np.where(norm_a > 0, norm_a, math.sqrt(ha.shape[1]))
    nd = np.linalg.norm(d, axis=1)
    H[:, 2] = ha + d * (target / np.where(nd > 0, nd, 1.0))[:, None]
    return target


def run_batch(params, sim, N, T, n, burn, eps, rng, tied=True):
    """Simulate n networks of the cell ``sim``; per-network arrays (n, T + 1) and the log growth.

    ``sim`` is the cell's ``Cell.simulator``; the state of a network is (3, D) for the
    rows a, b and the perturbed copy of a, D = ``sim.dim(N)``. ``tied=False`` redraws the
    recurrent matrices and the biases before every step (``sim.redraw``): the untied
    ensemble in which the mean field is exact (theory.md 2, gated-cells.md 2.2).
    """
    net = sim.draw(params, N, n, rng)
    out = {k: np.full((n, T + 1), np.nan) for k in RECORDED}
    out["Q"][:, 0], out["C"][:, 0], out["one_minus_C"][:, 0] = 0.0, 1.0, 0.0
    logg = np.full((n, T + 1), np.nan)
    H = np.zeros((n, 3, sim.dim(N)))
    ref = None
    for t0 in range(1, T + 1, BLOCK):
        L = min(BLOCK, T + 1 - t0)
        xa, xb = _draw_inputs(params, (n, L, N), t0, rng)
        x3 = np.stack((xa, xb, xa), axis=2)  # (n, L, 3, N): rows a, b, copy of a
        drive = sim.drive(params, net, xa, xb)
        Eb, Hb = np.empty((n, L, 2, N)), np.empty((n, L, 2, N))
        for s in range(L):
            t = t0 + s
            if tied:
                E, H_new, trace = sim.step(params, net, H, drive, s, x3[:, s])
            else:  # fresh W and b, so the drive V x + b of this step is recomputed
                sim.redraw(params, net, N, rng)
                one = sim.drive(params, net, xa[:, s:s + 1], xb[:, s:s + 1])
                E, H_new, trace = sim.step(params, net, H, one, 0, x3[:, s])
            out["chi_trace"][:, t] = trace
            H = H_new
            Eb[:, s], Hb[:, s] = E[:, :2], sim.hidden(H)[:, :2]
            if t == burn:
                ref = _renormalise(H, eps, rng)
            elif t > burn:
                logg[:, t] = np.log(np.linalg.norm(H[:, 2] - H[:, 0], axis=1) / ref)
                ref = _renormalise(H, eps)
        _observe(Eb, Hb, out, t0)
        if not np.isfinite(H).all():  # overflow (no finite fixed point): stop, rest stays NaN
            break
    return out, logg
