"""Poll 1,000 feeds on 20 loopback hosts (127.0.0.1 … 127.0.0.20), twice, through the real poll
path with the real per-host limits (2 connections and 0.25 s between request starts per host,
by default), and report feeds per second, peak memory, bytes on the wire and the share of
conditional requests on the second pass.

The feeds are a mix: most send ETag and Last-Modified (answered 304 when they match), some only
one of the two, some neither (the body hash catches those), and some fail (500, 404). One host
answers 429 with Retry-After: newsflow then leaves the rest of that host alone for the run. Half
the hosts gzip their feeds. The servers run in a separate process, so the client's memory and
CPU are its own.

    .venv/bin/python benchmarks/poll_bench.py [--feeds 1000] [--hosts 20] [--json FILE]

Target: the second pass over 1,000 unchanged feeds moves under 10% of the first pass's bytes and
takes under 30 s."""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import multiprocessing
import resource
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

RATE_LIMITED_HOST = 19  # the host (index) that answers 429 to its first feed
RETRY_AFTER = "3600"


def feed_kind(n: int, hosts: int) -> str:
    """What feed `n` does: validators (ETag and Last-Modified), lm_only, etag_only, plain (no
    validators, same body), error500, missing404, or busy429."""
    host = n % hosts
    if host == RATE_LIMITED_HOST % hosts and hosts > 1:
        return "busy429" if n == host else "validators"
    r = (n * 37) % 100
    if r < 80:
        return "validators"
    if r < 85:
        return "lm_only"
    if r < 90:
        return "etag_only"
    if r < 94:
        return "plain"
    if r < 98:
        return "error500"
    return "missing404"


def feed_body(n: int) -> bytes:
    """A plausible RSS feed of 25 items, different for every feed."""
    base = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    items = []
    for i in range(25):
        when = format_datetime(base - timedelta(minutes=37 * i + n % 60), usegmt=True)
        items.append(
            f"<item><title>Feed {n} story {i}: ministry confirms delivery schedule for order {n * 100 + i}</title>"
            f"<link>https://news{n % 97}.example.com/world/{2026}/{n}/{i}/story-{n}-{i}.html</link>"
            f'<guid isPermaLink="false">feed-{n}-item-{i}</guid><pubDate>{when}</pubDate>'
            f"<description>Officials said on Tuesday that the contract, signed earlier this year, "
            f"covers spare parts, training and support for item {i} of feed {n}.</description></item>"
        )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Bench feed {n}</title>'
        f"<link>https://news{n % 97}.example.com/</link><description>bench</description>"
        f"{''.join(items)}</channel></rss>"
    ).encode()


# -- the server process ------------------------------------------------------------------------


class _Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: Counter = Counter()

    def add(self, **values: int) -> None:
        with self.lock:
            self.counts.update(values)

    def take(self) -> dict:
        with self.lock:
            counts, self.counts = dict(self.counts), Counter()
        return counts


class _CountingWriter:
    def __init__(self, inner, stats: _Stats):
        self._inner, self._stats = inner, stats

    def write(self, data: bytes) -> int:
        self._stats.add(bytes=len(data))
        return self._inner.write(data)

    def __getattr__(self, name: str):
        return getattr(self._inner, name)


def _handler(stats: _Stats, hosts: int, bodies: dict[int, tuple[bytes, bytes]]):
    last_modified = "Tue, 24 Nov 2026 08:00:00 GMT"

    class FeedHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True
        wbufsize = -1

        def setup(self) -> None:
            super().setup()
            self.wfile = _CountingWriter(self.wfile, stats)

        def do_GET(self) -> None:  # noqa: N802
            try:
                n = int(self.path.rsplit("/", 1)[-1].split(".")[0])
            except ValueError:
                n = -1
            kind = feed_kind(n, hosts) if n >= 0 else "missing404"
            conditional = "If-None-Match" in self.headers or "If-Modified-Since" in self.headers
            stats.add(requests=1, conditional=int(conditional))
            etag = f'"feed-{n}-v1"'
            if kind == "busy429":
                return self._send(429, b"slow down", {"Retry-After": RETRY_AFTER}, "text/plain")
            if kind == "error500":
                return self._send(500, b"internal error", {}, "text/plain")
            if kind == "missing404":
                return self._send(404, b"not found", {}, "text/plain")
            validators = {}
            if kind in ("validators", "etag_only"):
                validators["ETag"] = etag
            if kind in ("validators", "lm_only"):
                validators["Last-Modified"] = last_modified
            matched = ("ETag" in validators and self.headers.get("If-None-Match") == etag) or (
                "Last-Modified" in validators and self.headers.get("If-Modified-Since") == last_modified
            )
            if matched:
                return self._send(304, b"", validators, None)
            plain, zipped = bodies[n]
            # Even-numbered hosts compress, as many real servers do.
            if (n % hosts) % 2 == 0 and "gzip" in self.headers.get("Accept-Encoding", ""):
                return self._send(200, zipped, dict(validators, **{"Content-Encoding": "gzip"}), "application/rss+xml")
            return self._send(200, plain, validators, "application/rss+xml")

        def _send(self, status: int, body: bytes, headers: dict[str, str], content_type: str | None) -> None:
            stats.add(**{f"status_{status}": 1})
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return FeedHandler


