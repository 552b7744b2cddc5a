"""One table of every control: range, step, default, symbol and help text.

Everything the layout, the URL codec and the callbacks need to know about a
control comes from here, so a permalink never depends on the screen width (every
slider has an explicit ``step``) and the slider range, the phase-diagram axis and
the URL clamp always agree.

Ranges are per *range key*: the cell shown (``vanilla``, ``minimal``, ``gru``,
``lstm``) or ``compare`` when two cells are shown side by side (the union of their
ranges); they lie inside :data:`theory.PARAM_RANGES`; defaults come from
:func:`theory.default_params`. :func:`disabled_why` says which controls apply to
none of the cells shown (gated-cells.md 1.4, 10) and why.

Example
-------
>>> from components import specs
>>> specs.slider_range("minimal", "mu_b")
(-4.0, 8.0)
>>> specs.SLIDERS["sigma_w"].step
0.01
"""

from __future__ import annotations

from dataclasses import dataclass

from theory import PARAM_RANGES, PLANE_PARAMS, default_params
from theory.types import ARCH_ONLY, CLOSURES, GATES, GRU_VARIANTS

#: The cells (``ViewState.mode``, the URL's ``arch``); ``COMPARE`` adds "" (none).
MODES = ("vanilla", "minimal", "gru", "lstm")
MODE_LABELS = {"vanilla": "Vanilla RNN", "minimal": "minimalRNN", "gru": "GRU", "lstm": "LSTM"}
ARCH_LABELS = dict(MODE_LABELS)
COMPARE = ("", *MODES)
#: The "Compare with" value (dropdown and URL ``vs``) when a single cell is shown.
NO_COMPARE = "none"
#: Old links' ``arch=both``: the vanilla RNN compared with the minimalRNN.
LEGACY_BOTH = ("vanilla", "minimal")
#: Cells whose numbers come from the untied mean field (gated-cells.md 2.2-2.3).
UNTIED = tuple(GATES)
UNTIED_LABEL = "untied mean field"

PHI_LABELS = {"tanh": "tanh", "erf": "erf", "relu": "ReLU", "linear": "linear"}
#: Recurrent-weight ensembles; block-orthogonal (Keras, Flax-nnx: one orthogonal matrix
#: cut into gate blocks, gated-cells.md 7) applies to the GRU and the LSTM only.
WEIGHTS = ("gaussian", "orthogonal", "block-orthogonal")
WEIGHT_LABELS = {"orthogonal": "orthogonal W", "gaussian": "Gaussian W",
                 "block-orthogonal": "block-orthogonal W"}
GRU_VARIANT_LABELS = {"reset_after": "reset after (PyTorch, Keras, Flax)",
                      "reset_before": "reset before"}
CLOSURE_LABELS = {"gc": "Gaussian closure (GC, eq. 4.4)",
                  "gc4": "fourth-cumulant correction (GC4, eq. 4.4b)"}
assert tuple(GRU_VARIANT_LABELS) == GRU_VARIANTS and tuple(CLOSURE_LABELS) == CLOSURES

#: Timescale fields the phase diagram can show.
FIELDS = ("xi_jac", "xi_c", "xi_q")


@dataclass(frozen=True)
class SliderSpec:
    """A numeric control: plain-text and HTML symbol, step, help text."""

    name: str
    symbol: str  # plain unicode, for buttons, tooltips and the read-out
    html: str  # Plotly/HTML markup with <sub>, for figure axes
    step: float
    help: str
    integer: bool = False

    @property
    def decimals(self) -> int:
        """Decimal places of ``step`` (values are rounded to this many)."""
        text = f"{self.step:.10f}".rstrip("0")
        return len(text.split(".")[1]) if "." in text else 0


