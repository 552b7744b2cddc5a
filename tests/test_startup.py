"""Start-up (issue "The first five minutes", part 1): talk at once, serve early, fill in.

* The warm-up plan covers every view the dashboard can show, puts the start view
  first and lists a step only after the steps whose kernels it reuses.
* Panels whose calculators are not loaded answer a "preparing" figure (never an
  error, never a wait); the poll redraws exactly those and stops once they show data.
* The compile pool (:mod:`theory.warm_pool`) reports each step, survives a failing
  step and a dead worker, and its workers exit when their parent dies.
* ``python app.py`` with an empty cache folder prints its first line before
  anything else, then what it compiles, and serves "preparing" panels at once
  (``/healthz`` says 503 "preparing" until every calculator is ready);
  with ``RNN_STARTUP_HOLD`` (steps held back while a file exists, as if compiling)
  the page in Chromium says "preparing" in every panel, then, once the hold is
  released, fills every panel in by itself.

No timing is asserted (speeds are in ``benchmarks/bench_startup.py``); waits are
bounded only so that a broken start fails instead of hanging.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from dash import no_update
from plotly.utils import PlotlyJSONEncoder

import theory
from components import compute, specs, start_view, startup, url_state
from components.callbacks import plots
from components.viewstate import ViewState
from theory import warm, warm_pool

ROOT = Path(__file__).resolve().parents[1]
SMALL = ViewState().replace(n=60)
PANELS = ("phase", "memory", "spectrum")
GRAPHS = ("phase-graph", "memory-graph", "spectrum-graph")
CHROMIUM = "/usr/bin/chromium"


# --- the plan ----------------------------------------------------------------------------

def all_views():
    for mode in specs.MODES:
        for phi in theory.PHIS:
            for sample in (False, True):
                yield ViewState.default(mode).replace(phi=phi, sample=sample)


def test_plan_covers_every_view_and_starts_with_the_start_view():
    keys = [s.key for s in warm.PLAN]
    assert len(keys) == len(set(keys))
    for state in all_views():
        for panel in PANELS:
            assert set(compute.warm_keys(state, panel)) <= set(warm.BY_KEY), (state, panel)
    start = ViewState.default("vanilla")
    needed = {k for panel in PANELS for k in compute.warm_keys(start, panel)}
    assert set(keys[:len(needed)]) == needed  # nothing else compiles before the start view


def test_plan_lists_a_step_after_the_steps_it_reuses():
    seen: set[str] = set()
    for step in warm.PLAN:
        assert set(step.after) <= seen, step
        seen.add(step.key)


# --- the "preparing" path of the panel callback ----------------------------------------------

@pytest.fixture
def loaded(monkeypatch):
    """A fake start-up: only the step keys in the returned set are loaded."""
    ready: set[str] = set()

    def pending(keys, prefer=True):
        return [warm.BY_KEY[k].label for k in keys if k not in ready]

    monkeypatch.setattr(startup, "pending", pending)
    return ready


def meta(fig):
    return fig["layout"].get("meta") or {}


def test_panels_say_preparing_until_their_calculators_are_loaded(loaded):
    out = plots.answer(SMALL, {}, None, None)  # the page's first call
    assert len(out) == 9
    for panel, i in plots.PANEL_FIGURE.items():
        fig = out[i]
        assert plots.is_preparing(fig) and meta(fig)["key"] is None, panel
        text = fig["layout"]["annotations"][0]["text"]
        assert "Preparing" in text and "Cannot" not in text
    assert out[1] is None  # no grid drawn: the next phase answer sends the whole figure
    assert out[7] is False and out[8] == sorted(PANELS)  # poll on, three panels waiting

    loaded.update(compute.warm_keys(SMALL, "phase"))
    out = plots.answer(SMALL, {"startup-poll.n_intervals": startup.POLL}, None, out[8])
    assert not plots.is_preparing(out[0]) and out[0]["data"]
    assert out[4] is no_update and out[5] is no_update  # still waiting: not re-sent
    assert out[7] is False and out[8] == ["memory", "spectrum"]

    loaded.update(k for p in PANELS for k in compute.warm_keys(SMALL, p))
    out = plots.answer(SMALL, {"startup-poll.n_intervals": startup.POLL}, out[1], out[8])
    assert out[0] is no_update  # the phase diagram was not waiting
    for i in (4, 5):
        assert out[i]["data"] and meta(out[i])["key"] == plots.url_state.encode(SMALL)
    assert out[7] is True and out[8] == []  # poll off


def test_a_poll_tick_with_nothing_ready_or_junk_state_changes_nothing(loaded):
    tick = {"startup-poll.n_intervals": startup.POLL}
    assert plots.answer(SMALL, tick, None, ["memory"]) == (no_update,) * 9
    for junk in (None, "memory", {"a": 1}, ["nonsense", 3]):
        assert plots.answer(SMALL, tick, None, junk) == (no_update,) * 9


def test_a_control_change_keeps_waiting_panels_in_the_poll(loaded):
    loaded.update(k for p in PANELS for k in compute.warm_keys(SMALL, p))
    fired = {"ctl-seed.value": "ctl-seed"}  # redraws the spectrum only
    out = plots.answer(SMALL, fired, None, ["memory"])
    assert out[0] is no_update and out[4] is no_update and out[5]["data"]
    assert out[7] is False and out[8] == ["memory"]


def test_the_default_view_is_answered_from_the_stored_start_view_while_preparing(loaded):
    default = ViewState.default()
    out = plots.answer(default, {}, None, None)
    assert list(out[:7]) == list(start_view._stored())
    assert not any(plots.is_preparing(out[i]) for i in plots.PANEL_FIGURE.values())
    assert out[7] is True and out[8] == []  # nothing waits: no poll
    loaded.update(k for p in PANELS for k in compute.warm_keys(default, p))
    live = plots.answer(default, {}, None, None)  # once compiled: computed live
    fig = json.loads(json.dumps(live[4], cls=PlotlyJSONEncoder))  # the memory figure
    assert live[4] is not out[4] and meta(fig)["key"] == meta(out[4])["key"]


def test_without_a_start_up_warm_up_nothing_is_pending():
    assert startup.pending(compute.warm_keys(SMALL, "phase")) == []  # tests, gunicorn


# --- the compile pool -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def warm_cache():
    """Every step compiled in this test session's cache folder (loads only, if done before)."""
    theory.warmup()


