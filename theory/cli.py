"""Command line of :mod:`theory`: ``python -m theory SUBCOMMAND ...``.

Subcommands (flags use the section-11 names of theory.md with ``-`` for ``_``)::

    point      --arch A [parameter flags] [--json]       fixed points, chi's, xi's
    grid       --arch A --x NAME:START:STOP:NUM --y ... [parameter flags] --out F
    trajectory --arch A --T N [parameter flags] [--json]  q_t, Q_t, c_t, C_t
    critical   --arch A [--q-star F | --T N --delta F ...] [--json]
    spectrum   --arch A --T N [parameter flags] [--n-points K]
               [--sample N --seed K] [--json]

Parameter flags left out take the defaults of ``theory.default_params(arch)``.
Bad input exits with status 2 and one line naming the flag; an unexpected
internal error exits with status 1 and one line. No traceback is printed.

Example
-------
>>> import io, json
>>> buf = io.StringIO()
>>> main(["point", "--arch", "vanilla", "--sigma-w", "1.5", "--json"], out=buf)
0
>>> json.loads(buf.getvalue())["sigma_w"]
1.5
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, TextIO

import numpy as np

import theory
from theory import cli_io
from theory.types import (
    ARCHS,
    CLOSURES,
    GATES,
    GRU_VARIANTS,
    OVERRIDE_RANGES,
    PARAM_RANGES,
    PHIS,
    PLANE_PARAMS,
    WEIGHTS,
    ParameterError,
    default_params,
    override_names,
)

PROG = "python -m theory"
MAX_T = 100_000
MAX_SAMPLE_N = 1000  # sampled spectra: N and T up to 1000 (issue 3)
MAX_SAMPLE_T = 1000
MIN_N_POINTS, MAX_N_POINTS = 16, 10_000  # theory.spectrum accepts 16 .. 20000
DEFAULT_Q_STAR = 0.1
DEFAULT_CRITICAL_T = 100
DEFAULT_DELTA = 0.1

PARAM_HELP = {
    "sigma_w": "recurrent weight scale sigma_w",
    "sigma_b": "bias standard deviation sigma_b",
    "sigma_v": "input weight scale sigma_v",
    "mu_b": "bias mean mu_b (the memory gate's bias: minimalRNN u, GRU z, LSTM f)",
    "R": "input second moment R = |x_t|^2 / N",
    "Sigma": "input correlation Sigma of the two compared sequences (1 = identical)",
    "mu_i": "LSTM only: input-gate bias mean mu_i",
    "mu_o": "LSTM only: output-gate bias mean mu_o",
    "mu_r": "GRU only: reset-gate bias mean mu_r",
}
#: Per-gate override flags of the GRU and LSTM (gated-cells.md 1.4, 10).
GATE_OVERRIDES = tuple(sorted({name for arch in GATES for variant in GRU_VARIANTS
                               for name in override_names(arch, variant)}))
GATED_PARAMS = ("gru_variant", "closure", "mu_i", "mu_o", "mu_r")


# --- parser ----------------------------------------------------------------------
def _range_text(name: str) -> str:
    lo, hi, lo_incl = PARAM_RANGES[name]
    return f"{'[' if lo_incl else '('}{lo:g}, {hi:g}]"


def _default_text(name: str, only: str | None = None) -> str:
    if only is not None:
        if only == "gated":
            return f"gated cells only; default {getattr(default_params('minimal'), name):g}"
        arch = {"minimal": "minimalRNN", "gru": "GRU", "lstm": "LSTM"}.get(only, only)
        return f"{arch} only; default {getattr(default_params(only), name):g}"
    dv = getattr(default_params("vanilla"), name)
    dm = getattr(default_params("minimal"), name)
    if dv == dm:
        return f"default {dv:g}"
    return f"default {dv:g} (vanilla), {dm:g} (minimal)"


def _opt(p: argparse.ArgumentParser, flag: str, kind: Any, meta: str, text: str, **kw: Any) -> None:
    """``p.add_argument(flag, type=kind, metavar=meta, help=text, default=None)``."""
    kw.setdefault("default", None)
    p.add_argument(flag, type=kind, metavar=meta, help=text, **kw)


def _add_common(
    p: argparse.ArgumentParser,
    params: tuple[str, ...],
    json_flag: bool = True,
    only: dict[str, str] | None = None,
) -> None:
    """--arch, the flags in ``params`` (only[name]: the arch using it), --json."""
    only = only or {}
    dv = default_params("vanilla")
    p.add_argument(
        "--arch", required=True, choices=ARCHS,
        help="vanilla RNN, minimalRNN, GRU or LSTM (required)",
    )
    phi_help = f"vanilla nonlinearity; default {dv.phi}; the gated cells' gates are sigmoids"
    w_help = f"law of the recurrent matrix W; default {dv.weights}; used by spectra only"
    if "phi" in params:
        p.add_argument("--phi", choices=PHIS, help=phi_help)
    if "weights" in params:
        p.add_argument("--weights", choices=WEIGHTS, help=w_help)
    for name in params:
        if name in PARAM_RANGES:
            text = (
                f"{PARAM_HELP[name]}; {_default_text(name, only.get(name))}; "
                f"range {_range_text(name)}"
            )
            _opt(p, cli_io.flag_of(name), cli_io.param_type(name), "F", text, dest=name)
    if "gru_variant" in params:
        _add_gated(p)
    if json_flag:
        p.add_argument(
            "--json", action="store_true", help="print one strict JSON object instead of a table"
        )


def _add_gated(p: argparse.ArgumentParser) -> None:
    """GRU/LSTM flags: variant, closure and the per-gate overrides (gated-cells.md 1.4)."""
    p.add_argument("--gru-variant", choices=GRU_VARIANTS, dest="gru_variant",
                   help="GRU only: where the reset gate acts; default reset_after")
    p.add_argument("--closure", choices=CLOSURES,
                   help="LSTM only: Gaussian closure gc (default) or its correction gc4")
    for name in GATE_OVERRIDES:
        kind, gate = name.rsplit("_", 1)
        lo, hi, _ = OVERRIDE_RANGES[kind]
        arch = "GRU" if gate in GATES["gru"] else "LSTM"
        text = (f"{arch} only: {kind} of gate {gate} (default: the shared value"
                f"{'' if kind != 'sigma_bh' else ' 0; reset_after only'}); range [{lo:g}, {hi:g}]")
        _opt(p, cli_io.flag_of(name), cli_io.override_type(name), "F", text, dest=name)


POINT_PARAMS = ("phi", "weights", "sigma_w", "sigma_b", "sigma_v", "mu_b", "R", "Sigma",
                *GATED_PARAMS)
CRITICAL_PARAMS = ("phi", "mu_b", "sigma_v", "R", "sigma_b", "sigma_w")
T_HELP = f"number of time steps, integer in [1, {MAX_T}]"
AXIS_HELP = (
    f"axis NAME:START:STOP:NUM[:log], NAME in {{{', '.join(PLANE_PARAMS)}}}, "
    f"START < STOP inside NAME's range, NUM in [2, {cli_io.MAX_AXIS_POINTS}], "
    "':log' for geometric spacing"
)


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m theory`` parser with its five subcommands."""
    fmt = argparse.RawDescriptionHelpFormatter
    root = cli_io.OneLineParser(
        prog=PROG,
        allow_abbrev=False,
        formatter_class=fmt,
        description=__doc__.split("\n\nExample")[0],
    )
    sub = root.add_subparsers(dest="command", required=True, metavar="SUBCOMMAND")
    for name, (helptext, desc, adder, func) in SUBCOMMANDS.items():
        p = sub.add_parser(
            name, help=helptext, description=desc, allow_abbrev=False, formatter_class=fmt
        )
        adder(p)
        p.set_defaults(func=func)
    return root


