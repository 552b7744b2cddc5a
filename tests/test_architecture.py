"""Layering rules of the project (shared/style.md).

* ``theory/`` never imports dash, plotly or flask (checked in the source and in
  a fresh interpreter);
* ``components/`` never imports numba (it reaches numerics only through the
  ``theory`` API);
* the page loads nothing from outside (no external stylesheets or scripts);
* the layout has exactly one ``dcc.Location`` and unique ids; ``app.py`` stays small.
"""

import ast
import subprocess
import sys
from pathlib import Path

from dash import dcc

ROOT = Path(__file__).resolve().parents[1]


def imported_roots(folder: Path) -> dict[str, set[str]]:
    """Top-level module names imported by each .py file under ``folder`` (or the file)."""
    out = {}
    for path in sorted(folder.rglob("*.py")) if folder.is_dir() else [folder]:
        roots = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                roots |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                roots.add(node.module.split(".")[0])
        out[str(path.relative_to(ROOT))] = roots
    return out


def test_theory_source_imports_no_web_stack():
    bad = {f: r & {"dash", "plotly", "flask"} for f, r in imported_roots(ROOT / "theory").items()}
    assert not any(bad.values()), bad


def test_importing_theory_loads_no_web_stack():
    code = ("import sys, theory; theory.point(theory.Params()); "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'dash', 'plotly', 'flask'}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=600, check=True).stdout.strip().splitlines()[-1]
    assert out == "[]"


def test_components_never_import_numba():
    files = imported_roots(ROOT / "components")
    files.update(imported_roots(ROOT / "app.py"))
    bad = {f: r & {"numba", "llvmlite"} for f, r in files.items()}
    assert not any(bad.values()), bad
    assert len(files) > 5  # the walk found the package


def test_no_external_assets_or_stylesheets():
    app_src = (ROOT / "app.py").read_text()
    assert "external_stylesheets" not in app_src and "external_scripts" not in app_src
    for path in [*(ROOT / "assets").rglob("*"), *(ROOT / "components").rglob("*.py")]:
        if path.is_file() and ".min." not in path.name:  # vendored bundles keep licences
            text = path.read_text()
            for scheme in ("http://", "https://", "//cdn", "@import url"):
                assert scheme not in text, (path, scheme)


def _walk(component):
    yield component
    children = getattr(component, "children", None)
    if isinstance(children, (list, tuple)):
        for child in children:
            if child is not None and not isinstance(child, (str, int, float)):
                yield from _walk(child)
    elif children is not None and not isinstance(children, (str, int, float)):
        yield from _walk(children)


def test_layout_has_one_location_unique_ids_and_stepped_sliders():
    from components import specs
    from components.layout import serve_layout

    nodes = list(_walk(serve_layout()))
    assert sum(isinstance(n, dcc.Location) for n in nodes) == 1
    found = [getattr(n, "id", None) for n in nodes if getattr(n, "id", None)]
    assert len(found) == len(set(found))
    sliders = [n for n in nodes if isinstance(n, dcc.Slider)]
    assert len(sliders) == len(specs.SLIDERS) and all(getattr(s, "step", None) for s in sliders)


def test_app_module_stays_small_and_exposes_server():
    src = (ROOT / "app.py").read_text()
    assert len(src.splitlines()) <= 40
    assert "server = app.server" in src and 'health_endpoint="healthz"' in src