def run_pool(steps, jobs=2, kill_first=False, timeout=120.0):
    events = []
    pool = warm_pool.CompilePool(steps, jobs, events.append).start()
    if kill_first:
        pool._procs[0].kill()
    try:
        assert pool.wait(timeout), "pool did not finish"
    finally:
        pool.close()
    return events


def test_pool_runs_steps_in_dependency_order_and_reports_failures(warm_cache, tmp_path):
    steps = [warm.BY_KEY["point:vanilla:erf"], warm.BY_KEY["spectrum:vanilla:erf"],
             warm.Step("nonsense", "vanilla")]
    events = run_pool(steps)
    finished = [e for e in events if e.kind != "start"]
    assert [e.step.key for e in finished if e.kind == "done"] == [s.key for s in steps[:2]]
    (bad,) = [e for e in finished if e.kind == "failed"]
    assert bad.step.kind == "nonsense" and "KeyError" in bad.error and not bad.lost
    assert all(warm.is_marked(s) for s in steps[:2])


def test_pool_reports_a_lost_worker_and_does_not_hang(warm_cache):
    steps = [warm.BY_KEY["point:vanilla:relu"], warm.BY_KEY["point:vanilla:linear"]]
    events = run_pool(steps, jobs=1, kill_first=True)
    failed = [e for e in events if e.kind == "failed"]
    assert {e.step.key for e in failed} == {s.key for s in steps} and all(e.lost for e in failed)
    assert any("exited" in e.error for e in failed)
    assert any("no compiling process left" in e.error for e in failed)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_workers_exit_when_their_parent_is_killed(warm_cache):
    code = ("import sys, time, theory; from theory import warm, warm_pool\n"
            "p = warm_pool.CompilePool([warm.Step('nonsense', 'vanilla')] * 2, 2,"
            " lambda e: None).start()\n"
            "print(*[q.pid for q in p._procs], flush=True); time.sleep(120)\n")
    parent = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE,
                              text=True)
    try:
        pids = [int(x) for x in parent.stdout.readline().split()]
        assert len(pids) == 2
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 30
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(p) for p in pids)


