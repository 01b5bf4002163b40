"""A small HTTP/1.1 round-robin reverse proxy for the loopback stack (``scripts/stack.py``); stdlib only.

    python scripts/proxy.py --listen 127.0.0.1:8080 --upstream web1=127.0.0.1:8101 --upstream web2=127.0.0.1:8102

What it does, and no more (production uses nginx, docs/deploy.md §4):

* keep-alive with clients (HTTP/1.1 by default, HTTP/1.0 with ``Connection: keep-alive``); request bodies by
  ``Content-Length`` or ``chunked`` (passed on with a length), at most ``--max-body`` bytes (413 above);
  ``Expect: 100-continue`` is answered here;
* one fresh upstream connection per request (gunicorn's sync workers close after each response anyway);
* ``X-Forwarded-For`` (the client's address appended), ``X-Forwarded-Proto``, ``X-Forwarded-Host``; hop-by-hop
  headers dropped both ways; the answering upstream named in the response header ``X-Upstream``;
* round robin over the upstreams whose ``GET /healthz`` answered 200 at the last check (every
  ``--check-every`` seconds); an upstream that refuses a connection is marked down and the request goes to
  the next one (nothing was sent yet, so any method may be retried); 502 when the upstream fails after the
  request was sent (never retried: a POST may have been written), 504 after ``--timeout``, 503 when none is up;
* ``GET /__proxy__/status``: per upstream its state and counters (JSON).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import time
from dataclasses import dataclass, field

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te",
              "trailer", "transfer-encoding", "upgrade", "expect"}
MAX_HEADER_BYTES = 64 * 1024
STATUS_PATH = "/__proxy__/status"
REASONS = {400: "Bad Request", 413: "Payload Too Large", 502: "Bad Gateway", 503: "Service Unavailable",
           504: "Gateway Timeout"}


class BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Upstream:
    name: str
    host: str
    port: int
    up: bool = False
    requests: int = 0
    errors: int = 0
    checked_at: float = 0.0
    last_error: str = ""

    def snapshot(self) -> dict:
        return {"name": self.name, "address": f"{self.host}:{self.port}", "up": self.up, "requests": self.requests,
                "errors": self.errors, "checked_at": self.checked_at, "last_error": self.last_error}


@dataclass
class Message:
    """A parsed request or response head."""
    first_line: str
    headers: list[tuple[str, str]] = field(default_factory=list)

    def get(self, name: str) -> str | None:
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None

    def tokens(self, name: str) -> set[str]:
        return {t.strip().lower() for key, value in self.headers if key.lower() == name for t in value.split(",")}


async def read_head(reader: asyncio.StreamReader) -> Message | None:
    """The head of the next message; None on a clean end of the connection before it."""
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial.strip():
            return None
        raise BadRequest(400, "incomplete head") from exc
    except asyncio.LimitOverrunError as exc:
        raise BadRequest(400, "head too large") from exc
    lines = raw.decode("latin-1").split("\r\n")
    while lines and not lines[0]:  # tolerate empty lines before a request (RFC 9112 §2.2)
        lines.pop(0)
    if not lines:
        return None
    message = Message(lines[0])
    for line in lines[1:]:
        if not line:
            continue
        if line[0] in " \t" or ":" not in line:
            raise BadRequest(400, "malformed header line")
        key, value = line.split(":", 1)
        message.headers.append((key.strip(), value.strip()))
    return message


async def read_chunked(reader: asyncio.StreamReader, limit: int) -> bytes:
    body = bytearray()
    while True:
        size_line = await reader.readuntil(b"\r\n")
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError as exc:
            raise BadRequest(400, "bad chunk size") from exc
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers: dropped
                pass
            return bytes(body)
        if len(body) + size > limit:
            raise BadRequest(413, "body too large")
        body += await reader.readexactly(size)
        await reader.readexactly(2)


async def read_body(reader: asyncio.StreamReader, head: Message, limit: int) -> bytes:
    if "chunked" in head.tokens("transfer-encoding"):
        return await read_chunked(reader, limit)
    length = head.get("content-length")
    if length is None:
        return b""
    if not length.isdigit():
        raise BadRequest(400, "bad Content-Length")
    if int(length) > limit:
        raise BadRequest(413, "body too large")
    return await reader.readexactly(int(length))


def simple_response(status: int, body: bytes, *, close: bool, content_type: str = "text/plain; charset=utf-8",
                    extra: str = "") -> bytes:
    return (f"HTTP/1.1 {status} {REASONS.get(status, 'OK')}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n{extra}{'Connection: close' if close else 'Connection: keep-alive'}"
            "\r\n\r\n").encode("latin-1") + body


class Proxy:
    def __init__(self, upstreams: list[Upstream], *, timeout: float, max_body: int, check_every: float,
                 proto: str) -> None:
        self.upstreams, self.timeout, self.max_body = upstreams, timeout, max_body
        self.check_every, self.proto = check_every, proto
        self.turn = 0
        self.started = time.time()

    # --- health ------------------------------------------------------------------------------------
    async def check(self, upstream: Upstream) -> None:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(upstream.host, upstream.port), 2)
            try:
                writer.write(f"GET /healthz HTTP/1.1\r\nHost: {upstream.host}\r\nConnection: close\r\n\r\n".encode())
                await writer.drain()
                status_line = await asyncio.wait_for(reader.readline(), 5)
            finally:
                writer.close()
            ok = status_line.split(b" ")[1:2] == [b"200"]
            upstream.last_error = "" if ok else status_line.decode("latin-1").strip()
        except (TimeoutError, OSError) as exc:
            ok, upstream.last_error = False, f"{exc.__class__.__name__}: {exc}"
        upstream.up, upstream.checked_at = ok, time.time()

    async def health_loop(self) -> None:
        while True:
            await asyncio.gather(*(self.check(u) for u in self.upstreams))
            await asyncio.sleep(self.check_every)

    def candidates(self) -> list[Upstream]:
        """Healthy upstreams, starting with the next in turn."""
        up = [u for u in self.upstreams if u.up]
        if not up:
            return []
        self.turn = (self.turn + 1) % len(up)
        return up[self.turn:] + up[:self.turn]

    # --- one client connection ------------------------------------------------------------------------
    async def client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = (writer.get_extra_info("peername") or ("", 0))[0]
        try:
            while True:
                try:
                    head = await asyncio.wait_for(read_head(reader), 60)  # idle keep-alive timeout
                except TimeoutError:
                    return
                if head is None:
                    return
                keep = await self.one(head, reader, writer, peer)
                await writer.drain()
                if not keep:
                    return
        except BadRequest as exc:
            writer.write(simple_response(exc.status, f"{exc}\n".encode(), close=True))
            with contextlib.suppress(OSError):
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            return
        finally:
            writer.close()

    async def one(self, head: Message, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                  peer: str) -> bool:
        """Serve one request; whether the client connection stays open."""
        parts = head.first_line.split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise BadRequest(400, "bad request line")
        method, target, version = parts
        connection = head.tokens("connection")
        keep = "close" not in connection if version == "HTTP/1.1" else "keep-alive" in connection
        if "100-continue" in head.tokens("expect"):
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = await read_body(reader, head, self.max_body)
        if method == "GET" and target == STATUS_PATH:
            status = {"upstreams": [u.snapshot() for u in self.upstreams], "since": self.started}
            writer.write(simple_response(200, json.dumps(status).encode(), close=not keep,
                                         content_type="application/json"))
            return keep
        # hop-by-hop headers, those the client's Connection names, and what is set below are not passed on
        drop = HOP_BY_HOP | connection | {"content-length", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"}
        headers = [(k, v) for k, v in head.headers if k.lower() not in drop]
        forwarded_for = head.get("x-forwarded-for")
        headers += [("X-Forwarded-For", f"{forwarded_for}, {peer}" if forwarded_for else peer),
                    ("X-Forwarded-Proto", self.proto), ("X-Forwarded-Host", head.get("host") or "")]
        if body or method in ("POST", "PUT", "PATCH"):
            headers.append(("Content-Length", str(len(body))))
        headers.append(("Connection", "close"))
        request = (f"{method} {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
                   ).encode("latin-1") + body
        for upstream in self.candidates():
            try:
                up_reader, up_writer = await asyncio.wait_for(
                    asyncio.open_connection(upstream.host, upstream.port, limit=MAX_HEADER_BYTES), 2)
            except (TimeoutError, OSError) as exc:  # nothing sent: the next upstream may take it
                upstream.up, upstream.errors, upstream.last_error = False, upstream.errors + 1, str(exc)
                continue
            upstream.requests += 1
            head_sent: list[bool] = []
            try:
                return await asyncio.wait_for(
                    self.relay(upstream, request, method, up_reader, up_writer, writer, keep, head_sent), self.timeout)
            except TimeoutError:
                upstream.errors += 1
                if not head_sent:  # else part of the answer went out: only closing tells the client
                    writer.write(simple_response(504, b"upstream timed out\n", close=True))
                return False
            except _Sent:  # the upstream broke after part of its answer went out: only closing tells the client
                upstream.errors += 1
                return False
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
                upstream.errors, upstream.last_error = upstream.errors + 1, f"{exc.__class__.__name__}: {exc}"
                writer.write(simple_response(502, b"upstream failed\n", close=not keep))
                return keep
            finally:
                up_writer.close()
        writer.write(simple_response(503, b"no upstream is up\n", close=not keep, extra="Retry-After: 1\r\n"))
        return keep

    async def relay(self, upstream: Upstream, request: bytes, method: str, up_reader: asyncio.StreamReader,
                    up_writer: asyncio.StreamWriter, writer: asyncio.StreamWriter, keep: bool,
                    head_sent: list[bool]) -> bool:
        up_writer.write(request)
        await up_writer.drain()
        while True:
            head = await read_head(up_reader)
            if head is None:
                raise asyncio.IncompleteReadError(b"", None)
            status = int(head.first_line.split(" ")[1])
            if status >= 200 or status == 101:
                break  # 1xx informational answers (100 Continue) are not passed on
        no_body = method == "HEAD" or status in (204, 304) or 100 <= status < 200
        chunked = "chunked" in head.tokens("transfer-encoding")
        length = head.get("content-length")
        until_close = not no_body and not chunked and length is None
        keep = keep and not until_close
        drop = HOP_BY_HOP | head.tokens("connection")
        headers = [(k, v) for k, v in head.headers if k.lower() not in drop]
        if chunked:
            headers.append(("Transfer-Encoding", "chunked"))
        headers += [("X-Upstream", upstream.name), ("Connection", "keep-alive" if keep else "close")]
        writer.write((f"HTTP/1.1 {' '.join(head.first_line.split(' ')[1:])}\r\n"
                      + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n").encode("latin-1"))
        head_sent.append(True)
        try:
            if no_body:
                pass
            elif chunked:
                while True:
                    size_line = await up_reader.readuntil(b"\r\n")
                    size = int(size_line.split(b";", 1)[0].strip(), 16)
                    writer.write(size_line)
                    if size == 0:
                        while (line := await up_reader.readuntil(b"\r\n")) != b"\r\n":
                            writer.write(line)
                        writer.write(b"\r\n")
                        break
                    writer.write(await up_reader.readexactly(size + 2))
                    await writer.drain()
            elif length is not None:
                remaining = int(length)
                while remaining:
                    block = await up_reader.read(min(remaining, 65536))
                    if not block:
                        raise asyncio.IncompleteReadError(b"", remaining)
                    writer.write(block)
                    remaining -= len(block)
                    await writer.drain()
            else:
                while block := await up_reader.read(65536):
                    writer.write(block)
                    await writer.drain()
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
            raise _Sent from exc
        return keep


class _Sent(Exception):
    """The upstream failed after the response head went to the client."""


def parse_upstream(text: str) -> Upstream:
    name, _sep, address = text.rpartition("=")
    host, _sep, port = address.rpartition(":")
    return Upstream(name=name or address, host=host or "127.0.0.1", port=int(port))


async def serve(args: argparse.Namespace) -> None:
    proxy = Proxy([parse_upstream(u) for u in args.upstream], timeout=args.timeout, max_body=args.max_body,
                  check_every=args.check_every, proto=args.proto)
    host, _sep, port = args.listen.rpartition(":")
    server = await asyncio.start_server(proxy.client, host or "127.0.0.1", int(port), limit=MAX_HEADER_BYTES,
                                        reuse_address=True)
    checker = asyncio.create_task(proxy.health_loop())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(f"proxy listening on {args.listen} → {', '.join(args.upstream)}", flush=True)
    async with server:
        await stop.wait()
    checker.cancel()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listen", default="127.0.0.1:8080", help="address to listen on (loopback)")
    parser.add_argument("--upstream", action="append", required=True, help="name=host:port (repeat)")
    parser.add_argument("--timeout", type=float, default=90.0,
                        help="seconds for one upstream answer (above gunicorn's 60 s timeout)")
    parser.add_argument("--max-body", type=int, default=25 * 1024 * 1024,
                        help="largest request body in bytes (nginx client_max_body_size 25m, docs/deploy.md §4)")
    parser.add_argument("--check-every", type=float, default=1.0, help="seconds between health checks")
    parser.add_argument("--proto", default="http", help="X-Forwarded-Proto sent upstream")
    args = parser.parse_args(argv)
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
