"""The stack's reverse proxy (scripts/proxy.py), run as its own process in front of two real HTTP servers that
echo what they received: round robin with keep-alive, request bodies (length, chunked, 100-continue),
forwarding headers, failing over when a server is down, and the answers when none is."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


class Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        if self.path == "/slow":  # longer than the proxy's timeout; the proxy has gone when it would answer
            time.sleep(3)
            self.close_connection = True
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        out = json.dumps({"server": self.server.name, "method": self.command, "path": self.path,
                          "headers": {k.lower(): v for k, v in self.headers.items()},
                          "body": body.decode("latin-1")}).encode()
        if self.path.startswith("/chunked"):
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for piece in (out[:10], out[10:]):
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.send_header("Keep-Alive", "timeout=5")
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_POST = _answer

    def log_message(self, *args) -> None:
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def echo_server(name: str) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    server.name = name
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def proxy():
    """Two echo servers (a, b) and a third address where nothing listens (c) behind the proxy."""
    servers = [echo_server("a"), echo_server("b")]
    port, dead = free_port(), free_port()
    upstreams = [f"a=127.0.0.1:{servers[0].server_port}", f"b=127.0.0.1:{servers[1].server_port}",
                 f"c=127.0.0.1:{dead}"]
    process = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "proxy.py"), "--listen", f"127.0.0.1:{port}",
                                "--check-every", "0.2", "--max-body", "1000", "--timeout", "1",
                                *[arg for u in upstreams for arg in ("--upstream", u)]],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while True:
        try:
            status = status_of(port)
            if [u["up"] for u in status["upstreams"]] == [True, True, False]:
                break
        except OSError:
            pass
        assert time.monotonic() < deadline and process.poll() is None, "the proxy did not start"
        time.sleep(0.1)
    yield {"port": port, "servers": servers, "process": process}
    process.terminate()
    process.wait(10)
    for server in servers:
        server.shutdown()


def status_of(port: int) -> dict:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", "/__proxy__/status")
    return json.loads(conn.getresponse().read())


def test_round_robin_on_one_kept_alive_connection_with_forwarding_headers(proxy):
    conn = http.client.HTTPConnection("127.0.0.1", proxy["port"], timeout=10)
    seen = []
    for i in range(4):
        conn.request("GET", f"/page?i={i}", headers={"X-Forwarded-For": "203.0.113.9", "Keep-Alive": "timeout=9",
                                                     "TE": "trailers", "X-Forwarded-Proto": "https"})
        response = conn.getresponse()
        echoed = json.loads(response.read())
        assert response.status == 200 and response.getheader("X-Upstream") == echoed["server"]
        assert response.getheader("Keep-Alive") is None  # hop-by-hop: not passed back either
        seen.append(echoed["server"])
        headers = echoed["headers"]
        assert echoed["path"] == f"/page?i={i}"
        assert headers["x-forwarded-for"] == "203.0.113.9, 127.0.0.1"
        assert headers["x-forwarded-proto"] == "http"  # the client's own claim is replaced
        assert headers["connection"] == "close" and "keep-alive" not in headers and "te" not in headers
    assert sorted(seen) == ["a", "a", "b", "b"] and seen[0] != seen[1]  # never the dead one, alternating
    assert conn.sock is not None  # the same connection all along


def test_request_bodies_reach_the_server_whole(proxy):
    conn = http.client.HTTPConnection("127.0.0.1", proxy["port"], timeout=10)
    conn.request("POST", "/form", body=b"x=1&y=" + "数据".encode(), headers={"Content-Type": "text/plain"})
    echoed = json.loads(conn.getresponse().read())
    assert echoed["body"].encode("latin-1") == b"x=1&y=" + "数据".encode()
    # chunked upload: passed on with a length
    conn.putrequest("POST", "/chunks")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    conn.send(b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
    echoed = json.loads(conn.getresponse().read())
    assert echoed["body"] == "hello world" and echoed["headers"]["content-length"] == "11"
    # a chunked answer comes back chunked and whole
    conn.request("GET", "/chunked")
    response = conn.getresponse()
    assert response.getheader("Transfer-Encoding") == "chunked" and json.loads(response.read())["path"] == "/chunked"


def test_expect_continue_and_a_body_too_large(proxy):
    with socket.create_connection(("127.0.0.1", proxy["port"]), timeout=10) as s:
        s.sendall(b"POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n")
        assert s.recv(100).startswith(b"HTTP/1.1 100 Continue")
        s.sendall(b"abc")
        answer = b""
        while b'"body": "abc"' not in answer:
            answer += s.recv(4096)
    conn = http.client.HTTPConnection("127.0.0.1", proxy["port"], timeout=10)
    conn.request("POST", "/big", body=b"z" * 1001)
    response = conn.getresponse()
    assert response.status == 413 and response.getheader("Connection") == "close"


def test_a_server_slower_than_the_timeout_gets_504(proxy):
    conn = http.client.HTTPConnection("127.0.0.1", proxy["port"], timeout=10)
    conn.request("GET", "/slow")
    response = conn.getresponse()
    assert response.status == 504 and response.getheader("Connection") == "close"


def test_a_server_going_down_costs_no_request_and_none_up_answers_503(proxy):
    proxy["servers"][0].shutdown()
    proxy["servers"][0].server_close()
    answers = []
    for _ in range(6):  # before the next health check too: a refused connection goes to the next server
        conn = http.client.HTTPConnection("127.0.0.1", proxy["port"], timeout=10)
        conn.request("GET", "/")
        response = conn.getresponse()
        answers.append((response.status, response.getheader("X-Upstream")))
        response.read()
    assert answers == [(200, "b")] * 6
    proxy["servers"][1].shutdown()
    proxy["servers"][1].server_close()
    conn = http.client.HTTPConnection("127.0.0.1", proxy["port"], timeout=10)
    conn.request("GET", "/")
    response = conn.getresponse()
    assert response.status == 503 and response.getheader("Retry-After") == "1"
    up = {u["name"]: u["up"] for u in status_of(proxy["port"])["upstreams"]}
    assert up == {"a": False, "b": False, "c": False}
