"""Hostile input against the real ``/_dash-update-component`` of a running gunicorn (issue 6).

gunicorn is started as the README says (``gunicorn -c gunicorn.conf.py app:server``;
``tests._hardened_app:server`` until ``app.py`` calls ``harden``) on a free loopback
port. Payload shapes come from the live ``/_dash-dependencies`` and ``/_dash-layout``
(``tests/_serving_util.py``), so the fuzzing follows whatever callbacks the
dashboard defines. Hypothesis generates:

* valid callback bodies whose values are hostile (NaN, +-inf, huge and negative
  numbers, numbers beyond float range, numeric and junk strings, very long
  strings, nulls, lists, dicts with unknown keys, missing values), on random
  ``changedPropIds``;
* hostile permalinks (``url.search``): known and unknown keys, junk values,
  repeated keys, broken percent-encoding;
* malformed bodies: not JSON, JSON of the wrong type, wrong or unknown
  callbacks, missing or extra dependencies, deep nesting, oversized bodies.

Every answer must be below 500, carry no ``X-Callback-Error`` (the header
:func:`components.serving.harden` sets when a callback raised), arrive within
2 s, and no worker may be restarted. Failures are collected (not shrunk, to keep
the run bounded) and reported with their exact payloads.

Cost: the generated bodies keep the expensive *legitimate* settings off (the
sampled-network overlay, "both" architectures with the largest grids); those are
measured one by one in :func:`test_expensive_views_answer_within_2s`. The run
stops generating after ``FUZZ_BUDGET_S`` seconds (about 60-90 s in all).
"""

from __future__ import annotations

import json
import math
import re
import time
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

try:
    from tests._dash_client import DashModel, Session
    from tests._fuzz_recorder import ANSWER_S, Recorder, post, report
    from tests._serving_util import ROOT, Gunicorn, Http
except ImportError:  # pytest's rootdir-relative import
    from _dash_client import DashModel, Session
    from _fuzz_recorder import ANSWER_S, Recorder, post, report
    from _serving_util import ROOT, Gunicorn, Http

pytestmark = pytest.mark.slow

FUZZ_BUDGET_S = {"single": 25.0, "values": 20.0, "url": 12.0, "malformed": 8.0}
#: Settings whose *valid* values are legitimately expensive; the value fuzz keeps them
#: cheap (they still get hostile junk values, which the dashboard maps to defaults).
CHEAP = {"sample-on.data": [False, None, 0, ""], "ctl-arch.value": ["vanilla", "minimal"],
         "ctl-n.value": [60, 100, 150]}
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    g = Gunicorn(tmp_path_factory.mktemp("fuzz"), workers=2, threads=4).start()
    try:
        yield g
    finally:
        g.stop()


@pytest.fixture(scope="module")
def rec(server):
    """Every problem found in the module; all of them end in test-artifacts/."""
    recorder = Recorder(server)
    yield recorder
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "fuzz-findings.json").write_text(report(recorder.found, limit=100))


@pytest.fixture(scope="module")
def model(server):
    return DashModel.fetch(server.url)


@pytest.fixture(scope="module")
def baseline(server, model):
    """A session after a page load: its props give the valid starting bodies."""
    session = Session(model, Http(server.url))
    replies = session.page_load()
    assert [r.status for _, r in replies] == [200] * len(replies)
    return session


@pytest.fixture(scope="module")
def pids_before(server, baseline):
    return server.worker_pids(), len(server.booted_pids())


# ---------------------------------------------------------------- strategies
FINITE_WEIRD = [0, -0.0, -1, -1e-300, 5e-324, 1e308, -1e308, 2**53 + 1, 2**63, -(2**63),
                10**400, -(10**400), 0.1 + 0.2]
