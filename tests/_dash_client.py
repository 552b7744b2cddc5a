"""The requests a browser tab sends to a Dash 4 app (no tests here).

:class:`DashModel` / :class:`Session` derive them from the live ``/_dash-layout``
and ``/_dash-dependencies`` (so they follow whatever callbacks the dashboard
defines): the initial calls of a page load, then for a changed property every
server-side callback it triggers, and the callbacks those outputs trigger in
turn (a callback waits while another pending one writes one of its inputs, as
the renderer does). Used by the serving tests and ``benchmarks/bench_load.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

try:
    from tests._serving_util import ENDPOINT, Http, Reply
except ImportError:  # pytest's rootdir-relative import
    from _serving_util import ENDPOINT, Http, Reply


def walk_layout(node: Any, out: dict[str, dict]) -> dict[str, dict]:
    """``{id: {prop: value}}`` of every component with a string id in a layout."""
    if isinstance(node, list):
        for item in node:
            walk_layout(item, out)
    elif isinstance(node, dict):
        props = node.get("props") if "type" in node else None
        if isinstance(props, dict):
            ident = props.get("id")
            if isinstance(ident, str):
                out[ident] = {k: v for k, v in props.items() if k != "children"
                              or not isinstance(v, (dict, list))}
                out[ident]["_type"] = node.get("type")
            for value in props.values():
                walk_layout(value, out)
    return out


def _pid(dep: dict) -> str:
    return f"{dep['id']}.{dep['property']}"


@dataclass
class Callback:
    """One server-side callback as listed by ``/_dash-dependencies``."""

    output: str
    inputs: list[dict]
    state: list[dict]
    outputs: list[dict]
    multi: bool
    prevent_initial_call: bool

    @property
    def input_ids(self) -> set[str]:
        return {_pid(d) for d in self.inputs}

    @property
    def output_ids(self) -> set[str]:
        return {_pid(d) for d in self.outputs}


def split_output(output: str) -> list[dict]:
    """``..a.b...c.d..`` (or ``a.b``) into [{'id': 'a', 'property': 'b'}, ...]."""
    parts = output[2:-2].split("...") if output.startswith("..") else [output]
    return [dict(zip(("id", "property"), p.rsplit(".", 1), strict=True)) for p in parts]


class DashModel:
    """What the renderer knows after loading the page: props and server callbacks."""

    def __init__(self, layout: Any, deps: list[dict]) -> None:
        self.props = walk_layout(layout, {})
        for props in self.props.values():  # dcc.Location reads the address bar
            if props.get("_type") == "Location":
                props.update(pathname="/", search="", hash="", href="http://127.0.0.1/")
        self.callbacks = [
            Callback(d["output"], d["inputs"], d.get("state", []), split_output(d["output"]),
                     d["output"].startswith(".."), bool(d.get("prevent_initial_call")))
            for d in deps if not d.get("clientside_function")]

    @classmethod
    def fetch(cls, url: str) -> DashModel:
        http_ = Http(url)
        try:
            return cls(http_.get_json("/_dash-layout"), http_.get_json("/_dash-dependencies"))
        finally:
            http_.close()

    def callback(self, output_id: str) -> Callback:
        """The server callback writing ``output_id`` (``id.prop``)."""
        return next(cb for cb in self.callbacks if output_id in cb.output_ids)


@dataclass
class Session:
    """One browser tab: its props, its connection, the requests it sends."""

    model: DashModel
    http: Http
    props: dict[str, dict] = field(default_factory=dict)
    log: list[tuple[dict, Reply]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.props = json.loads(json.dumps(self.model.props))

    def value(self, prop_id: str) -> Any:
        ident, prop = prop_id.rsplit(".", 1)
        return self.props.get(ident, {}).get(prop)

    def body(self, cb: Callback, changed: list[str]) -> dict:
        """The JSON body the renderer POSTs for ``cb`` (``changedPropIds`` = changed)."""

        def fill(deps: list[dict]) -> list[dict]:
            out = []
            for d in deps:
                item = {"id": d["id"], "property": d["property"]}
                if d["property"] in self.props.get(d["id"], {}):
                    item["value"] = self.props[d["id"]][d["property"]]
                out.append(item)
            return out

        body = {"output": cb.output, "outputs": cb.outputs if cb.multi else cb.outputs[0],
                "inputs": fill(cb.inputs), "changedPropIds": sorted(changed),
                "parsedChangedPropsIds": sorted(changed)}
        if cb.state:
            body["state"] = fill(cb.state)
        return body

    def apply(self, reply: Reply) -> list[str]:
        """Store the props a 200 answer sets; return their ``id.prop`` names."""
        if reply.status != 200:
            return []
        data = reply.json()
        written = []
        for part in ("response", "sideUpdate"):
            for ident, props in (data.get(part) or {}).items():
                for prop, value in props.items():
                    if not (isinstance(value, dict) and "__dash_patch_update" in value):
                        self.props.setdefault(ident, {})[prop] = value
                    written.append(f"{ident}.{prop}")
        return written

    def run(self, pending: dict[str, set[str]], send=None) -> list[tuple[dict, Reply]]:
        """Fire ``pending`` callbacks (output -> changed props) and what they trigger.

        A callback waits while another pending callback writes one of its
        inputs (as the renderer does). ``send(body) -> Reply`` defaults to a POST
        on this session's connection.
        """
        send = send or (lambda b: self.http.request("POST", ENDPOINT, json.dumps(b)))
        by_output = {cb.output: cb for cb in self.model.callbacks}
        done: list[tuple[dict, Reply]] = []
        for _ in range(20):  # bounded: the dashboard's chains are 2 deep
            if not pending:
                break
            blocked = {o for o in pending for p in pending if p != o and
                       by_output[p].output_ids & by_output[o].input_ids}
            ready = [o for o in pending if o not in blocked] or list(pending)[:1]
            for out in ready:
                cb, changed = by_output[out], pending.pop(out)
                body = self.body(cb, sorted(changed))
                reply = send(body)
                done.append((body, reply))
                for pid in self.apply(reply):
                    for other in self.model.callbacks:
                        if pid in other.input_ids and other.output != out:
                            pending.setdefault(other.output, set()).add(pid)
        self.log += done
        return done

    def page_load(self, search: str = "", send=None) -> list[tuple[dict, Reply]]:
        """The initial callbacks of opening the page at ``?search``."""
        for props in self.props.values():
            if props.get("_type") == "Location":
                props["search"] = search
        pending = {cb.output: set() for cb in self.model.callbacks
                   if not cb.prevent_initial_call}
        return self.run(pending, send)

    def set(self, prop_id: str, value: Any, send=None) -> list[tuple[dict, Reply]]:
        """The user changes ``prop_id`` to ``value`` (a slider released, a radio clicked)."""
        return self.set_many({prop_id: value}, send)

    def set_many(self, changes: dict[str, Any], send=None) -> list[tuple[dict, Reply]]:
        """Several properties change at once (``{id.prop: value}``); fire what they trigger."""
        for prop_id, value in changes.items():
            ident, prop = prop_id.rsplit(".", 1)
            self.props.setdefault(ident, {})[prop] = value
        pending = {cb.output: cb.input_ids & changes.keys() for cb in self.model.callbacks
                   if cb.input_ids & changes.keys()}
        return self.run(pending, send)

    def fork(self, http_: Http) -> Session:
        """A new tab on ``http_`` holding a copy of this one's props."""
        other = Session(self.model, http_)
        other.props = json.loads(json.dumps(self.props))
        return other
