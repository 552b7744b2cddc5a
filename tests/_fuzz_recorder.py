"""Recording and reporting of the fuzz tests' findings (no tests here).

:class:`Recorder` posts one payload to a running gunicorn, decides what is wrong
with the answer (5xx, ``X-Callback-Error`` with the exception read back from the
server log, > 2 s, a traceback in the body, no answer), sorts each problem into
*known* (already reported to the dashboard's owner, :data:`KNOWN`) or new, and
cuts a failing payload down to the values the problem needs (:meth:`minimise`).
"""

from __future__ import annotations

import json
import re
import time

try:
    from tests._serving_util import ENDPOINT, Http
except ImportError:  # pytest's rootdir-relative import
    from _serving_util import ENDPOINT, Http

ANSWER_S = 2.0  # issue 6: every answer within 2 s
CLIENT_TIMEOUT_S = 20.0  # how long we wait for a slow answer (then it counts as failed)
#: Callback exceptions already reported to the dashboard's owner (issue 4 files), as
#: (regex on "Type: message @ file:line", what is wrong). The fuzz tests fail on any
#: other problem; test_known_dashboard_findings_fixed (strict xfail) fails once these
#: are fixed, so this table is then emptied.
#: Problems already reported and not yet fixed: (regex on "Error: msg @ file", why).
#: Empty: the six callback exceptions the first fuzz runs found (non-dict drawn state,
#: non-string URL, +-inf and huge integers, unhashable preset/export values) are fixed
#: and guarded by tests/test_callbacks.py and tests/test_url_state.py.
KNOWN: list[tuple[str, str]] = []


def post(url: str, data: bytes, headers: dict | None = None):
    """The answer, or the exception if none came within ``CLIENT_TIMEOUT_S``."""
    http_ = Http(url, timeout=CLIENT_TIMEOUT_S)
    try:
        return http_.request("POST", ENDPOINT, data, headers)
    except (TimeoutError, ConnectionError, OSError) as exc:
        return exc
    finally:
        http_.close()


def error_signature(log_text: str) -> str:
    """``Type: message @ file:line (function)`` of the last callback error in a log part."""
    found = re.findall(r"callback raised (\w+): ([^\n]*)", log_text)
    frames = re.findall(r'File "[^"]*/(components/[^"]+|theory/[^"]+)", line (\d+), in (\w+)',
                        log_text)
    if not found:
        return "no traceback in the server log"
    where = f" @ {frames[-1][0]}:{frames[-1][1]} ({frames[-1][2]})" if frames else ""
    return f"{found[-1][0]}: {found[-1][1][:120]}{where}"


def describe(payload: bytes, base: dict | None) -> dict | str:
    """The payload, shortened to what differs from the page's own request ``base``."""
    try:
        body = json.loads(payload)
    except (ValueError, RecursionError):
        return repr(payload[:300])
    if not isinstance(body, dict) or base is None or not isinstance(body.get("inputs"), list):
        return json.dumps(body, allow_nan=True)[:600]

    def short(v):
        text = json.dumps(v, allow_nan=True)
        return text if len(text) <= 80 else f"{text[:60]}... ({len(text)} chars)"

    out: dict = {"callback": body.get("output", "")[:60], "changedPropIds":
                 body.get("changedPropIds")}
    old = {f"{d['id']}.{d['property']}": d.get("value", "<missing>")
           for d in base["inputs"] + base.get("state", [])}
    for d in body["inputs"] + (body.get("state") or []):
        if isinstance(d, dict) and "id" in d:
            pid, value = f"{d['id']}.{d.get('property')}", d.get("value", "<missing>")
            if pid not in old or old[pid] != value or value != value:
                out[pid] = short(value)
    out.update({k: short(v) for k, v in body.items() if k not in base and
                k != "parsedChangedPropsIds"})
    return out


