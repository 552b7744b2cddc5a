"""Production hardening of the dashboard's Flask server (issue 6).

:func:`harden` adds to a Dash app's Flask ``server``:

* security headers that keep the page working: a Content-Security-Policy that
  allows only this origin (Dash 4 serves React, plotly.js and MathJax from the
  package, so nothing else is needed) plus the hash of each inline script Dash
  writes into the page; ``frame-ancestors`` and ``X-Frame-Options`` against
  click-jacking; ``X-Content-Type-Options: nosniff``; ``Referrer-Policy``;
* compression of every answer the browser accepts it for (zstd, brotli or gzip,
  by flask-compress): a phase diagram is ~5x smaller on the wire. The page's
  scripts (plotly.js and Dash, the same bytes for every visitor) are compressed
  once per worker and kept (:class:`StaticCache`), not once per visitor;
* a request-size limit (Flask's ``MAX_CONTENT_LENGTH``: larger bodies get 413);
* a shape check of every ``POST /_dash-update-component``: the body must name a
  registered callback and list exactly its inputs, state and outputs, otherwise
  the answer is a 400 with a one-line reason (Dash itself would raise a
  ``KeyError``/``TypeError`` and answer 500);
* callback exceptions become an HTTP 200 that leaves every output unchanged
  and shows a notice in the page (Dash's ``on_error`` plus ``set_props``); the
  traceback goes to the server log only, and the answer carries the header
  ``X-Callback-Error`` so tests and logs can find it. Any other unhandled
  exception is a plain 500 without a traceback (Dash's debug mode stays off).

Nothing here computes anything; callbacks validate their own values.

Example
-------
>>> from dash import Dash, html
>>> app = Dash(__name__)
>>> app.layout = html.Div("hi")
>>> server = harden(app.server, app=app)
>>> server.config["MAX_CONTENT_LENGTH"] == MAX_BODY_BYTES
True
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

import dash
from flask import Flask, g, jsonify, request
from flask_compress import Compress
from werkzeug.exceptions import BadRequest, HTTPException

from components import ids

log = logging.getLogger(__name__)

#: Largest request body accepted. The biggest requests the page sends are the
#: initial callbacks with every control's value (3.5 kB measured; checked in
#: ``tests/test_serving.py``); 64 kB leaves a wide margin.
MAX_BODY_BYTES = 64 * 1024
ERROR_HEADER = "X-Callback-Error"
#: Encodings offered, best first (Chromium, Firefox and Safari accept all three or two).
COMPRESS_ALGORITHMS = ["zstd", "br", "gzip"]
#: Paths whose answers never change for a URL (fingerprinted scripts, the assets).
STATIC_PREFIXES = ("_dash-component-suites/", "assets/")
NOTICE_TEXT = ("Something went wrong while updating this view; the panels still show the "
               "last good result. Try other values or reload the page.")


def content_security_policy(script_hashes: list[str], frame_ancestors: str = "'none'") -> str:
    """The CSP header value: same origin only, plus the given inline-script hashes.

    ``style-src 'unsafe-inline'`` is needed by plotly.js and MathJax, which add
    ``<style>`` elements at run time; ``data:``/``blob:`` images are plotly's
    mode-bar icons and "download plot" files.
    """
    directives = {
        "default-src": "'self'",
        "script-src": " ".join(["'self'", *script_hashes]),
        "style-src": "'self' 'unsafe-inline'",
        "img-src": "'self' data: blob:",
        "font-src": "'self' data:",
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": frame_ancestors,
    }
    return "; ".join(f"{k} {v}" for k, v in directives.items())


def security_headers(csp: str, frame_ancestors: str = "'none'") -> dict[str, str]:
    """Every header added to every response."""
    headers = {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    }
    if frame_ancestors == "'none'":
        headers["X-Frame-Options"] = "DENY"
    elif frame_ancestors == "'self'":
        headers["X-Frame-Options"] = "SAMEORIGIN"
    return headers


def harden(server: Flask, *, app: Any = None, notice_id: str | None = ids.NOTICE,
           max_body: int = MAX_BODY_BYTES, frame_ancestors: str = "'none'") -> Flask:
    """Add headers, limits, request checks and error handling to ``server``.

    Parameters
    ----------
    server : flask.Flask
        ``app.server`` of the Dash app.
    app : dash.Dash, optional
        The Dash app; found with :func:`dash.get_app` when omitted. Without it
        only the headers and the size limit are added.
    notice_id : str or None
        Component whose ``children`` show the notice after a callback error
        (and whose ``hidden`` is set to False); None shows nothing.
    max_body : int
        Largest accepted request body in bytes (413 above).
    frame_ancestors : str
        CSP ``frame-ancestors`` value; ``"'none'"`` forbids embedding the page.

    Returns
    -------
    flask.Flask
        ``server`` itself. A second call on the same server does nothing.
    """
    if server.extensions.get("rnn_hardened"):  # idempotent: a second call does nothing
        return server
    server.extensions["rnn_hardened"] = True
    app = app if app is not None else _dash_app_of(server)
    server.config["MAX_CONTENT_LENGTH"] = int(max_body)
    headers: dict[str, str] = {}  # built at the first answer, after every callback exists
    prefix = app.config.routes_pathname_prefix if app is not None else "/"
    endpoint = f"{prefix}_dash-update-component"

    @server.before_request
    def _check_callback_request():
        if request.method == "POST" and request.path == endpoint and app is not None:
            reason = callback_request_problem(app, request.get_json(silent=True))
            if reason:
                raise BadRequest(reason)
        return None

    @server.after_request
    def _add_headers(response):
        if not headers:  # inline clientside callbacks add inline scripts: hash them all
            hashes = list(app.csp_hashes()) if app is not None else []
            headers.update(security_headers(content_security_policy(hashes, frame_ancestors),
                                            frame_ancestors))
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        if getattr(g, "callback_error", None):
            response.headers[ERROR_HEADER] = g.callback_error
        return response

    compress(server, prefix)
    server.register_error_handler(Exception, _error_handler(endpoint))
    _log_like_gunicorn()
    if app is not None and getattr(app, "_on_error", None) is None:
        app._on_error = _callback_error_handler(notice_id)
    return server


class StaticCache:
    """flask-compress cache backend: the compressed scripts and assets, never a callback.

    Keys are ``"<algorithm>;<path>"`` (:func:`static_key`); a key of anything else is
    ``""``-suffixed and neither stored nor found, so each callback answer is
    compressed on its own. At most :attr:`MAX_ITEMS` files, least recently used out.
    """

    MAX_ITEMS = 64

    def __init__(self) -> None:
        self.items: OrderedDict[str, bytes] = OrderedDict()

    def get(self, key: str) -> bytes | None:
        if key.endswith(";"):
            return None
        data = self.items.get(key)
        if data is not None:
            self.items.move_to_end(key)
        return data

    def set(self, key: str, data: bytes) -> None:
        if key.endswith(";"):
            return
        self.items[key] = data
        self.items.move_to_end(key)
        while len(self.items) > self.MAX_ITEMS:
            self.items.popitem(last=False)


def compress(server: Flask, prefix: str = "/") -> Compress:
    """Compress answers with flask-compress (zstd level 3, brotli 4, gzip 6: ~2 ms for
    a phase diagram's answer) and keep compressed static files (:class:`StaticCache`)."""
    statics = tuple(prefix + p for p in STATIC_PREFIXES)

    def static_key(req) -> str:
        ok = req.method == "GET" and req.path.startswith(statics)
        return req.full_path if ok else ""

    server.config.update(COMPRESS_ALGORITHM=COMPRESS_ALGORITHMS, COMPRESS_CACHE_KEY=static_key,
                         COMPRESS_CACHE_BACKEND=StaticCache)
    return Compress(server)


def _log_like_gunicorn() -> None:
    """Under gunicorn, write this module's records to its error log (with the pid)."""
    gunicorn_log = logging.getLogger("gunicorn.error")
    if gunicorn_log.handlers and not log.handlers:
        log.handlers = list(gunicorn_log.handlers)
        log.setLevel(logging.INFO)
        log.propagate = False


def _dash_app_of(server: Flask):
    """The Dash app serving ``server``, if :func:`dash.get_app` knows it."""
    try:
        app = dash.get_app()
    except Exception:  # no app created yet
        return None
    return app if getattr(app, "server", None) is server else None


def _error_handler(endpoint: str):
    """Flask handler: HTTP errors pass through, anything else loses its traceback."""

    def handle(err: Exception):
        if isinstance(err, HTTPException):
            return err
        log.error("unhandled %s on %s %s", type(err).__name__, request.method, request.path,
                  exc_info=err)
        if request.path == endpoint:  # Dash could not read the request body
            return jsonify(error=f"bad callback request ({type(err).__name__})"), 400
        return "Internal error; it has been logged.", 500

    return handle


def _callback_error_handler(notice_id: str | None):
    """Dash ``on_error``: log, flag the response, show a notice, change no output."""

    def on_error(err: Exception):
        log.error("callback raised %s: %s", type(err).__name__, err, exc_info=err)
        g.callback_error = type(err).__name__
        if notice_id:
            dash.set_props(notice_id, {"children": NOTICE_TEXT, "hidden": False})
        return None

    return on_error


def callback_request_problem(app: Any, body: Any) -> str | None:
    """Why ``body`` is not a callback request ``app`` can answer (None: it is).

    Checks the JSON structure and that ``output``, ``outputs``, ``inputs``,
    ``state`` and ``changedPropIds`` name exactly a registered callback's
    components and properties. Values are not looked at: the callbacks
    validate (clamp) them.
    """
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    if not isinstance(body.get("output"), str):
        return "'output' must be a string"
    spec = app.callback_map.get(body["output"])
    if spec is None:
        return "'output' names no callback"
    for key, want in (("inputs", spec["inputs"]), ("state", spec["state"])):
        problem = _deps_problem(key, body.get(key, [] if key == "state" else None), want)
        if problem:
            return problem
    if "{" in body["output"] or any(isinstance(w["id"], dict) for w in spec["inputs"]):
        return None  # pattern matching: Dash and the callback check the rest
    outputs = body.get("outputs")
    got_out = outputs if isinstance(outputs, list) else [outputs]
    if _pairs(got_out) != _pairs(_split_output(body["output"])):
        return "'outputs' do not match the callback"
    changed = body.get("changedPropIds", [])
    known = {f"{w['id']}.{w['property']}" for w in spec["inputs"]}
    if not isinstance(changed, list) or not all(isinstance(c, str) and c in known
                                                for c in changed):
        return "'changedPropIds' must list inputs of the callback"
    return None


def _deps_problem(key: str, got: Any, want: list[dict]) -> str | None:
    if not isinstance(got, list) or len(got) != len(want):
        return f"'{key}' must list the callback's {len(want)} {key}"
    if any(isinstance(w.get("id"), dict) for w in want):  # pattern matching: shape only
        ok = all(isinstance(x, (dict, list)) for x in got)
        return None if ok else f"'{key}' items must be objects"
    if _pairs(got) != _pairs(want):
        return f"'{key}' do not match the callback"
    return None


def _pairs(items: list) -> list[tuple] | None:
    """(id, property) of each dependency, None if the structure is wrong."""
    out = []
    for item in items:
        if not isinstance(item, dict):
            return None
        ident, prop = item.get("id"), item.get("property")
        if not isinstance(prop, str) or not isinstance(ident, (str, dict)):
            return None
        out.append((ident if isinstance(ident, str) else repr(sorted(ident.items())), prop))
    return out


def _split_output(output: str) -> list[dict]:
    """Output dependencies named by a callback id (``..a.b...c.d..`` or ``a.b``)."""
    from dash._utils import split_callback_id

    parts = split_callback_id(output)
    return parts if isinstance(parts, list) else [parts]
