"""Where PyTorch, Keras and Flax initialise their RNN layers, in this theory's parameters.

gated-cells.md section 7 maps every framework's default initialisers onto the
ensemble of section 1.3: a uniform U(-a, a) has variance a^2/3; a recurrent matrix of
width H with per-entry variance v has sigma_w^2 = H v; an input matrix sigma_v^2 =
N_in v; biases that add (PyTorch b_ih + b_hh) add variances; R is defined with N_in.
Keras and Flax-nnx build ONE recurrent kernel for all G gates with the orthogonal
initialiser, so a gate block has sigma_{w,k}^2 = 1/G and is a block of an orthogonal
matrix (``weights="block-orthogonal"``); Flax-linen draws one orthogonal matrix per gate.

:func:`framework_defaults` returns those points as :class:`FrameworkDefault` records
(the exact per-gate :class:`~theory.types.Params`), for the dashboard's markers and
presets. Only PyTorch's bias spread and the N_in/H ratio in sigma_v depend on the sizes.

Example
-------
>>> d = {x.key: x for x in framework_defaults("lstm", H=128)}
>>> d["keras"].params.mu_b, d["keras"].params.weights
(1.0, 'block-orthogonal')
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from theory.types import ParameterError, Params, check_choice

FRAMEWORKS = ("pytorch", "keras", "flax-linen", "flax-nnx")
MAX_SIZE = 1_000_000
_NNX_LAYER = {"vanilla": "flax.nnx.SimpleCell", "gru": "flax.nnx.GRUCell",
              "lstm": "flax.nnx.OptimizedLSTMCell"}


@dataclass(frozen=True)
class FrameworkDefault:
    """A framework's default initialisation of one layer (gated-cells.md 7).

    ``key`` is the framework (``FRAMEWORKS``), ``label`` a display name such as
    "Keras LSTM (forget bias 1)", ``layer`` the class that builds it, ``params`` the
    exact ensemble, ``note`` what the mapping approximates and ``source`` the
    documentation it comes from.
    """

    key: str
    label: str
    layer: str
    params: Params
    note: str
    source: str


_SOURCES = {
    "pytorch": "PyTorch docs: all weights and biases U(-1/sqrt(H), 1/sqrt(H)) "
               "(torch.nn.RNN / LSTM / GRU)",
    "keras": "Keras docs: kernel glorot_uniform, recurrent_kernel orthogonal (one matrix for "
             "all gates), bias zeros; LSTM unit_forget_bias=True",
    "flax-linen": "Flax linen docs: kernel lecun_normal, recurrent_kernel orthogonal per gate, "
                  "bias zeros",
    "flax-nnx": "Flax nnx docs: kernel lecun_normal, one orthogonal recurrent matrix for all "
                "gates, bias zeros",
}


def _check_size(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SIZE:
        raise ParameterError(f"{name}: expected an integer in [1, {MAX_SIZE}], got {value!r}")
    return value


def framework_defaults(arch: str, H: int = 128, N_in: int | None = None,
                       R: float = 1.0) -> list[FrameworkDefault]:
    """The framework defaults of ``arch`` (gated-cells.md 7) at hidden size H and input size N_in.

    Parameters
    ----------
    arch : {"vanilla", "gru", "lstm"}
        The minimalRNN has no framework layer: an empty list.
    H, N_in : int
        Hidden and input width (N_in defaults to H).
    R : float
        Input second moment (defined with N_in), kept in the returned Params.
    """
    check_choice("arch", arch, ("vanilla", "minimal", "gru", "lstm"))
    H = _check_size("H", H)
    N_in = H if N_in is None else _check_size("N_in", N_in)
    if arch == "minimal":
        return []
    G = {"vanilla": 1, "gru": 3, "lstm": 4}[arch]
    name = {"vanilla": "RNN", "gru": "GRU", "lstm": "LSTM"}[arch]
    base = {"arch": arch, "R": R, "Sigma": 0.0}
    u3 = 1.0 / math.sqrt(3.0)  # U(-1/sqrt(H), 1/sqrt(H)) on H columns: sigma^2 = 1/3
    torch = dict(base, sigma_w=u3, sigma_v=math.sqrt(N_in / (3.0 * H)),
                 sigma_b=math.sqrt(2.0 / (3.0 * H)), weights="gaussian")
    torch_note = "uniform entries (Gaussian in the mean field); b_ih + b_hh add variances"
    if arch == "gru":  # the candidate's b_hn sits inside the reset product (b'_n)
        one = math.sqrt(1.0 / (3.0 * H))
        torch["overrides"] = {"sigma_b_n": one, "sigma_bh_n": one}
        torch_note += "; the candidate's b_hn is b'_n inside the reset product"
    glorot = math.sqrt(2.0 * N_in / (N_in + G * H))
    keras = dict(base, sigma_w=1.0 / math.sqrt(G) if G > 1 else 1.0, sigma_v=glorot,
                 sigma_b=0.0, weights="block-orthogonal" if G > 1 else "orthogonal")
    if arch == "lstm":
        keras["mu_b"] = 1.0
    linen = dict(base, sigma_w=1.0, sigma_v=1.0, sigma_b=0.0, weights="orthogonal")
    nnx = dict(base, sigma_w=1.0 / math.sqrt(G) if G > 1 else 1.0, sigma_v=1.0, sigma_b=0.0,
               weights="block-orthogonal" if G > 1 else "orthogonal")
    layers = {
        "pytorch": (f"PyTorch {name} default", f"torch.nn.{name}", torch, torch_note),
        "keras": (f"Keras {name} (forget bias 1)" if arch == "lstm" else
                  f"Keras {'SimpleRNN' if arch == 'vanilla' else name} default",
                  f"keras.layers.{'SimpleRNN' if arch == 'vanilla' else name}", keras,
                  "glorot_uniform kernel, orthogonal recurrent kernel"
                  + (" shared by the gates (block-orthogonal)" if G > 1 else "")),
        "flax-linen": (f"Flax {'SimpleCell' if arch == 'vanilla' else name} (linen) default",
                       f"flax.linen.{'SimpleCell' if arch == 'vanilla' else name + 'Cell'}",
                       linen, "lecun_normal kernel, orthogonal recurrent kernel per gate"),
        "flax-nnx": (f"Flax nnx {name} default", _NNX_LAYER[arch], nnx,
                     "lecun_normal kernel, one orthogonal recurrent kernel"),
    }
    if arch == "vanilla":
        del layers["flax-nnx"]  # the same as linen's SimpleCell
    return [FrameworkDefault(key, label, layer, Params(**kw), note, _SOURCES[key])
            for key, (label, layer, kw, note) in layers.items()]
