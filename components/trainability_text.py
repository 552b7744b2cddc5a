"""Words of the trainability panel: the caption, and where the view's point lies.

:func:`current_point` decides whether the dashboard's current point lies on a
map's cut: same architecture, every fixed parameter of the map equal (to within
1e-6; the view's values are rounded to the slider steps), and the swept value and
T inside the map's range. :func:`caption` gives the fitted k with its interval at
the budget shown and the map's provenance (command, commit, protocol, machine);
:func:`scatter_caption` the same for the "measured vs predicted" view.
:func:`map_values` cleans the panel's control values as the browser sends them.

Example
-------
>>> map_values("auto", 250, "nonsense")
{'map': 'auto', 'step': '250', 'view': 'map'}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from components import specs
from components.figures._common import fmt
from components.trainability_maps import TrainMap
from components.trainability_panel import DEFAULTS, VIEWS

MAX_STEP = 10**9  # checkpoints beyond this are junk from a forged request
TOL = 1e-6  # map parameters are exact slider steps; the view's are rounded to them
ARCHS = {"vanilla": "vanilla RNN", "minimal": "minimalRNN", "gru": "GRU", "lstm": "LSTM"}


def map_values(map_name: Any, step: Any, view: Any) -> dict[str, str]:
    """The panel's (map, step, view) with anything malformed replaced by its default."""
    out = dict(DEFAULTS)
    if isinstance(map_name, str) and map_name:
        out["map"] = map_name
    if isinstance(step, int) and not isinstance(step, bool) and 0 < step < MAX_STEP:
        out["step"] = str(step)
    elif isinstance(step, str) and (step == "last" or step.isdigit() and len(step) < 10):
        out["step"] = step
    if isinstance(view, str) and view in VIEWS:
        out["view"] = view
    return out


def symbol(name: str) -> str:
    """Plain-text symbol of a parameter (its name if it has no slider)."""
    return specs.SLIDERS[name].symbol if name in specs.SLIDERS else name


def _value(v: Any) -> str:
    return f"{v:g}" if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v)


def differences(m: TrainMap, view: Any) -> list[str]:
    """The map's fixed parameters that the view (at the map's architecture) does not share."""
    p = view.params(m.arch).to_dict()
    out = []
    for name, want in m.base.items():
        if name in ("arch", m.x_name):
            continue
        have = p.get(name)
        numeric = isinstance(want, (int, float)) and not isinstance(want, bool)
        same = (isinstance(have, (int, float)) and abs(float(have) - float(want)) <= TOL
                if numeric else have == want)
        if not same:
            out.append(f"{symbol(name)} = {_value(have)} (map: {_value(want)})")
    return out


def current_point(m: TrainMap, view: Any) -> tuple[dict | None, str]:
    """``({"x", "T"}, note)`` when the view's point lies on ``m``'s cut, else (None, why)."""
    if m.arch not in view.archs:
        shown = " and ".join(ARCHS.get(a, a) for a in view.archs)
        return None, (f"★ (the view) is not on this map: the view shows the {shown}, "
                      f"the map the {ARCHS.get(m.arch, m.arch)}.")
    diffs = differences(m, view)
    if diffs:
        return None, "★ (the view) is off this map's cut: " + ", ".join(diffs) + "."
    x = float(view.params(m.arch).to_dict()[m.x_name])
    half = float((m.x.max() - m.x.min()) / max(len(m.x) - 1, 1)) / 2
    sym = symbol(m.x_name)
    if not m.x.min() - half <= x <= m.x.max() + half:
        return None, (f"★ (the view) is on this map's cut, but {sym} = {x:g} is outside the "
                      f"map ({m.x.min():g} to {m.x.max():g}).")
    if not m.T.min() / 1.5 <= view.T <= m.T.max() * 1.5:
        return None, (f"★ (the view) is on this map's cut, but T = {view.T} is outside the "
                      f"map ({m.T.min():g} to {m.T.max():g}).")
    return {"x": x, "T": view.T}, f"★ marks the view: {sym} = {x:g}, T = {view.T}."


def fit_text(m: TrainMap, ck: int) -> str:
    """k with its 95 % interval at checkpoint ``ck`` (or why it was not fitted)."""
    f = m.fits[ck]
    if f.k is None:
        return f"k not fitted at {f.step} steps: {f.message or 'no fit stored'}"
    ci = (f" [{fmt(f.ci_low, 3)}, {fmt(f.ci_high, 3)}]" if f.ci_low is not None
          and f.ci_high is not None else "")
    return f"k = {fmt(f.k, 3)}{ci} at {f.step} steps"