def _point_flags(p: argparse.ArgumentParser) -> None:
    _add_common(p, POINT_PARAMS)


def _grid_flags(p: argparse.ArgumentParser) -> None:
    _opt(p, "--x", cli_io.axis, "SPEC", AXIS_HELP, required=True)
    _opt(p, "--y", cli_io.axis, "SPEC", AXIS_HELP, required=True)
    _opt(p, "--out", str, "FILE", "output file ending in .npz, .csv or .json", required=True)
    _add_common(p, POINT_PARAMS, json_flag=False)


def _trajectory_flags(p: argparse.ArgumentParser) -> None:
    _opt(p, "--T", cli_io.int_in(1, MAX_T), "N", T_HELP, required=True)
    _add_common(p, POINT_PARAMS)


def _critical_flags(p: argparse.ArgumentParser) -> None:
    q_help = f"vanilla only: target q*; default {DEFAULT_Q_STAR:g}; range (0, 1000]"
    t_help = f"gated cells: sequence length; default {DEFAULT_CRITICAL_T}; in [1, {MAX_T}]"
    d_help = f"gated cells: tolerance; default {DEFAULT_DELTA:g}; range (0, 1]"
    _opt(p, "--q-star", cli_io.float_in(0.0, 1000.0), "F", q_help, dest="q_star")
    _opt(p, "--T", cli_io.int_in(1, MAX_T), "N", t_help)
    _opt(p, "--delta", cli_io.float_in(0.0, 1.0), "F", d_help)
    only = {"mu_b": "vanilla", "sigma_v": "gated", "R": "gated", "sigma_b": "gated",
            "sigma_w": "lstm"}
    _add_common(p, CRITICAL_PARAMS, only=only)
    p.add_argument("--gru-variant", choices=GRU_VARIANTS, dest="gru_variant",
                   help="GRU only: where the reset gate acts; default reset_after")


