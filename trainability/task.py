"""The first-input memory task: remember which of 10 prototypes was shown at t = 1.

Contract
--------
A :class:`Task` fixes the class prototypes and a held-out batch from one seed.
``task.batch(rng, size)`` returns ``(xs, y)``: inputs of shape (T, size, input_dim)
and integer labels of shape (size,), drawn afresh from a ``numpy.random.Generator``
at every training step (no data set, no download; ``task.train_stream()`` is the
training generator). ``task.heldout()`` is the fixed evaluation batch. NumPy only.

Sequences. Class y is uniform on {0..n_classes-1}. At t = 1 the input is the class's
prototype p_y (input_dim components drawn once from N(0, R)); at t = 2..T it is
fresh N(0, R) noise (``mode="memory"``) or zero (``mode="padding"``). The read-out of
h_T must name y. Every input therefore has (1/input_dim) E|x_t|^2 = R, the theory's R
(theory.md 1.3). Two sequences of different classes receive independent inputs at
every step (independent prototypes, then independent noise): their statistics are those
of the two-sequence mean field at Sigma = 0, and the memory of x_1 fades on the
timescale xi_c(Sigma = 0) (theory.md 3.4). In padding mode the inputs after t = 1
vanish, so the relevant rate is the Jacobian's, xi_jac at sigma_v = 0 (exact for the
vanilla RNN; for the minimalRNN, whose state is fed by z_t, only indicative).

Example
-------
>>> t = Task(T=5, R=1.0, seed=0)
>>> xs, y = t.batch(t.train_stream(), 3)
>>> xs.shape, y.shape
((5, 3, 32), (3,))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from theory import ParameterError

MODES = ("memory", "padding")
N_CLASSES = 10
INPUT_DIM = 32
HELDOUT = 1024


@dataclass(frozen=True)
class Task:
    """First-input memory under noise (or padding) for sequences of length ``T``.

    Parameters
    ----------
    T : int
        Sequence length, T >= 1 (the prototype at t = 1, then T - 1 steps).
    R : float
        Input second moment per component (theory.md 1.3).
    seed : int
        Fixes the prototypes and the held-out batch.
    mode : {"memory", "padding"}
    n_classes, input_dim, heldout_size : int
    """

    T: int
    R: float = 1.0
    seed: int = 0
    mode: str = "memory"
    n_classes: int = N_CLASSES
    input_dim: int = INPUT_DIM
    heldout_size: int = HELDOUT

    def __post_init__(self) -> None:
        for name in ("T", "n_classes", "input_dim", "heldout_size"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < (2 if name == "n_classes"
                                                                     else 1):
                raise ParameterError(f"{name}: expected a positive integer, got {v!r}")
        if self.mode not in MODES:
            raise ParameterError(f"mode: {self.mode!r} is not one of {', '.join(MODES)}")
        if not (isinstance(self.R, (int, float)) and 0.0 < self.R <= 4.0):
            raise ParameterError(f"R: {self.R!r} is outside (0, 4]")

    def _rng(self, stream: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, stream])

    def prototypes(self) -> np.ndarray:
        """The (n_classes, input_dim) prototypes, components N(0, R)."""
        return np.sqrt(self.R) * self._rng(0).standard_normal((self.n_classes, self.input_dim))

    def batch(self, rng: np.random.Generator, size: int, dtype=np.float32,
              protos: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Fresh sequences: ``xs`` (T, size, input_dim) and labels ``y`` (size,) from ``rng``."""
        protos = self.prototypes() if protos is None else protos
        y = rng.integers(0, self.n_classes, size)
        xs = np.zeros((self.T, size, self.input_dim), dtype)
        xs[0] = protos[y]
        if self.mode == "memory":
            xs[1:] = rng.standard_normal((self.T - 1, size, self.input_dim), dtype=dtype)
            xs[1:] *= np.sqrt(self.R)
        return xs, y.astype(np.int32)

    def heldout(self, dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
        """The fixed evaluation batch (``heldout_size`` sequences)."""
        return self.batch(self._rng(1), self.heldout_size, dtype)

    def train_stream(self) -> np.random.Generator:
        """The generator of the training batches (a fresh batch every step)."""
        return self._rng(2)
