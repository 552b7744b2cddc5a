"""Singular values of the T-step Jacobian of a sampled finite RNN (theory.md 5.1).

``sample_singular_values(params, N, T, rng)`` draws a tied network of width N
(W Gaussian or sigma_w times Haar-orthogonal, V, b as in theory.md 1.3), drives it
with i.i.d. inputs (vanilla: x_t ~ N(0, R I); minimalRNN: z_t ~ N(0, R I), the
output of the input map), runs it to stationarity and returns the singular values
of J_T ... J_1 with J_t = dh_t/dh_{t-1}:

* vanilla: J_t = diag(phi'(e_t)) W;
* minimalRNN: J_t = diag(u_t) + diag(u'_t (h_{t-1} - z_t)) W.

The product is accumulated stably (Benettin): J_t Q_{t-1} = Q_t R_t, so that
J_T ... J_1 = Q_T P with P = R_T ... R_1 kept as ``diag(exp(ell)) B`` (row log
scales ``ell`` and rows ``B`` of unit norm), which never under- or overflows.
Several Jacobians are multiplied before each QR while a bound on the condition
number of the block stays below ``BLOCK_COND`` (so no small singular value
loses more than ~1e-8 relative accuracy). The singular values of P are those of
a row-graded matrix: computed with LAPACK ``dgejsv`` (Jacobi SVD with high
relative accuracy, Drmac & Veselic 2008; used as the reference in the tests) or
the equally accurate and faster Householder SVD of the rows sorted by scale, and,
when the row scales span more than ``SPAN`` e-folds, by deflating the largest
rows (the rest are projected on the orthogonal complement of their row space;
relative error ~exp(-2 gap), gap the log-ratio at the cut).

Example
-------
>>> import numpy as np, theory
>>> s = theory.sample_singular_values(theory.Params(), 50, 5, np.random.default_rng(0))
>>> s.shape, bool(np.all(np.diff(s) >= 0))
((50,), True)
"""

from __future__ import annotations

import math

import numpy as np
from scipy.linalg import blas, lapack

from theory import cells
from theory.types import ParameterError, Params

MAX_N = 4000
MAX_T = 100_000
BLOCK_COND = 1e8  # max condition-number bound of a block of Jacobians multiplied before a QR
SPAN = 600.0  # row log-scales spanning more than this are deflated (exp(600) ~ 1e260)
BURN_MIN, BURN_MAX = 50, 3000


