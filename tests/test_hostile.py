"""The poll and fetch path against a hostile server on loopback: every misbehaviour ends in a
clear failure or a safe result, quickly, and never in a crash, a hang or a blown memory cap."""

from __future__ import annotations

import asyncio
import time
import tracemalloc
from datetime import datetime, timedelta

import pytest

from extractors import feeds, http
from extractors.fetch import fetch_page, fetch_pages
from newsflow.models import Failure, FeedEntry, FeedSource, FeedState, Page
from newsflow.settings import Settings

from hostile_server import MIB, HostileServer, Reply, rss_feed


def _settings(**overrides) -> Settings:
    base = dict(
        allow_private_networks=True,
        per_host_delay=0.0,
        poll_jitter=0.0,
        connect_timeout=2.0,
        read_timeout=2.0,
        total_timeout=5.0,
    )
    base.update(overrides)
    return Settings(**base)


def poll(url: str, settings: Settings, state: FeedState | None = None, now: datetime | None = None):
    async def go():
        async with http.make_client(settings) as client:
            return await feeds.poll_feed(
                client,
                FeedSource(url),
                state or FeedState(feed_url=url),
                settings,
                http.make_limiter(settings),
                now=now,
            )

    return asyncio.run(go())


def fetch(url: str, settings: Settings) -> Page | Failure:
    entry = FeedEntry(entry_key="k", feed_url="f", url=url, guid=None, title=None, published_at=None)
    return asyncio.run(fetch_pages([entry], settings))[0]


@pytest.fixture
def server():
    with HostileServer() as hostile:
        yield hostile


def test_a_slow_drip_is_cut_off_by_the_total_time_limit(server):
    url = server.slow_drip("/drip.xml", interval=0.1)
    settings = _settings(read_timeout=1.0, total_timeout=1.0)
    started = time.monotonic()
    result = poll(url, settings)
    assert time.monotonic() - started < 3
    assert "total time limit" in result.error and result.state.error_count == 1

    page = fetch(server.slow_drip("/drip.html", interval=0.1, content_type="text/html"), settings)
    assert isinstance(page, Failure) and "total time limit" in page.error and page.retryable


def test_429_with_retry_after_is_honoured_and_the_host_is_left_alone(server):
    server.add("/busy.xml", Reply(429, b"slow down", {"Retry-After": "120"}, content_type="text/plain"))
    server.add("/other.xml", Reply(200, rss_feed([("a", "http://hostile.invalid/a")])))
    settings = _settings()
    now = datetime(2026, 11, 25, 12, 0)
    sources = [FeedSource(server.url("/busy.xml")), FeedSource(server.url("/other.xml"))]
    settings_one_at_a_time = _settings(per_host_connections=1)

    busy, other = asyncio.run(feeds.poll_many(sources, {}, settings_one_at_a_time, now=now))

    assert "HTTP 429" in busy.error and "retry after 120 s" in busy.error and "honouring Retry-After" in busy.error
    assert busy.state.next_poll_at >= now + timedelta(seconds=120)
    # The second feed on the same host was not requested in this run: the host asked us to wait.
    assert server.hits("/other.xml") == 0 and "asked us to wait" in other.error
    assert other.state.next_poll_at >= now + timedelta(seconds=110)
    assert settings.poll_max_interval >= 120


def test_a_burst_of_500s_backs_off_with_a_cap_and_recovers(server):
    url = server.burst("/flaky.xml", failures=3, then=Reply(200, rss_feed([("a", "http://hostile.invalid/a")])))
    settings = _settings()
    state = FeedState(feed_url=url)
    now = datetime(2026, 11, 25, 12, 0)
    waits = []
    for _ in range(3):
        result = poll(url, settings, state, now)
        assert "HTTP 500" in result.error
        waits.append((state.next_poll_at - now).total_seconds())
    assert state.error_count == 3 and waits == sorted(waits) and waits[0] < waits[-1]
    assert "next try at" in state.last_error

    recovered = poll(url, settings, state, now)
    assert recovered.error is None and state.error_count == 0 and len(recovered.entries) == 1


def test_a_redirect_loop_is_reported_as_one(server):
    server.redirect("/loop-a", "/loop-b")
    server.redirect("/loop-b", "/loop-a")
    result = poll(server.url("/loop-a"), _settings())
    assert "redirect loop" in result.error
    assert server.hits() == 2

    for n in range(10):
        server.redirect(f"/hop-{n}", f"/hop-{n + 1}")
    too_many = poll(server.url("/hop-0"), _settings(max_redirects=5))
    assert "too many redirects" in too_many.error and server.hits("/hop-5") == 1 and server.hits("/hop-6") == 0