def fixed_text(m: TrainMap) -> str:
    """The map's fixed parameters, e.g. ``tanh, orthogonal W, σ_b = 0, σ_v = 0.1``."""
    parts = []
    order = ("phi", "weights", "sigma_w", "sigma_b", "mu_b", "sigma_v", "R", "Sigma")
    for name in sorted(m.base, key=lambda n: order.index(n) if n in order else len(order)):
        v = m.base[name]
        if name in ("arch", m.x_name):
            continue
        if name in ("phi", "weights"):
            parts.append(f"{v} W" if name == "weights" else str(v))
        else:
            parts.append(f"{symbol(name)} = {_value(v)}")
    return ", ".join(parts)


def provenance_text(m: TrainMap) -> str:
    """Protocol and record: N, steps, lr, seeds, command, commit, machine, wall time."""
    pr = m.protocol
    seeds = ", ".join(str(s) for s in m.seeds)
    proto = (f"Measured: N = {pr['N']}, batch {pr.get('batch', '?')}, {pr['steps']} "
             f"{pr.get('optimizer', 'adam').capitalize()} steps at lr {pr['lr']:g}, seeds "
             f"{seeds}, {pr.get('mode', 'memory')} task, T = "
             f"{', '.join(f'{t:g}' for t in m.T)}.")
    p = m.provenance
    if p is None:
        return f"{proto} Provenance: {m.provenance_message}."
    wall = f", {p.wall_seconds / 60:.0f} min wall" if p.wall_seconds else ""
    dirty = " (with uncommitted changes)" if p.dirty else ""
    return (f"{proto} Command: {p.command} — commit {p.commit[:10]}{dirty}; {p.machine}; "
            f"{p.executor}{wall}; finished {p.finished_utc}.")


TIMESCALE_TEXT = {"xi_c(Sigma=0)": "ξ_c (Σ = 0)", "tau_jac": "τ_jac = 1/|ln χ_jac|",
                  "xi_jac(sigma_v=0)": "ξ_jac (σ_v = 0)"}


def comparison_text(m: TrainMap) -> str:
    """Which timescale predicts this map better: misclassified fractions of the rule
    "trained iff T − 1 < k·τ" (k fitted on each), at the last checkpoint."""
    if len(m.misclassified) < 2:
        return ""
    parts = [f"{TIMESCALE_TEXT.get(n, n)} misclassifies {100 * v:.1f} %"
             for n, v in sorted(m.misclassified.items(), key=lambda kv: kv[1])]
    return (f"Which timescale predicts this map (k fitted on each, {m.checkpoints[-1]} "
            f"steps): {'; '.join(parts)} of the networks. k here is fitted on "
            f"{TIMESCALE_TEXT.get(m.overlay, m.overlay)}.")


def caption(m: TrainMap, ck: int, notes: Sequence[str]) -> str:
    """Caption of the map view: fit, notes (current point, theory, link), which timescale
    predicts the map better, provenance."""
    arch = ARCHS.get(m.arch, m.arch)
    head = (f"{arch}, {symbol(m.x_name)} swept (fixed: {fixed_text(m)}). {fit_text(m, ck)} "
            f"(95 % bootstrap; {m.fits[ck].n_trained} of {m.fits[ck].n} networks trained, "
            f"accuracy ≥ {m.threshold:g}).")
    lines = [head, *notes, comparison_text(m), provenance_text(m)]
    return "\n".join(line for line in lines if line)


def scatter_caption(entries: Sequence[tuple[TrainMap, int]], u_zero: int) -> str:
    """Caption of "measured vs predicted": the maps, their k, the cells left out."""
    ks = "; ".join(f"{m.name}: {fit_text(m, ck)}" for m, ck in entries)
    text = (f"Every cell (T, {', '.join(sorted({symbol(m.x_name) for m, _ in entries}))}; "
            f"mean over seeds) of {len(entries)} map{'s' * (len(entries) != 1)}, with the ξ "
            f"stored in each map (the ξ its fit used). {ks}.")
    if u_zero:
        text += f" {u_zero} cells with ξ = ∞ (u = 0) cannot sit on the log axis: not drawn."
    return text