junk_text = st.one_of(
    st.sampled_from(["nan", "NaN", "inf", "-inf", "Infinity", "1e999", "-1e999", "0x10",
                     " 1.5 ", "1,5", "", " ", "null", "true", "None", "vanilla;drop",
                     "<script>alert(1)</script>", "../../etc/passwd", "%00", "\u202e\u0000",
                     "sigma_w,sigma_b,mu_b", "sigma_w,sigma_w", "xi_c", "both"]),
    st.text(max_size=40),
    st.integers(2_000, 20_000).map(lambda n: "9" * n),  # very long numeric strings
    st.integers(2_000, 20_000).map(lambda n: "x" * n),
)
scalar = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf, None, True, False, *FINITE_WEIRD]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**30), 10**30),
    junk_text,
)
hostile = st.recursive(
    scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(["x", "y", "points", "value", "__proto__",
                                         "constructor", "id"]), inner, max_size=3)),
    max_leaves=8,
)


@st.composite
def value_bodies(draw, model, baseline):
    """A valid-shaped body of one callback with some values replaced by hostile ones."""
    cb = draw(st.sampled_from(model.callbacks))
    body = baseline.body(cb, [])
    deps = body["inputs"] + body.get("state", [])
    for item in deps:
        pid = f"{item['id']}.{item['property']}"
        if pid in CHEAP:
            choice = draw(st.integers(0, 2))
            if choice == 0:
                item["value"] = draw(st.sampled_from(CHEAP[pid]))
                continue
            if choice == 1:
                continue
        roll = draw(st.integers(0, 3))
        if roll == 0:
            item["value"] = draw(hostile)
        elif roll == 1:
            item.pop("value", None)
        if pid == "sample-on.data" and item.get("value"):  # keep the overlay off (cost)
            item["value"] = False
    names = [f"{d['id']}.{d['property']}" for d in body["inputs"]]
    body["changedPropIds"] = draw(st.lists(st.sampled_from(names), max_size=3, unique=True))
    if draw(st.booleans()):
        body[draw(st.sampled_from(["extra", "__proto__", "job"]))] = draw(hostile)
    return cb, body


URL_KEYS = ["v", "arch", "phi", "weights", "sigma_w", "sigma_b", "mu_b", "sigma_v", "R",
            "Sigma", "T", "k", "x", "y", "xi", "n", "N", "seed", "sample", "zzz", "__class__"]