def test_fill_cache_command_says_when_everything_is_compiled(warm_cache):
    out = subprocess.run([sys.executable, "-m", "theory.warm_pool"], cwd=ROOT, text=True,
                         capture_output=True, timeout=120, check=True).stdout
    assert "already compiled" in out


# --- python app.py -------------------------------------------------------------------------

def free_port() -> int:
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class App:
    """``python app.py`` with its stdout lines collected as they come."""

    def __init__(self, env: dict) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "app.py"], cwd=ROOT, text=True, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, env={**os.environ, "PORT": str(self.port), **env})
        threading.Thread(target=lambda: self.lines.extend(self.proc.stdout), daemon=True).start()

    def wait_line(self, needle: str, timeout: float = 120.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for i, line in enumerate(self.lines):
                if needle in line:
                    return i
            assert self.proc.poll() is None, "app.py exited:\n" + "".join(self.lines)
            time.sleep(0.05)
        raise AssertionError(f"no line with {needle!r}:\n" + "".join(self.lines))

    def get(self, path: str, wait: float = 30.0) -> tuple[int, str]:
        """Status and body of ``GET path`` (an error status is returned, not raised).

        The "serving" line comes just before the server binds its port: a refused
        connection is retried for ``wait`` seconds."""
        deadline = time.monotonic() + wait
        while True:
            try:
                with urllib.request.urlopen(self.url + path, timeout=30) as r:
                    return r.status, r.read().decode()
            except urllib.error.HTTPError as err:
                return err.code, err.read().decode()
            except urllib.error.URLError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise
                time.sleep(0.2)

    def stop(self) -> list[int]:
        """Ctrl-C; return the pids of its child processes (printed log: shown on failure)."""
        print("".join(self.lines))
        workers = [int(p) for p in _children(self.proc.pid)]
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return workers


def _children(pid: int) -> list[str]:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return []


def test_cold_start_speaks_first_then_serves_preparing_panels(tmp_path):
    """Empty cache folder: the announcement first, then what compiles, then the page."""
    sys.path.insert(0, str(ROOT / "tests"))
    from _dash_client import DashModel, Session
    from _serving_util import Http

    app = App({"NUMBA_CACHE_DIR": str(tmp_path / "numba"), "HOME": str(tmp_path / "home")})
    try:
        serving = app.wait_line("] serving ")
        first = app.lines[0]
        assert first.startswith(f"RNN Phase Explorer at http://127.0.0.1:{app.port}/")
        assert "first start" in first and "minutes" in first and "fill in" in first
        compiling = app.wait_line("] compiling ")
        assert 0 < compiling < serving
        assert f"{len(warm.PLAN)} of {len(warm.PLAN)} calculator steps" in app.lines[compiling]
        assert app.get("/")[0] == 200
        status, body = app.get("/healthz")  # not healthy until nothing is left to prepare
        assert status == 503 and body.startswith("preparing: 0 of ")
        model = DashModel.fetch(app.url)
        session = Session(model, Http(app.url))
        session.page_load()  # the default view: its stored panels, complete at once
        for graph in GRAPHS:
            fig = session.value(f"{graph}.figure")
            assert not plots.is_preparing(fig) and fig["data"], graph
        key = session.value("memory-graph.figure")["layout"]["meta"]["key"]
        assert key == url_state.encode(ViewState.default())
        assert session.value(f"{startup.POLL}.disabled") is True
        other = Session(model, Http(app.url))  # any other view waits for its calculators
        other.page_load(url_state.encode(ViewState.default("minimal")))
        for graph in GRAPHS:
            fig = other.value(f"{graph}.figure")
            assert plots.is_preparing(fig), graph
            assert "Preparing" in fig["layout"]["annotations"][0]["text"]
        assert other.value(f"{startup.POLL}.disabled") is False
        assert sorted(other.value(f"{startup.PENDING}.data")) == sorted(PANELS)
    finally:
        workers = app.stop()
    assert len(workers) == warm_pool.default_jobs()
    deadline = time.monotonic() + 30
    while any(_alive(int(p)) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(int(p)) for p in workers), "compiling processes outlived app.py"


COMPLETE_JS = """(ids) => ids.every(id => {
  const s = window.rnnPanelState && window.rnnPanelState(id);
  return s && s.key === window.location.search;
})"""
PREPARING_JS = """(ids) => ids.filter(id => {
  const s = window.rnnPanelState && window.rnnPanelState(id);
  return !!(s && s.preparing);
})"""


@pytest.mark.browser
def test_page_fills_in_by_itself_once_the_calculators_are_ready(warm_cache, tmp_path):
    """Steps held back: Chromium shows "preparing" panels; released: data, untouched."""
    playwright = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium not installed at /usr/bin/chromium")
    hold = tmp_path / "hold"
    hold.touch()
    app = App({"RNN_STARTUP_HOLD": str(hold)})
    try:
        app.wait_line("] serving ")
        assert app.get("/")[0] == 200  # listening (the line comes just before)
        with playwright.sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM,
                                         args=["--headless", "--no-sandbox", "--disable-gpu"])
            page = browser.new_context(bypass_csp=True).new_page()
            page.goto(app.url + "/" + url_state.encode(ViewState.default("minimal")))
            page.wait_for_function(f"(ids) => ({PREPARING_JS})(ids).length === ids.length",
                                   arg=list(GRAPHS), timeout=60_000, polling=100)
            assert not any("] ready:" in line for line in app.lines)  # still held
            hold.unlink()
            page.wait_for_function(COMPLETE_JS, arg=list(GRAPHS), timeout=120_000,
                                   polling=200)
            texts = page.locator(".graph-wrap").all_inner_texts()
            browser.close()
        assert not any("Cannot" in t or "Preparing" in t for t in texts)
        app.wait_line("] ready:")
        assert app.get("/healthz") == (200, "OK")
    finally:
        app.stop()


def test_stored_start_view_is_what_the_code_computes_now():
    """data/start_view.json.gz (shown on a first start while the calculators compile)
    equals a live computation of the default view: numbers to 1e-9 relative, the rest
    exactly. If this fails, regenerate it: python -m components.start_view"""
    stored = start_view._stored()
    assert stored is not None, "no stored start view: python -m components.start_view"
    mismatch = _first_difference(list(stored), start_view.live_answer())
    assert mismatch is None, f"{mismatch}; regenerate: python -m components.start_view"


def _first_difference(a, b, path="outputs"):
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return f"{path}: keys {sorted(a.keys() ^ b.keys())}"
        return next((d for k in a if (d := _first_difference(a[k], b[k], f"{path}.{k}"))), None)
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: length {len(a)} != {len(b)}"
        return next((d for i, (x, y) in enumerate(zip(a, b, strict=True))
                     if (d := _first_difference(x, y, f"{path}[{i}]"))), None)
    if isinstance(a, float | int) and isinstance(b, float | int) and not isinstance(a, bool):
        return None if math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) else f"{path}: {a} != {b}"
    return None if a == b else f"{path}: {a!r} != {b!r}"