def _spectrum_flags(p: argparse.ArgumentParser) -> None:
    n_help = f"grid points of the density; default 400; range [{MIN_N_POINTS}, {MAX_N_POINTS}]"
    s_help = (
        f"also sample a network of width N in [2, {MAX_SAMPLE_N}] (needs "
        f"T <= {MAX_SAMPLE_T}); default: no sample"
    )
    seed_help = "seed of numpy.random.default_rng for --sample; default 0"
    _opt(p, "--T", cli_io.int_in(1, MAX_T), "N", T_HELP, required=True)
    _opt(
        p,
        "--n-points",
        cli_io.int_in(MIN_N_POINTS, MAX_N_POINTS),
        "K",
        n_help,
        dest="n_points",
        default=400,
    )
    _opt(p, "--sample", cli_io.int_in(2, MAX_SAMPLE_N), "N", s_help)
    _opt(p, "--seed", cli_io.int_in(0, 2**63 - 1), "K", seed_help)
    _add_common(p, POINT_PARAMS)


# --- subcommands -------------------------------------------------------------------
def _params(args: argparse.Namespace) -> theory.Params:
    """default_params(arch) with every given flag applied."""
    changes = {k: getattr(args, k) for k in POINT_PARAMS if getattr(args, k, None) is not None}
    ov = {k: getattr(args, k) for k in GATE_OVERRIDES if getattr(args, k, None) is not None}
    if ov:
        changes["overrides"] = ov
    return default_params(args.arch).replace(**changes)


def _emit(args: argparse.Namespace, doc: dict[str, Any], out: TextIO) -> None:
    if args.json:
        out.write(cli_io.dumps(doc) + "\n")
    else:
        cli_io.print_mapping(doc, out)


def cmd_point(args: argparse.Namespace, out: TextIO) -> None:
    """``point``: ``theory.point(params).to_dict()``."""
    _emit(args, theory.point(_params(args)).to_dict(), out)


