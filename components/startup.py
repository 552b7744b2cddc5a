"""Start-up of the dashboard: a first line at once, the page early, progress, readiness.

Contract
--------
* :func:`announce` prints the first line (what a first start prepares and roughly
  how long it takes); ``app.py`` calls it before its heavy imports.
* :func:`start` (``python app.py``) loads the calculators on a background thread:
  the warm-up steps an earlier start compiled (``theory.warm`` markers) load in this
  process in a fraction of a second each; the others compile in worker processes
  (:mod:`theory.warm_pool`: the server stays responsive and both cores work) and
  load here as they finish, the start view's first. It prints a progress line at
  least every ``TICK_S`` seconds and a final "ready" line. On a warm start (the
  start view's steps all compiled) it waits for the start view, at most
  ``GRACE_S`` s, so the first page is complete, and loads the rest while serving;
  on a cold start it returns at once and the page is served while they compile.
  Until every calculator is loaded, ``GET /healthz`` answers 503 "preparing"
  (the page itself is served): whatever waits for health (a monitor, the
  browser tests) sees the server ready only once nothing is left to prepare.
* :func:`pending` (what :mod:`components.compute` asks before computing a panel):
  the labels of the steps a view needs that are not loaded yet, empty when no
  background warm-up runs (gunicorn workers, tests: they compute directly). The
  panel then shows a "preparing" message, and those steps are compiled next.
* :func:`warm_blocking` (gunicorn workers, anything importing ``app``): load every
  calculator before the first request, printing one line.
* :func:`page`: the layout plus the poll (``dcc.Interval`` :data:`POLL`, enabled by
  the panel callback while a panel says "preparing") and the store of those panels.
* Testing hook: ``RNN_STARTUP_HOLD=<file>`` holds every step back while that file
  exists, as if it were compiling (:func:`start` then serves at once).

This module imports neither dash nor theory at import time (``app.py`` imports it
first, to print before the seconds those imports take).
"""

from __future__ import annotations

import os
import sys
import threading
import time

#: A first start on 2 free cores (benchmarks/bench_startup.py: the start view is shown at once
#: from its stored panels, components.start_view; 90 s of CPU time in the busiest process until
#: every calculator is ready).
FIRST_START = ("the start view is shown at once, other views in about 1.5 minutes on 2 free "
               "cores")
TICK_S = 8.0  # progress at least this often (~10 s at most, with a loaded machine)
GRACE_S = 5.0  # a warm start waits this long at most for the start view before serving
POLL = "startup-poll"  # dcc.Interval: redraws the panels that say "preparing"
PENDING = "startup-pending"  # dcc.Store: names of the panels that say "preparing"
POLL_MS = 1000
START_MODES = ("vanilla", "minimal")  # start views computed as soon as their steps load

_T0 = time.perf_counter()
_PRINT = threading.Lock()


def say(text: str) -> None:
    """One progress line on stdout, with the seconds since launch (whole, from any thread)."""
    with _PRINT:
        sys.stdout.write(f"[{time.perf_counter() - _T0:5.1f} s] {text}\n")
        sys.stdout.flush()


def announce(url: str) -> None:
    """The first line of ``python app.py`` (serving ``url``): what it prepares, how long."""
    global _T0
    _T0 = time.perf_counter()
    print(f"RNN Phase Explorer at {url} - the first start on a machine "
          f"compiles the calculators ({FIRST_START}; later starts take a few seconds). "
          "The page is served meanwhile and its panels fill in as they become ready.",
          flush=True)


