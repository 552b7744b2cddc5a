"""Train a block of networks from their theory initialisations; one compile per shape.

Contract
--------
``train_block(params_list, T, seed, protocol)`` trains one network per
:class:`theory.Params` in ``params_list`` (all of one architecture) on the
:class:`~trainability.task.Task` of length ``T`` and seed ``seed``, and returns a
:class:`BlockResult` of NumPy arrays of shape (len(checkpoints), len(params_list)):
held-out accuracy and loss, a finite flag, and the drift of the recurrent weight scale
and of the memory-gate bias at every checkpoint.

How. The networks are stacked along a leading axis; the loss of the block is the sum
of the networks' losses, so its gradient is every network's own gradient, and Adam
(element-wise) on the stack is Adam on each network. Time runs in ``lax.scan``, the
networks in ``vmap``; one jitted Adam step and one jitted evaluation, built once per
(cell, protocol) in a process and compiled once per shape: two XLA compiles per
(architecture, T, block size, protocol) and process. Network j of a block is drawn
from ``numpy.random.default_rng([seed, j])``; the task's batches come from NumPy
generators seeded by ``seed`` (a fresh batch every step, the same stream for every
network of the block).

Protocol. Read-out logits = A h_T + a with A, a zero at the start (loss ln 10, chance
accuracy), softmax cross-entropy, Adam. A non-finite training loss at any step up to a
checkpoint marks the network as failed there (``finite`` False). Weight scale
s(W) = sqrt(N * mean(W_ij^2)) over every recurrent matrix (sigma_w for both laws);
``drift_w`` = s(W)/s(W_0) - 1; ``drift_b`` = mean(b) - mean(b_0) of the memory-gate bias
(the whole bias for the vanilla RNN).
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from theory import ParameterError, Params
from trainability import networks
from trainability.task import HELDOUT, INPUT_DIM, MODES, N_CLASSES, Task


@dataclass(frozen=True)
class Protocol:
    """Every training setting that a result depends on (stored with each map).

    Parameters
    ----------
    N : int
        Width. batch : int, training batch. steps : int, Adam steps.
    lr : float
        Adam learning rate (at >= 3e-3 and N <= 128 Adam rewrites the initial scale).
    checkpoints : tuple of int
        Steps at which the held-out accuracy is measured; increasing, the last = steps.
    threshold : float
        Accuracy at or above which a finite network counts as trained.
    drift_limit : float
        A point is flagged as drifted when |drift_w| or |drift_b| / max(1, |mu_b|) exceeds it.
    mode : {"memory", "padding"}
        Noise or zeros after t = 1 (:mod:`trainability.task`).
    """

    N: int = 64
    batch: int = 64
    steps: int = 1000
    lr: float = 1e-3
    checkpoints: tuple[int, ...] = (250, 500, 1000)
    threshold: float = 0.55
    drift_limit: float = 0.25
    mode: str = "memory"
    optimizer: str = "adam"
    n_classes: int = N_CLASSES
    input_dim: int = INPUT_DIM
    heldout_size: int = HELDOUT
    dtype: str = "float32"

    def __post_init__(self) -> None:
        for name in ("N", "batch", "steps", "n_classes", "input_dim", "heldout_size"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ParameterError(f"{name}: expected a positive integer, got {v!r}")
        ck = tuple(int(c) for c in self.checkpoints)
        if not ck or list(ck) != sorted(set(ck)) or ck[0] < 1 or ck[-1] != self.steps:
            raise ParameterError(f"checkpoints: need increasing steps >= 1 ending at steps = "
                                 f"{self.steps}, got {self.checkpoints!r}")
        object.__setattr__(self, "checkpoints", ck)
        if not (0.0 < float(self.lr) <= 1.0):
            raise ParameterError(f"lr: {self.lr!r} is outside (0, 1]")
        for name in ("threshold", "drift_limit"):
            if not (0.0 <= float(getattr(self, name)) <= 1e3):
                raise ParameterError(f"{name}: {getattr(self, name)!r} is not a valid number")
        if self.mode not in MODES:
            raise ParameterError(f"mode: {self.mode!r} is not one of {', '.join(MODES)}")
        if self.optimizer != "adam" or self.dtype not in ("float32", "float64"):
            raise ParameterError("optimizer/dtype: only 'adam' with float32 or float64")

    def to_dict(self) -> dict:
        out = dataclasses.asdict(self)
        out["checkpoints"] = list(self.checkpoints)
        return out

    @classmethod
    def from_dict(cls, d: dict) -> Protocol:
        return cls(**{**d, "checkpoints": tuple(d["checkpoints"])})


@dataclass
class BlockResult:
    """Arrays of shape (len(checkpoints), networks).

    ``seconds``: wall time of the first step (its compile) and of the whole block.
    """

    accuracy: np.ndarray
    loss: np.ndarray
    finite: np.ndarray
    drift_w: np.ndarray
    drift_b: np.ndarray
    seconds: dict = field(default_factory=dict)


def check_block(params_list: Sequence[Params]) -> tuple[str, str, str]:
    """The shared structure key of a block, or ParameterError if the cells differ."""
    if not params_list:
        raise ParameterError("params_list: a block needs at least one network")
    keys = {networks.structure_key(p) for p in params_list}
    if len(keys) != 1:
        raise ParameterError(f"params_list: one block must share arch/phi/gru_variant, "
                             f"got {sorted(keys)}")
    return keys.pop()


def init_block(params_list: Sequence[Params], protocol: Protocol, seed: int):
    """Stacked (trainable, frozen) NumPy pytrees of the block, read-out A, a = 0."""
    ws, frs = [], []
    for j, p in enumerate(params_list):
        w, fr = networks.init_network(p, protocol.N, protocol.input_dim,
                                      np.random.default_rng([seed, j]))
        w["A"] = np.zeros((protocol.n_classes, protocol.N))
        w["a"] = np.zeros(protocol.n_classes)
        ws.append(w)
        frs.append(fr)
    stack = {k: np.stack([w[k] for w in ws]).astype(protocol.dtype) for k in ws[0]}
    fstack = {k: np.stack([f[k] for f in frs]).astype(protocol.dtype) for k in frs[0]}
    return stack, fstack


def make_forward(structure: tuple[str, str, str], N: int):
    """``forward(w, frozen, xs) -> logits`` of one network (xs of shape (T, batch, n_in))."""
    import jax

    arch = structure[0]
    step = networks.cell_step(*structure)

    def forward(w, fr, xs):
        s0 = networks.initial_state(arch, xs.shape[1], N, xs.dtype)
        sT, _ = jax.lax.scan(lambda s, x: (step(w, fr, s, x), None), s0, xs)
        return networks.hidden(sT) @ w["A"].T + w["a"]

    return forward


def cross_entropy(logits, y):
    """Softmax cross-entropy averaged over the batch.

    ``logits`` has shape (..., batch, classes) and ``y`` (..., batch).
    """
    import jax
    import jax.numpy as jnp

    picked = jnp.take_along_axis(logits, y[..., None], axis=-1)[..., 0]
    return jnp.mean(jax.nn.logsumexp(logits, axis=-1) - picked, axis=-1)


def _scale_and_bias(arch: str, w):
    """Weight scale s(W) and memory-gate bias mean of every network of a stack.

    Works on NumPy and JAX arrays alike (array methods only).
    """
    W = w["W"].reshape(w["W"].shape[0], -1)
    scale = (w["W"].shape[-1] * (W * W).mean(axis=1)) ** 0.5
    b = w["b"] if arch in ("vanilla", "minimal") else w["b"][:, 0]
    return scale, b.mean(axis=-1)


@functools.lru_cache(maxsize=16)
def _build(structure, protocol: Protocol):
    """Jitted ``step(w, opt_state, ok, frozen, xs, y) -> (w, opt_state, ok)`` and
    ``evaluate(w, frozen, xs, y) -> (accuracy, loss, scale, bias_mean)`` of a stack."""
    import jax
    import jax.numpy as jnp
    import optax

    arch = structure[0]
    forward = jax.vmap(make_forward(structure, protocol.N), in_axes=(0, 0, None))
    opt = optax.adam(protocol.lr)

    def block_loss(w, fr, xs, y):
        losses = cross_entropy(forward(w, fr, xs), y[None])
        return losses.sum(), losses

    def step(w, opt_state, ok, fr, xs, y):
        (_, losses), g = jax.value_and_grad(block_loss, has_aux=True)(w, fr, xs, y)
        upd, opt_state = opt.update(g, opt_state, w)
        return optax.apply_updates(w, upd), opt_state, ok & jnp.isfinite(losses)

    def evaluate(w, fr, xs, y):
        logits = forward(w, fr, xs)
        acc = jnp.mean(jnp.argmax(logits, -1) == y[None], axis=1)
        return (acc, cross_entropy(logits, y[None]), *_scale_and_bias(arch, w))

    return opt, jax.jit(step, donate_argnums=(0, 1, 2)), jax.jit(evaluate)


def train_block(params_list: Sequence[Params], T: int, seed: int,
                protocol: Protocol | None = None) -> BlockResult:
    """Train one network per entry of ``params_list`` on the task (T, seed).

    Parameters
    ----------
    params_list : sequence of theory.Params
        The initialisation ensembles (one architecture, phi and gru_variant); each Params'
        ``R`` must equal the first one's (the task's input second moment).
    T : int
        Sequence length. seed : int, fixes the task and the initial weights.
    protocol : Protocol, optional

    Returns
    -------
    BlockResult
    """
    protocol = protocol or Protocol()
    structure = check_block(params_list)
    if len({p.R for p in params_list}) != 1:
        raise ParameterError("R: one block must share the input second moment R")
    task = Task(T=int(T), R=params_list[0].R, seed=int(seed), mode=protocol.mode,
                n_classes=protocol.n_classes, input_dim=protocol.input_dim,
                heldout_size=protocol.heldout_size)
    w, fr = init_block(params_list, protocol, int(seed))
    return _run(structure, protocol, task, w, fr)


def _run(structure, protocol: Protocol, task: Task, w: dict, fr: dict) -> BlockResult:
    """The training loop: one jitted step per Adam step, evaluation at the checkpoints."""
    import jax

    t0 = time.perf_counter()
    opt, step, evaluate = _build(structure, protocol)
    dtype = np.dtype(protocol.dtype)
    xs_eval, y_eval = task.heldout(dtype)
    stream, protos = task.train_stream(), task.prototypes()
    ref = _scale_and_bias(structure[0], w)
    w, fr = jax.device_put(w), jax.device_put(fr)
    opt_state = opt.init(w)
    ok = jax.numpy.ones(len(ref[0]), bool)  # all training losses finite so far
    rec: dict[str, list] = {k: [] for k in ("accuracy", "loss", "finite", "drift_w", "drift_b")}
    compile_s = 0.0
    for i in range(1, protocol.steps + 1):
        xs, y = task.batch(stream, protocol.batch, dtype, protos)
        ts = time.perf_counter()
        w, opt_state, ok = step(w, opt_state, ok, fr, xs, y)
        if i == 1:
            ok.block_until_ready()
            compile_s += time.perf_counter() - ts
        if i in protocol.checkpoints:
            acc, loss, scale, bmean = (np.asarray(v) for v in evaluate(w, fr, xs_eval, y_eval))
            fin = np.asarray(ok) & np.isfinite(loss)
            for k, v in zip(rec, (acc, loss, fin, scale / ref[0] - 1.0,
                                  bmean - ref[1]), strict=True):
                rec[k].append(v)
    arrays = {k: np.asarray(v) for k, v in rec.items()}
    return BlockResult(**arrays, seconds={"first_step": compile_s,
                                          "total": time.perf_counter() - t0})
