"""Gunicorn settings for hosting a public demo: ``gunicorn -c gunicorn.conf.py app:server``.

Measured traps this file avoids (``shared/engineering-notes.md``):
- Numba kernels are serial (``nogil=True``) and are compiled/loaded and warmed in
  each worker after the fork (``post_worker_init``); nothing numeric runs in the
  master, so no OpenMP/fork hazard and no worker answers with zeros.
- ``NUMBA_CACHE_DIR`` must be writable, otherwise ``cache=True`` raises at import:
  default to a folder under the system temp dir unless the environment sets one.
"""

import os
import tempfile

_CACHE = os.path.join(tempfile.gettempdir(), "rnn-phase-explorer-numba")
os.environ.setdefault("NUMBA_CACHE_DIR", _CACHE)
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

_HOST, _PORT = os.environ.get("HOST", "127.0.0.1"), os.environ.get("PORT", "8050")
bind = os.environ.get("BIND", f"{_HOST}:{_PORT}")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))  # one per core of the 2-core machine
worker_class = "gthread"
threads = int(os.environ.get("THREADS", "4"))
timeout = 30  # a callback is < 2 s; a hung worker is replaced after 30 s
graceful_timeout = 10
keepalive = 5
max_requests = 2000  # recycle workers now and then (bounded memory growth)
max_requests_jitter = 200
limit_request_line = 8190  # long permalinks fit; larger request lines are refused with 414
limit_request_fields = 100
limit_request_field_size = 8190
preload_app = False  # import (and warm) in each worker, never in the master
accesslog = "-" if os.environ.get("ACCESS_LOG") else None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info")


def post_worker_init(worker):
    """Compile/load and run every kernel once so the first request does not wait."""
    import theory

    theory.warmup()
    worker.log.info("theory kernels warmed up in worker %s", worker.pid)