class _Warmup:
    """Which warm-up steps are loaded in this process, and the thread loading them."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.active = False
        self.hold: str | None = None  # testing hook: no step loads while this file exists
        self.compiled: set[str] = set()  # loadable now: marked at start, or built by the pool
        self.ready: set[str] = set()  # loaded in this process (or failed: nothing to wait for)
        self.wanted: list[str] = []
        self.loading: tuple[str, float] | None = None
        self.pool = None
        self.views_done: set[str] = set()
        self.start_view_at: float | None = None
        self.start_view = threading.Event()  # the start view is computed (or given up)
        self.done = threading.Event()

    def next_step(self):
        """The next compiled step to load (wanted ones first), None when all are loaded."""
        from theory import warm

        with self.cond:
            while True:
                if len(self.ready) == len(warm.PLAN):
                    return None
                held = self.hold is not None and os.path.exists(self.hold)
                todo = [k for k in self.wanted + [s.key for s in warm.PLAN]
                        if k in self.compiled and k not in self.ready]
                if todo and not held:
                    self.loading = (todo[0], time.perf_counter())
                    return warm.BY_KEY[todo[0]]
                self.cond.wait(timeout=0.1 if held else None)

    def loaded(self, key: str) -> None:
        with self.cond:
            self.ready.add(key)
            self.loading = None
            self.cond.notify_all()

    def on_pool_event(self, event) -> None:
        """A step compiled in a worker: load it here next (a lost one compiles here)."""
        if event.kind == "start":
            return
        with self.cond:
            self.compiled.add(event.step.key)
            if event.error and not event.lost:  # it raised: loading it would raise again
                self.ready.add(event.step.key)  # the panels needing it show the error
            self.cond.notify_all()
        if event.error:
            say(f"could not compile {event.step.label}: {event.error}")
        elif event.seconds >= 1.0:
            say(f"compiled {event.step.label} in {event.seconds:.0f} s "
                f"({len(self.compiled)} of {_plan_size()} steps compiled)")

    def busy_line(self) -> None:
        """The ticker: what is compiling (or loading) and for how long."""
        now = time.perf_counter()
        running = list(self.pool.running()) if self.pool is not None else []
        with self.cond:
            loading, n_ready = self.loading, len(self.ready)
        if loading is not None and now - loading[1] > 2.0:
            from theory import warm

            running.append((warm.BY_KEY[loading[0]], now - loading[1]))
        if running:
            what = ", ".join(f"{s.label} ({t:.0f} s)" for s, t in running)
            say(f"compiling {what}; {n_ready} of {_plan_size()} steps ready")
        elif n_ready < _plan_size():
            say(f"loading the calculators; {n_ready} of {_plan_size()} steps ready")


_STATE = _Warmup()


def _plan_size() -> int:
    from theory import warm

    return len(warm.PLAN)


def start(url: str, server, jobs: int | None = None) -> None:
    """Load (and if needed compile) every calculator in the background; see the contract.

    ``server`` is the Flask app, whose ``/healthz`` says "preparing" until then.
    """
    from theory import warm, warm_pool

    _health_says_preparing(server)
    w = _STATE
    w.hold = os.environ.get("RNN_STARTUP_HOLD") or None
    cold = warm.cold_steps()
    cold_keys = {s.key for s in cold}
    with w.cond:
        w.active = True
        w.compiled = {s.key for s in warm.PLAN if s.key not in cold_keys}
    if cold:
        jobs = jobs or warm_pool.default_jobs()
        say(f"compiling {len(cold)} of {len(warm.PLAN)} calculator steps in {jobs} processes, "
            "the start view's first")
        w.pool = warm_pool.CompilePool(cold, jobs, w.on_pool_event).start()
    ticker = warm_pool.Ticker(w.busy_line, TICK_S)
    threading.Thread(target=_load_all, args=(url, ticker), daemon=True,
                     name="warm-loader").start()
    if w.hold is None and not set(_view_keys("vanilla")) & cold_keys:
        w.start_view.wait(GRACE_S)  # warm: serve the complete start view, as soon as it is
    if not w.start_view.is_set():
        say(f"serving {url} - panels say \"preparing\" until their calculators are ready")


def _health_says_preparing(server) -> None:
    """``GET /healthz``: 503 and what is left while the warm-up runs (then Dash's "OK")."""
    from flask import request

    @server.before_request
    def _preparing():
        if request.path.endswith("/healthz") and _STATE.active and not _STATE.done.is_set():
            with _STATE.cond:
                n_ready = len(_STATE.ready)
            return (f"preparing: {n_ready} of {_plan_size()} calculator steps ready", 503,
                    {"Content-Type": "text/plain", "Retry-After": "10"})
        return None


def _view_keys(mode: str) -> list[str]:
    from components import compute
    from components.viewstate import ViewState

    state = ViewState.default(mode)
    return [k for panel in compute.PANEL_KINDS for k in compute.warm_keys(state, panel)]


def _load_all(url: str, ticker) -> None:
    """The loader thread: each compiled step in turn, then the start views."""
    from theory import warm

    w = _STATE
    while (step := w.next_step()) is not None:
        t0 = time.perf_counter()
        try:
            warm.run_step(step)
            warm.mark(step)
        except Exception as exc:  # the panels needing it will show the error
            say(f"could not prepare {step.label}: {type(exc).__name__}: {exc}")
        if time.perf_counter() - t0 >= 5.0:  # loading takes well under a second when idle
            say(f"prepared {step.label} in this process in {time.perf_counter() - t0:.0f} s")
        w.loaded(step.key)
        _compute_start_views()
    ticker.stop()
    if w.pool is not None:
        w.pool.close()
    total = time.perf_counter() - _T0
    w.start_view.set()
    w.done.set()
    view = f"; the start view was ready at {w.start_view_at:.0f} s" if w.start_view_at else ""
    say(f"ready: every calculator is loaded ({total:.1f} s since launch{view}); "
        f"serving {url}")


def _compute_start_views() -> None:
    """Fill the result cache with each start view once its steps are loaded."""
    from components import compute

    w = _STATE
    for mode in START_MODES:
        if mode not in w.views_done and not pending(_view_keys(mode), prefer=False):
            w.views_done.add(mode)
            compute.warm((mode,))
            if mode == "vanilla":
                w.start_view_at = time.perf_counter() - _T0
                w.start_view.set()
                if w.pool is not None:
                    say("the start view is ready")


def pending(keys: list[str], prefer: bool = True) -> list[str]:
    """Labels of the steps ``keys`` not loaded yet ([] when no background warm-up runs).

    With ``prefer`` they are compiled and loaded before the others.
    """
    w = _STATE
    if not w.active:
        return []
    from theory import warm

    with w.cond:
        missing = [k for k in dict.fromkeys(keys) if k in warm.BY_KEY and k not in w.ready]
        if missing and prefer:
            w.wanted = missing + [k for k in w.wanted if k not in missing]
            w.cond.notify_all()
    if missing and prefer and w.pool is not None:
        w.pool.prefer(missing)
    return [warm.BY_KEY[k].label for k in missing]


def warm_blocking() -> None:
    """Load every calculator and the start views before serving (gunicorn workers)."""
    import theory
    from components import compute
    from theory import warm_pool

    t0 = time.perf_counter()
    state = {"step": "step 1"}

    def slow() -> None:
        print(f"worker {os.getpid()}: still preparing the calculators, {state['step']} "
              f"({time.perf_counter() - t0:.0f} s)", flush=True)

    ticker = warm_pool.Ticker(slow, TICK_S)
    try:
        theory.warmup(progress=lambda k, n, step, s: state.update(step=f"step {k + 1}"))
        compute.warm()
    finally:
        ticker.stop()
    print(f"worker {os.getpid()}: calculators loaded in {time.perf_counter() - t0:.1f} s",
          flush=True)


def page():
    """The page (``components.layout``) with the poll and the store of waiting panels."""
    from dash import dcc

    from components import layout

    root = layout.serve_layout()
    root.children.extend([dcc.Interval(id=POLL, interval=POLL_MS, disabled=True),
                          dcc.Store(id=PENDING, data=[])])
    return root
