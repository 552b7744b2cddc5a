"""Compile (or load from Numba's cache) every kernel with a tiny call.

Call :func:`warmup` once per process (the dashboard calls it at start-up and
gunicorn per worker) so the first user does not wait for compilation.
"""

from __future__ import annotations

import numpy as np


def warmup() -> None:
    """Evaluate each public calculator once on a tiny input."""
    from theory.critical import critical_init_minimal, critical_init_vanilla
    from theory.grids import critical_lines, grid
    from theory.meanfield import point, trajectory
    from theory.types import Params

    for arch, phis in (("vanilla", ("tanh", "erf", "relu", "linear")), ("minimal", ("tanh",))):
        for phi in phis:
            p = Params(arch=arch, phi=phi, sigma_w=1.0, mu_b=0.5 if arch == "minimal" else 0.0)
            point(p)
            trajectory(p, 3)
            g = grid(p, x=("sigma_w", np.array([0.5, 1.0])), y=("sigma_b", np.array([0.0, 0.5])))
            critical_lines(g)
    critical_init_vanilla(0.1)
    critical_init_minimal(10)
    _warm_random_matrix_parts(Params)


def _warm_random_matrix_parts(Params) -> None:
    """Spectra, the network sampler and the simulator (their kernels compile on first use)."""
    from theory.montecarlo import simulate
    from theory.sampling import sample_singular_values
    from theory.spectra import spectrum

    rng = np.random.default_rng(0)
    for arch in ("vanilla", "minimal"):
        p = Params(arch=arch, sigma_w=1.0, mu_b=0.5 if arch == "minimal" else 0.0)
        spectrum(p, 2, n_points=16)
        sample_singular_values(p, 4, 2, rng)
        simulate(p, N=4, T=4, rng=rng)