SLIDERS: dict[str, SliderSpec] = {
    s.name: s
    for s in (
        SliderSpec("sigma_w", "σ_w", "σ<sub>w</sub>", 0.01, "recurrent weight scale"),
        SliderSpec("sigma_b", "σ_b", "σ<sub>b</sub>", 0.01, "bias standard deviation"),
        SliderSpec("mu_b", "μ_b", "μ<sub>b</sub>", 0.05, "bias mean (the gate bias)"),
        SliderSpec("sigma_v", "σ_v", "σ<sub>v</sub>", 0.01, "input weight scale"),
        SliderSpec("R", "R", "R", 0.01, "input second moment ‖x‖²/N"),
        SliderSpec("Sigma", "Σ", "Σ", 0.01,
                   "input correlation of the two compared sequences (1 = identical)"),
        SliderSpec("T", "T", "T", 1, "sequence length (steps of the Jacobian product)",
                   integer=True),
        SliderSpec("k", "k", "k", 0.5,
                   "trainable while T < k·ξ (k = 6 after Schoenholz et al. 2017)"),
        SliderSpec("mu_i", "μ_i", "μ<sub>i</sub>", 0.05, "LSTM input-gate bias mean"),
        SliderSpec("mu_o", "μ_o", "μ<sub>o</sub>", 0.05, "LSTM output-gate bias mean"),
        SliderSpec("mu_r", "μ_r", "μ<sub>r</sub>", 0.05, "GRU reset-gate bias mean"),
    )
}

#: The mean-field parameters shared by every cell (the rest of SLIDERS are T, k and
#: the advanced bias means).
PARAM_NAMES = ("sigma_w", "sigma_b", "mu_b", "sigma_v", "R", "Sigma")
#: Advanced per-gate bias means (gated-cells.md 1.4): sliders in the "Advanced" section.
ADVANCED_SLIDERS = ("mu_i", "mu_o", "mu_r")
#: Advanced choices: state field -> (choices, labels).
ADVANCED_CHOICES = {"gru_variant": (GRU_VARIANTS, GRU_VARIANT_LABELS),
                    "closure": (CLOSURES, CLOSURE_LABELS)}

# Slider ranges per range key. The gated cells share the minimalRNN's ranges, and
# "compare" (two cells side by side) uses them too: a superset of the vanilla ones.
_VANILLA = {"sigma_w": (0.1, 4.0), "sigma_b": (0.0, 1.0), "mu_b": (-2.0, 2.0),
            "sigma_v": (0.0, 3.0), "R": (0.01, 4.0), "Sigma": (0.0, 1.0)}
_MINIMAL = {"sigma_w": (0.1, 10.0), "sigma_b": (0.0, 2.0), "mu_b": (-4.0, 8.0),
            "sigma_v": (0.0, 3.0), "R": (0.01, 4.0), "Sigma": (0.0, 1.0)}
_COMMON = {"T": (1.0, 500.0), "k": (1.0, 20.0), "mu_i": (-4.0, 8.0), "mu_o": (-4.0, 8.0),
           "mu_r": (-4.0, 8.0)}
RANGE_KEYS = (*MODES, "compare")
RANGES: dict[str, dict[str, tuple[float, float]]] = {
    key: {**(_VANILLA if key == "vanilla" else _MINIMAL), **_COMMON} for key in RANGE_KEYS}

#: Axes drawn on a log scale in the phase diagram (grid points log-spaced).
LOG_AXES: dict[str, frozenset[str]] = {
    key: frozenset() if key == "vanilla" else frozenset({"sigma_w"}) for key in RANGE_KEYS}

DEFAULT_PLANE = {"vanilla": ("sigma_w", "sigma_b"), "minimal": ("sigma_w", "mu_b"),
                 "gru": ("sigma_w", "mu_b"), "lstm": ("sigma_w", "mu_b"),
                 "compare": ("sigma_w", "mu_b")}
#: Ordered pairs offered as phase-diagram planes.
PLANES = tuple((x, y) for x in PLANE_PARAMS for y in PLANE_PARAMS if x != y)

GRID_SIZES = (60, 100, 150, 200, 300)
DEFAULT_GRID = 150
DEFAULT_T, DEFAULT_K = 50, 6.0
N_RANGE, DEFAULT_N = (20, 1000), 200
SEED_RANGE, DEFAULT_SEED = (0, 2**31 - 1), 0
#: Sampling refuses (number of architectures shown) x N^3 T above this. Measured on
#: this 2-core machine (one BLAS thread, 16 parameter sets, N = 200 and 400): 1.2e-10 to
#: 6.2e-10 s per unit of N^3 T (the worst: minimalRNN at sigma_w = 10, ReLU at the edge
#: of chaos, where a QR is needed after every step), so the largest request takes at most
#: ~1.2 s, under the 2 s answer time of a hosted demo (issue 6).
SAMPLE_BUDGET = 2.0e9
#: The memory panel's simulated real network refuses (N^2 T + N^3 / 8) summed over the
#: cells shown above this: the steps (two sequences and a perturbed copy, a matrix-vector
#: product per gate each) plus the draw of orthogonal W (a QR per gate). Measured on this
#: 2-core machine (one BLAS thread, LSTM, the costliest cell, orthogonal W): 7.7 ns per
#: unit when otherwise idle (N = 800, T = 130: 1.1 s; N = 1000, T = 50: 1.4 s) and up to
#: 14 ns under a load of 9 (two cells, N = 560, T = 380: 3.8 s). At this budget the
#: largest request takes ~0.6 s idle and ~1.1 s under that load, leaving room for the
#: other panels of the same answer within the 2 s of a hosted demo.
SIMULATE_BUDGET = 8.0e7
#: Grid points per axis of an LSTM phase diagram under the GC4 closure (gated-cells.md
#: 4.4b): ~0.7 ms per node measured on this machine under load (60 x 60: 2.6 s), so
#: 40 x 40 takes ~1.1 s; the figure names the coarser grid.
GC4_GRID_MAX = 40
#: Points of the 1-D cut in the memory panel.
CUT_POINTS = 200

