"""Tests of the command line ``python -m theory`` (theory/cli.py, theory/cli_io.py).

Every subcommand runs once in a real subprocess (``sys.executable -m theory``);
its JSON or file output is parsed and compared with the Python API called in
this process: the numbers must be *equal* (JSON and CSV write floats with
``repr``, which round-trips exactly; the kernels are deterministic). Bad input
is checked in-process through ``cli.main`` (fast: no interpreter start) and, for
a few cases, through a subprocess to prove the real entry point exits 2 with one
line and no traceback. Each subprocess pays the import of numba (~2 s here), so
the subprocess runs are few and their grids tiny.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import theory
from theory import cli, cli_io
from theory.types import PARAM_RANGES, Params, default_params

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str) -> subprocess.CompletedProcess:
    """Run ``python -m theory ARGS`` from the repository root."""
    env = dict(os.environ)
    env.setdefault("NUMBA_CACHE_DIR", "/tmp/numba_cache")
    return subprocess.run(
        [sys.executable, "-m", "theory", *args],
        check=False,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def run_main(*argv: str) -> str:
    """``cli.main`` in-process, returning stdout (run_cli covers the real entry)."""
    buf = io.StringIO()
    assert cli.main(list(argv), out=buf) == 0
    return buf.getvalue()


def _reject_constant(token: str) -> None:
    raise AssertionError(f"non-strict JSON token {token}")


def strict_json(text: str):
    """Parse JSON, failing on NaN/Infinity tokens (strict JSON)."""
    return json.loads(text, parse_constant=_reject_constant)


def nan_to_none(x):
    """The JSON image of a float: None if not finite."""
    return None if isinstance(x, float) and not math.isfinite(x) else x


def _plain(o):
    return o.tolist() if hasattr(o, "tolist") else float(o)


def jsonable(obj):
    """What the CLI should print for ``obj``: NaN/inf -> None, NumPy -> lists/floats.

    Independent of ``cli_io.to_jsonable``: json's own NaN/Infinity tokens are
    mapped to None on the way back.
    """
    text = json.dumps(obj, default=_plain, allow_nan=True)
    return json.loads(text, parse_constant=lambda _: None)


# --------------------------------------------------------------------------------
# subcommands in a subprocess, compared with the in-process API
# --------------------------------------------------------------------------------
def test_point_json_equals_api_vanilla():
    # sigma_w = 3, Sigma = 1: chaotic (chi_jac > 1), so xi_jac must be null.
    r = run_cli(
        "point",
        "--arch",
        "vanilla",
        "--phi",
        "erf",
        "--sigma-w",
        "3",
        "--sigma-b",
        "0.3",
        "--sigma-v",
        "0.7",
        "--mu-b",
        "-0.25",
        "--R",
        "1.5",
        "--Sigma",
        "1",
        "--weights",
        "gaussian",
        "--json",
    )
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    got = strict_json(r.stdout)
    p = Params(
        arch="vanilla",
        phi="erf",
        sigma_w=3.0,
        sigma_b=0.3,
        sigma_v=0.7,
        mu_b=-0.25,
        R=1.5,
        Sigma=1.0,
        weights="gaussian",
    )
    want = theory.point(p).to_dict()
    assert got == want
    assert got["chi_jac"] > 1 and got["xi_jac"] is None
    for key in (
        "q_star",
        "Q_star",
        "c_star",
        "C_star",
        "chi_q",
        "chi_c",
        "chi_jac",
        "xi_q",
        "xi_c",
        "xi_jac",
        "phase",
        "branch",
        "bistable",
    ):
        assert key in got


def test_point_json_minimal_uses_minimal_defaults():
    got = strict_json(run_main("point", "--arch", "minimal", "--json"))
    p = default_params("minimal")
    assert {k: got[k] for k in p.to_dict()} == p.to_dict()
    assert got == theory.point(p).to_dict()
    assert got["branch"] in ("low", "high")


def test_trajectory_json_equals_api():
    r = run_cli(
        "trajectory",
        "--arch",
        "minimal",
        "--T",
        "30",
        "--mu-b",
        "4",
        "--Sigma",
        "0.5",
        "--json",
    )
    assert r.returncode == 0, r.stderr
    got = strict_json(r.stdout)
    p = default_params("minimal").replace(mu_b=4.0, Sigma=0.5)
    want = theory.trajectory(p, 30).to_dict()
    assert got == want
    assert len(got["t"]) == 31 and got["q"][0] is None  # q_0 is NaN -> null


def _critical_expected(res) -> dict:
    return jsonable(dataclasses.asdict(res))


def test_critical_vanilla_json_equals_api():
    r = run_cli("critical", "--arch", "vanilla", "--q-star", "0.05", "--json")
    assert r.returncode == 0, r.stderr
    got = strict_json(r.stdout)
    want = theory.critical_init_vanilla(0.05, phi="tanh", mu_b=0.0)
    assert got == _critical_expected(want)
    assert got  # a non-empty object


def test_critical_minimal_json_equals_api():
    got = strict_json(
        run_main("critical", "--arch", "minimal", "--T", "50", "--delta", "0.2", "--json")
    )
    d = default_params("minimal")
    want = theory.critical_init_minimal(50, 0.2, d.sigma_v, d.R, d.sigma_b)
    assert got == _critical_expected(want)
    assert got


def _api_grid(arch: str, x, y, **fixed):
    p = default_params(arch).replace(**fixed)
    return theory.grid(p, x=x, y=y)


def _check_axes(g, axes: dict) -> None:
    np.testing.assert_array_equal(axes[g.x_name], g.x)
    np.testing.assert_array_equal(axes[g.y_name], g.y)


@pytest.mark.parametrize("fmt", ["npz", "csv", "json"])
def test_grid_file_equals_api(tmp_path, fmt):
    # Three small grids, one per format; the vanilla csv one uses a log axis.
    spec = {
        "npz": ("vanilla", "sigma_w:0.5:3:5", "sigma_b:0:1:4", ["--Sigma", "1"]),
        "csv": ("vanilla", "sigma_w:0.5:3:4:log", "mu_b:-1:1:3", ["--phi", "erf"]),
        "json": ("minimal", "sigma_w:0.5:8:4", "mu_b:-2:7:5", ["--sigma-v", "0.8"]),
    }[fmt]
    arch, xs, ys, extra = spec
    out = tmp_path / f"g.{fmt}"
    argv = ["grid", "--arch", arch, "--x", xs, "--y", ys, *extra, "--out", str(out)]
    if fmt == "npz":  # one real subprocess; the writers are the same code in-process
        r = run_cli(*argv)
        assert r.returncode == 0, r.stderr
        stdout = r.stdout
    else:
        stdout = run_main(*argv)
    assert out.exists() and str(out) in stdout
    x, y = cli_io.axis(xs), cli_io.axis(ys)
    fixed = {
        a[2:].replace("-", "_"): (float(b) if a != "--phi" else b)
        for a, b in zip(extra[::2], extra[1::2], strict=True)
    }
    g = _api_grid(arch, x, y, **fixed)
    ny, nx = len(y[1]), len(x[1])
    assert g.fields  # the API returned quantities
    if fmt == "npz":
        with np.load(out) as f:
            _check_axes(g, f)
            assert str(f["x_name"]) == g.x_name and str(f["y_name"]) == g.y_name
            for name, arr in g.fields.items():
                np.testing.assert_array_equal(f[name], arr)
                assert f[name].shape == (ny, nx)
    elif fmt == "json":
        doc = strict_json(out.read_text())
        _check_axes(g, {k: np.array(doc[k]) for k in (g.x_name, g.y_name)})
        for name, arr in g.fields.items():
            assert doc[name] == [[nan_to_none(float(v)) for v in row] for row in arr]
    else:
        with out.open(newline="") as fh:
            rows = list(csv.reader(fh))
        header, body = rows[0], np.array(rows[1:], dtype=float)
        assert header == [g.x_name, g.y_name, *g.fields]
        assert body.shape == (ny * nx, 2 + len(g.fields))
        xx, yy = np.meshgrid(g.x, g.y)  # row-major: y outer, x inner
        np.testing.assert_array_equal(body[:, 0], xx.ravel())
        np.testing.assert_array_equal(body[:, 1], yy.ravel())
        for j, name in enumerate(g.fields, start=2):
            np.testing.assert_array_equal(body[:, j], np.asarray(g.fields[name]).ravel())


def test_spectrum_json_equals_api():
    p = default_params("vanilla").replace(weights="orthogonal")
    try:
        spec = theory.spectrum(p, 20, n_points=50)
    except NotImplementedError:
        pytest.skip("theory.spectrum is still a placeholder")
    r = run_cli(
        "spectrum",
        "--arch",
        "vanilla",
        "--T",
        "20",
        "--weights",
        "orthogonal",
        "--n-points",
        "50",
        "--sample",
        "40",
        "--seed",
        "7",
        "--json",
    )
    assert r.returncode == 0, r.stderr
    got = strict_json(r.stdout)
    for name in cli.SPECTRUM_FIELDS:
        assert got[name] == jsonable(getattr(spec, name)), name
    for name in cli.SPECTRUM_EXTRAS:
        assert got.get(name) == jsonable(getattr(spec, name, None)), name
    sampled = theory.sample_singular_values(p, 40, 20, np.random.default_rng(7))
    assert got["sampled_s"] == jsonable(sampled)
    assert len(got["s"]) == len(got["pdf"]) and np.all(np.diff(got["s"]) > 0)


# --------------------------------------------------------------------------------
# readable tables (in-process)
# --------------------------------------------------------------------------------
def test_point_table_lists_every_field():
    text = run_main("point", "--arch", "vanilla", "--sigma-w", "1.5")
    lines = dict(line.split(None, 1) for line in text.splitlines())
    want = theory.point(default_params("vanilla").replace(sigma_w=1.5)).to_dict()
    assert set(lines) == set(want)
    assert float(lines["q_star"]) == pytest.approx(want["q_star"], rel=1e-9)


def test_trajectory_table_has_T_plus_one_rows():
    lines = run_main("trajectory", "--arch", "vanilla", "--T", "7").splitlines()
    assert lines[0].split() == ["t", "q", "Q", "c", "C"] and len(lines) == 1 + 8


# --------------------------------------------------------------------------------
# parsing: defaults, help, negative values
# --------------------------------------------------------------------------------
def parse(*argv: str):
    parser = cli.build_parser()
    return parser.parse_args(cli_io.join_negative_values(list(argv), parser))


def test_omitted_flags_take_the_architecture_defaults():
    for arch in ("vanilla", "minimal"):
        assert cli._params(parse("point", "--arch", arch)) == default_params(arch)
    args = parse("point", "--arch", "minimal", "--sigma-w", "3", "--mu-b", "-1e-3")
    assert cli._params(args) == default_params("minimal").replace(sigma_w=3.0, mu_b=-1e-3)


def test_axis_spec_values():
    name, xs = cli_io.axis("sigma-w:0.5:3:6")
    assert name == "sigma_w"
    np.testing.assert_array_equal(xs, np.linspace(0.5, 3, 6))
    np.testing.assert_allclose(cli_io.axis("sigma_w:0.1:10:3:log")[1], [0.1, 1.0, 10.0], rtol=1e-15)
    name, xs = cli_io.axis("mu_b:-4:8:4")  # negative START needs no '=' trick
    np.testing.assert_array_equal(xs, [-4.0, 0.0, 4.0, 8.0])


@pytest.mark.parametrize("command", ["point", "grid", "trajectory", "critical", "spectrum"])
def test_help_explains_every_flag(command, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main([command, "--help"])
    assert exc.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices[command]
    for action in sub._actions:
        flag = action.option_strings[-1]
        if flag in ("--help", "--json", "--arch", "--out") or action.required:
            continue
        assert "default" in action.help, flag
        if action.dest in PARAM_RANGES:
            lo, hi, _ = PARAM_RANGES[action.dest]
            assert f"{lo:g}, {hi:g}]" in action.help, flag
    assert "2 (minimal)" in text or command == "critical"  # sigma_w / mu_b defaults


# --------------------------------------------------------------------------------
# bad input: status 2, one line naming the flag, no traceback
# --------------------------------------------------------------------------------
BAD = [
    (["point", "--arch", "vanilla", "--sigma-w", "abc"], "--sigma-w"),
    (["point", "--arch", "vanilla", "--sigma-w", "nan"], "--sigma-w"),
    (["point", "--arch", "vanilla", "--sigma-w", "inf"], "--sigma-w"),
    (["point", "--arch", "vanilla", "--mu-b", "-inf"], "--mu-b"),
    (["point", "--arch", "vanilla", "--sigma-w", "-1"], "--sigma-w"),
    (["point", "--arch", "vanilla", "--sigma-w", "0"], "--sigma-w"),
    (["point", "--arch", "vanilla", "--sigma-w", "10.5"], "--sigma-w"),
    (["point", "--arch", "vanilla", "--sigma-b", "-0.1"], "--sigma-b"),
    (["point", "--arch", "vanilla", "--sigma-v", "-2"], "--sigma-v"),
    (["point", "--arch", "vanilla", "--R", "0"], "--R"),
    (["point", "--arch", "vanilla", "--Sigma", "1.01"], "--Sigma"),
    (["point", "--arch", "minimal", "--mu-b", "11"], "--mu-b"),
    (["point", "--arch", "vanilla", "--phi", "sigmoid"], "--phi"),
    (["point", "--arch", "vanilla", "--weights", "uniform"], "--weights"),
    (["point", "--arch", "transformer"], "--arch"),
    (["point"], "--arch"),
    (["point", "--arch", "vanilla", "--sigma-w"], "--sigma-w"),
    (["point", "--arch", "vanilla", "--bogus", "1"], "--bogus"),
    (["trajectory", "--arch", "vanilla", "--T", "0"], "--T"),
    (["trajectory", "--arch", "vanilla", "--T", "100001"], "--T"),
    (["trajectory", "--arch", "vanilla", "--T", "2.5"], "--T"),
    (["trajectory", "--arch", "vanilla"], "--T"),
    (["critical", "--arch", "vanilla", "--q-star", "-0.1"], "--q-star"),
    (["critical", "--arch", "vanilla", "--q-star", "nan"], "--q-star"),
    (["critical", "--arch", "vanilla", "--T", "10"], "--T"),
    (["critical", "--arch", "minimal", "--q-star", "0.1"], "--q-star"),
    (["critical", "--arch", "minimal", "--delta", "0"], "--delta"),
    (["spectrum", "--arch", "vanilla", "--T", "20", "--n-points", "1"], "--n-points"),
    (["spectrum", "--arch", "vanilla", "--T", "20", "--sample", "5000"], "--sample"),
    (["spectrum", "--arch", "vanilla", "--T", "2000", "--sample", "10"], "--T"),
    (["spectrum", "--arch", "vanilla", "--T", "20", "--seed", "3"], "--seed"),
    (
        [
            "spectrum",
            "--arch",
            "vanilla",
            "--T",
            "20",
            "--sample",
            "10",
            "--seed",
            "-1",
        ],
        "--seed",
    ),
]
GRID_OK = ["--x", "sigma_w:1:2:3", "--y", "sigma_b:0:1:3", "--out", "/tmp/never.npz"]
BAD_GRID = [
    (["--x", "sigma_w:1:2"], "--x"),  # too few fields
    (["--x", "sigma_w:1:2:3:cubic"], "--x"),  # unknown spacing
    (["--x", "R:0.5:2:3"], "--x"),  # not a plane parameter
    (["--x", "sigma_w:0:2:3"], "--x"),  # START out of range
    (["--x", "mu_b:-7:2:3"], "--x"),
    (["--x", "sigma_w:1:nan:3"], "--x"),
    (["--x", "sigma_w:2:1:3"], "--x"),  # START >= STOP
    (["--x", "sigma_w:1:2:1"], "--x"),  # NUM < 2
    (["--x", "sigma_w:1:2:1001"], "--x"),  # more than 1000 points on an axis
    (["--y", "sigma_b:0:1:x"], "--y"),
    (["--y", "sigma_w:0.5:1:3"], "--y"),  # both axes span sigma_w
    (["--out", "/tmp/grid.txt"], "--out"),  # unknown extension
    (["--out", "/no/such/dir/grid.npz"], "--out"),
    (["--sigma-v", "4"], "--sigma-v"),
]


def _grid_argv(change: list[str]) -> list[str]:
    argv = list(GRID_OK)
    for flag, value in zip(change[::2], change[1::2], strict=True):
        if flag in argv:
            argv[argv.index(flag) + 1] = value
        else:
            argv += [flag, value]
    return ["grid", "--arch", "vanilla", *argv]


ALL_BAD = BAD + [(_grid_argv(c), f) for c, f in BAD_GRID]


@pytest.mark.parametrize("argv,flag", ALL_BAD, ids=[" ".join(a) for a, _ in ALL_BAD])
def test_bad_input_exits_2_with_one_line(argv, flag, capsys, monkeypatch):
    def forbidden(*a, **k):
        raise AssertionError("bad input reached the computation")

    for name in (
        "point",
        "grid",
        "trajectory",
        "spectrum",
        "critical_init_vanilla",
        "critical_init_minimal",
        "sample_singular_values",
    ):
        monkeypatch.setattr(theory, name, forbidden)
    try:
        status = cli.main(argv, out=io.StringIO())
    except SystemExit as exc:
        status = exc.code
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert flag in err and "Traceback" not in err


def test_theory_errors_become_one_line_naming_the_flag(capsys, monkeypatch):
    def raises(params):
        raise theory.ParameterError("sigma_w: no stable fixed point here")

    monkeypatch.setattr(theory, "point", raises)
    assert cli.main(["point", "--arch", "vanilla"], out=io.StringIO()) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "argument --sigma-w: no stable fixed point" in err


def test_unexpected_errors_are_one_line_status_1(capsys, monkeypatch):
    def crashes(params):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(theory, "point", crashes)
    assert cli.main(["point", "--arch", "vanilla"], out=io.StringIO()) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ZeroDivisionError: boom" in err


def test_bad_input_in_a_subprocess():
    r = run_cli(
        "grid",
        "--arch",
        "minimal",
        "--x",
        "mu_b:1:2",
        "--y",
        "sigma_w:1:2:3",
        "--out",
        "g.npz",
    )
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and "--x" in r.stderr and "Traceback" not in r.stderr


def test_to_jsonable_is_strict():
    doc = cli_io.dumps(
        {
            "a": np.float64("inf"),
            "b": np.array([1.0, np.nan]),
            "c": (np.int64(3), np.bool_(True)),
        }
    )
    assert strict_json(doc) == {"a": None, "b": [1.0, None], "c": [3, True]}
