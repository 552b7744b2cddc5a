"""Compile the warm-up plan of :mod:`theory.warm` in worker processes, with progress.

Contract
--------
* :class:`CompilePool` runs ``jobs`` worker processes (``python -m theory.warm_pool
  --worker``) that compile steps into the shared on-disk cache, in plan order, each
  step only once the steps it reuses (``Step.after``) are finished, and calls
  ``on_event(Event)`` (from the pool's threads) when a step starts, is done or fails.
  A step's compile holds Numba's compiler lock and mostly the GIL: in a separate
  process it leaves the caller (a web server) responsive, and two processes use
  both cores. The caller then loads each step from the cache in a fraction of a second.
* Workers exit when their parent process dies (they watch its pid), when their
  input closes or on :meth:`CompilePool.close`; if every worker is lost the steps
  left are reported failed (the caller can still compile them in-process).
* :class:`Reporter` formats progress lines (elapsed time, k of n, what compiles);
  :class:`Ticker` calls a function every few seconds, so no step stays silent.
* ``python -m theory.warm_pool [--jobs N]`` (:func:`main`) fills the cache this
  way and prints the progress; gunicorn runs it before its workers start.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from theory import warm
from theory.warm import Step

PREFIX = "@warm-step "  # marks the worker's answer lines on its stdout
TICK_S = 8.0  # progress at least this often (~10 s at most, with a loaded machine)


def default_jobs() -> int:
    """Compiling processes: one per core, at most 2 (compiling is memory hungry)."""
    return max(1, min(2, os.cpu_count() or 1))


@dataclass(frozen=True)
class Event:
    """What happened to a step in the pool: ``start``, ``done`` or ``failed``.

    ``lost``: it failed because its worker died (or none was left), not because the
    step raised: it may still compile in the caller's process.
    """

    kind: str
    step: Step
    worker: int
    seconds: float = 0.0
    error: str = ""
    lost: bool = False


class CompilePool:
    """Worker processes compiling ``steps`` (see the module's contract)."""

    def __init__(self, steps: Iterable[Step], jobs: int,
                 on_event: Callable[[Event], None]) -> None:
        self._todo = list(steps)
        self._keys = {s.key for s in self._todo}
        self._finished: set[str] = set()
        self._running: dict[int, tuple[Step, float]] = {}
        self._cond = threading.Condition()
        self._jobs = max(1, jobs)
        self._live = 0
        self._closed = False
        self._procs: list[subprocess.Popen] = []
        self._on_event = on_event

    def start(self) -> CompilePool:
        """Start the workers (each driven by a thread of this process)."""
        for w in range(min(self._jobs, len(self._todo))):
            proc = _spawn()
            self._procs.append(proc)
            self._live += 1
            threading.Thread(target=self._drive, args=(w + 1, proc), daemon=True,
                             name=f"warm-pool-{w + 1}").start()
        return self

    def running(self) -> list[tuple[Step, float]]:
        """Steps compiling now and their seconds so far."""
        now = time.perf_counter()
        with self._cond:
            return [(step, now - t0) for step, t0 in self._running.values()]

    def prefer(self, keys: Iterable[str]) -> None:
        """Compile the steps ``keys`` (and the steps they reuse) before the others."""
        with self._cond:
            wanted = set(keys)
            for step in list(self._todo):
                if step.key in wanted:
                    wanted.update(step.after)
            first = [s for s in self._todo if s.key in wanted]
            self._todo = first + [s for s in self._todo if s.key not in wanted]

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every step is finished (True) or ``timeout`` s passed (False)."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._todo and not self._running, timeout)

    def close(self) -> None:
        """Stop the workers now (a compile in progress is lost)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        for proc in self._procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()

    def _next(self) -> Step | None:
        for step in self._todo:
            if all(k in self._finished or k not in self._keys for k in step.after):
                return step
        return None

    def _take(self, worker: int) -> Step | None:
        with self._cond:
            while not self._closed and self._todo:
                step = self._next()
                if step is not None:
                    self._todo.remove(step)
                    self._running[worker] = (step, time.perf_counter())
                    return step
                self._cond.wait()
            return None

    def _drive(self, worker: int, proc: subprocess.Popen) -> None:
        try:
            while (step := self._take(worker)) is not None:
                self._on_event(Event("start", step, worker))
                t0 = time.perf_counter()
                reply = _ask(proc, step)
                with self._cond:
                    self._running.pop(worker, None)
                    self._finished.add(step.key)
                    self._cond.notify_all()
                seconds = time.perf_counter() - t0
                if reply.get("ok"):
                    self._on_event(Event("done", step, worker, seconds))
                else:
                    self._on_event(Event("failed", step, worker, seconds, reply["error"],
                                         lost=bool(reply.get("lost"))))
                if reply.get("lost") or self._closed:
                    break
        finally:
            _stop(proc)
            self._worker_gone()

    def _worker_gone(self) -> None:
        """The last worker to stop reports the steps nobody compiled as failed."""
        with self._cond:
            self._live -= 1
            orphans = [] if self._live or self._closed else self._todo
            self._todo = [] if orphans else self._todo
            self._finished.update(s.key for s in orphans)
            self._cond.notify_all()
        for step in orphans:
            self._on_event(Event("failed", step, 0, 0.0, "no compiling process left", lost=True))


def _spawn() -> subprocess.Popen:
    """A worker: this Python, this ``theory`` package and this cache folder."""
    from theory import _cachedir

    root = str(Path(warm.__file__).resolve().parents[1])
    env = {**os.environ, "NUMBA_CACHE_DIR": str(Path(_cachedir.CACHE_DIR).parent),
           "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    return subprocess.Popen([sys.executable, "-m", "theory.warm_pool", "--worker",
                             "--parent", str(os.getpid())],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            bufsize=1, env=env, cwd=root, start_new_session=True)


def _ask(proc: subprocess.Popen, step: Step) -> dict:
    """Send ``step`` to the worker and read its answer (``lost`` if it died)."""
    try:
        proc.stdin.write(step.key + "\n")
        proc.stdin.flush()
        for line in proc.stdout:
            if line.startswith(PREFIX):
                return json.loads(line[len(PREFIX):])
    except (OSError, ValueError):
        pass
    code = proc.poll()
    return {"ok": False, "lost": True, "error": f"compiling process exited (status {code})"}


def _stop(proc: subprocess.Popen) -> None:
    try:
        proc.stdin.close()
        proc.wait(timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        proc.kill()
        proc.wait()


def worker_main(parent: int) -> int:
    """The worker loop: read step keys on stdin, compile, answer one line each."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    _exit_with_parent(parent)
    for line in sys.stdin:
        key = line.strip()
        t0 = time.perf_counter()
        try:
            step = warm.BY_KEY[key]
            warm.run_step(step)
            warm.mark(step)
            reply = {"key": key, "ok": True}
        except Exception as exc:  # reported to the parent, which shows it
            reply = {"key": key, "ok": False, "error": f"{type(exc).__name__}: {exc}"}
        reply["seconds"] = time.perf_counter() - t0
        print(PREFIX + json.dumps(reply), flush=True)
    return 0


def _exit_with_parent(parent: int) -> None:
    """Exit as soon as the process ``parent`` is no longer this one's parent (it died,
    perhaps before this process started): a compile would otherwise run on for minutes."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


class Ticker:
    """Call ``fn()`` every ``interval`` seconds on a daemon thread until :meth:`stop`."""

    def __init__(self, fn: Callable[[], None], interval: float = TICK_S) -> None:
        self._stop = threading.Event()
        self._fn, self._interval = fn, interval
        threading.Thread(target=self._run, daemon=True, name="warm-ticker").start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._fn()

    def stop(self) -> None:
        self._stop.set()


class Reporter:
    """Progress lines ``[  12 s] ...`` through ``write``, counting ``total`` steps."""

    def __init__(self, write: Callable[[str], None], total: int, t0: float | None = None,
                 verb: str = "compiled") -> None:
        self.write, self.total, self.verb = write, total, verb
        self.t0 = time.perf_counter() if t0 is None else t0
        self.done = 0
        self.failed: list[str] = []
        self._lock = threading.RLock()  # one line at a time, from any thread

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def line(self, text: str) -> None:
        with self._lock:
            self.write(f"[{self.elapsed():5.0f} s] {text}")

    def step(self, step: Step, seconds: float, error: str = "", quiet_below: float = 1.0) -> None:
        """A finished step: one line if it took ``quiet_below`` s or more, or failed."""
        with self._lock:
            self.done += 1
            if error:
                self.failed.append(step.label)
                self.line(f"FAILED {step.label} ({self.done} of {self.total}): {error}")
            elif seconds >= quiet_below:
                self.line(f"{self.verb} {step.label} in {seconds:.1f} s "
                          f"({self.done} of {self.total})")

    def busy(self, running: list[tuple[Step, float]]) -> None:
        """The ticker's line: what is compiling and for how long."""
        if running:
            what = ", ".join(f"{s.label} ({t:.0f} s)" for s, t in running)
            self.line(f"compiling {what}; {self.done} of {self.total} steps done")

    def on_event(self, event: Event) -> None:
        """:class:`CompilePool` events: a line per finished step."""
        if event.kind != "start":
            self.step(event.step, event.seconds, event.error)


def fill_cache(jobs: int, write: Callable[[str], None]) -> int:
    """Compile every step not yet in the cache with ``jobs`` processes; 1 if one failed."""
    from theory import _cachedir

    cold = warm.cold_steps()
    if not cold:
        write(f"calculators already compiled in {_cachedir.CACHE_DIR}")
        return 0
    write(f"compiling {len(cold)} of {len(warm.PLAN)} calculator steps in {jobs} "
          f"processes into {_cachedir.CACHE_DIR} (a first start takes minutes)")
    report = Reporter(write, len(cold))
    pool = CompilePool(cold, jobs, report.on_event).start()
    ticker = Ticker(lambda: report.busy(pool.running()))
    try:
        pool.wait()
    finally:
        ticker.stop()
        pool.close()
    status = f"; FAILED: {', '.join(report.failed)}" if report.failed else ""
    report.line(f"compiled {len(cold) - len(report.failed)} steps in {report.elapsed():.0f} s"
                f"{status}")
    return 1 if report.failed else 0


def main(argv: list[str] | None = None) -> int:
    """``python -m theory.warm_pool [--jobs N]``: fill the cache, printing progress."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m theory.warm_pool",
                                     description="Compile every calculator into the cache.")
    parser.add_argument("--jobs", type=int, default=default_jobs(),
                        help="compiling processes (default: one per core, at most 2)")
    parser.add_argument("--worker", action="store_true", help="(internal) one worker")
    parser.add_argument("--parent", type=int, default=os.getppid(), help="(internal)")
    args = parser.parse_args(argv)
    if args.worker:
        return worker_main(args.parent)
    return fill_cache(max(1, args.jobs), _write_line)


def _write_line(text: str) -> None:
    sys.stdout.write(text + "\n")  # one write: lines from two threads never interleave
    sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