url_value = st.one_of(
    st.sampled_from(["nan", "inf", "-inf", "1e999", "-1e308", "1e-320", "0", "-5", "abc",
                     "", "%", "%zz", "%00", "1;2", "both", "minimal", "gaussian", "relu",
                     "sigma_v", "Sigma", "300", "1000000", "99999999999999999999", "1",
                     "c", "q", "jac", "true"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=30).map(quote),
)
search = st.lists(st.tuples(st.sampled_from(URL_KEYS), url_value), max_size=12).map(
    lambda pairs: "?" + "&".join(f"{k}={v}" for k, v in pairs)) | st.sampled_from(
    ["?", "??", "?&&&", "?=1", "?sigma_w", "x" * 3000, "?" + "sigma_w=1&" * 500])


# ----------------------------------------------------------------- checks
def within_budget(kind: str, start: dict) -> bool:
    start.setdefault(kind, time.monotonic())
    return time.monotonic() - start[kind] < FUZZ_BUDGET_S[kind]


def clamped(reply) -> list[str]:
    """Every slider value the URL callback writes lies in the [min, max] it writes."""
    data = reply.json().get("response", {})
    out = []
    for ident, props in data.items():
        if {"value", "min", "max"} <= props.keys() and isinstance(props["value"], (int, float)):
            v, lo, hi = props["value"], props["min"], props["max"]
            if not (math.isfinite(v) and lo <= v <= hi):
                out.append(f"{ident}.value = {v!r} outside [{lo}, {hi}]")
    return out


def fail_report(rec: Recorder, kind: str) -> str:
    return json.dumps(rec.minimal_report(rec.unknown(kind), limit=6), indent=1)


_START: dict = {}
FUZZ_SETTINGS = settings(max_examples=400, deadline=None, derandomize=True, database=None,
                         suppress_health_check=list(HealthCheck))


# ------------------------------------------------------------------- tests
#: Sent alone, one input at a time (JSON has no NaN/Infinity; Python's json and
#: Flask read them, and a forged request can carry them).
SINGLE = [math.nan, math.inf, 10**400, -(10**30), "1e999", [], {"x": [1]}, "x" * 5000]


def test_each_value_alone_is_answered(rec, model, baseline, pids_before):
    """Every input and state of every callback, one hostile value at a time (the rest
    as the page sends them): a systematic sweep that names the culprit directly."""
    start = time.monotonic()
    for cb in model.callbacks:
        for key in ("inputs", "state"):
            for i, dep in enumerate(getattr(cb, key)):
                pid = f"{dep['id']}.{dep['property']}"
                if pid in CHEAP and CHEAP[pid] == [False, None, 0, ""]:
                    continue  # the sampling switch: any truthy value starts a sampling
                for value in SINGLE:
                    if time.monotonic() - start > FUZZ_BUDGET_S["single"]:
                        break
                    base = baseline.body(cb, [pid] if key == "inputs" else [])
                    body = json.loads(json.dumps(base))
                    body[key][i]["value"] = value
                    rec.send(json.dumps(body, allow_nan=True).encode(), "single", base=base)
    assert not rec.unknown("single"), fail_report(rec, "single")


def test_fuzz_callback_values(rec, model, baseline, pids_before):
    """Valid shapes, hostile values: no 5xx, no callback exception, within 2 s."""

    @FUZZ_SETTINGS
    @given(st.data())
    def run(data):
        cb, body = data.draw(value_bodies(model, baseline))  # draw first: same draws always
        if not within_budget("values", _START):
            return
        payload = json.dumps(body, allow_nan=True).encode()
        rec.send(payload, "values", base=baseline.body(cb, []))

    run()
    assert not rec.unknown("values"), fail_report(rec, "values")


def test_fuzz_permalinks(server, rec, model, baseline, pids_before):
    """Hostile ``?query`` strings through the URL callback: answered, values clamped."""
    url_cb = next((cb for cb in model.callbacks if "url.search" in cb.input_ids), None)
    if url_cb is None:
        pytest.skip("no server callback reads url.search")

    @FUZZ_SETTINGS
    @given(search)
    def run(query):
        if not within_budget("url", _START):
            return
        session = Session(model, Http(server.url))
        for props in session.props.values():
            if props.get("_type") == "Location":
                props["search"] = query
        body = session.body(url_cb, ["url.search"])
        payload = json.dumps(body).encode()
        rec.send(payload, "url", base=baseline.body(url_cb, []), extra=clamped)

    run()
    assert not rec.unknown("url"), fail_report(rec, "url")


@st.composite
def malformed(draw, model, baseline):
    """Bodies that are not a request the page could send."""
    cb = draw(st.sampled_from(model.callbacks))
    good = baseline.body(cb, [])
    kind = draw(st.integers(0, 11))
    if kind == 0:
        return draw(st.binary(max_size=200))
    if kind == 1:
        return json.dumps(draw(hostile)).encode()
    if kind == 2:  # deep nesting (under the size limit) or over the size limit
        return b"[" * draw(st.sampled_from([5_000, 60_000, 100_000]))
    if kind == 3:
        return json.dumps({**good, "output": draw(junk_text)}).encode()
    if kind == 4:
        return json.dumps({**good, "inputs": draw(hostile)}).encode()
    if kind == 5:
        return json.dumps({**good, "inputs": good["inputs"][:-1]}).encode()
    if kind == 6:
        return json.dumps({**good, "inputs": good["inputs"] + good["inputs"][:1]}).encode()
    if kind == 7:
        swapped = [dict(d, id=draw(junk_text)) for d in good["inputs"]]
        return json.dumps({**good, "inputs": swapped}).encode()
    if kind == 8:
        return json.dumps({**good, "outputs": draw(hostile)}).encode()
    if kind == 9:
        return json.dumps({**good, "changedPropIds": draw(hostile)}).encode()
    if kind == 10:
        return json.dumps({**good, "state": draw(hostile)}).encode()
    return json.dumps({k: v for k, v in good.items()
                       if k != draw(st.sampled_from(sorted(good)))}).encode()


def test_fuzz_malformed_bodies(server, rec, model, baseline, pids_before):
    """Malformed bodies get a 4xx (never a 5xx or a traceback)."""

    @FUZZ_SETTINGS
    @given(st.data())
    def run(data):
        payload = data.draw(malformed(model, baseline))
        ctype = data.draw(st.sampled_from(["application/json", "text/plain", ""]))
        if not within_budget("malformed", _START):
            return
        rec.send(payload, "malformed", headers={"Content-Type": ctype} if ctype else {})

    run()
    # an oversized body is refused by the size limit, before any parsing
    big = json.dumps({"output": "x", "pad": "y" * 200_000}).encode()
    reply = post(server.url, big)
    assert not isinstance(reply, Exception) and reply.status == 413
    assert not rec.unknown("malformed"), fail_report(rec, "malformed")


def test_known_dashboard_findings_fixed(rec):
    """None of the already-reported callback exceptions showed up in this run.

    For the report, each distinct problem's payload is cut down to the values
    it needs (``Recorder.minimise``) and written to ``test-artifacts/fuzz-minimal.json``.
    """
    minimal = rec.minimal_report(rec.known())
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "fuzz-minimal.json").write_text(json.dumps(minimal, indent=1))
    assert not minimal, json.dumps(minimal, indent=1)


