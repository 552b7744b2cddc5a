"""Real recurrent networks drawn exactly from the theory's initialisation ensemble.

Contract
--------
``init_network(params, N, n_in, rng)`` draws one network's weights from the ensemble of a
:class:`theory.Params` (theory.md 1.3, gated-cells.md 1.3) with a seeded
``numpy.random.Generator`` and returns ``(trainable, frozen)``: two dicts of float64
NumPy arrays. A map point and a theory point are therefore the same ensemble.
``cell_step(arch, phi, gru_variant)`` returns the one-step update
``(w, frozen, state, x) -> state`` of the cell in JAX; ``initial_state`` and ``hidden``
build and read the state.

Ensemble (per gate k of a GRU/LSTM, from ``Params.gate(k)``; one set for vanilla/minimal):

* recurrent W: ``gaussian`` entries N(0, sigma_w^2/N); ``orthogonal`` sigma_w times a
  Haar-orthogonal matrix; ``block-orthogonal`` (GRU/LSTM) one N x GN matrix with
  orthonormal rows (Haar on the Stiefel manifold) cut into G square blocks, each rescaled
  to per-entry variance sigma_w^2/N (gated-cells.md 7);
* input V: entries N(0, sigma_v^2/n_in), so (V x)_i has variance sigma_v^2 R when
  (1/n_in)|x|^2 = R (theory.md 1.3);
* bias b: N(mu, sigma_b^2); GRU ``reset_after`` also b'_n ~ N(0, sigma_bh_n^2).

The minimalRNN's input map z = Phi(x) (theory.md 1.2) is a fixed, untrained random
projection ``P`` (N x n_in, entries N(0, 1/n_in)): z = P x is zero-mean Gaussian with
E[z_i^2] = R, independent across time and between two sequences with independent inputs,
which is all the mean field uses of z (eqs. 4.1-4.2); its recurrent input map V is then
N x N with variance sigma_v^2/N. Keeping P frozen keeps (1/N)|z|^2 = R during training.

Example
-------
>>> import numpy as np, theory
>>> w, f = init_network(theory.Params(arch="vanilla"), 8, 4, np.random.default_rng(0))
>>> sorted(w), w["W"].shape
(['V', 'W', 'b'], (8, 8))
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from theory import ParameterError, Params

#: Gates of the gated cells, memory gate first (same order as theory.types.GATES).
GATES = {"gru": ("z", "r", "n"), "lstm": ("f", "i", "g", "o")}
#: The trainable array that holds the memory-gate bias, and its row (None: whole array).
MEMORY_BIAS = {"minimal": ("b", None), "gru": ("b", 0), "lstm": ("b", 0)}


def haar_orthogonal(n: int, rng: np.random.Generator, cols: int | None = None) -> np.ndarray:
    """A Haar-distributed n x cols matrix with orthonormal columns (cols <= n; default n).

    QR of a Gaussian matrix with the signs of R's diagonal moved into Q (Mezzadri 2007),
    which makes Q exactly Haar.
    """
    cols = n if cols is None else cols
    q, r = np.linalg.qr(rng.standard_normal((n, cols)))
    return q * np.sign(np.diag(r))


def _recurrent(kind: str, sigmas: list[float], N: int, rng: np.random.Generator) -> np.ndarray:
    """Stacked recurrent matrices, shape (len(sigmas), N, N), of one weight law."""
    G = len(sigmas)
    if kind == "gaussian":
        return np.stack([s * rng.standard_normal((N, N)) / np.sqrt(N) for s in sigmas])
    if kind == "orthogonal":
        return np.stack([s * haar_orthogonal(N, rng) for s in sigmas])
    # block-orthogonal: U (N x GN) with orthonormal rows; block k rescaled by sqrt(G).
    U = haar_orthogonal(G * N, rng, cols=N).T
    return np.stack([s * np.sqrt(G) * U[:, k * N:(k + 1) * N].T for k, s in enumerate(sigmas)])


def _gaussian(rng: np.random.Generator, shape: tuple[int, ...], mean: float,
              sd: float) -> np.ndarray:
    return mean + sd * rng.standard_normal(shape)


def init_network(params: Params, N: int, n_in: int,
                 rng: np.random.Generator) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Draw one network from the ensemble of ``params`` (theory.md 1.3, gated-cells.md 1.3).

    Parameters
    ----------
    params : theory.Params
        The ensemble; ``R`` and ``Sigma`` describe the task's inputs, not the weights.
    N, n_in : int
        Width and input dimension.
    rng : numpy.random.Generator
        Source of every random number.

    Returns
    -------
    trainable, frozen : dict of str to ndarray
        vanilla: W (N, N), V (N, n_in), b (N,). minimal: the same with V (N, N), plus the
        frozen input map P (N, n_in). GRU/LSTM: W (G, N, N), V (G, N, n_in), b (G, N) in
        the gate order of :data:`GATES`; GRU reset_after adds bh (N,).
    """
    if params.arch in GATES:
        return _init_gated(params, N, n_in, rng), {}
    W = _recurrent(params.weights, [params.sigma_w], N, rng)[0]
    v_in = N if params.arch == "minimal" else n_in
    out = {"W": W, "V": params.sigma_v * rng.standard_normal((N, v_in)) / np.sqrt(v_in),
           "b": _gaussian(rng, (N,), params.mu_b, params.sigma_b)}
    frozen = {}
    if params.arch == "minimal":
        frozen["P"] = rng.standard_normal((N, n_in)) / np.sqrt(n_in)
    return out, frozen


