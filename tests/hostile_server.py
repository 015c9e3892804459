"""A hostile web server on loopback, for tests and benchmarks: slow drips, 429s, 500 bursts,
redirect loops, huge bodies, gzip bombs, lying charsets and content types, empty and truncated
feeds. Every response is written by hand so the server can misbehave in ways a framework would
not allow. It binds only to 127.0.0.0/8 addresses."""

from __future__ import annotations

import gzip
import ipaddress
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

MIB = 1024 * 1024
RSS_TYPE = "application/rss+xml; charset=utf-8"


def rss_feed(
    items: list[tuple[str, str]] | list[tuple[str, str, str]],
    title: str = "Hostile test feed",
    extra_channel: str = "",
    guid_for: Callable[[int, str], str] | None = None,
) -> bytes:
    """A small RSS 2.0 feed; items are (title, link) or (title, link, pubDate)."""
    parts = []
    for n, item in enumerate(items):
        title_text, link = item[0], item[1]
        date = item[2] if len(item) > 2 else "Mon, 23 Nov 2026 08:00:00 GMT"
        guid = guid_for(n, link) if guid_for else link
        parts.append(
            f"<item><title>{title_text}</title><link>{link}</link><guid>{guid}</guid><pubDate>{date}</pubDate></item>"
        )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>http://hostile.invalid/</link><description>d</description>{extra_channel}"
        f"{''.join(parts)}</channel></rss>"
    ).encode()


@dataclass
class Reply:
    """A canned response."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = RSS_TYPE


Route = Callable[["HostileHandler"], None] | Reply


class HostileHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body leave together, without a delayed-ACK stall
    wbufsize = -1
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        owner = self.server.owner
        path = urlsplit(self.path).path
        owner.record(path, dict(self.headers.items()))
        route = owner.routes.get(path) or owner.fallback
        if route is None:
            self.reply(Reply(404, b"no such page", content_type="text/plain"))
        elif isinstance(route, Reply):
            self.reply(route)
        else:
            route(self)

    def reply(self, reply: Reply) -> None:
        self.send_response(reply.status)
        if reply.content_type:
            self.send_header("Content-Type", reply.content_type)
        for key, value in reply.headers.items():
            self.send_header(key, value)
        if not any(k.lower() == "content-length" for k in reply.headers):
            self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.write(reply.body)

    def write(self, data: bytes) -> bool:
        """Write, counting bytes; False once the client has gone away."""
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, OSError):
            self.close_connection = True
            return False
        self.server.owner.add_bytes(len(data))
        return True

    def stream_headers(
        self, status: int = 200, content_type: str | None = RSS_TYPE, headers: dict[str, str] | None = None
    ) -> None:
        """Headers for a body of unknown length, ended by closing the connection."""
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def log_message(self, *args: object) -> None:
        pass

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass  # the client hung up first, as it should on a hostile answer


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: HostileServer

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients cutting off slow drips and huge bodies is the point, not an error


class HostileServer:
    """`with HostileServer() as server:` then `server.url("/path")`; routes are Replies or
    functions of the handler."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError("the hostile server only binds loopback addresses")
        self.host, self.port = host, port
        self.routes: dict[str, Route] = {}
        self.fallback: Route | None = None  # answers paths that have no route of their own
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.bytes_sent = 0
        self._lock = threading.Lock()
        self._server: _Server | None = None

    def __enter__(self) -> HostileServer:
        self._server = _Server((self.host, self.port), HostileHandler)
        self._server.owner = self
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

    def record(self, path: str, headers: dict[str, str]) -> None:
        with self._lock:
            self.requests.append((path, headers))

    def add_bytes(self, n: int) -> None:
        with self._lock:
            self.bytes_sent += n

    def hits(self, path: str | None = None) -> int:
        with self._lock:
            return sum(1 for p, _ in self.requests if path is None or p == path)

    def counts(self) -> Counter:
        with self._lock:
            return Counter(p for p, _ in self.requests)

    # -- the hostile repertoire ------------------------------------------------------------

    def add(self, path: str, route: Route) -> str:
        self.routes[path] = route
        return self.url(path)

    def slow_drip(self, path: str, interval: float = 0.2, limit: float = 15.0, content_type: str = RSS_TYPE) -> str:
        """A 200 that sends one byte every `interval` seconds (for at most `limit` seconds)."""

        def drip(handler: HostileHandler) -> None:
            handler.stream_headers(content_type=content_type)
            payload = rss_feed([("drip", "http://hostile.invalid/a")])
            deadline = time.monotonic() + limit
            for byte in payload:
                if time.monotonic() > deadline or not handler.write(bytes([byte])):
                    return
                time.sleep(interval)

        return self.add(path, drip)

    def redirect(self, path: str, target: str, status: int = 302) -> str:
        return self.add(path, Reply(status, b"", {"Location": target}, content_type="text/plain"))

    def burst(self, path: str, failures: int, then: Reply, status: int = 500) -> str:
        """`failures` answers of `status`, then `then` for ever after."""

        def route(handler: HostileHandler) -> None:
            if self.hits(path) <= failures:
                handler.reply(Reply(status, b"internal error", content_type="text/plain"))
            else:
                handler.reply(then)

        return self.add(path, route)

    def huge(
        self,
        path: str,
        size: int = 50 * MIB,
        declare_length: bool = True,
        content_type: str = "text/html; charset=utf-8",
    ) -> str:
        """A body of `size` bytes, written in 256 KiB chunks until the client hangs up."""

        def route(handler: HostileHandler) -> None:
            chunk = b"<p>" + b"x" * (256 * 1024 - 7) + b"</p>\n"
            if declare_length:
                handler.send_response(200)
                handler.send_header("Content-Type", content_type)
                handler.send_header("Content-Length", str(size))
                handler.end_headers()
            else:
                handler.stream_headers(content_type=content_type)
            sent = 0
            while sent < size:
                piece = chunk[: size - sent]
                if not handler.write(piece):
                    return
                sent += len(piece)

        return self.add(path, route)

    def gzip_bomb(self, path: str, inflated: int = 100 * MIB, content_type: str = RSS_TYPE) -> str:
        """A small gzip body that inflates to `inflated` bytes of zeros."""
        compressor = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        zeros = bytes(MIB)
        body = b"".join([compressor.compress(zeros) for _ in range(inflated // MIB)] + [compressor.flush()])
        return self.add(path, Reply(200, body, {"Content-Encoding": "gzip"}, content_type=content_type))

    def conditional(
        self,
        path: str,
        body: bytes,
        etag: str = '"v1"',
        last_modified: str = "Mon, 23 Nov 2026 08:00:00 GMT",
        gzip_body: bool = False,
    ) -> str:
        """A feed that answers 304 to a matching If-None-Match or If-Modified-Since."""
        encoded = gzip.compress(body, mtime=0) if gzip_body else body

        def route(handler: HostileHandler) -> None:
            headers = {"ETag": etag, "Last-Modified": last_modified}
            if (
                handler.headers.get("If-None-Match") == etag
                or handler.headers.get("If-Modified-Since") == last_modified
            ):
                handler.reply(Reply(304, b"", headers, content_type=None))
                return
            if gzip_body and "gzip" in handler.headers.get("Accept-Encoding", ""):
                handler.reply(Reply(200, encoded, dict(headers, **{"Content-Encoding": "gzip"})))
            else:
                handler.reply(Reply(200, body, headers))

        return self.add(path, route)
