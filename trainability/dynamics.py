"""Training curves at long sequences: critical vs off-critical, orthogonal vs Gaussian.

Contract
--------
The paper's training-dynamics figure (theory.md 9, "Fig. ~6") redone on this project's
task: for the vanilla RNN and the minimalRNN at each sequence length T, four networks
per seed (critical/off-critical x orthogonal/Gaussian) are trained by the same trainer
as the maps, and their held-out accuracy is recorded every ``every`` steps.
``dynamics_jobs(spec)`` lists the jobs (one per (arch, T, seed), the four networks in
one block), ``assemble_dynamics`` builds the results dict (schema
``trainability-dynamics/1``) and ``figure`` draws it as the dashboard does
(:func:`components.figures.trainability.dynamics_figure`).

Points. Vanilla critical: :func:`theory.critical_init_vanilla` at target q* (default
0.1: sigma_w = 1.085, sigma_v = sqrt(input variance / R) = 0.029), sigma_b = 0;
off-critical: the same sigma_v with ``off_sigma_w`` (default 2, chaotic side).
minimalRNN critical: :func:`theory.critical_init_minimal` at T and ``delta`` (default 1,
which keeps mu_b inside its range up to T ~ 800), sigma_v = 1, sigma_b = 0; off-critical:
mu_b = ``off_mu_b`` (default 0) and sigma_w = ``off_sigma_w_minimal`` (default 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import theory
from trainability import results
from trainability.sweep import Job
from trainability.train import Protocol

SCHEMA = "trainability-dynamics/1"
CONFIGS = ("critical-orthogonal", "critical-gaussian", "off-orthogonal", "off-gaussian")


@dataclass(frozen=True)
class DynamicsSpec:
    """Settings of the training-dynamics comparison (see the module docstring)."""

    Ts: tuple = (200,)
    seeds: tuple = (0, 1)
    protocol: Protocol = Protocol(steps=2000, checkpoints=tuple(range(100, 2001, 100)))
    q_star: float = 0.1
    off_sigma_w: float = 2.0
    delta: float = 1.0
    off_mu_b: float = 0.0
    off_sigma_w_minimal: float = 1.0

    def header(self) -> dict:
        return {"kind": "dynamics", "T": [int(T) for T in self.Ts],
                "seeds": [int(s) for s in self.seeds], "protocol": self.protocol.to_dict(),
                "q_star": self.q_star, "off_sigma_w": self.off_sigma_w, "delta": self.delta,
                "off_mu_b": self.off_mu_b, "off_sigma_w_minimal": self.off_sigma_w_minimal}


def points(spec: DynamicsSpec, arch: str, T: int) -> tuple[theory.Params, theory.Params]:
    """(critical, off-critical) Params of ``arch`` at sequence length ``T`` (orthogonal)."""
    if arch == "vanilla":
        ci = theory.critical_init_vanilla(spec.q_star)
        if not ci.exists:
            raise theory.ParameterError(f"q_star: {ci.message}")
        crit = theory.Params(arch="vanilla", sigma_w=ci.sigma_w, sigma_b=0.0,
                             sigma_v=float(np.sqrt(ci.input_variance)), R=1.0)
        return crit, crit.replace(sigma_w=spec.off_sigma_w)
    ci = theory.critical_init_minimal(int(T), delta=spec.delta)
    if not ci.in_range:
        raise theory.ParameterError(f"delta: {ci.message}")
    crit = theory.Params(arch="minimal", sigma_w=ci.sigma_w, mu_b=ci.mu_b, sigma_v=1.0,
                         sigma_b=0.0, R=1.0)
    return crit, crit.replace(mu_b=spec.off_mu_b, sigma_w=spec.off_sigma_w_minimal)


def _block(spec: DynamicsSpec, arch: str, T: int) -> list[theory.Params]:
    crit, off = points(spec, arch, T)
    return [p.replace(weights=w) for p in (crit, off) for w in ("orthogonal", "gaussian")]


def dynamics_jobs(spec: DynamicsSpec) -> list[Job]:
    """One job per (arch, T, seed); its block holds the four networks of :data:`CONFIGS`."""
    return [Job(f"{a}-T{int(T)}-s{int(s)}", tuple(p.to_dict() for p in _block(spec, a, T)),
                int(T), int(s))
            for a in ("vanilla", "minimal") for T in spec.Ts for s in spec.seeds]


def assemble_dynamics(spec: DynamicsSpec, done: dict[str, dict]) -> dict:
    """Results dict: accuracy[arch][T][seed][config][checkpoint] plus the points used."""
    data: dict = {"schema": SCHEMA, **spec.header(), "configs": list(CONFIGS),
                  "checkpoints": list(spec.protocol.checkpoints), "points": {}, "curves": {}}
    for a in ("vanilla", "minimal"):
        data["points"][a] = {}
        data["curves"][a] = {}
        for T in spec.Ts:
            block = _block(spec, a, T)
            data["points"][a][str(T)] = [dict(p.to_dict(), **_timescales(p)) for p in block]
            data["curves"][a][str(T)] = {m: [np.asarray(done[f"{a}-T{int(T)}-s{int(s)}"][m]).T
                                             for s in spec.seeds]
                                         for m in ("accuracy", "finite", "drift_w")}
    return results._clean(data)


def _timescales(p: theory.Params) -> dict:
    r = theory.point(p)
    return {"xi_c_Sigma0": r.xi_c, "xi_jac": r.xi_jac, "chi_jac": r.chi_jac}


def figure(data: dict):
    """The dashboard's training-curves view of ``data`` as a plotly Figure (rows: vanilla,
    minimalRNN; columns: the sequence lengths; lines: seed means of the four configurations).
    """
    import plotly.graph_objects as go

    from components.figures.trainability import dynamics_figure
    from components.trainability_dynamics import parse

    return go.Figure(dynamics_figure(parse(data), key=""))
