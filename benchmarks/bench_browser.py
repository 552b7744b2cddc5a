"""Dashboard latency in headless Chromium (issue 4, "How it must feel").

Run from the repository root (nothing else heavy running; 2 cores)::

    NUMBA_CACHE_DIR=/tmp/numba_cache .venv/bin/python benchmarks/bench_browser.py

It starts the server the way the README does (``python app.py``, on a free
port through ``PORT``; or ``--url`` to measure a running one), opens the default
view at 1280x720 and measures:

* ``key`` (a move in the plane): focus the sigma_w slider thumb and press ArrowRight / ArrowLeft
  (alternating, ``--presses`` times, default 30). Latency = last
  ``plotly_afterplot`` of the three graphs (phase diagram, memory, spectrum)
  minus ``performance.now()`` just before the key press, once all three show the
  new state (``rnnPanelState(id).key``, from ``layout.meta`` and the phase
  diagram's state annotation, equals the permalink in the address bar).
  sigma_w is in the default plane, so the phase diagram is patched (marker,
  contour level, meta), not re-sent.
* ``key_out_of_plane``: the same with sigma_v (not in the plane): the 150x150
  grid is recomputed and re-sent on every press.
* for both kinds of press, the bytes the callback answers took on the wire
  (Chromium's own count of each response body as received, compressed).
* for both kinds of press, where the time goes (the browser's Resource Timing of the
  callback requests): key press -> first request sent, -> last answer received,
  and the drawing after it (last ``plotly_afterplot`` minus the last answer), with
  the time each graph finished drawing.
* ``drag``: drag the sigma_w thumb for one second (40 mouse moves), release;
  reported: last afterplot after release minus the release time.

Targets (issue 14): key median <= 120 ms and p95 <= 250 ms for both kinds; an
out-of-plane press <= 100 KB on the wire, an in-plane press <= 20 KB; drag final
frame <= 400 ms after release (issue 4).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
GRAPHS = ("phase-graph", "memory-graph", "spectrum-graph")
TARGETS = {"key_median_ms": 120.0, "key_p95_ms": 250.0, "key_out_of_plane_median_ms": 120.0,
           "key_out_of_plane_p95_ms": 250.0, "drag_final_ms": 400.0}
BYTES_TARGETS = {"key_kb_max": 20.0, "key_out_of_plane_kb_max": 100.0}

INSTALL_JS = """() => {
  window.__draws = {};
  for (const id of GRAPH_IDS) {
    const gd = document.querySelector('#' + id + ' .js-plotly-plot');
    window.__draws[id] = [];
    gd.on('plotly_afterplot', () => window.__draws[id].push(performance.now()));
  }
}""".replace("GRAPH_IDS", json.dumps(GRAPHS))

SETTLED_JS = """([ids, old]) => {
  const want = window.location.search;
  if (want === old) return false;
  return ids.every(id => {
    const state = window.rnnPanelState && window.rnnPanelState(id);
    return state && state.key === want;
  });
}"""

GRAPH_DRAWS_JS = """(t0) => Object.fromEntries(Object.keys(window.__draws).map(id => {
  const after = window.__draws[id].filter(t => t >= t0);
  return [id, after.length ? after[after.length - 1] - t0 : null];
}))"""

REQUESTS_JS = """(t0) => {
  const e = performance.getEntriesByType('resource').filter(
    r => r.name.includes('_dash-update-component') && r.startTime >= t0);
  if (!e.length) return null;
  return [Math.min(...e.map(r => r.startTime)) - t0, Math.max(...e.map(r => r.responseEnd)) - t0];
}"""


def graph_draws(page, t0: float) -> dict:
    """Each graph's last ``plotly_afterplot`` in ms after ``t0`` (None if it drew none)."""
    return page.evaluate(GRAPH_DRAWS_JS, t0)


def last_draw(draws: dict) -> float | None:
    """When every graph had drawn (ms), or None if one of them did not."""
    return None if None in draws.values() else max(draws.values())


def free_port() -> int:
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(timeout: float = 600.0):
    """``python app.py`` on a free port; yields its base URL."""
    port = free_port()
    env = {**os.environ, "PORT": str(port)}
    env.setdefault("NUMBA_CACHE_DIR", "/tmp/numba_cache")
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError("app.py exited: " + proc.stderr.read().decode()[-2000:])
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.time() > deadline:
                raise RuntimeError("app.py did not answer /healthz in time")
            time.sleep(0.25)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def wait_settled(page, old: str, timeout: float = 30_000) -> None:
    page.wait_for_function(SETTLED_JS, arg=[list(GRAPHS), old], timeout=timeout, polling=5)


def key_presses(page, name: str, presses: int) -> tuple[list[float], list[float], list]:
    """Latency (ms), callback answers' bytes on the wire (kB) and where the time went of
    each key press on slider ``name``: (request sent, last answer received) in ms after
    the press (:data:`REQUESTS_JS`, None if not timed) and each graph's last draw."""
    thumb = page.locator(f"#ctl-{name} [role=slider]")
    requests: list = []

    def finished(request) -> None:  # a plain function: Playwright tags its handlers
        requests.append(request)

    page.on("requestfinished", finished)
    out, wire, phases = [], [], []
    for i in range(presses):
        thumb.focus()
        old = page.evaluate("window.location.search")
        page.wait_for_timeout(20)
        requests.clear()
        page.evaluate("performance.clearResourceTimings()")
        t0 = page.evaluate("performance.now()")
        page.keyboard.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")
        wait_settled(page, old)
        page.wait_for_timeout(30)  # let any trailing afterplot land
        draws = graph_draws(page, t0)
        out.append(last_draw(draws))
        phases.append((page.evaluate(REQUESTS_JS, t0), draws))
        wire.append(sum(r.sizes()["responseBodySize"] for r in list(requests)
                        if "_dash-update-component" in r.url) / 1e3)
    page.remove_listener("requestfinished", finished)
    return out, wire, phases


