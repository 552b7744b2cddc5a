"""Train real random RNNs from the theory's initialisations and measure trainability.

The package answers "does a network initialised at this point of the phase diagram
train on a task of length T?" and fits k in "trainable while T - 1 < k xi"
(docs/trainability.md). It needs JAX, optax and Dask (``requirements-train.txt``);
``theory/`` and ``components/`` never import it, and the results files it writes are
plain gzip'd JSON that anyone can read without it.

Modules: :mod:`~trainability.networks` (cells and their exact initialisation from a
:class:`theory.Params`), :mod:`~trainability.task` (first-input memory task),
:mod:`~trainability.train` (the vmapped trainer), :mod:`~trainability.sweep` (resumable
Dask sweep), :mod:`~trainability.results` (file format, provenance record),
:mod:`~trainability.fit` (k with a bootstrap interval), :mod:`~trainability.dynamics`
(training curves at long T, critical vs off-critical). Only ``results`` and ``fit``
are importable without JAX.
"""
