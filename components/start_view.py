"""The start view's panels, stored: a first start shows them while the calculators compile.

On a machine's first start the Numba kernels behind the default view take about a minute
of CPU to compile (``benchmarks/bench_startup.py``). So that a first visitor still sees the
complete default view at once, ``data/start_view.json.gz`` holds the panel callback's
answer for :meth:`ViewState.default` ("vanilla"), computed by the same code
(:func:`components.callbacks.plots.update_panels`). :func:`stored_answer` gives it back
only for exactly that view and only while its calculators are still being prepared; every
other view, and every start after the first, is computed live.

The file is regenerated with ``python -m components.start_view`` after a change to the
theory or the figures of the default view; ``tests/test_startup.py`` checks that it equals
a live computation (numbers to 1e-9 relative) and fails with that command if not.
"""

from __future__ import annotations

import gzip
import json
from functools import cache
from pathlib import Path
from typing import Any

from plotly.utils import PlotlyJSONEncoder

PATH = Path(__file__).resolve().parent.parent / "data" / "start_view.json.gz"
MODE = "vanilla"


def live_answer() -> list[Any]:
    """The 7 panel outputs of the default view, computed now, as plain JSON values."""
    from components.callbacks import plots
    from components.viewstate import ViewState

    out = plots.update_panels(ViewState.default(MODE), None, None)
    return json.loads(json.dumps(list(out), cls=PlotlyJSONEncoder))


def write(path: Path = PATH) -> int:
    """Compute and store the default view's answer; returns the file's size in bytes."""
    text = json.dumps({"mode": MODE, "outputs": live_answer()}, separators=(",", ":"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(text.encode(), mtime=0))
    return path.stat().st_size


@cache
def _stored() -> tuple | None:
    try:
        data = json.loads(gzip.decompress(PATH.read_bytes()))
    except (OSError, ValueError):
        return None
    outputs = data.get("outputs") if isinstance(data, dict) else None
    return tuple(outputs) if isinstance(outputs, list) and len(outputs) == 7 else None


def stored_answer(state) -> tuple | None:
    """The stored 7 outputs if ``state`` is the default view, else None."""
    from components.viewstate import ViewState

    if state != ViewState.default(MODE):
        return None
    return _stored()


if __name__ == "__main__":
    print(f"wrote {PATH} ({write() / 1000:.0f} kB)")
