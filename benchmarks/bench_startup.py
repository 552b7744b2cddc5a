"""Cold and warm start of ``python app.py`` (issue "The first five minutes", part 1).

Run from the repository root (note the machine's load: it is printed and saved)::

    .venv/bin/python benchmarks/bench_startup.py            # cold x1, warm x3
    .venv/bin/python benchmarks/bench_startup.py --cold 0 --warm 3 --cache DIR

A cold run starts ``python app.py`` with a new, empty ``NUMBA_CACHE_DIR`` and
``HOME`` (nothing compiled, no tables); the warm runs then reuse the last cold
run's folder (or ``--cache``). For each run, from the launch (wall clock):

* ``first_line_s``: the first line on stdout;
* ``http_200_s``: the first HTTP 200 of the page (``GET /``);
* ``view_s``: the default view complete in headless Chromium (every panel's
  ``rnnPanelState`` shows the permalink in the address bar, i.e. data drawn for
  this view, not a "preparing" message); ``preparing_seen``: a panel said
  "preparing" on the way;
* ``ready_s``: the "ready" line (every calculator loaded);
* ``max_silence_s``: the longest gap between two progress lines before "ready";
* ``healthz_ms``: median and max latency of ``GET /healthz`` (503 "preparing"
  until every calculator is ready) every 0.5 s while the page was not yet
  complete (how responsive the server stays meanwhile);
* ``cpu_view`` / ``cpu_ready``: CPU seconds (user + system) of the app and its
  compiling processes until the view was complete / until "ready": ``total`` and
  ``busiest`` (one process). On a loaded machine the wall times stretch; the
  busiest process's CPU time is about the wall time the same start takes when
  the two cores are free.

Targets (issue): first line <= 5 s, no silence over ~10 s, cold complete view
<= 30 s, warm start <= 3 s to serving. Prints a table and writes
``benchmarks/results/startup.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
GRAPHS = ("phase-graph", "memory-graph", "spectrum-graph")
TARGETS = {"first_line_s": 5.0, "max_silence_s": 10.0, "view_s": 30.0}
WARM_SERVE_TARGET_S = 3.0
#: Every panel shows data for the view in the address bar (assets/app.js rnnPanelState).
COMPLETE_JS = """(ids) => ids.every(id => {
  const s = window.rnnPanelState && window.rnnPanelState(id);
  return s && s.key === window.location.search;
})"""
PREPARING_JS = """(ids) => ids.some(id => {
  const s = window.rnnPanelState && window.rnnPanelState(id);
  return !!(s && s.preparing);
})"""


def free_port() -> int:
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class App:
    """``python app.py`` with its stdout lines time-stamped from the launch."""

    def __init__(self, cache: Path, port: int) -> None:
        env = {**os.environ, "PORT": str(port), "NUMBA_CACHE_DIR": str(cache / "numba"),
               "HOME": str(cache / "home"), "PYTHONUNBUFFERED": "1"}
        (cache / "home").mkdir(parents=True, exist_ok=True)
        self.lines: list[tuple[float, str]] = []
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append((time.perf_counter() - self.t0, line.rstrip()))

    def since(self) -> float:
        return time.perf_counter() - self.t0

    def line_at(self, needle: str) -> float | None:
        return next((t for t, line in self.lines if needle in line), None)

    def stop(self) -> list[int]:
        """Stop the app (Ctrl-C); return the pids of compiling processes left behind."""
        workers = _warm_workers(self.proc.pid)
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        time.sleep(2.0)  # the workers watch their parent every 0.5 s
        return [pid for pid in workers if Path(f"/proc/{pid}").exists()]


def _warm_workers(parent: int) -> list[int]:
    """Pids of ``theory.warm_pool`` workers started by ``parent``."""
    out = []
    for proc in Path("/proc").iterdir():
        with contextlib.suppress(OSError, ValueError):
            stat = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            cmd = (proc / "cmdline").read_bytes()
            if int(stat[1]) == parent and b"theory.warm_pool" in cmd:
                out.append(int(proc.name))
    return out


class CpuTracker:
    """CPU seconds (user + system) of the app and each compiling process, last seen."""

    def __init__(self, pid: int) -> None:
        self.pid, self.seen = pid, {}
        self.tick = os.sysconf("SC_CLK_TCK")

    def update(self) -> dict:
        for p in [self.pid, *_warm_workers(self.pid)]:
            with contextlib.suppress(OSError, ValueError):
                f = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
                self.seen[p] = (int(f[11]) + int(f[12])) / self.tick  # utime + stime
        return {"total": sum(self.seen.values()), "busiest": max(self.seen.values())}


def wait_http(url: str, app: App, timeout: float) -> float:
    while app.since() < timeout:
        if app.proc.poll() is not None:
            raise RuntimeError("app.py exited:\n" + "\n".join(x for _, x in app.lines[-20:]))
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(url + "/", timeout=2) as r:
                if r.status == 200:
                    return app.since()
        time.sleep(0.05)
    raise RuntimeError("no HTTP 200 in time")


def probe_health(url: str, stop: threading.Event, out: list[float]) -> None:
    """Latency of ``GET /healthz`` (503 "preparing" or 200) every 0.5 s until ``stop``."""
    while not stop.is_set():
        t = time.perf_counter()
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=30):
                pass
        except urllib.error.HTTPError:  # 503 while preparing: an answer all the same
            pass
        except OSError:
            stop.wait(0.5)
            continue
        out.append(1000 * (time.perf_counter() - t))
        stop.wait(0.5)


def one_run(kind: str, cache: Path, browser, timeout: float) -> dict:
    """Launch, serve, complete view in Chromium, "ready" line; see the module doc."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    load = os.getloadavg()
    app = App(cache, port)
    res: dict = {"kind": kind, "load_before": load}
    try:
        res["http_200_s"] = wait_http(url, app, timeout)
        lat: list[float] = []
        stop = threading.Event()
        threading.Thread(target=probe_health, args=(url, stop, lat), daemon=True).start()
        page = browser.new_context(bypass_csp=True, viewport={"width": 1280,
                                                               "height": 720}).new_page()
        cpu = CpuTracker(app.proc.pid)
        page.goto(url + "/")
        seen = False
        while app.since() < timeout and not page.evaluate(COMPLETE_JS, list(GRAPHS)):
            seen = seen or page.evaluate(PREPARING_JS, list(GRAPHS))
            cpu.update()
            time.sleep(0.1)
        res["view_s"] = app.since()
        res["cpu_view"] = cpu.update()
        stop.set()
        res["preparing_seen"] = seen
        res["healthz_ms"] = {"n": len(lat), "median": statistics.median(lat) if lat else None,
                             "max": max(lat) if lat else None}
        page.context.close()
        while app.line_at("] ready:") is None and app.since() < timeout:
            cpu.update()
            time.sleep(0.2)
        res["cpu_ready"] = cpu.update()
    finally:
        res["workers_left"] = app.stop()
    res["first_line_s"] = app.lines[0][0] if app.lines else None
    res["ready_s"] = app.line_at("] ready:")
    ours = [t for t, line in app.lines if line.startswith(("[", "RNN Phase Explorer"))]
    ours = [t for t in ours if res["ready_s"] is None or t <= res["ready_s"]]
    res["max_silence_s"] = max((b - a for a, b in zip([0.0, *ours], ours, strict=False)),
                               default=None)
    res["load_after"] = os.getloadavg()
    res["log"] = [f"{t:7.2f} {line}" for t, line in app.lines
                  if not line.startswith("127.0.0.1")]
    return res


