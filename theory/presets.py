"""Named teaching views ("presets") as plain data, each with a caption and a source.

A preset is a set of dashboard control values (the names of theory.md section 11
plus ``mode``, ``x``/``y`` (the phase-diagram plane), ``field``, ``T``, ``weights``).
Static presets are fixed tables; the two critical-initialisation presets are
computed from the closed-form rules of theory.md section 6 by
:func:`theory.critical_init_vanilla` and :func:`theory.critical_init_minimal`.

Provenance: presets modelled on the paper's figures follow theory.md section 9
and are labelled "theory preset (paper values unverified)": the paper's own axis
ranges and parameter values could not be read (theory.md section 0).

Example
-------
>>> values, caption = resolve("ordered")
>>> values["sigma_w"], values["mode"]
(0.8, 'vanilla')
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from theory.critical import critical_init_minimal, critical_init_vanilla
from theory.types import ParameterError

UNVERIFIED = "theory preset (paper values unverified)"
#: Target q* of the vanilla critical preset. With sigma_b = 0, R = 1 the rule gives
#: sigma_w = 1.0852, sigma_v = sqrt(8.32e-4) = 0.0288; on the slider steps (0.01)
#: that is sigma_w = 1.09, sigma_v = 0.03, where theory.point gives chi_1 = 1.0007
#: ("critical" within PHASE_TOL); q* = 0.1 is also about T^(-1/2) for T = 100 (6.2).
VANILLA_Q_STAR = 0.1
#: Tolerances tried, in order, for the minimalRNN rule; the first whose mu_b fits
#: the dashboard's slider range (mu_b <= MINIMAL_MU_B_MAX) is used.
MINIMAL_DELTAS = (0.1, 0.5, 1.0)
MINIMAL_MU_B_MAX = 8.0


@dataclass(frozen=True)
class Preset:
    """A named view: control ``values``, a one-line ``caption`` and its ``source``."""

    name: str
    label: str
    caption: str
    source: str
    values: dict[str, Any] = field(default_factory=dict)
    dynamic: bool = False  # values computed by resolve() from the current T etc.


_VAN = {"mode": "vanilla", "phi": "tanh", "sigma_b": 0.2, "sigma_v": 0.5, "R": 1.0,
        "Sigma": 0.0, "mu_b": 0.0, "x": "sigma_w", "y": "sigma_b"}
_MIN = {"mode": "minimal", "sigma_b": 0.0, "sigma_v": 1.0, "R": 1.0, "Sigma": 0.0,
        "x": "sigma_w", "y": "mu_b"}
_CRIT_VAN = {**_VAN, "sigma_w": 1.09, "sigma_b": 0.0, "sigma_v": 0.03, "T": 50}

PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("fig1_vanilla", "Paper Fig. ~1: vanilla phase diagram",
           "tanh RNN, ξ over (σ_w, σ_b), σ_v = 0.5, R = 1, Σ = 0; only ξ_jac diverges "
           "on χ_1 = 1.", f"{UNVERIFIED}; theory.md §3.4, §9",
           {**_VAN, "sigma_w": 1.2, "field": "xi_jac"}),
    Preset("fig2_minimal", "Paper Fig. ~2: minimalRNN phase diagram",
           "ξ_J over (σ_w log-scale, μ_b), σ_v = 1, R = 1, σ_b = 0; χ_J = 1 and "
           "saddle-node lines.", f"{UNVERIFIED}; theory.md §4.3, §9",
           {**_MIN, "sigma_w": 2.0, "mu_b": 4.0, "field": "xi_jac"}),
    Preset("vanilla_critical", "Vanilla critical initialisation",
           "", "closed-form rule, theory.md §6.2 (theory.critical_init_vanilla)",
           dict(_CRIT_VAN), dynamic=True),
    Preset("minimal_critical", "minimalRNN critical initialisation (current T)",
           "", "closed-form rule, theory.md §6.3 (theory.critical_init_minimal)",
           dict(_MIN), dynamic=True),
    Preset("ordered", "Ordered example (vanilla)",
           "σ_w = 0.8: χ_1 < 1, differences between inputs are forgotten within a few steps.",
           "theory.md §3.4", {**_VAN, "sigma_w": 0.8, "field": "xi_jac"}),
    Preset("chaotic", "Chaotic example (vanilla)",
           "σ_w = 2.5: χ_1 > 1, gradients explode; the correlation ξ_c stays finite.",
           "theory.md §3.4", {**_VAN, "sigma_w": 2.5, "field": "xi_c"}),
    Preset("long_memory_gate", "Long-memory gate (minimalRNN, μ_b = 6)",
           "A large gate bias keeps u ≈ 1: ξ_J ≈ ½e^(μ_b − q*/2) is of order 10² "
           "for a broad range of σ_w.", "theory.md §4.3 (large μ_b)",
           {**_MIN, "sigma_w": 2.0, "mu_b": 6.0, "field": "xi_jac"}),
    Preset("spectrum_orthogonal", "Spectrum at χ_1 ≈ 1, orthogonal W",
           "Near-critical vanilla RNN with orthogonal W: singular values stay near 1 "
           "(dynamical isometry) at T = 50.", "theory.md §5.3, §6.1",
           {**_CRIT_VAN, "weights": "orthogonal"}),
    Preset("spectrum_gaussian", "Spectrum at χ_1 ≈ 1, Gaussian W",
           "Same point with Gaussian W: the spectrum spreads like T even at χ_1 = 1.",
           "theory.md §5.3, §6.1", {**_CRIT_VAN, "weights": "gaussian"}),
)}


def resolve(name: str, T: int = 50, sigma_v: float = 1.0, R: float = 1.0,
            sigma_b: float = 0.0) -> tuple[dict[str, Any], str]:
    """Control values and caption of preset ``name``.

    ``T``, ``sigma_v``, ``R`` and ``sigma_b`` are the current view's values; only
    ``minimal_critical`` uses them (the rule of theory.md §6.3 is for a given T
    and input statistics). Raises ParameterError for an unknown name.
    """
    if not isinstance(name, str) or name not in PRESETS:
        raise ParameterError(f"preset: {name!r} is not one of {', '.join(PRESETS)}")
    p = PRESETS[name]
    if name == "vanilla_critical":
        return _vanilla_critical(p)
    if name == "minimal_critical":
        return _minimal_critical(p, T, sigma_v, R, sigma_b)
    return dict(p.values), p.caption


def _vanilla_critical(p: Preset) -> tuple[dict[str, Any], str]:
    r = critical_init_vanilla(VANILLA_Q_STAR)
    values = dict(p.values, sigma_w=r.sigma_w, sigma_v=math.sqrt(r.input_variance),
                  field="xi_jac")
    caption = (f"χ_1 = 1 at q* = {VANILLA_Q_STAR:g}: σ_w = {r.sigma_w:.4f}, "
               f"σ_v²R + σ_b² = {r.input_variance:.3g} (σ_b = 0, R = 1); sliders round "
               f"to 0.01. Per-step spectral variance {r.spectral_variance_per_step:.3g}: "
               "isometric only when nearly blind to the input.")
    return values, caption


def _minimal_critical(p: Preset, T: int, sigma_v: float, R: float,
                      sigma_b: float) -> tuple[dict[str, Any], str]:
    r = None
    for delta in MINIMAL_DELTAS:
        r = critical_init_minimal(T, delta, sigma_v=sigma_v, R=R, sigma_b=sigma_b)
        if r.mu_b <= MINIMAL_MU_B_MAX:
            break
    values = dict(p.values, sigma_w=r.sigma_w, mu_b=r.mu_b, sigma_v=sigma_v, R=R,
                  sigma_b=sigma_b, T=T, weights="orthogonal", field="xi_jac")
    clamp = (f" (μ_b above the slider maximum {MINIMAL_MU_B_MAX:g}: clamped)"
             if r.mu_b > MINIMAL_MU_B_MAX else "")
    caption = (f"T = {T}, δ = {r.delta:g}: μ_b = {r.mu_b:.3f}, σ_w = {r.sigma_w:.3f}{clamp}; "
               f"χ_J = {r.chi_jac:.5f}, ξ_J = {r.xi_jac:.4g}, orthogonal W.")
    return values, caption
