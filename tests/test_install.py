"""``pip install .`` gives a working ``theory`` package in a fresh virtual environment.

The package is copied (pyproject.toml, README.md, theory/) to a temporary folder and
installed from there into a new venv, so the checkout stays clean; pip may reuse its
download cache. The installed package must import from any folder, compute a point and
answer ``python -m theory --help`` (issue: "The first five minutes", part 4).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.mark.timeout(1200)
def test_pip_install_into_a_fresh_venv(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "theory", src / "theory",
                    ignore=shutil.ignore_patterns("__pycache__"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["NUMBA_CACHE_DIR"] = str(tmp_path / "numba")
    subprocess.run([str(py), "-m", "pip", "install", "--quiet", str(src)], check=True, env=env)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = ("import json, theory; r = theory.point(theory.Params(arch='vanilla', sigma_w=1.5)); "
            "print(json.dumps({'file': theory.__file__, 'q': r.q_star, 'chi': r.chi_jac}))")
    out = subprocess.run([str(py), "-c", code], cwd=elsewhere, env=env, check=True,
                         capture_output=True, text=True).stdout
    got = json.loads(out.strip().splitlines()[-1])
    assert str(venv) in got["file"]  # the installed copy, not the checkout
    # the same point as this checkout's theory (the same code)
    import theory

    ref = theory.point(theory.Params(arch="vanilla", sigma_w=1.5))
    assert got["q"] == pytest.approx(ref.q_star, rel=1e-12)
    assert got["chi"] == pytest.approx(ref.chi_jac, rel=1e-12)
    help_text = subprocess.run([str(py), "-m", "theory", "--help"], cwd=elsewhere, env=env,
                               check=True, capture_output=True, text=True).stdout
    assert "point" in help_text and "grid" in help_text
