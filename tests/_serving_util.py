"""Helpers for the serving tests and ``benchmarks/bench_load.py`` (no tests here).

* :class:`Gunicorn`: the README's ``gunicorn -c gunicorn.conf.py app:server``
  as a subprocess on a free loopback port, with its log in a file, its worker
  pids read from ``/proc``, and a bounded start and stop.
* :class:`Http`: one keep-alive HTTP/1.1 connection, like a browser tab.

The requests a page sends are built by ``tests/_dash_client.py``.
"""

from __future__ import annotations

import contextlib
import ctypes
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]
GUNICORN = Path(sys.executable).parent / "gunicorn"
ENDPOINT = "/_dash-update-component"


def app_module() -> str:
    """``app:server`` once ``app.py`` hardens its server itself, else the test wrapper."""
    text = (ROOT / "app.py").read_text(encoding="utf-8")
    return "app:server" if "harden(" in text else "tests._hardened_app:server"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def die_with_parent() -> None:  # pragma: no cover - runs in the child
    """Linux: SIGTERM the child when the process that started it dies."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def children(pid: int) -> list[int]:
    """Child pids of ``pid`` (Linux ``/proc``), [] if it is gone."""
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return sorted(int(p) for p in text.split())


class Gunicorn:
    """A gunicorn started with the repository's config on 127.0.0.1.

    Parameters
    ----------
    log_dir : Path
        Where ``gunicorn.log`` (error log) and ``access.log`` are written.
    workers, threads : int
        ``WEB_CONCURRENCY`` and ``THREADS`` of ``gunicorn.conf.py``.
    env : dict, optional
        Extra environment.
    """

    def __init__(self, log_dir: Path, workers: int = 2, threads: int = 4,
                 env: dict | None = None, module: str | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.log_path = Path(log_dir) / f"gunicorn-{self.port}.log"
        self.access_path = Path(log_dir) / f"access-{self.port}.log"
        self.module = module or app_module()
        self.env = {**os.environ, "NUMBA_CACHE_DIR": os.environ.get(
            "NUMBA_CACHE_DIR", "/tmp/numba_cache"), "WEB_CONCURRENCY": str(workers),
            "THREADS": str(threads), "ACCESS_LOG": str(self.access_path), **(env or {})}
        self.env.pop("BIND", None)
        self.proc: subprocess.Popen | None = None

    def command(self) -> list[str]:
        """The README's command, with the bind address of this instance."""
        return [str(GUNICORN), "-c", "gunicorn.conf.py", "-b", f"127.0.0.1:{self.port}",
                self.module]

    def start(self, timeout: float = 150.0) -> Gunicorn:
        """Start, and return once every worker has warmed up and ``/healthz`` answers."""
        return self.launch().wait_ready(timeout)

    def launch(self) -> Gunicorn:
        """Start the process (from the main thread: the child is signalled when the
        *thread* that started it ends)."""
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(self.command(), cwd=ROOT, env=self.env, stdout=log,
                                     stderr=subprocess.STDOUT, preexec_fn=die_with_parent)
        log.close()
        return self

    def wait_ready(self, timeout: float = 150.0) -> Gunicorn:
        """Wait until every worker has warmed up and ``/healthz`` answers."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.proc.returncode}):\n{self.log()}")
            if len(self.warmed_pids()) >= self.workers and self._healthy():
                return self
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"gunicorn not ready after {timeout} s:\n{self.log()}")

    def _healthy(self) -> bool:
        try:
            return Http(self.url, timeout=5).request("GET", "/healthz").status == 200
        except OSError:
            return False

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def worker_pids(self) -> list[int]:
        """Current worker pids (children of the master)."""
        return children(self.pid)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def log_since(self, offset: int) -> str:
        """The log text written after byte ``offset``."""
        with open(self.log_path, "rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", "replace")

    def warmed_pids(self) -> set[int]:
        """Pids that logged the end of their warm-up (``post_worker_init``)."""
        return {int(m) for m in re.findall(r"warmed up in worker (\d+)", self.log())}

    def booted_pids(self) -> list[int]:
        return [int(m) for m in re.findall(r"Booting worker with pid: (\d+)", self.log())]

    def stop(self, timeout: float = 20.0, graceful: bool = False) -> None:
        """Shut down; a worker still busy after 3 s (20 s if ``graceful``) is SIGKILLed.

        gunicorn itself waits ``graceful_timeout`` (10 s) for a worker whose thread
        is inside a Numba kernel, which cannot be interrupted.
        """
        if self.proc is None or self.proc.poll() is not None:
            return
        workers = self.worker_pids()
        self.proc.send_signal(signal.SIGTERM if graceful else signal.SIGINT)
        try:
            self.proc.wait(timeout if graceful else 3.0)
            return
        except subprocess.TimeoutExpired:
            pass
        for pid in set(workers) & set(self.worker_pids()):  # still this master's children
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    def __enter__(self) -> Gunicorn:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


@dataclass
class Reply:
    """One HTTP answer."""

    status: int
    headers: dict[str, str]
    body: bytes  # decoded, when it came compressed
    seconds: float
    wire_bytes: int = -1  # the body's size on the wire (-1: not counted)

    def json(self) -> Any:
        return orjson.loads(self.body)  # ~4x json.loads: the load benchmark's users parse a lot


def decompress(data: bytes, encoding: str) -> bytes:
    """``data`` sent with ``Content-Encoding: encoding`` (zstd, br or gzip), decoded."""
    if encoding == "zstd":
        from backports import zstd

        return zstd.decompress(data)
    if encoding == "br":
        import brotli

        return brotli.decompress(data)
    if encoding == "gzip":
        import gzip

        return gzip.decompress(data)
    raise ValueError(f"unknown Content-Encoding {encoding!r}")


class Http:
    """A keep-alive HTTP/1.1 connection to ``url`` (one browser connection).

    Like a browser, a request that fails on a *reused* connection before any
    answer arrives (the server closed it while idle) is sent once more on a
    new connection; :attr:`retries` counts those.
    """

    def __init__(self, url: str, timeout: float = 30.0, encodings: str | None = None) -> None:
        host, port = url.split("//", 1)[1].split(":")
        self.host, self.port, self.timeout = host, int(port.rstrip("/")), timeout
        self.encodings = encodings  # Accept-Encoding, e.g. Chromium's; bodies are decoded
        self.conn: http.client.HTTPConnection | None = None
        self.used = False
        self.retries = 0

    def request(self, method: str, path: str, body: bytes | str | None = None,
                headers: dict | None = None) -> Reply:
        if isinstance(body, str):
            body = body.encode()
        hdrs = {"Accept": "application/json", **(headers or {})}
        if self.encodings:
            hdrs.setdefault("Accept-Encoding", self.encodings)
        if body is not None:
            hdrs.setdefault("Content-Type", "application/json")
        for attempt in (0, 1):
            reused = self.conn is not None and self.used
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                self.used = False
            t0 = time.perf_counter()
            try:
                self.conn.request(method, path, body=body, headers=hdrs)
                resp = self.conn.getresponse()
                data = resp.read()
            except (http.client.RemoteDisconnected, ConnectionResetError,
                    BrokenPipeError) as exc:
                self.close()
                if reused and attempt == 0:
                    self.retries += 1
                    continue
                raise ConnectionError(str(exc)) from exc
            except (OSError, http.client.HTTPException):
                self.close()
                raise
            self.used = True
            if resp.getheader("Connection", "").lower() == "close":
                self.close()
            hdrs_in = {k.lower(): v for k, v in resp.getheaders()}
            wire = len(data)
            if self.encodings and hdrs_in.get("content-encoding"):
                data = decompress(data, hdrs_in["content-encoding"])
            return Reply(resp.status, hdrs_in, data, time.perf_counter() - t0, wire)
        raise AssertionError("unreachable")

    def get_json(self, path: str) -> Any:
        reply = self.request("GET", path)
        assert reply.status == 200, (path, reply.status)
        return reply.json()

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.conn = None