def _check_int(name: str, value: object, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ParameterError(f"{name}: expected an integer, got {value!r}")
    if not lo <= int(value) <= hi:
        raise ParameterError(f"{name}: {value} is outside [{lo}, {hi}]")
    return int(value)


def draw_weights(p: Params, N: int, rng: np.random.Generator,
                 sigma_w: float | None = None) -> np.ndarray:
    """W_ij ~ N(0, sigma_w^2 / N), or sigma_w times a Haar-orthogonal matrix (theory.md 1.3).

    ``sigma_w`` defaults to ``p.sigma_w`` (a gate's own scale for the gated cells).
    """
    sw = p.sigma_w if sigma_w is None else sigma_w
    G = rng.standard_normal((N, N))
    if p.weights == "gaussian":
        return G * (sw / math.sqrt(N))
    Q, R = np.linalg.qr(G)
    return sw * Q * np.sign(np.diag(R))  # sign fix makes Q Haar-distributed


def phi_values(phi: str, e: np.ndarray) -> np.ndarray:
    """phi(e) of a vanilla nonlinearity (theory.md 1.1)."""
    if phi == "tanh":
        return np.tanh(e)
    if phi == "erf":
        from scipy.special import erf

        return erf(e)
    if phi == "relu":
        return np.maximum(e, 0.0)
    return e


def phi_slopes(phi: str, e: np.ndarray) -> np.ndarray:
    """phi'(e) of a vanilla nonlinearity."""
    if phi == "tanh":
        return 1.0 / np.cosh(e) ** 2
    if phi == "erf":
        return (2.0 / math.sqrt(math.pi)) * np.exp(-e * e)
    if phi == "relu":
        return (e > 0).astype(float)
    return np.ones_like(e)


class DiagFactor:
    """A one-step Jacobian J = diag(a) W, or diag(a) + diag(c) W (``c`` not None)."""

    def __init__(self, W: np.ndarray, w_norms: tuple[float, float], a: np.ndarray,
                 c: np.ndarray | None = None) -> None:
        self.W, self.w_norms, self.a, self.c = W, w_norms, a, c

    def apply(self, Y: np.ndarray) -> np.ndarray:
        """J Y."""
        WY = self.W @ Y
        if self.c is None:
            return self.a[:, None] * WY
        return self.a[:, None] * Y + self.c[:, None] * WY

    def cond_bound(self) -> float:
        """Upper bound on cond(J) from |a|, |c| and the extreme singular values of W."""
        smax, smin = self.w_norms
        a, c = self.a, self.c
        if c is None:
            amax, amin = float(np.max(np.abs(a))), float(np.min(np.abs(a)))
            return math.inf if amin == 0.0 else (amax / amin) * (smax / smin)
        cmax = float(np.max(np.abs(c)))
        hi = float(np.max(np.abs(a))) + cmax * smax
        lo = float(np.min(np.abs(a))) - cmax * smax
        return math.inf if lo <= 0.0 else hi / lo


def extreme_singular_values(W: np.ndarray) -> tuple[float, float]:
    """(largest, smallest) singular value of W."""
    sv = np.linalg.svd(W, compute_uv=False)
    return float(sv[0]), float(sv[-1])


def _absorb(ell: np.ndarray, B: np.ndarray, R: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """P <- R P for P = diag(exp(ell)) B, R upper triangular; rows renormalised."""
    ell = np.maximum(ell, -1e300)  # exact zero rows (ReLU) carry ell = -inf
    m = np.maximum.accumulate(ell[::-1])[::-1]  # m_i = max_{k >= i} ell_k
    with np.errstate(over="ignore", under="ignore"):
        E = np.exp(np.minimum(ell[None, :] - m[:, None], 0.0))
    M = blas.dtrmm(1.0, np.triu(R * E), B)  # R, B upper triangular
    norms = np.sqrt(np.einsum("ij,ij->i", M, M))
    with np.errstate(divide="ignore"):
        ell_new = m + np.log(norms)
    safe = np.where(norms > 0, norms, 1.0)
    return ell_new, M / safe[:, None]


def graded_log_sv(ell: np.ndarray, B: np.ndarray) -> tuple[np.ndarray, float]:
    """ln of the singular values of diag(exp(ell)) B (rows of B of unit norm).

    Returns (ln s increasing, smallest log-gap used for a deflation; inf if none).
    """
    order = np.argsort(-ell, kind="stable")
    ell, B = ell[order], B[order]
    finite = np.isfinite(ell) & (ell > -1e299)
    out = [np.full(int(np.count_nonzero(~finite)), -np.inf)]
    ell, B = ell[finite], B[finite]
    min_gap = math.inf
    while ell.size:
        if ell[0] - ell[-1] <= SPAN:
            out.append(ell[0] + _log_sv(np.exp(ell - ell[0])[:, None] * B))
            break
        k_max = int(np.searchsorted(-ell, -(ell[0] - SPAN), side="right"))
        gaps = ell[: max(k_max, 2) - 1] - ell[1 : max(k_max, 2)]  # cut after row k - 1
        k = int(np.argmax(gaps)) + 1
        min_gap = min(min_gap, float(gaps[k - 1]))
        out.append(ell[0] + _log_sv(np.exp(ell[:k] - ell[0])[:, None] * B[:k]))
        comp = np.linalg.qr(B[:k].T, mode="complete")[0][:, k:]  # complement of the top row space
        B2 = B[k:] @ comp
        norms = np.sqrt(np.einsum("ij,ij->i", B2, B2))
        with np.errstate(divide="ignore"):
            ell = ell[k:] + np.log(norms)
        B = B2 / np.where(norms > 0, norms, 1.0)[:, None]
        order = np.argsort(-ell, kind="stable")
        ell, B = ell[order], B[order]
    return np.sort(np.concatenate(out)), min_gap


def _log_sv(A: np.ndarray) -> np.ndarray:
    """ln singular values of a (k x n, k <= n) row-graded matrix, rows sorted by decreasing
    scale. Householder bidiagonalisation + divide and conquer keeps the small singular
    values to high relative accuracy for such matrices; tests compare it with
    LAPACK dgejsv (Jacobi SVD, Drmac & Veselic 2008, relative accuracy proven) on
    graded products spanning 300 e-folds: |difference in ln s| < 1e-11."""
    sv = np.linalg.svd(A, compute_uv=False)
    with np.errstate(divide="ignore"):
        return np.log(sv)


def log_sv_jacobi(A: np.ndarray) -> np.ndarray:
    """Reference: ln singular values by LAPACK dgejsv (high relative accuracy)."""
    At = np.asfortranarray(A.T)  # column-scaled form, the case dgejsv is accurate for
    # joba=0 ('C'), jobu=jobv=3 (no vectors), jobr=0 (full range), jobt=1, jobp=0
    sva, _, _, work, _, info = lapack.dgejsv(At, joba=0, jobu=3, jobv=3, jobr=0, jobt=1, jobp=0)
    if info != 0:
        raise RuntimeError(f"dgejsv failed with info={info}")
    with np.errstate(divide="ignore"):
        return np.sort(np.log(sva) + (math.log(work[0]) - math.log(work[1])))


def sample_singular_values(params: Params, N: int, T: int, rng: np.random.Generator,
                           log: bool = False, *, burn_in: int | None = None) -> np.ndarray:
    """Singular values of the T-step Jacobian of a sampled tied network (theory.md 5.1).

    Parameters
    ----------
    params : Params
        Architecture, phi, weights and the initialisation scales.
    N, T : int
        Width (2..4000) and number of steps (1..100000).
    rng : numpy.random.Generator
        Source of W, V, b and the inputs.
    log : bool
        Return ln s (exact zeros of ReLU networks as -inf) instead of s; use it
        when s under- or overflows double precision (large T).
    burn_in : int, optional
        Steps run from h_0 = 0 before the Jacobian is accumulated; default
        50 + 6 xi_q of the mean field, at most 3000.

    Returns
    -------
    ndarray of shape (N,)
        Increasing singular values (or their logs).
    """
    cells.require(params.arch, "network")
    N = _check_int("N", N, 2, MAX_N)
    T = _check_int("T", T, 1, MAX_T)
    if not isinstance(rng, np.random.Generator):
        raise ParameterError("rng: expected a numpy.random.Generator")
    if burn_in is None:
        burn_in = _default_burn_in(params)
    burn_in = _check_int("burn_in", burn_in, 0, 10 * BURN_MAX)
    logs = sample_log_sv_multi(params, N, (T,), rng, burn_in=burn_in)[T]
    if log:
        return logs
    with np.errstate(over="ignore", under="ignore"):
        return np.exp(logs)


def sample_log_sv_multi(params: Params, N: int, Ts: tuple[int, ...], rng: np.random.Generator,
                        *, burn_in: int | None = None) -> dict[int, np.ndarray]:
    """ln singular values of the t-step Jacobians of ONE network for every t in ``Ts``
    (prefixes of the same product, so the answers are correlated across t)."""
    cells.require(params.arch, "network")
    N = _check_int("N", N, 2, MAX_N)
    Ts = tuple(sorted(_check_int("T", t, 1, MAX_T) for t in Ts))
    if burn_in is None:
        burn_in = _default_burn_in(params)
    burn_in = _check_int("burn_in", burn_in, 0, 10 * BURN_MAX)
    net = cells.get(params.arch).network(params, N, rng)
    for _ in range(burn_in):
        net.step()
    return {t: graded_log_sv(ell, B)[0] for t, (ell, B) in _accumulate(net, Ts).items()}


def _default_burn_in(params: Params) -> int:
    from theory.meanfield import point

    pr = point(params)
    xi = pr.xi_q if math.isfinite(pr.xi_q) else BURN_MAX
    return int(min(BURN_MAX, BURN_MIN + 6.0 * xi))


def _accumulate(net, Ts: tuple[int, ...]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Run max(Ts) steps; return P_t = R_t ... R_1 as (ell, B) at every t in Ts.

    ``net`` is a cell's network (``Cell.network``): ``net.dim`` is the size of its
    state, ``net.step()`` advances it and returns the step's Jacobian factor with
    ``apply(Y)`` (J Y) and ``cond_bound()``.
    """
    D = net.dim
    ell, B = np.zeros(D), np.eye(D)
    Y, cond = np.eye(D), 1.0
    out = {}
    for t in range(1, max(Ts) + 1):
        f = net.step()
        Y = f.apply(Y)
        cond *= f.cond_bound()
        if cond > BLOCK_COND or t in Ts:
            Q, R = np.linalg.qr(Y)
            ell, B = _absorb(ell, B, R)
            Y, cond = Q, 1.0
            if t in Ts:
                out[t] = (ell.copy(), B.copy())
    return out
