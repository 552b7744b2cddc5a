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
from theory.frameworks import framework_defaults
from theory.types import ParameterError

UNVERIFIED = "theory preset (paper values unverified)"
#: Target q* of the vanilla critical preset. With sigma_b = 0, R = 1 the rule gives
#: sigma_w = 1.0852, sigma_v = sqrt(8.32e-4) = 0.0288; on the slider steps (0.01)
#: that is sigma_w = 1.09, sigma_v = 0.03, where theory.point gives chi_1 = 1.0007
#: ("critical" within PHASE_TOL); q* = 0.1 is also about T^(-1/2) for T = 100 (6.2).
VANILLA_Q_STAR = 0.1
#: Hidden width at which the framework-default presets are computed (only PyTorch's
#: bias spread depends on it: sqrt(2 / (3 H)) = 0.072 at H = 128; gated-cells.md 7).
FRAMEWORK_H = 128
SECONDARY = "secondary source: a public reproduction's 'critical initialization from paper'"
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

def _framework_presets() -> tuple[Preset, ...]:
    """One preset per framework default of the GRU, the LSTM and the vanilla RNN (gated-cells.md 7).

    The dashboard shares sigma_w, sigma_v, sigma_b across gates, which every default does
    except PyTorch's GRU (its candidate bias is split into b_in and b'_n inside the reset,
    each of variance 1/(3H)): its preset uses the shared sigma_b = sqrt(2/(3H)) for all
    three gates, which moves chi_jac by less than 1e-3 (the markers use the exact split).
    """
    out = []
    for arch in ("lstm", "gru", "vanilla"):
        for d in framework_defaults(arch, H=FRAMEWORK_H):
            p = d.params
            values = {"mode": arch, "sigma_w": round(p.sigma_w, 4), "sigma_v": round(p.sigma_v, 4),
                      "sigma_b": round(p.sigma_b, 4), "mu_b": p.mu_b, "R": p.R, "Sigma": 0.0,
                      "weights": p.weights, "x": "sigma_w",
                      "y": "sigma_b" if arch == "vanilla" else "mu_b", "field": "xi_jac"}
            if arch == "vanilla":
                values["phi"] = "tanh"
            note = ("" if not p.overrides else
                    " The candidate's bias split (b_in, b'_n) is folded into the shared σ_b.")
            out.append(Preset(
                f"{d.key.replace('-', '_')}_{arch}", d.label,
                f"{d.layer} at H = N_in = {FRAMEWORK_H}: σ_w = {p.sigma_w:.3g} per gate, "
                f"σ_v = {p.sigma_v:.3g}, σ_b = {p.sigma_b:.3g}, μ_b = {p.mu_b:g}, {p.weights} W "
                f"({d.note}).{note}", f"{d.source}; gated-cells.md §7", values))
    return tuple(out)


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
    Preset("paper_minimal_critical", "Likely paper critical point (minimalRNN)",
           "σ_w = 6.88, σ_v = 1.39, μ_b = 0, R = 0.46: q* ≈ 16 and χ_J ≈ 1 in this theory "
           "(critical but not isometric: one-step spread ≈ 3).",
           f"{SECONDARY}; theory.md §0 (S10)",
           {**_MIN, "sigma_w": 6.88, "sigma_v": 1.39, "mu_b": 0.0, "R": 0.46,
            "field": "xi_jac"}),
    Preset("lstm_long_memory", "Long-memory LSTM (forget bias 4)",
           "μ_f = 4: the cell is a near-perfect integrator, ξ ≈ ½e^(μ_f − q_f/2); a large σ_w "
           "tips it chaotic (the critical σ_w falls with μ_f).", "gated-cells.md §4.7, §6.2",
           {"mode": "lstm", "sigma_w": 1.0, "sigma_v": 1.0, "sigma_b": 0.0, "mu_b": 4.0,
            "R": 1.0, "Sigma": 0.0, "x": "sigma_w", "y": "mu_b", "field": "xi_jac"}),
    Preset("gru_long_memory", "Long-memory GRU (update bias 4)",
           "μ_z = 4: a broad long-memory region, ξ_jac ≈ ½e^(μ_z − q_z/2) ≈ 18 for σ_w up to 4 "
           "(untied mean field; tied networks are less ordered).", "gated-cells.md §3.6-3.7",
           {"mode": "gru", "sigma_w": 1.0, "sigma_v": 1.0, "sigma_b": 0.0, "mu_b": 4.0,
            "R": 1.0, "Sigma": 0.0, "x": "sigma_w", "y": "mu_b", "field": "xi_jac"}),
    *_framework_presets(),
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
