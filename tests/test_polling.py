"""Polling like a good citizen: conditional GET and a body hash, per-feed schedules, moved
feeds, and entry identity. Real HTTP on loopback; no Prefect."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta

import pytest

from extractors import feeds, http, schedule
from newsflow.models import FeedSource, FeedState, PollCommit, PolledFeed
from newsflow.settings import Settings
from warehouse.store import Warehouse

from hostile_server import HostileServer, Reply, rss_feed

NOW = datetime(2026, 11, 25, 12, 0)


def _settings(**overrides) -> Settings:
    base = dict(allow_private_networks=True, per_host_delay=0.0, poll_jitter=0.0)
    base.update(overrides)
    return Settings(**base)


def poll(
    url: str, state: FeedState, settings: Settings | None = None, now: datetime = NOW, source_url: str | None = None
):
    settings = settings or _settings()

    async def go():
        async with http.make_client(settings) as client:
            return await feeds.poll_feed(client, FeedSource(source_url or url), state, settings, now=now)

    return asyncio.run(go())


@pytest.fixture
def server():
    with HostileServer() as hostile:
        yield hostile


# -- conditional GET and the body hash ------------------------------------------------------------


def test_a_304_parses_nothing_and_the_validators_are_sent(server):
    url = server.conditional("/feed.xml", rss_feed([("a", "http://news.invalid/a")]))
    state = FeedState(feed_url=url)
    first = poll(url, state)
    assert len(first.entries) == 1 and state.etag == '"v1"' and state.last_modified

    second = poll(url, state)
    assert second.not_modified and second.entries == [] and state.last_status == "304 not modified"
    headers = server.requests[-1][1]
    assert headers["If-None-Match"] == '"v1"' and headers["If-Modified-Since"] == state.last_modified


def test_an_unchanged_body_counts_as_not_modified_when_the_server_ignores_validators(server):
    url = server.add("/plain.xml", Reply(200, rss_feed([("a", "http://news.invalid/a")])))
    state = FeedState(feed_url=url)
    assert len(poll(url, state).entries) == 1
    again = poll(url, state)
    assert again.not_modified and again.entries == [] and state.last_status == "200 unchanged body"


def test_a_changed_body_is_parsed_even_when_the_etag_repeats(server):
    stale = {"ETag": '"forever"'}
    url = server.add("/stale.xml", Reply(200, rss_feed([("a", "http://news.invalid/a")]), stale))
    state = FeedState(feed_url=url)
    poll(url, state)
    server.add(
        "/stale.xml", Reply(200, rss_feed([("a", "http://news.invalid/a"), ("b", "http://news.invalid/b")]), stale)
    )
    changed = poll(url, state)
    assert not changed.not_modified and len(changed.entries) == 2


def test_a_gzipped_feed_is_read_and_its_304_costs_almost_nothing(server):
    body = rss_feed([(f"item {n}", f"http://news.invalid/{n}") for n in range(40)])
    url = server.conditional("/gz.xml", body, gzip_body=True)
    state = FeedState(feed_url=url)
    first_bytes = server.bytes_sent
    assert len(poll(url, state).entries) == 40
    first = server.bytes_sent - first_bytes
    assert first < len(body)  # it travelled compressed
    before = server.bytes_sent
    assert poll(url, state).not_modified
    assert server.bytes_sent - before == 0  # a 304 has no body


# -- scheduling ----------------------------------------------------------------------------------


def _dates(step: timedelta, n: int = 10, newest: datetime = NOW) -> list[datetime]:
    return [newest - step * i for i in range(n)]


def test_the_interval_follows_the_publishing_rate_within_bounds():
    settings = _settings()
    busy = schedule.learn_interval(FeedState("a"), settings, NOW, _dates(timedelta(minutes=30)))
    daily = schedule.learn_interval(FeedState("b"), settings, NOW, _dates(timedelta(hours=12)))
    frantic = schedule.learn_interval(FeedState("c"), settings, NOW, _dates(timedelta(seconds=20)))
    dormant = schedule.learn_interval(
        FeedState("d"), settings, NOW, _dates(timedelta(hours=1), newest=NOW - timedelta(days=60))
    )
    undated = schedule.learn_interval(FeedState("e"), settings, NOW, [None, None])
    assert busy == 15 * 60 and daily == 6 * 3600
    assert frantic == settings.poll_min_interval and dormant == settings.poll_max_interval
    assert undated == settings.poll_default_interval


def test_ttl_and_max_age_are_floors_and_the_range_is_a_clamp():
    settings = _settings()
    state = FeedState("f")
    assert schedule.learn_interval(state, settings, NOW, _dates(timedelta(minutes=30)), ttl="600") == 600 * 60
    state.poll_interval_s = 15 * 60
    assert schedule.schedule_success(state, settings, NOW, max_age=7200) == NOW + timedelta(hours=2)
    assert schedule.schedule_success(state, settings, NOW, max_age=30 * 86400) == NOW + timedelta(days=1)
    assert schedule.cache_max_age("public, max-age=300, s-maxage=900") == 900
    assert schedule.cache_max_age("no-cache") is None


def test_jitter_spreads_feeds_but_never_undercuts_the_server():
    settings = _settings(poll_jitter=0.1)
    rng = random.Random(7)
    state = FeedState("g", poll_interval_s=3600)
    waits = {(schedule.schedule_success(state, settings, NOW, rng=rng) - NOW).total_seconds() for _ in range(50)}
    assert min(waits) >= 3240 and max(waits) <= 3960 and len(waits) > 40
    for _ in range(50):
        state.error_count = 1
        next_at = schedule.schedule_failure(state, settings, NOW, retry_after=1800, rng=rng)
        assert next_at >= NOW + timedelta(seconds=1800)


def test_error_backoff_grows_and_is_capped_so_a_feed_is_never_disabled():
    settings = _settings()
    waits = [schedule.error_backoff(n, settings) for n in range(1, 40)]
    assert waits[0] == settings.poll_min_interval and waits == sorted(waits)
    assert max(waits) == settings.poll_max_interval
    state = FeedState("h", error_count=500)
    assert schedule.schedule_failure(state, settings, NOW) == NOW + timedelta(seconds=settings.poll_max_interval)


def test_a_feed_never_polled_is_due_and_a_polled_one_waits():
    assert schedule.is_due(None, NOW) and schedule.is_due(FeedState("a"), NOW)
    assert not schedule.is_due(FeedState("a", next_poll_at=NOW + timedelta(minutes=1)), NOW)
    assert schedule.is_due(FeedState("a", next_poll_at=NOW), NOW)


def test_a_poll_stores_next_poll_at_from_the_feed_and_its_headers(server):
    items = [
        (f"i{n}", f"http://news.invalid/{n}", (NOW - timedelta(hours=2 * n)).strftime("%a, %d %b %Y %H:%M:%S GMT"))
        for n in range(6)
    ]
    url = server.add(
        "/sched.xml", Reply(200, rss_feed(items, extra_channel="<ttl>180</ttl>"), {"Cache-Control": "max-age=60"})
    )
    state = FeedState(feed_url=url)
    poll(url, state)
    assert state.poll_interval_s == 3 * 3600  # the <ttl> outranks the two-hourly rate (an hour)
    assert state.next_poll_at == NOW + timedelta(hours=3)


# -- moved feeds -----------------------------------------------------------------------------------


def test_a_permanent_redirect_moves_the_feed_only_once_it_repeats(server):
    server.add("/new.xml", Reply(200, rss_feed([("a", "http://news.invalid/a")])))
    old = server.redirect("/old.xml", "/new.xml", status=301)
    state = FeedState(feed_url=old)
    poll(old, state)
    assert state.poll_url is None and state.redirect_candidate == server.url("/new.xml")
    poll(old, state)
    assert state.poll_url == server.url("/new.xml") and state.redirect_candidate is None
    hits = server.hits("/old.xml")
    poll(old, state)
    assert server.hits("/old.xml") == hits  # polled at its new address directly
    assert state.feed_url == old  # the feed keeps its identity


def test_a_moved_feed_whose_new_address_disappears_goes_back_to_the_configured_one(server):
    configured = server.add("/feed.xml", Reply(200, rss_feed([("a", "http://news.invalid/a")])))
    state = FeedState(feed_url=configured, poll_url=server.url("/gone.xml"))
    failed = poll(configured, state)
    assert "HTTP 404" in failed.error and "tries the configured address" in failed.error
    assert state.poll_url is None
    assert poll(configured, state).error is None and server.hits("/feed.xml") == 1


def test_a_temporary_redirect_never_moves_the_feed(server):
    server.add("/current.xml", Reply(200, rss_feed([("a", "http://news.invalid/a")])))
    url = server.redirect("/feed.xml", "/current.xml", status=302)
    state = FeedState(feed_url=url)
    for _ in range(3):
        poll(url, state)
    assert state.poll_url is None and state.redirect_candidate is None


def test_a_permanent_redirect_seen_once_then_gone_is_forgotten(server):
    server.add("/b.xml", Reply(200, rss_feed([("a", "http://news.invalid/a")])))
    url = server.redirect("/a.xml", "/b.xml", status=308)
    state = FeedState(feed_url=url)
    poll(url, state)
    assert state.redirect_candidate
    server.add("/a.xml", Reply(200, rss_feed([("a", "http://news.invalid/a")])))
    poll(url, state)
    assert state.redirect_candidate is None and state.poll_url is None


# -- entry identity ------------------------------------------------------------------------------


def test_tracking_parameters_are_stripped_before_an_entry_is_keyed():
    a = feeds.parse_feed(
        rss_feed([("x", "https://n.example.com/s?utm_source=rss&ocid=msn&id=4")], guid_for=lambda n, link: "g1"),
        "https://n.example.com/feed",
    )[1]
    b = feeds.parse_feed(
        rss_feed([("x", "https://n.example.com/s?id=4&fbclid=zz")], guid_for=lambda n, link: "g1"),
        "https://n.example.com/feed",
    )[1]
    assert a[0].url == b[0].url == "https://n.example.com/s?id=4" and a[0].entry_key == b[0].entry_key


def test_a_feed_that_links_every_item_to_its_home_page_is_keyed_on_permalink_guids():
    items = [("one", "https://n.example.com/"), ("two", "https://n.example.com/")]
    _, entries, _ = feeds.parse_feed(
        rss_feed(items, guid_for=lambda n, link: f"https://n.example.com/story/{n}"), "https://n.example.com/feed"
    )
    assert [e.url for e in entries] == ["https://n.example.com/story/0", "https://n.example.com/story/1"]


def test_a_changed_guid_on_the_same_link_is_not_a_new_entry(tmp_path):
    feed = "https://n.example.com/feed"
    first = feeds.parse_feed(
        rss_feed(
            [("a", "https://n.example.com/a"), ("b", "https://n.example.com/b")], guid_for=lambda n, link: f"v1-{n}"
        ),
        feed,
    )[1]
    second = feeds.parse_feed(
        rss_feed(
            [("a", "https://n.example.com/a?utm_medium=x"), ("b", "https://n.example.com/b")],
            guid_for=lambda n, link: f"v2-{n}",
        ),
        feed,
    )[1]
    assert {e.entry_key for e in first}.isdisjoint(e.entry_key for e in second)
    warehouse = Warehouse(tmp_path / "lake")
    try:
        state = FeedState(feed_url=feed)
        assert warehouse.commit_poll([PolledFeed(state)], first, [], "r1") == PollCommit(2, {feed: 2})
        assert warehouse.commit_poll([PolledFeed(state)], second, [], "r2") == PollCommit(0, {})
        assert sorted(e.url for e in warehouse.pending_entries(3)) == [
            "https://n.example.com/a",
            "https://n.example.com/b",
        ]
    finally:
        warehouse.close()


def test_feed_state_round_trips_through_the_lake_with_its_schedule(tmp_path):
    warehouse = Warehouse(tmp_path / "lake")
    try:
        state = FeedState(
            feed_url="https://n.example.com/feed",
            poll_url="https://n.example.com/moved",
            redirect_candidate=None,
            poll_interval_s=900,
            next_poll_at=NOW,
            error_count=2,
            last_error="feed … answered HTTP 500",
        )
        warehouse.commit_poll([PolledFeed(state, "Name")], [], [], "r1")
        assert warehouse.feed_states()[state.feed_url] == state
        row = warehouse.con.execute(
            "SELECT feed_url, title, error_count, last_error, next_poll_at, poll_url FROM feeds"
        ).fetchall()
        assert row == [(state.feed_url, "Name", 2, state.last_error, NOW, state.poll_url)]
    finally:
        warehouse.close()


def test_an_old_lake_gains_the_new_feed_columns(tmp_path):
    """A lake created before the scheduling columns existed keeps working."""
    from warehouse import lake

    con = lake.connect(tmp_path / "lake")
    con.execute("""CREATE TABLE feed_state (feed_url VARCHAR, name VARCHAR, title VARCHAR, etag VARCHAR,
                   last_modified VARCHAR, body_hash VARCHAR, last_polled_at TIMESTAMP, last_status VARCHAR,
                   error_count INTEGER, last_error VARCHAR, next_poll_at TIMESTAMP)""")
    con.execute("INSERT INTO feed_state (feed_url, error_count) VALUES ('https://old.example.com/feed', 0)")
    con.close()
    warehouse = Warehouse(tmp_path / "lake")
    try:
        assert warehouse.feed_states()["https://old.example.com/feed"].poll_interval_s is None
        assert warehouse.con.execute("SELECT count(*) FROM feeds").fetchone()[0] == 1
    finally:
        warehouse.close()
