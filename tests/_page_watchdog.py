"""A page-level watchdog for the browser tests (helpers only, no tests here).

A renderer stuck in a script loop (for example a figure redrawn from its own
redraw event) also stops Playwright's own timeouts: ``wait_for_function``
returns neither a result nor a ``TimeoutError`` while the page's main thread
spins, and the test hangs until the suite's global timeout (600 s).

:class:`PageWatchdog` watches, from a thread, the Chromium renderer processes
started by this test process (found by pid in ``/proc``, never by name). A
renderer whose main thread has been running or runnable (state ``R``) at every
one of ``stuck_s`` once-a-second samples is stuck: a page waiting for the
server or for the test sleeps between events (state ``S``), and even a heavy
redraw needs a few seconds of CPU, not ``stuck_s`` seconds without a pause.
That renderer is killed (SIGKILL); the blocked Playwright call then raises at
once, and :meth:`PageWatchdog.check` turns that into a failure saying what
happened. A slow test (the test process computing, a cold server) is never
killed: its renderer sleeps meanwhile. The browser survives for the next test.

Example
-------
>>> with PageWatchdog(what="presentation mode") as dog:  # doctest: +SKIP
...     page.goto(url)
...     page.wait_for_function(predicate)
>>> dog.check()  # doctest: +SKIP
"""

from __future__ import annotations

import os
import signal
import threading

import pytest

#: Seconds of uninterrupted running that make a renderer "stuck". Measured on 2
#: cores with a load average of 10-13 (other jobs running): healthy presentation
#: pages (load, three figures, restyles) ran at most 22 s without sleeping; the
#: legend-fit loop this watchdog was written for never slept and was killed.
STUCK_S = 60


def _children() -> dict[int, list[int]]:
    """Parent pid -> child pids, from ``/proc/<pid>/stat``."""
    kids: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        stat = _stat(int(name))
        if stat:
            kids.setdefault(int(stat[1]), []).append(int(name))
    return kids


def _stat(pid: int) -> list[str] | None:
    """Fields 3.. of ``/proc/<pid>/stat`` (state, ppid, ...), or None if gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def renderer_pids(root: int) -> list[int]:
    """Pids of the Chromium renderers descending from process ``root``."""
    if not os.path.isdir("/proc"):
        return []  # not Linux: the watchdog cannot see processes and does nothing
    kids, found, todo = _children(), [], [root]
    while todo:
        for pid in kids.get(todo.pop(), []):
            todo.append(pid)
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if b"--type=renderer" in f.read():
                        found.append(pid)
            except OSError:
                continue
    return found


class PageWatchdog:
    """Kill a renderer of this process that runs ``stuck_s`` s without a pause."""

    def __init__(self, stuck_s: int = STUCK_S, what: str = "the page"):
        self.stuck_s, self.what = stuck_s, what
        self.killed: list[int] = []
        self._busy: dict[int, int] = {}  # pid -> consecutive samples in state R
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.wait(1.0):
            for pid in renderer_pids(os.getpid()):
                stat = _stat(pid)
                self._busy[pid] = self._busy.get(pid, 0) + 1 if stat and stat[0] == "R" else 0
                if self._busy[pid] >= self.stuck_s:
                    self._kill(pid)

    def _kill(self, pid: int) -> None:
        try:
            os.kill(pid, signal.SIGKILL)
            self.killed.append(pid)
        except OSError:
            pass  # it ended by itself
        self._busy.pop(pid, None)

    def __enter__(self) -> PageWatchdog:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)

    def check(self) -> None:
        """Fail with a clear message if the watchdog had to kill a page."""
        if self.killed:
            pytest.fail(f"page watchdog: a renderer of {self.what} ran {self.stuck_s} s "
                        f"without a pause (a script loop in the page?); killed pids "
                        f"{self.killed}. Playwright's own timeouts do not fire while a "
                        "page spins.", pytrace=False)