def test_a_50_mb_page_is_refused_by_its_declared_length_and_by_the_streaming_cap(server):
    settings = _settings()
    declared = fetch(server.huge("/declared.html", 50 * MIB, declare_length=True), settings)
    assert isinstance(declared, Failure) and "52,428,800 bytes, over the" in declared.error

    before = server.bytes_sent
    streamed = fetch(server.huge("/streamed.html", 50 * MIB, declare_length=False), settings)
    assert isinstance(streamed, Failure) and "exceeded the 15,728,640-byte cap" in streamed.error
    time.sleep(0.2)
    # The server got to write the cap plus what sat in socket buffers, not the 50 MB.
    assert server.bytes_sent - before < 30 * MIB


def test_a_gzip_bomb_is_stopped_on_decompressed_size_without_inflating_in_memory(server):
    url = server.gzip_bomb("/bomb.xml", inflated=100 * MIB)
    settings = _settings(max_feed_bytes=2 * MIB)
    tracemalloc.start()
    try:
        result = poll(url, settings)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "cap after decompression" in result.error
    assert peak < 12 * MIB  # a 2 MiB cap, 64 KiB pieces: nowhere near the 100 MiB it inflates to


def test_valid_utf8_wins_over_a_wrong_charset_and_a_missing_one_does_not_garble(server):
    title = "Škoda and Rheinmetall sign €1bn deal — Ünïcödé"
    body = rss_feed([(title, "http://hostile.invalid/a")]).replace(b'encoding="utf-8"', b'encoding="ISO-8859-1"')
    lying = poll(
        server.add("/lying.xml", Reply(200, body, content_type="application/rss+xml; charset=iso-8859-1")), _settings()
    )
    assert [e.title for e in lying.entries] == [title]
    bare = rss_feed([(title, "http://hostile.invalid/b")]).replace(b' encoding="utf-8"', b"")
    missing = poll(server.add("/bare.xml", Reply(200, bare, content_type="text/xml")), _settings())
    assert [e.title for e in missing.entries] == [title]

    page_html = f"<html><head><meta charset='iso-8859-1'><title>{title}</title></head><body>{title}</body></html>"
    page = fetch(
        server.add("/page.html", Reply(200, page_html.encode("utf-8"), content_type="text/html; charset=windows-1252")),
        _settings(),
    )
    assert isinstance(page, Page) and title in page.html
    latin = "Défense: la France livre des Rafale".encode("cp1252")
    old_page = fetch(
        server.add("/latin.html", Reply(200, b"<html><body>" + latin + b"</body></html>", content_type="text/html")),
        _settings(),
    )
    assert "Défense" in old_page.html


def test_an_html_page_served_as_a_feed_fails_and_names_the_real_feed(server):
    html = (
        b"<!DOCTYPE html><html><head><title>News</title>"
        b'<link rel="alternate" type="application/rss+xml" href="/real/feed.xml"></head>'
        b"<body><p>Hello</p></body></html>"
    )
    result = poll(server.add("/feed", Reply(200, html, content_type="application/rss+xml")), _settings())
    assert "is an HTML page, not a readable RSS/Atom feed" in result.error
    assert server.url("/real/feed.xml") in result.error
    assert result.state.etag is None and result.state.body_hash is None


def test_an_empty_200_fails_with_a_reason(server):
    result = poll(server.add("/empty.xml", Reply(200, b"")), _settings())
    assert "answered 200 with an empty body" in result.error
    page = fetch(server.add("/empty.html", Reply(200, b"  \n", content_type="text/html")), _settings())
    assert isinstance(page, Failure) and "empty body" in page.error


def test_truncated_xml_keeps_the_entries_before_the_cut_with_a_warning(server):
    full = rss_feed([(f"Item {n}", f"http://hostile.invalid/{n}") for n in range(5)])
    cut = full[: full.index(b"<item><title>Item 3")] + b"<item><title>Item 3</title><li"
    result = poll(server.add("/cut.xml", Reply(200, cut)), _settings())
    assert result.error is None and result.bozo
    assert [e.url for e in result.entries] == [f"http://hostile.invalid/{n}" for n in range(3)]
    assert result.state.last_status == "200 parsed with warnings"


def test_wrong_content_types_are_refused(server):
    feed = poll(server.add("/logo.png", Reply(200, b"\x89PNG\r\n\x1a\n....", content_type="image/png")), _settings())
    assert "'image/png', not a feed" in feed.error
    pdf = fetch(server.add("/report.pdf", Reply(200, b"%PDF-1.7", content_type="application/pdf")), _settings())
    assert isinstance(pdf, Failure) and pdf.error.startswith("skipped") and "not HTML" in pdf.error


def test_an_unsupported_content_encoding_is_refused(server):
    result = poll(server.add("/br.xml", Reply(200, b"\x1b\x00", {"Content-Encoding": "br"})), _settings())
    assert "content encoding 'br'" in result.error


def test_deflate_both_wrapped_and_raw_is_read(server):
    import zlib

    body = rss_feed([("deflated", "http://hostile.invalid/d")])
    raw = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    raw_body = raw.compress(body) + raw.flush()
    for path, payload in (("/zlib.xml", zlib.compress(body)), ("/raw.xml", raw_body)):
        result = poll(server.add(path, Reply(200, payload, {"Content-Encoding": "deflate"})), _settings())
        assert [e.title for e in result.entries] == ["deflated"], path


