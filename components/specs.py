"""One table of every control: range, step, default, symbol and help text.

Everything the layout, the URL codec and the callbacks need to know about a
control comes from here, so a permalink never depends on the screen width (every
slider has an explicit ``step``) and the slider range, the phase-diagram axis and
the URL clamp always agree.

Ranges are per *mode* (``vanilla``, ``minimal`` or ``both`` side by side) and lie
inside :data:`theory.PARAM_RANGES`; defaults come from
:func:`theory.default_params`.

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

MODES = ("vanilla", "minimal", "both")
MODE_LABELS = {"vanilla": "Vanilla RNN", "minimal": "minimalRNN", "both": "Both, side by side"}
#: Architectures computed in each mode, in display order.
MODE_ARCHS = {"vanilla": ("vanilla",), "minimal": ("minimal",), "both": ("vanilla", "minimal")}
ARCH_LABELS = {"vanilla": "Vanilla RNN", "minimal": "minimalRNN"}

PHI_LABELS = {"tanh": "tanh", "erf": "erf", "relu": "ReLU", "linear": "linear"}
#: Recurrent-weight ensembles the dashboard offers (``theory.WEIGHTS`` also has the
#: gated cells' block-orthogonal draw, which the dashboard does not offer yet).
WEIGHTS = ("gaussian", "orthogonal")
WEIGHT_LABELS = {"orthogonal": "orthogonal W", "gaussian": "Gaussian W"}

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
    )
}

#: The mean-field parameters (the rest of SLIDERS are T and k).
PARAM_NAMES = ("sigma_w", "sigma_b", "mu_b", "sigma_v", "R", "Sigma")

# Slider ranges per mode. "both" uses the minimalRNN ranges (a superset).
_VANILLA = {"sigma_w": (0.1, 4.0), "sigma_b": (0.0, 1.0), "mu_b": (-2.0, 2.0),
            "sigma_v": (0.0, 3.0), "R": (0.01, 4.0), "Sigma": (0.0, 1.0)}
_MINIMAL = {"sigma_w": (0.1, 10.0), "sigma_b": (0.0, 2.0), "mu_b": (-4.0, 8.0),
            "sigma_v": (0.0, 3.0), "R": (0.01, 4.0), "Sigma": (0.0, 1.0)}
_COMMON = {"T": (1.0, 500.0), "k": (1.0, 20.0)}
RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "vanilla": {**_VANILLA, **_COMMON},
    "minimal": {**_MINIMAL, **_COMMON},
    "both": {**_MINIMAL, **_COMMON},
}

#: Axes drawn on a log scale in the phase diagram (grid points log-spaced).
LOG_AXES: dict[str, frozenset[str]] = {
    "vanilla": frozenset(),
    "minimal": frozenset({"sigma_w"}),
    "both": frozenset({"sigma_w"}),
}

DEFAULT_PLANE = {"vanilla": ("sigma_w", "sigma_b"), "minimal": ("sigma_w", "mu_b"),
                 "both": ("sigma_w", "mu_b")}
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
#: Points of the 1-D cut in the memory panel.
CUT_POINTS = 200

#: Why a control is disabled, per mode (shown as its tooltip and note).
DISABLED_WHY: dict[str, dict[str, str]] = {
    "vanilla": {},
    "minimal": {"phi": "φ applies to the vanilla RNN only: the minimalRNN gate is the "
                       "logistic sigmoid (theory.md 1.2)"},
    "both": {},
}


def slider_range(mode: str, name: str) -> tuple[float, float]:
    """(min, max) of slider ``name`` in ``mode``."""
    return RANGES[mode][name]


def default_values(mode: str) -> dict[str, float]:
    """Default value of every parameter slider in ``mode``.

    ``both`` starts from the minimalRNN defaults (they lie inside both models'
    interesting regions: gate bias 2, sigma_w 2).
    """
    p = default_params("minimal" if mode == "both" else mode)
    return {name: float(getattr(p, name)) for name in PARAM_NAMES}


def check_table() -> None:
    """Raise AssertionError if a range leaves :data:`theory.PARAM_RANGES`."""
    for mode, table in RANGES.items():
        for name in PARAM_NAMES:
            lo, hi = table[name]
            t_lo, t_hi, incl = PARAM_RANGES[name]
            assert (lo > t_lo or (incl and lo == t_lo)) and hi <= t_hi, (mode, name)
            d = default_values(mode)[name]
            assert lo <= d <= hi, (mode, name, d)
        assert DEFAULT_PLANE[mode] in PLANES, mode
