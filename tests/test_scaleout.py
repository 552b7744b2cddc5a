"""Scale-out, shown not claimed (issue 6): two gunicorn instances behind Debian's nginx.

The nginx site file is the one in ``docs/hosting.md`` (read from the Markdown; only
the ports change: both instances and nginx listen on free 127.0.0.1 ports). nginx
runs as a subprocess with ``daemon off``, its own prefix, pid, logs and temp folders
in a temporary directory (the system nginx service is never touched).

Checked: one browser session (page load, moves in and out of the phase-diagram
plane, an architecture switch) lands on both instances (nginx's ``X-Upstream``
header), and every answer through nginx is byte-identical to the answer of each
instance asked directly; the security headers survive the proxy; after one
instance is stopped the session goes on through the other with no failed request.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time

import pytest

try:
    from tests._dash_client import DashModel, Session
    from tests._serving_util import ENDPOINT, ROOT, Gunicorn, Http, die_with_parent, free_port
except ImportError:  # pytest's rootdir-relative import
    from _dash_client import DashModel, Session
    from _serving_util import ENDPOINT, ROOT, Gunicorn, Http, die_with_parent, free_port

pytestmark = pytest.mark.slow
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
DOC_PORTS = ("8051", "8052")


def site_config() -> str:
    """The ``nginx`` code block of docs/hosting.md."""
    text = (ROOT / "docs/hosting.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```nginx\n(.*?)```", text, re.S)
    assert len(blocks) == 1, "docs/hosting.md must hold exactly one nginx block"
    return blocks[0]


def nginx_conf(tmp, site: str, port: int, backends: list[int]) -> str:
    """A whole nginx.conf around the documented site, on loopback ports in ``tmp``."""
    for doc, real in zip(DOC_PORTS, backends, strict=True):
        site = site.replace(f"127.0.0.1:{doc}", f"127.0.0.1:{real}")
    site = re.sub(r"listen 80;", f"listen 127.0.0.1:{port};", site)
    temps = "\n".join(f"    {k}_temp_path {tmp}/{k};" for k in
                      ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    user = "user root;\n" if os.geteuid() == 0 else ""  # temp dirs are private to us
    return (f"{user}worker_processes 1;\ndaemon off;\npid {tmp}/nginx.pid;\n"
            f"error_log {tmp}/error.log warn;\nevents {{ worker_connections 256; }}\n"
            f"http {{\n    access_log {tmp}/access.log;\n{temps}\n{site}\n}}\n")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    if not os.path.exists(NGINX):
        pytest.skip("nginx is not installed (Debian: apt-get install nginx; the Makefile's "
                    "browser target installs it)")
    tmp = tmp_path_factory.mktemp("scaleout")
    backends = [Gunicorn(tmp, workers=1, threads=4) for _ in range(2)]
    port = free_port()
    (tmp / "nginx.conf").write_text(nginx_conf(tmp, site_config(), port,
                                               [b.port for b in backends]))
    check = subprocess.run([NGINX, "-t", "-p", str(tmp), "-c", str(tmp / "nginx.conf"),
                            "-e", str(tmp / "error.log")], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    nginx = None
    try:
        _start_all(backends)  # both at once: they warm up in parallel
        nginx = subprocess.Popen([NGINX, "-p", str(tmp), "-c", str(tmp / "nginx.conf"),
                                  "-e", str(tmp / "error.log")], preexec_fn=die_with_parent)
        url = f"http://127.0.0.1:{port}"
        _wait(lambda: Http(url, timeout=2).request("GET", "/healthz").status == 200)
        yield url, backends, tmp
    finally:
        if nginx is not None:
            nginx.terminate()
            try:
                nginx.wait(10)
            except subprocess.TimeoutExpired:
                nginx.kill()
        for b in backends:
            b.stop()


def _start_all(backends: list[Gunicorn]) -> None:
    """Start every instance at once (they warm up in parallel), then wait for all."""
    for b in backends:
        b.launch()
    for b in backends:
        b.wait_ready()


def _wait(ok, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if ok():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("nginx did not answer")


MOVES = [("ctl-sigma_w.value", 1.43), ("ctl-sigma_v.value", 0.91), ("ctl-T.value", 70),
         ("ctl-sigma_b.value", 0.35), ("ctl-arch.value", "minimal"), ("ctl-mu_b.value", 2.5),
         ("ctl-R.value", 1.7), ("ctl-sigma_w.value", 3.1)]


def test_session_spreads_over_both_instances_with_identical_answers(cluster):
    url, backends, _ = cluster
    direct = [Http(b.url) for b in backends]
    session = Session(DashModel.fetch(url), Http(url))
    upstreams: list[str] = []

    def through_nginx(body):
        reply = session.http.request("POST", ENDPOINT, json.dumps(body))
        upstreams.append(reply.headers.get("x-upstream", ""))
        for http_ in direct:  # the same request straight to each instance
            other = http_.request("POST", ENDPOINT, json.dumps(body))
            assert (other.status, other.body) == (reply.status, reply.body), body["output"]
        return reply

    n = len(session.page_load(send=through_nginx))
    for prop, value in MOVES:
        n += len(session.set(prop, value, send=through_nginx))
    assert n == len(upstreams) >= len(MOVES) + 2
    used = set(upstreams)
    assert used == {f"127.0.0.1:{b.port}" for b in backends}, upstreams
    assert all(r.status == 200 for _, r in session.log)
    page = session.http.request("GET", "/", headers={"Accept": "text/html"})
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"


def test_session_survives_one_instance_stopping(cluster):
    url, backends, tmp = cluster
    session = Session(DashModel.fetch(url), Http(url))
    session.page_load()
    backends[1].stop()
    replies = []
    for prop, value in MOVES[:4]:
        replies += session.set(prop, value)
    assert replies and all(r.status == 200 for _, r in replies)
    assert {r.headers.get("x-upstream", "").split(",")[-1].strip() for _, r in replies} == {
        f"127.0.0.1:{backends[0].port}"}
