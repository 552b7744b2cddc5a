"""Parameter dict of the gated-cell reference: defaults, per-gate values, variances.

Contract: :func:`cell` turns a plain dict ``p`` (the section-11 / gated-cells.md 10 names) into
a :class:`Cell` with every gate's (sigma_w, sigma_v, sigma_b, mu); :meth:`Cell.q` and
:meth:`Cell.qab` are eq. (2.1) of gated-cells.md. No code is shared with ``theory/``.

>>> c = cell({"arch": "lstm", "sigma_w": 2.0, "mu_b": 1.0, "overrides": {"sigma_w_g": 0.5}})
>>> c.gate["f"], c.gate["g"].sw
(Gate(sw=2.0, sv=1.0, sb=0.0, mu=1.0), 0.5)
"""

from __future__ import annotations

from dataclasses import dataclass

GATES = {"gru": ("z", "r", "n"), "lstm": ("f", "i", "g", "o")}
DEFAULTS = {
    "sigma_w": 1.0,
    "sigma_v": 1.0,
    "sigma_b": 0.0,
    "mu_b": 0.0,
    "R": 1.0,
    "Sigma": 0.0,
    "gru_variant": "reset_after",
    "mu_i": 0.0,
    "mu_o": 0.0,
    "mu_r": 0.0,
    "closure": "gc",
    "weights": "orthogonal",
}


@dataclass(frozen=True)
class Gate:
    """One gate's ensemble (gated-cells.md 1.3): W, V scales, bias spread and mean."""

    sw: float
    sv: float
    sb: float
    mu: float


@dataclass(frozen=True)
class Cell:
    """A GRU or LSTM point: gates by name, input moments, options."""

    arch: str
    gate: dict
    R: float
    Sigma: float
    variant: str
    closure: str
    sbh: float  #: GRU reset_after: spread of b'_n inside the reset product
    weights: str

    def q(self, k: str, Q: float) -> float:
        """q_k = sigma_{w,k}^2 Q + sigma_{v,k}^2 R + sigma_{b,k}^2 (eq. 2.1)."""
        g = self.gate[k]
        return g.sw**2 * Q + g.sv**2 * self.R + g.sb**2

    def qab(self, k: str, X: float, Sigma: float | None = None) -> float:
        """q^{ab}_k = sigma_{w,k}^2 Q^{ab} + sigma_{v,k}^2 R Sigma + sigma_{b,k}^2 (eq. 2.1)."""
        g = self.gate[k]
        S = self.Sigma if Sigma is None else Sigma
        return g.sw**2 * X + g.sv**2 * self.R * S + g.sb**2

    @property
    def identical_inputs(self) -> bool:
        """The two sequences get the same inputs (Sigma = 1, or no gate sees the input)."""
        return self.Sigma == 1.0 or all(g.sv == 0.0 for g in self.gate.values())


def cell(p: dict) -> Cell:
    """The :class:`Cell` of the parameter dict ``p`` (missing keys take DEFAULTS).

    Every gate takes the shared sigma's unless ``overrides`` names ``sigma_w_<k>``,
    ``sigma_v_<k>``, ``sigma_b_<k>``; bias means: memory gate (LSTM f, GRU z) ``mu_b``, LSTM
    i/o ``mu_i``/``mu_o``, GRU r ``mu_r``, candidate 0 (gated-cells.md 1.4).
    """
    arch = p["arch"]
    if arch not in GATES:
        raise ValueError(f"arch: {arch!r} is not 'gru' or 'lstm'")
    v = {**DEFAULTS, **{k: val for k, val in p.items() if k != "overrides"}}
    ov = dict(p.get("overrides") or {})
    means = {"f": v["mu_b"], "z": v["mu_b"], "i": v["mu_i"], "o": v["mu_o"], "r": v["mu_r"]}
    known = {f"{s}_{k}" for k in GATES[arch] for s in ("sigma_w", "sigma_v", "sigma_b")}
    known |= {"sigma_bh_n"} if arch == "gru" else set()
    bad = set(ov) - known
    if bad:
        raise ValueError(f"overrides: unknown names {sorted(bad)}")
    gate = {
        k: Gate(
            sw=float(ov.get(f"sigma_w_{k}", v["sigma_w"])),
            sv=float(ov.get(f"sigma_v_{k}", v["sigma_v"])),
            sb=float(ov.get(f"sigma_b_{k}", v["sigma_b"])),
            mu=float(means.get(k, 0.0)),
        )
        for k in GATES[arch]
    }
    if v["gru_variant"] not in ("reset_after", "reset_before"):
        raise ValueError(f"gru_variant: {v['gru_variant']!r}")
    if v["closure"] not in ("gc", "gc4"):
        raise ValueError(f"closure: {v['closure']!r}")
    if not (v["R"] > 0.0 and 0.0 <= v["Sigma"] <= 1.0):
        raise ValueError(f"R = {v['R']!r} must be > 0 and Sigma = {v['Sigma']!r} in [0, 1]")
    return Cell(
        arch=arch,
        gate=gate,
        R=float(v["R"]),
        Sigma=float(v["Sigma"]),
        variant=v["gru_variant"],
        closure=v["closure"],
        sbh=float(ov.get("sigma_bh_n", 0.0)),
        weights=v["weights"],
    )