def test_a_loopback_feed_linking_to_loopback_sends_nothing_without_the_flag(server):
    """Items on an allowed host link to 127.0.0.1: without the flag, that server sees nothing."""
    with HostileServer("127.0.0.2") as feed_host:
        target = server.add("/secret.html", Reply(200, b"<html>secret</html>", content_type="text/html"))
        feed_url = feed_host.add("/feed.xml", Reply(200, rss_feed([("s", target), ("t", server.url("/x"))])))
        feed_host.redirect("/bounce.html", target)
        settings = _settings(allow_private_networks=False, allowed_networks=["127.0.0.2/32"])

        polled = poll(feed_url, settings)
        assert len(polled.entries) == 2 and polled.error is None
        results = asyncio.run(fetch_pages(polled.entries, settings))
        bounced = fetch(feed_host.url("/bounce.html"), settings)

    assert all(isinstance(r, Failure) and "non-public address 127.0.0.1" in r.error for r in results)
    assert isinstance(bounced, Failure) and "non-public address 127.0.0.1" in bounced.error
    assert server.hits() == 0  # not the pages, not a robots.txt, not the redirect target

    # And with nothing allowed at all, the feed itself is never requested.
    with HostileServer() as lone:
        url = lone.add("/feed.xml", Reply(200, rss_feed([("s", target)])))
        refused = poll(url, _settings(allow_private_networks=False))
        assert "--allow-private-networks" in refused.error and lone.hits() == 0


def test_connections_are_pinned_to_the_address_the_guard_checked(server):
    """httpx never resolves names itself: the guard resolves once, checks, and connects to that IP."""
    lookups = []

    async def resolver(host: str, port: int) -> list[str]:
        lookups.append(host)
        return {"pinned.test": ["127.0.0.1"], "mixed.test": ["127.0.0.1", "10.0.0.1"]}[host]

    server.add("/feed.xml", Reply(200, rss_feed([("p", "http://hostile.invalid/p")])))
    allowed = _settings(allow_private_networks=False, allowed_networks=["127.0.0.1/32"])

    async def go(url: str):
        backend = http.GuardedNetworkBackend(allow_private=False, allowed_networks=["127.0.0.1/32"], resolver=resolver)
        async with http.make_client(allowed, backend=backend) as client:
            try:
                return await http.get(client, url, allowed, max_bytes=MIB), backend
            except http.FetchError as exc:
                return exc, backend

    response, backend = asyncio.run(go(f"http://pinned.test:{server.port}/feed.xml"))
    assert response.status == 200 and backend.connected == [("pinned.test", "127.0.0.1")]
    assert server.requests[-1][1]["Host"] == f"pinned.test:{server.port}"

    hits = server.hits()
    error, backend = asyncio.run(go(f"http://mixed.test:{server.port}/feed.xml"))
    assert isinstance(error, http.FetchError) and "non-public address 10.0.0.1" in str(error)
    assert backend.connected == [] and server.hits() == hits
    assert lookups == ["pinned.test", "mixed.test"]


def test_the_user_agent_names_newsflow_and_the_contact_url(server):
    server.add("/ua.xml", Reply(200, rss_feed([("a", "http://hostile.invalid/a")])))
    poll(server.url("/ua.xml"), _settings(contact_url="https://analysts.example/newsflow"))
    agent = server.requests[-1][1]["User-Agent"]
    assert agent.startswith("newsflow/") and "https://analysts.example/newsflow" in agent


def test_per_host_limits_hold_under_load(server):
    in_flight = {"now": 0, "peak": 0}
    import threading

    lock = threading.Lock()

    def slow(handler):
        with lock:
            in_flight["now"] += 1
            in_flight["peak"] = max(in_flight["peak"], in_flight["now"])
        time.sleep(0.05)
        with lock:
            in_flight["now"] -= 1
        handler.reply(Reply(200, rss_feed([("a", "http://hostile.invalid/a")])))

    sources = [FeedSource(server.add(f"/f{n}.xml", slow)) for n in range(12)]
    settings = _settings(per_host_connections=2, per_host_delay=0.02)
    started = time.monotonic()
    polls = asyncio.run(feeds.poll_many(sources, {}, settings))
    assert all(p.error is None for p in polls)
    assert in_flight["peak"] <= 2
    assert time.monotonic() - started >= 11 * 0.02


def test_one_page_fetch_with_an_explicit_limiter(server):
    url = server.add("/ok.html", Reply(200, b"<html><body>fine</body></html>", content_type="text/html"))
    settings = _settings()
    entry = FeedEntry(entry_key="k", feed_url="f", url=url, guid=None, title=None, published_at=None)

    async def go():
        async with http.make_client(settings) as client:
            return await fetch_page(client, entry, settings, http.make_limiter(settings))

    page = asyncio.run(go())
    assert isinstance(page, Page) and page.final_url == url