def cmd_grid(args: argparse.Namespace, out: TextIO) -> None:
    """``grid``: ``theory.grid`` written to ``--out``."""
    (xn, xs), (yn, ys) = args.x, args.y
    if xn == yn:
        raise ParameterError(f"y: --x and --y both span {xn}")
    path = Path(args.out)
    if path.suffix.lower() not in cli_io.GRID_FORMATS:
        raise ParameterError(f"out: unknown extension {path.suffix!r} (use .npz, .csv or .json)")
    if not path.parent.is_dir():
        raise ParameterError(f"out: no such directory {str(path.parent)!r}")
    g = theory.grid(_params(args), x=(xn, xs), y=(yn, ys))
    try:
        cli_io.write_grid(g, path)
    except OSError as exc:
        raise ParameterError(f"out: cannot write {str(path)!r}: {exc.strerror}") from None
    out.write(
        f"wrote {path}: {len(g.fields)} quantities on {len(ys)} x {len(xs)} nodes ({yn} x {xn})\n"
    )


def cmd_trajectory(args: argparse.Namespace, out: TextIO) -> None:
    """``trajectory``: ``theory.trajectory(params, T).to_dict()``."""
    doc = theory.trajectory(_params(args), args.T).to_dict()
    if args.json:
        out.write(cli_io.dumps(doc) + "\n")
    else:
        cli_io.print_columns({k: doc[k] for k in ("t", "q", "Q", "c", "C")}, out)


def _reject_unused(args: argparse.Namespace, names: tuple[str, ...]) -> None:
    for name in names:
        if getattr(args, name, None) is not None:
            raise ParameterError(f"{name}: not used with --arch {args.arch}")


def cmd_critical(args: argparse.Namespace, out: TextIO) -> None:
    """``critical``: ``theory.critical_init_<arch>`` (theory.md 6, gated-cells.md 6)."""
    d = default_params(args.arch)

    def get(name: str, fallback: Any) -> Any:
        value = getattr(args, name)
        return fallback if value is None else value

    if args.arch == "vanilla":
        _reject_unused(args, ("T", "delta", "sigma_v", "R", "sigma_b", "sigma_w", "gru_variant"))
        res = theory.critical_init_vanilla(
            get("q_star", DEFAULT_Q_STAR),
            phi=get("phi", d.phi),
            mu_b=get("mu_b", d.mu_b),
        )
        _emit(args, cli_io.to_jsonable(res), out)
        return
    _reject_unused(args, ("q_star", "phi", "mu_b")
                   + (("gru_variant",) if args.arch != "gru" else ())
                   + (("sigma_w",) if args.arch != "lstm" else ()))
    common = (get("T", DEFAULT_CRITICAL_T), get("delta", DEFAULT_DELTA), get("sigma_v", d.sigma_v),
              get("R", d.R), get("sigma_b", d.sigma_b))
    if args.arch == "minimal":
        res = theory.critical_init_minimal(*common)
    elif args.arch == "gru":
        res = theory.critical_init_gru(*common, gru_variant=get("gru_variant", d.gru_variant))
    else:
        res = theory.critical_init_lstm(*common, sigma_w=get("sigma_w", d.sigma_w))
    _emit(args, cli_io.to_jsonable(res), out)


SPECTRUM_FIELDS = ("s", "pdf", "atom_at_zero", "m1", "m2", "method")
SPECTRUM_EXTRAS = ("pdf_log_s", "atoms", "exact", "mass_below_grid")