def test_no_worker_restarted(server, pids_before):
    """After all the fuzzing: the same worker processes, no timeout, no reboot."""
    pids, booted = pids_before
    assert server.worker_pids() == pids
    assert len(server.booted_pids()) == booted
    log = server.log()
    assert not re.search(r"WORKER TIMEOUT|was sent SIG|Worker exiting|out of memory", log), log


#: The costliest views a legitimate user can ask for, each within the 2 s answer time:
#: the largest grid of the correlation timescale in the side-by-side mode (the grids read
#: the 3-D cross-moment tables; before them this view took 4-9 s), and the sampled
#: overlay at the sampling budget (components.specs.SAMPLE_BUDGET: 2 x 10^9 = N^3 T per
#: architecture shown; measured <= 6.2e-10 s per unit, so <= 1.3 s).
EXPENSIVE = {
    "both_n300_xi_c": {"ctl-arch.value": "both", "ctl-n.value": 300, "ctl-xi.value": "xi_c",
                       "ctl-sigma_v.value": 1.37},
    "vanilla_n300_xi_c_mu_plane": {"ctl-arch.value": "vanilla", "ctl-n.value": 300,
                                   "ctl-xi.value": "xi_c", "ctl-plane.value": "mu_b,sigma_w"},
    "sample_minimal_at_budget": {"ctl-arch.value": "minimal", "sample-on.data": True,
                                 "ctl-N.value": 200, "ctl-T.value": 250},
    "sample_both_at_budget": {"ctl-arch.value": "both", "sample-on.data": True,
                              "ctl-N.value": 200, "ctl-T.value": 125},
    # the gated cells' costly cases: GC4 grids are capped (specs.GC4_GRID_MAX), the GRU
    # reset_after correlation map with a bias spread is refused with a message, and the
    # simulated real networks stop at specs.SIMULATE_BUDGET (two LSTM/GRU networks here)
    "lstm_gc4_n300": {"ctl-arch.value": "lstm", "ctl-cl.value": "gc4", "ctl-n.value": 300},
    "gru_xi_c_sigma_b": {"ctl-arch.value": "gru", "ctl-xi.value": "xi_c",
                         "ctl-sigma_b.value": 0.5},
    "simulate_lstm_vs_gru_at_budget": {"ctl-arch.value": "lstm", "ctl-vs.value": "gru",
                                       "simulate-on.data": True, "ctl-N.value": 400,
                                       "ctl-T.value": 200},
}


@pytest.mark.parametrize("name", sorted(EXPENSIVE))
def test_expensive_views_answer_within_2s(server, baseline, name):
    """The requests the page sends when these controls change, each within 2 s."""
    session = baseline.fork(Http(server.url, timeout=5.0))  # > 2 s is shown after 5 s
    try:
        replies = session.set_many(EXPENSIVE[name])
    except OSError as exc:  # a timeout: no answer within 5 s
        raise AssertionError(f"{name}: no answer within 5 s ({exc!r})") from exc
    assert replies, "no server callback reads these controls"
    assert [r.status for _, r in replies] == [200] * len(replies)
    slowest = max(r.seconds for _, r in replies)
    assert slowest <= ANSWER_S, f"{name}: {slowest:.2f} s"
