"""Gunicorn settings for hosting a public demo: ``gunicorn -c gunicorn.conf.py app:server``.

See ``docs/hosting.md``. Environment overrides: ``HOST``/``PORT`` or ``BIND``,
``WEB_CONCURRENCY`` (workers), ``THREADS``, ``ACCESS_LOG`` (a file, or ``-`` for
stdout), ``LOG_LEVEL``, ``MAX_REQUESTS``, ``NUMBA_CACHE_DIR``, ``CONTROL_SOCKET``.

Measured traps this file avoids (``shared/engineering-notes.md``):

- Numba kernels are serial (``nogil=True``) and are compiled/loaded and warmed in
  each worker after the fork (``app.py`` warms at import, which happens in the
  worker because ``preload_app`` is off; ``post_worker_init`` then checks a
  result). Nothing numeric runs in the master, so no OpenMP/fork hazard; a worker
  whose kernels answer zeros or NaN refuses to boot instead of serving them.
- ``NUMBA_CACHE_DIR`` must be writable, otherwise ``cache=True`` raises at import:
  default to a folder under the system temp dir unless the environment sets one.
- gunicorn >= 25.1 opens a control socket at one fixed path per user: two
  instances on one machine (the nginx scale-out, the tests) would fight over it,
  so it is off unless ``CONTROL_SOCKET`` names a path.
"""

import math
import os
import subprocess
import sys
import tempfile
import time

_CACHE = os.path.join(tempfile.gettempdir(), "rnn-phase-explorer-numba")
os.environ.setdefault("NUMBA_CACHE_DIR", _CACHE)
os.environ.setdefault("NUMBA_NUM_THREADS", "1")  # serial kernels; no thread pool per worker

_HOST, _PORT = os.environ.get("HOST", "127.0.0.1"), os.environ.get("PORT", "8050")
bind = os.environ.get("BIND", f"{_HOST}:{_PORT}")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))  # one per core of the 2-core machine
worker_class = "gthread"  # nogil kernels: threads of one worker compute concurrently
threads = int(os.environ.get("THREADS", "4"))
timeout = 30  # heartbeat: a worker silent for 30 s is killed and replaced
graceful_timeout = 10
keepalive = 5  # idle keep-alive connections are closed after 5 s
# Recycle workers now and then (a safety net against slow memory growth; the caches
# are bounded). Each new worker warms up for a few seconds while the others serve.
max_requests = int(os.environ.get("MAX_REQUESTS", "50000"))
max_requests_jitter = max_requests // 10
limit_request_line = 8190  # gunicorn's maximum: long permalinks fit; longer lines get 414
limit_request_fields = 100
limit_request_field_size = 8190
preload_app = False  # import (and warm) in each worker, never in the master
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # heartbeat off disk
control_socket_disable = not os.environ.get("CONTROL_SOCKET")
if os.environ.get("CONTROL_SOCKET"):
    control_socket = os.environ["CONTROL_SOCKET"]
accesslog = os.environ.get("ACCESS_LOG") or None
# worker pid, duration and the X-Request-Id header (nginx: proxy_set_header X-Request-Id
# $request_id) per request: a request can be traced to the worker that answered it
access_log_format = ('%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms pid=%(p)s '
                     'rid=%({x-request-id}i)s')
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")


def on_starting(server):
    """Fill the on-disk caches once, before any worker exists, logging the progress.

    On a fresh machine, compiling every Numba kernel and building the grid tables
    takes minutes: longer than the 30 s heartbeat ``timeout``, so workers compiling
    on their own would be killed and restarted. ``python -m theory.warm_pool`` (child
    processes, never the master, which stays free of numerics) compiles them first,
    on both cores, and prints a progress line at least every 10 s, which this hook
    copies into the log; with a warm cache it costs ~1 s at start-up.
    """
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "theory.warm_pool"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            cwd=os.path.dirname(os.path.abspath(__file__)))
    try:
        for line in proc.stdout:  # a line at least every 10 s while it compiles
            server.log.info("warm-up: %s", line.rstrip())
            if time.monotonic() - t0 > 900:
                break
    finally:
        if proc.poll() is None:
            proc.kill()  # its compiling processes exit with it
        proc.wait()
    server.log.info("caches warmed in %.1f s (exit %s)", time.monotonic() - t0, proc.returncode)


def post_worker_init(worker):
    """Warm every kernel (cheap if ``app`` already did) and check one result.

    The check catches the silent-zeros failure of Numba kernels after a fork
    (engineering notes): for the vanilla RNN, eq. (3.1) of theory.md gives
    q* = sigma_w^2 E[phi^2] + sigma_v^2 R + sigma_b^2 >= 0.25 + 0.09 = 0.34 at
    sigma_v = 0.5, R = 1, sigma_b = 0.3 (q* = 1.3506 at sigma_w = 1.5, measured),
    so zero, NaN or inf means broken kernels. An exception here makes gunicorn
    stop with "Worker failed to boot" instead of serving wrong numbers.
    """
    import theory

    theory.warmup()
    p = theory.Params(arch="vanilla", sigma_w=1.5, sigma_b=0.3, sigma_v=0.5, R=1.0)
    r = theory.point(p)
    if not (math.isfinite(r.q_star) and r.q_star >= 0.34 and math.isfinite(r.chi_jac)
            and r.chi_jac > 0):
        raise RuntimeError(f"kernel self-check failed in worker {worker.pid}: "
                           f"q*={r.q_star}, chi_jac={r.chi_jac}")
    worker.log.info("theory kernels warmed up in worker %s", worker.pid)
