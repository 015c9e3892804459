"""robots.txt for article pages: obeyed by default, read once per host per run, and a missing,
broken or slow robots.txt never blocks or hangs a run."""

from __future__ import annotations

import asyncio
import time

import pytest

from extractors.fetch import fetch_pages
from extractors.robots import RobotsCache, parse_robots
from newsflow.models import Failure, FeedEntry, Page
from newsflow.settings import Settings

from hostile_server import HostileServer, Reply

PAGE = Reply(200, b"<html><body><p>article</p></body></html>", content_type="text/html; charset=utf-8")


def _settings(**overrides) -> Settings:
    return Settings(**dict(dict(allow_private_networks=True, per_host_delay=0.0), **overrides))


def _entries(*urls: str) -> list[FeedEntry]:
    return [
        FeedEntry(entry_key=str(n), feed_url="f", url=u, guid=None, title=None, published_at=None)
        for n, u in enumerate(urls)
    ]


@pytest.fixture
def server():
    with HostileServer() as hostile:
        for path in ("/news/a.html", "/news/b.html", "/private/c.html", "/private/open.html"):
            hostile.add(path, PAGE)
        yield hostile


def test_rules_longest_match_wins_and_wildcards_work():
    rules = parse_robots("""
        User-agent: *
        Disallow: /private/
        Allow: /private/open
        Disallow: /*.pdf$
        Disallow: /search?

        User-agent: OtherBot
        Disallow: /
    """)
    assert not rules.allows("https://x.example/private/c.html")
    assert rules.allows("https://x.example/private/open.html")
    assert not rules.allows("https://x.example/files/report.pdf")
    assert rules.allows("https://x.example/files/report.pdf?download=1")
    assert not rules.allows("https://x.example/search?q=tanks")
    assert rules.allows("https://x.example/news/a.html")
    assert not rules.allows("https://x.example/news/a.html", agent="otherbot")


def test_a_group_naming_newsflow_replaces_the_star_group():
    rules = parse_robots("User-agent: *\nDisallow: /\n\nUser-agent: newsflow\nDisallow: /drafts/\n")
    assert rules.allows("https://x.example/news/a.html")
    assert not rules.allows("https://x.example/drafts/x")
    assert parse_robots("User-agent: *\nDisallow:\n").allows("https://x.example/anything")


def test_disallowed_pages_are_skipped_with_a_reason_and_robots_txt_is_read_once(server):
    server.add(
        "/robots.txt",
        Reply(200, b"User-agent: *\nDisallow: /private/\nAllow: /private/open", content_type="text/plain"),
    )
    urls = [server.url(p) for p in ("/news/a.html", "/news/b.html", "/private/c.html", "/private/open.html")]
    robots = RobotsCache()
    results = asyncio.run(fetch_pages(_entries(*urls), _settings(), robots))
    more = asyncio.run(fetch_pages(_entries(server.url("/news/a.html")), _settings(), robots))

    assert [type(r).__name__ for r in results] == ["Page", "Page", "Failure", "Page"]
    skipped = results[2]
    assert skipped.error.startswith("skipped") and "robots.txt" in skipped.error and "--ignore-robots" in skipped.error
    assert isinstance(more[0], Page)
    assert server.hits("/robots.txt") == 1 and server.hits("/private/c.html") == 0


def test_the_switch_turns_robots_txt_off(server):
    server.add("/robots.txt", Reply(200, b"User-agent: *\nDisallow: /\n", content_type="text/plain"))
    results = asyncio.run(fetch_pages(_entries(server.url("/private/c.html")), _settings(obey_robots=False)))
    assert isinstance(results[0], Page) and server.hits("/robots.txt") == 0


@pytest.mark.parametrize(
    "robots",
    [
        None,
        Reply(404, b"gone", content_type="text/plain"),
        Reply(503, b"down", content_type="text/plain"),
        Reply(200, b"<html>not robots</html>", content_type="text/html"),
    ],
)
def test_missing_or_broken_robots_txt_allows_everything(server, robots):
    if robots is not None:
        server.add("/robots.txt", robots)
    results = asyncio.run(fetch_pages(_entries(server.url("/private/c.html")), _settings()))
    assert isinstance(results[0], Page)


def test_a_slow_robots_txt_does_not_hang_the_fetch(server):
    server.slow_drip("/robots.txt", interval=0.2, content_type="text/plain")
    started = time.monotonic()
    results = asyncio.run(
        fetch_pages(_entries(server.url("/news/a.html"), server.url("/news/b.html")), _settings(robots_timeout=0.5))
    )
    assert all(isinstance(r, Page) for r in results)
    assert time.monotonic() - started < 3 and server.hits("/robots.txt") == 1


def test_robots_txt_of_a_refused_address_is_never_requested(server):
    results = asyncio.run(fetch_pages(_entries(server.url("/news/a.html")), _settings(allow_private_networks=False)))
    assert isinstance(results[0], Failure) and "non-public address" in results[0].error
    assert server.hits() == 0