def report(found: list[dict], limit: int = 12) -> str:
    """One example payload per distinct problem, with the count of its occurrences."""
    seen: dict[str, dict] = {}
    for f in found:
        entry = {k: v for k, v in f.items() if not k.startswith("_")}
        seen.setdefault(f["problem"], {**entry, "count": 0})["count"] += 1
    return json.dumps(list(seen.values())[:limit], indent=1, ensure_ascii=True)


class Recorder:
    """Sends payloads to ``server`` (a ``Gunicorn``) and keeps every problem found."""

    def __init__(self, server) -> None:
        self.server = server
        self.found: list[dict] = []

    def send(self, payload: bytes, kind: str, base=None, headers=None, extra=None) -> None:
        """POST ``payload``; record what is wrong with the answer under ``kind``."""
        log_from = self.server.log_size()
        reply = post(self.server.url, payload, headers)
        for problem in self.problems(reply, log_from, extra):
            known = next((why for rx, why in KNOWN if re.search(rx, problem)), None)
            self.found.append({"kind": kind, "problem": problem, "known": known,
                               "payload": describe(payload, base), "_raw": (payload, base)})

    def problems(self, reply, log_from: int, extra) -> list[str]:
        if isinstance(reply, Exception):
            return [f"no answer within {CLIENT_TIMEOUT_S} s: {reply!r}"]
        out = []
        if reply.status >= 500:
            out.append(f"HTTP {reply.status}")
        if "x-callback-error" in reply.headers:
            time.sleep(0.05)  # let the worker's log line reach the file
            out.append(error_signature(self.server.log_since(log_from)))
        if reply.seconds > ANSWER_S:
            out.append(f"answer took {reply.seconds:.2f} s")
        if reply.status == 200 and b"Traceback" in reply.body:
            out.append("traceback in the answer")
        if extra and not out:
            out += extra(reply)
        return out

    def unknown(self, kind: str) -> list[dict]:
        return [f for f in self.found if f["kind"] == kind and not f["known"]]

    def known(self) -> list[dict]:
        return [f for f in self.found if f["known"]]

    def minimal_report(self, found: list[dict], limit: int = 10) -> list[dict]:
        """The first finding of each distinct problem, its payload cut down."""
        firsts: dict[str, dict] = {}
        for f in found:
            firsts.setdefault(f["problem"], f)
        return [{"problem": p, "known": f["known"], "payload": self.minimise(f)}
                for p, f in list(firsts.items())[:limit]]

    def _same_problem(self, body: dict, base: dict, problem: str) -> bool:
        before = len(self.found)
        self.send(json.dumps(body, allow_nan=True).encode(), "minimise", base)
        same = any(f["problem"] == problem for f in self.found[before:])
        del self.found[before:]
        return same

    def minimise(self, finding: dict, max_requests: int = 40) -> dict | str:
        """The finding's payload with every value that is not needed for it put back.

        Greedy: revert one dependency (then one extra key) at a time to the page's
        own request and keep the change if the same problem still occurs.
        """
        payload, base = finding["_raw"]
        try:
            body = json.loads(payload)
        except (ValueError, RecursionError):
            return finding["payload"]
        if base is None or not isinstance(body, dict):
            return finding["payload"]
        orig = {f"{d['id']}.{d['property']}": d for d in base["inputs"] + base.get("state", [])}
        trials = []
        for key in ("inputs", "state"):
            for i, dep in enumerate(body.get(key) or []):
                pid = f"{dep.get('id')}.{dep.get('property')}" if isinstance(dep, dict) else None
                if pid in orig and dep != orig[pid]:
                    trials.append((key, i, orig[pid]))
        trials += [(k, None, None) for k in body if k not in base and
                   k != "parsedChangedPropsIds"]
        for key, i, value in trials[:max_requests]:
            trial = json.loads(json.dumps(body, allow_nan=True))
            if i is None:
                del trial[key]
            else:
                trial[key][i] = value
            if self._same_problem(trial, base, finding["problem"]):
                body = trial
        return describe(json.dumps(body, allow_nan=True).encode(), base)