def cmd_spectrum(args: argparse.Namespace, out: TextIO) -> None:
    """``spectrum``: ``theory.spectrum`` (+ ``theory.sample_singular_values``)."""
    if args.sample is None and args.seed is not None:
        raise ParameterError("seed: only used with --sample")
    if args.sample is not None and args.T > MAX_SAMPLE_T:
        raise ParameterError(f"T: at most {MAX_SAMPLE_T} with --sample, got {args.T}")
    p = _params(args)
    spec = theory.spectrum(p, args.T, n_points=args.n_points)
    doc: dict[str, Any] = {"arch": p.arch, "T": args.T, "params": p.to_dict()}
    for name in SPECTRUM_FIELDS:
        doc[name] = getattr(spec, name)
    for name in SPECTRUM_EXTRAS:  # printed when the Spectrum has them
        if hasattr(spec, name):
            doc[name] = getattr(spec, name)
    if args.sample is not None:
        rng = np.random.default_rng(0 if args.seed is None else args.seed)
        doc["sampled_s"] = theory.sample_singular_values(p, args.sample, args.T, rng)
    if args.json:
        out.write(cli_io.dumps(doc) + "\n")
        return
    cli_io.print_mapping({k: doc[k] for k in ("method", "T", "m1", "m2", "atom_at_zero")}, out)
    cli_io.print_columns({"s": doc["s"], "pdf": doc["pdf"]}, out, max_rows=25)
    if "sampled_s" in doc:
        s = np.asarray(doc["sampled_s"])
        out.write(f"sampled_s: {s.size} values in [{s.min():.6g}, {s.max():.6g}]\n")


SUBCOMMANDS = {  # name -> (one-line help, description, flag adder, handler)
    "point": (
        "fixed points, slopes and timescales at one point",
        (
            "q*, Q*, c*, C*, chi_q, chi_c, chi_jac, xi_* (null where chi >= 1),\n"
            "phase, branch (minimalRNN) at one parameter point (theory.md 3-4)."
        ),
        _point_flags,
        cmd_point,
    ),
    "grid": (
        "every quantity on a 2-D grid, written to a file",
        (
            "Every quantity of `point` on a grid over two of\n"
            f"{', '.join(PLANE_PARAMS)}; the other parameters are fixed by their\n"
            "flags (an axis overrides its flag). The --out extension picks the\n"
            "format: .npz, .csv (one row per node) or .json."
        ),
        _grid_flags,
        cmd_grid,
    ),
    "trajectory": (
        "q_t, Q_t, c_t, C_t for t = 0..T from h_0 = 0",
        (
            "Arrays t, q, Q, c, C for t = 0..T (theory.md eqs. 3.1-3.2, 4.1-4.2);\n"
            "q_0 and c_0 are null (no pre-activation before t = 1)."
        ),
        _trajectory_flags,
        cmd_trajectory,
    ),
    "critical": (
        "critical initialisation (theory.md 6.2-6.3)",
        (
            "vanilla: sigma_w and input_variance = sigma_v^2 R + sigma_b^2 on\n"
            "chi_1 = 1 for a target q* (uses --q-star, --phi, --mu-b).\n"
            "minimalRNN: mu_b, sigma_w with |1 - chi_J| <= delta/T (uses --T,\n"
            "--delta, --sigma-v, --R, --sigma-b)."
        ),
        _critical_flags,
        cmd_critical,
    ),
    "spectrum": (
        "singular-value density of the T-step Jacobian",
        (
            "Density of the singular values s of the T-step Jacobian (theory.md\n"
            "section 5): s (increasing), pdf, atom_at_zero, m1, m2, method; with\n"
            "--sample N also sampled_s from a seeded random network of width N."
        ),
        _spectrum_flags,
        cmd_spectrum,
    ),
}


# --- entry point ---------------------------------------------------------------------
def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    """Run the command line; return the exit status (errors exit via SystemExit(2)).

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name; default ``sys.argv[1:]``.
    out : file-like, optional
        Where results go; default ``sys.stdout``.
    """
    parser = build_parser()
    argv = cli_io.join_negative_values(list(sys.argv[1:] if argv is None else argv), parser)
    args = parser.parse_args(argv)
    sub = f"{PROG} {args.command}"
    try:
        args.func(args, sys.stdout if out is None else out)
    except ValueError as exc:  # ParameterError is a ValueError
        sys.stderr.write(f"{sub}: error: {cli_io.flag_message(exc)}\n")
        return 2
    except BrokenPipeError:  # e.g. `... | head`: silence the final flush too
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:  # noqa: BLE001 - the CLI promises no traceback
        sys.stderr.write(
            f"{sub}: internal error: {type(exc).__name__}: {cli_io.flag_message(exc)}\n"
        )
        return 1
    return 0