def _init_gated(params: Params, N: int, n_in: int, rng: np.random.Generator) -> dict:
    gates = [params.gate(k) for k in GATES[params.arch]]
    out = {"W": _recurrent(params.weights, [g.sigma_w for g in gates], N, rng),
           "V": np.stack([g.sigma_v * rng.standard_normal((N, n_in)) / np.sqrt(n_in)
                          for g in gates]),
           "b": np.stack([_gaussian(rng, (N,), g.mu, g.sigma_b) for g in gates])}
    if params.arch == "gru" and params.gru_variant == "reset_after":
        out["bh"] = _gaussian(rng, (N,), 0.0, params.sigma_bh_n)
    return out


def structure_key(params: Params) -> tuple[str, str, str]:
    """What fixes a cell's code: (arch, phi, gru_variant). A block shares one key."""
    phi = params.phi if params.arch == "vanilla" else "-"
    variant = params.gru_variant if params.arch == "gru" else "-"
    return params.arch, phi, variant


def _phi(name: str) -> Callable:
    import jax
    import jax.numpy as jnp

    table = {"tanh": jnp.tanh, "erf": jax.scipy.special.erf, "relu": jax.nn.relu,
             "linear": lambda e: e}
    if name not in table:
        raise ParameterError(f"phi: {name!r} is not one of {', '.join(table)}")
    return table[name]


def initial_state(arch: str, batch: int, N: int, dtype) -> tuple:
    """Zero state (h_0 = 0; LSTM also c_0 = 0) for a batch, as a tuple of arrays."""
    import jax.numpy as jnp

    h = jnp.zeros((batch, N), dtype)
    return (h, h) if arch == "lstm" else (h,)


def hidden(state: tuple):
    """The hidden state h (the read-out's input) of a state tuple."""
    return state[-1]


def cell_step(arch: str, phi: str = "tanh", gru_variant: str = "reset_after") -> Callable:
    """One-step update ``step(w, frozen, state, x) -> state`` in JAX.

    Implements theory.md 1.1 (vanilla), 1.2 (minimal) and gated-cells.md 1.1 (LSTM),
    1.2 (GRU). ``x`` has shape (batch, n_in); every state array (batch, N). Each gate has
    its own matrix products inside the step: on a CPU at N = 64 this measured faster than
    fusing the gates into one product or projecting the inputs of all steps at once
    (``benchmarks/bench_train.py`` measures the resulting cost).
    """
    import jax
    import jax.numpy as jnp

    sig = jax.nn.sigmoid

    def pre(w, h, x, k):  # W_k h + V_k x + b_k for gate row k
        return h @ w["W"][k].T + x @ w["V"][k].T + w["b"][k]

    if arch == "vanilla":
        f = _phi(phi)
        return lambda w, fr, s, x: (f(s[0] @ w["W"].T + x @ w["V"].T + w["b"]),)
    if arch == "minimal":
        def minimal(w, fr, s, x):
            z = x @ fr["P"].T
            u = sig(s[0] @ w["W"].T + z @ w["V"].T + w["b"])
            return (u * s[0] + (1.0 - u) * z,)
        return minimal
    if arch == "lstm":
        def lstm(w, fr, s, x):
            c, h = s
            f, i = sig(pre(w, h, x, 0)), sig(pre(w, h, x, 1))
            g, o = jnp.tanh(pre(w, h, x, 2)), sig(pre(w, h, x, 3))
            c = f * c + i * g
            return (c, o * jnp.tanh(c))
        return lstm
    if arch == "gru":
        after = gru_variant == "reset_after"

        def gru(w, fr, s, x):
            h = s[0]
            z, r = sig(pre(w, h, x, 0)), sig(pre(w, h, x, 1))
            base = x @ w["V"][2].T + w["b"][2]
            if after:
                n = jnp.tanh(base + r * (h @ w["W"][2].T + w["bh"]))
            else:
                n = jnp.tanh(base + (r * h) @ w["W"][2].T)
            return (z * h + (1.0 - z) * n,)
        return gru
    raise ParameterError(f"arch: {arch!r} is not one of vanilla, minimal, gru, lstm")