def drag(page, name: str, seconds: float = 1.0, moves: int = 40) -> float:
    """Final frame (ms after release) of a ``seconds`` drag of slider ``name``."""
    box = page.locator(f"#ctl-{name} [role=slider]").bounding_box()
    track = page.locator(f"#ctl-{name} .dash-slider-track").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    old = page.evaluate("window.location.search")
    page.mouse.move(x, y)
    page.mouse.down()
    span = 0.35 * track["width"]
    for i in range(1, moves + 1):
        page.mouse.move(x + span * i / moves, y)
        page.wait_for_timeout(1000 * seconds / moves)
    t_release = page.evaluate("performance.now()")
    page.mouse.up()
    wait_settled(page, old)
    page.wait_for_timeout(50)
    return last_draw(graph_draws(page, t_release))


def summary(samples: list[float]) -> dict:
    s = sorted(samples)
    p95 = s[min(len(s) - 1, round(0.95 * (len(s) - 1)))]
    return {"n": len(s), "median_ms": statistics.median(s), "p95_ms": p95,
            "min_ms": s[0], "max_ms": s[-1], "samples_ms": samples}


def run(url: str, presses: int) -> dict:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        page.goto(url + "/")
        page.wait_for_function(SETTLED_JS.replace("if (want === old) return false;", ""),
                               arg=[list(GRAPHS), ""], timeout=120_000)
        page.evaluate(INSTALL_JS)
        results = {}
        for kind, name, n in (("key", "sigma_w", presses),
                              ("key_out_of_plane", "sigma_v", max(10, presses // 3))):
            latency, wire, phases = key_presses(page, name, n)
            results[kind] = summary(latency)
            results[kind].update(wire_kb_median=statistics.median(wire), wire_kb_max=max(wire),
                                 wire_kb=wire, phases_ms=phases)
            timed = [(r[0], r[1], t - r[1]) for (r, _), t in zip(phases, latency, strict=True)
                     if r and t is not None]
            if timed:
                results[kind]["phase_medians_ms"] = {
                    step: statistics.median(x[j] for x in timed)
                    for j, step in enumerate(("request_sent", "answer_received", "drawing"))}
                drawn = {g: [d[g] for _, d in phases if d.get(g) is not None] for g in GRAPHS}
                results[kind]["drawn_after_press_medians_ms"] = {  # each graph's last afterplot
                    g: statistics.median(v) for g, v in drawn.items() if v}
        results["drag"] = {"final_ms": [drag(page, "sigma_w") for _ in range(3)]}
        browser.close()
    results["drag"]["median_final_ms"] = statistics.median(results["drag"]["final_ms"])
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", help="measure a running server instead of starting one")
    ap.add_argument("--presses", type=int, default=30)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "browser.json"))
    args = ap.parse_args()
    if args.url:
        res = run(args.url.rstrip("/"), args.presses)
    else:
        with serve() as url:
            res = run(url, args.presses)
    checks = {"key_median_ms": res["key"]["median_ms"], "key_p95_ms": res["key"]["p95_ms"],
              "key_out_of_plane_median_ms": res["key_out_of_plane"]["median_ms"],
              "key_out_of_plane_p95_ms": res["key_out_of_plane"]["p95_ms"],
              "drag_final_ms": res["drag"]["median_final_ms"]}
    print(f"{'measure':<34}{'value':>12}{'target':>10}{'ok':>5}")
    for name, value in checks.items():
        ok = value <= TARGETS[name]
        print(f"{name:<34}{value:>9.0f} ms{TARGETS[name]:>7.0f} ms{'yes' if ok else 'NO':>5}")
    for kind in ("key", "key_out_of_plane"):
        name, value = f"{kind}_kb_max", res[kind]["wire_kb_max"]
        ok = value <= BYTES_TARGETS[name]
        print(f"{name:<34}{value:>9.1f} kB{BYTES_TARGETS[name]:>7.0f} kB{'yes' if ok else 'NO':>5}")
        checks[name] = value
    for kind in ("key", "key_out_of_plane"):
        ph = res[kind].get("phase_medians_ms")
        if ph:
            print(f"{kind}: medians after the press: request sent {ph['request_sent']:.0f} ms, "
                  f"last answer {ph['answer_received']:.0f} ms; then drawing "
                  f"{ph['drawing']:.0f} ms (graphs done at " + ", ".join(
                      f"{g} {v:.0f}" for g, v in res[kind]["drawn_after_press_medians_ms"].items())
                  + " ms)")
    print("drag final frames (ms):", ", ".join(f"{v:.0f}" for v in res["drag"]["final_ms"]))
    out = {"results": res, "targets": {**TARGETS, **BYTES_TARGETS}, "checks": checks,
           "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                       "load_avg": os.getloadavg()}, "time": time.strftime("%Y-%m-%d %H:%M:%S")}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2))
    print("wrote", args.out)


if __name__ == "__main__":
    main()