#: Why a control does not apply to a cell (its tooltip and note when no cell shown
#: uses it). ``weights`` means the block-orthogonal option.
DISABLED_WHY: dict[str, dict[str, str]] = {
    "vanilla": {},
    "minimal": {"phi": "φ applies to the vanilla RNN only: the minimalRNN gate is the "
                       "logistic sigmoid (theory.md 1.2)"},
    "gru": {"phi": "φ applies to the vanilla RNN only: GRU gates are sigmoids and its "
                   "candidate is tanh (gated-cells.md 1.2)"},
    "lstm": {"phi": "φ applies to the vanilla RNN only: LSTM gates are sigmoids and its "
                    "candidate is tanh (gated-cells.md 1.1)"},
}
#: Tooltip of a control that applies to the cell shown.
APPLIES_TO = {"phi": "φ: nonlinearity of the vanilla RNN",
              "mu_i": "μ_i: bias mean of the LSTM input gate (gated-cells.md 1.4)",
              "mu_o": "μ_o: bias mean of the LSTM output gate (gated-cells.md 1.4)",
              "closure": "LSTM closure of E[tanh² c] (gated-cells.md 4.4, 4.4b)",
              "mu_r": "μ_r: bias mean of the GRU reset gate (gated-cells.md 1.4)",
              "gru_variant": "Where the GRU's reset gate acts (gated-cells.md 1.2)"}
_LABEL = {"lstm": "the LSTM", "gru": "the GRU"}
_SHORT = {"mu_i": "μ_i", "mu_o": "μ_o", "mu_r": "μ_r", "closure": "The closure",
          "gru_variant": "The GRU variant"}
for _name, _arch in ARCH_ONLY.items():
    for _cell in MODES:
        if _cell != _arch:
            DISABLED_WHY[_cell][_name] = (f"{_SHORT[_name]} applies to {_LABEL[_arch]} only "
                                          "(gated-cells.md 1.4)")


def disabled_why(archs: tuple[str, ...]) -> dict[str, str]:
    """Controls that apply to none of the cells ``archs`` shown, and why."""
    names = set.intersection(*(set(DISABLED_WHY[a]) for a in archs))
    return {name: DISABLED_WHY[archs[0]][name] for name in sorted(names)}


def range_key(archs: tuple[str, ...]) -> str:
    """The :data:`RANGES` key of a view showing ``archs``."""
    return archs[0] if len(archs) == 1 else "compare"


def slider_range(key: str, name: str) -> tuple[float, float]:
    """(min, max) of slider ``name`` under range key ``key`` (a cell or "compare")."""
    return RANGES[key][name]


def default_values(mode: str) -> dict[str, float]:
    """Default value of every parameter slider of cell ``mode`` (shared ones only)."""
    p = default_params(mode)
    return {name: float(getattr(p, name)) for name in PARAM_NAMES}


def check_table() -> None:
    """Raise AssertionError if a range leaves :data:`theory.PARAM_RANGES`."""
    for key, table in RANGES.items():
        for name in (*PARAM_NAMES, *ADVANCED_SLIDERS):
            lo, hi = table[name]
            t_lo, t_hi, incl = PARAM_RANGES[name]
            assert (lo > t_lo or (incl and lo == t_lo)) and hi <= t_hi, (key, name)
        for mode in MODES if key == "compare" else (key,):
            for name, d in default_values(mode).items():
                assert table[name][0] <= d <= table[name][1], (key, mode, name, d)
        assert DEFAULT_PLANE[key] in PLANES, key