def serve(hosts: int, feeds: int, conn) -> None:
    """Run `hosts` servers on 127.0.0.1 … 127.0.0.N until told to stop; answer stats requests."""
    stats = _Stats()
    bodies = {}
    for n in range(feeds):
        body = feed_body(n)
        bodies[n] = (body, gzip.compress(body, compresslevel=6, mtime=0))
    handler = _handler(stats, hosts, bodies)
    servers = []
    for index in range(hosts):
        server = ThreadingHTTPServer((f"127.0.0.{index + 1}", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        servers.append(server)
    conn.send([s.server_address[1] for s in servers])
    while True:
        command = conn.recv()
        if command == "stats":
            conn.send(stats.take())
        else:
            break
    for server in servers:
        server.shutdown()
        server.server_close()


# -- the client --------------------------------------------------------------------------------


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run(feeds: int = 1000, hosts: int = 20, per_host_delay: float | None = None) -> dict:
    from extractors import feeds as poller
    from newsflow.models import FeedSource
    from newsflow.settings import Settings

    overrides = {} if per_host_delay is None else {"per_host_delay": per_host_delay}
    settings = Settings(allow_private_networks=True, **overrides)  # loopback; other limits are the defaults
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=serve, args=(hosts, feeds, child), daemon=True)
    process.start()
    try:
        ports = parent.recv()
        sources = [
            FeedSource(f"http://127.0.0.{n % hosts + 1}:{ports[n % hosts]}/feeds/{n}.xml", f"feed {n}")
            for n in range(feeds)
        ]
        states: dict = {}
        rss_before = _peak_rss_mib()
        passes = []
        for label in ("first", "second"):
            started = time.perf_counter()
            polls = asyncio.run(poller.poll_many(sources, states, settings))
            seconds = time.perf_counter() - started
            for poll in polls:
                states[poll.state.feed_url] = poll.state
            parent.send("stats")
            server = parent.recv()
            outcomes = Counter()
            for poll in polls:
                if poll.error:
                    outcomes["not contacted (host said wait)" if "asked us to wait" in poll.error else "failed"] += 1
                elif poll.not_modified:
                    outcomes["not modified"] += 1
                else:
                    outcomes["parsed"] += 1
            passes.append(
                {
                    "pass": label,
                    "seconds": round(seconds, 2),
                    "feeds_per_s": round(feeds / seconds, 1),
                    "requests": server.get("requests", 0),
                    "conditional_requests": server.get("conditional", 0),
                    "bytes": server.get("bytes", 0),
                    "statuses": {
                        k.removeprefix("status_"): v for k, v in sorted(server.items()) if k.startswith("status_")
                    },
                    "outcomes": dict(outcomes),
                    "entries": sum(len(p.entries) for p in polls),
                }
            )
        peak = _peak_rss_mib()
    finally:
        parent.send("stop")
        process.join(timeout=10)
        if process.is_alive():
            process.terminate()
    first, second = passes
    return {
        "feeds": feeds,
        "hosts": hosts,
        "per_host_connections": settings.per_host_connections,
        "per_host_delay_s": settings.per_host_delay,
        "passes": passes,
        "second_pass_conditional_share": round(second["conditional_requests"] / max(second["requests"], 1), 3),
        "second_pass_bytes_ratio": round(second["bytes"] / max(first["bytes"], 1), 4),
        "peak_rss_mib": round(peak, 1),
        "rss_before_polling_mib": round(rss_before, 1),
        "targets_met": {
            "bytes_ratio_under_10pct": second["bytes"] < 0.10 * first["bytes"],
            "second_pass_under_30s": second["seconds"] < 30,
        },
    }


def main(quick: bool = False) -> dict:
    return run(feeds=200 if quick else 1000, hosts=20)


def report(result: dict) -> list[str]:
    lines = [
        f"poll benchmark: {result['feeds']} feeds on {result['hosts']} loopback hosts, "
        f"{result['per_host_connections']} connections and {result['per_host_delay_s']} s apart per host"
    ]
    for p in result["passes"]:
        lines.append(
            f"  {p['pass']:<6} pass  {p['seconds']:>6.2f} s  {p['feeds_per_s']:>6.1f} feeds/s  "
            f"{p['requests']:>5} requests ({p['conditional_requests']} conditional)  "
            f"{p['bytes'] / 1024:>8.1f} KiB  statuses {p['statuses']}  outcomes {p['outcomes']}"
        )
    lines += [
        f"  second pass: {result['second_pass_conditional_share']:.1%} of requests conditional, "
        f"{result['second_pass_bytes_ratio']:.2%} of the first pass's bytes",
        f"  peak memory (client process, max RSS): {result['peak_rss_mib']} MiB "
        f"({result['rss_before_polling_mib']} MiB before polling)",
        f"  targets: {result['targets_met']}",
    ]
    return lines


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument(
        "--per-host-delay",
        type=float,
        help="override the politeness delay (default: the setting, 0.25 s); 0 shows the poller's own speed",
    )
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    outcome = run(args.feeds, args.hosts, args.per_host_delay)
    print("\n".join(report(outcome)))
    if args.json:
        Path(args.json).write_text(json.dumps(outcome, indent=2), encoding="utf-8")
    sys.exit(0 if all(outcome["targets_met"].values()) else 1)