def fmt(x) -> str:
    return "-" if x is None else f"{x:.1f}"


def table(runs: list[dict]) -> None:
    print(f"{'run':<7}{'1st line':>9}{'HTTP 200':>9}{'view':>8}{'ready':>8}{'silence':>9}"
          f"{'healthz med/max ms':>20}{'load 1m':>9}{'prep':>6}{'CPU view/ready busiest':>24}")
    for r in runs:
        h = r.get("healthz_ms", {})
        print(f"{r['kind']:<7}{fmt(r.get('first_line_s')):>9}{fmt(r.get('http_200_s')):>9}"
              f"{fmt(r.get('view_s')):>8}{fmt(r.get('ready_s')):>8}"
              f"{fmt(r.get('max_silence_s')):>9}"
              f"{fmt(h.get('median')) + ' / ' + fmt(h.get('max')):>20}"
              f"{r['load_before'][0]:>9.1f}{'yes' if r.get('preparing_seen') else 'no':>6}"
              f"{fmt(r.get('cpu_view', {}).get('busiest')) + ' / ':>17}"
              f"{fmt(r.get('cpu_ready', {}).get('busiest')):<7}")
    print("targets: first line <= 5 s, silence <= ~10 s, cold view <= 30 s, "
          f"warm HTTP 200 <= {WARM_SERVE_TARGET_S:.0f} s (times in s from launch; CPU in s "
          "of the busiest process)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cold", type=int, default=1, help="cold runs (each in a new folder)")
    ap.add_argument("--warm", type=int, default=3, help="warm runs after the cold ones")
    ap.add_argument("--cache", help="cache folder for warm runs (default: last cold run's)")
    ap.add_argument("--timeout", type=float, default=900.0, help="per run, seconds")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "startup.json"))
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    scratch = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    cache = Path(args.cache) if args.cache else None
    runs = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for i in range(args.cold):
                cache = scratch / f"cold-{i}"
                runs.append(one_run("cold", cache, browser, args.timeout))
            if cache is None and args.warm:
                raise SystemExit("warm runs need --cache or a cold run first")
            for _ in range(args.warm):
                runs.append(one_run("warm", cache, browser, args.timeout))
            browser.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    table(runs)
    for r in runs:
        if r["workers_left"]:
            print(f"WARNING: {r['kind']} run left compiling processes {r['workers_left']}")
    out = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                       "platform": platform.platform()},
           "date": time.strftime("%Y-%m-%d %H:%M:%S"), "targets": TARGETS,
           "warm_serve_target_s": WARM_SERVE_TARGET_S, "runs": runs}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
