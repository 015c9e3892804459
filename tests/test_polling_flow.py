"""The hostile corpus through the real ingest flow: one run over good and bad feeds completes,
records every failure with a reason, schedules every feed, and the next run polls only what is
due. Also: subscriptions imported from OPML, and the CLI switches."""

from __future__ import annotations

from datetime import timedelta

import pytest

from flows.ingest import ingest
from newsflow import cli
from newsflow.clock import utcnow

from conftest import query
from hostile_server import MIB, HostileServer, Reply, rss_feed
from newsweb import ARTICLES, article_page

HTML = "text/html; charset=utf-8"


@pytest.fixture
def quick_limits(monkeypatch):
    for key, value in {
        "NEWSFLOW_TOTAL_TIMEOUT": "1.5",
        "NEWSFLOW_READ_TIMEOUT": "1",
        "NEWSFLOW_PER_HOST_DELAY": "0",
        "NEWSFLOW_MAX_FEED_BYTES": str(4 * MIB),
        "NEWSFLOW_POLL_JITTER": "0",
    }.items():
        monkeypatch.setenv(key, value)


def _hostile_web(server: HostileServer, busy: HostileServer) -> dict[str, str]:
    """A good feed (with one page robots.txt forbids) and one feed for each misbehaviour; the
    429 is on a host of its own, since it tells us to leave its whole host alone."""
    for key in ("s400", "howitzers", "patriots"):
        server.add(f"/news/{key}.html", Reply(200, article_page(key).encode(), content_type=HTML))
    server.add("/private/club.html", Reply(200, article_page("club_sanction").encode(), content_type=HTML))
    server.add("/robots.txt", Reply(200, b"User-agent: *\nDisallow: /private/\n", content_type="text/plain"))
    items = [(ARTICLES[k]["title"], server.url(f"/news/{k}.html") + "?utm_source=rss") for k in ("s400", "howitzers")]
    items.append(("Club", server.url("/private/club.html")))
    feeds = {"good": server.add("/good.xml", Reply(200, rss_feed(items), {"ETag": '"g1"'}))}
    feeds["drip"] = server.slow_drip("/drip.xml", interval=0.2)
    feeds["busy"] = busy.add("/busy.xml", Reply(429, b"", {"Retry-After": "600"}, content_type="text/plain"))
    feeds["broken"] = server.add("/broken.xml", Reply(500, b"oops", content_type="text/plain"))
    server.redirect("/loop-a.xml", "/loop-b.xml")
    feeds["loop"] = server.redirect("/loop-b.xml", "/loop-a.xml")
    feeds["html"] = server.add(
        "/page.xml", Reply(200, b"<!doctype html><html><body>hi</body></html>", content_type=HTML)
    )
    feeds["empty"] = server.add("/empty.xml", Reply(200, b""))
    full = rss_feed([(ARTICLES["patriots"]["title"], server.url("/news/patriots.html")), ("Lost", server.url("/x"))])
    feeds["truncated"] = server.add("/cut.xml", Reply(200, full[: full.index(b"<item><title>Lost")] + b"<item><ti"))
    feeds["bomb"] = server.gzip_bomb("/bomb.xml", inflated=64 * MIB)
    feeds["huge"] = server.huge("/huge.xml", 50 * MIB, declare_length=False, content_type="application/rss+xml")
    return feeds


def test_one_run_over_hostile_feeds_completes_and_the_next_polls_only_what_is_due(
    prefect_api_url, data_dir, write_feeds, quick_limits
):
    with HostileServer() as server, HostileServer() as busy:
        feeds = _hostile_web(server, busy)
        feeds_file = write_feeds(*feeds.values())
        before = utcnow()

        totals = ingest(feeds_file=str(feeds_file), data_dir=str(data_dir), allow_private_networks=True)

        assert totals["feeds_polled"] == len(feeds)
        assert totals["feeds_failed"] == len(feeds) - 2  # all but the good and the truncated feed
        assert totals["articles_stored"] == 3  # s400, howitzers, and patriots from the truncated feed
        rows = {
            url: rest
            for url, *rest in query(
                data_dir, "SELECT feed_url, last_status, error_count, last_error, next_poll_at FROM feeds"
            )
        }
        assert set(rows) == set(feeds.values())
        for name, url in feeds.items():
            status, errors, error, next_poll = rows[url]
            assert next_poll > before, name
            if name in ("good", "truncated"):
                assert errors == 0 and status.startswith("200 parsed"), (name, status)
            else:
                assert errors == 1 and status == "failed" and "next try at" in error, (name, error)
        assert rows[feeds["busy"]][3] >= before + timedelta(seconds=600)
        assert "total time limit" in rows[feeds["drip"]][2]
        assert "redirect loop" in rows[feeds["loop"]][2]
        assert "HTML page" in rows[feeds["html"]][2]
        assert "empty body" in rows[feeds["empty"]][2]
        assert "after decompression" in rows[feeds["bomb"]][2]
        assert "byte cap" in rows[feeds["huge"]][2]

        failures = query(data_dir, "SELECT stage, url, error FROM failures ORDER BY stage, url")
        poll_failures = {url for stage, url, _ in failures if stage == "poll"}
        assert poll_failures == {url for name, url in feeds.items() if name not in ("good", "truncated")}
        fetch_failures = [(url, error) for stage, url, error in failures if stage == "fetch"]
        assert any(u.endswith("/private/club.html") and "robots.txt" in e for u, e in fetch_failures)
        assert rows[feeds["truncated"]][0] == "200 parsed with warnings"
        assert server.hits("/private/club.html") == 0 and server.hits("/robots.txt") == 1

        requests = server.hits()
        again = ingest(feeds_file=str(feeds_file), data_dir=str(data_dir), allow_private_networks=True)
        assert again["feeds_polled"] == 0 and again["feeds_not_due"] == len(feeds) and again["new_entries"] == 0
        assert server.hits() == requests


def test_imported_subscriptions_are_polled_listed_and_exported(prefect_api_url, tmp_path, data_dir, capsys):
    with HostileServer() as server:
        server.add("/news/s400.html", Reply(200, article_page("s400").encode(), content_type=HTML))
        feed = server.conditional("/feed.xml", rss_feed([(ARTICLES["s400"]["title"], server.url("/news/s400.html"))]))
        opml = tmp_path / "subs.opml"
        opml.write_text(
            f"""<?xml version="1.0"?><opml version="2.0"><head><title>mine</title></head><body>
            <outline text="Defence"><outline type="rss" text="Hostile &amp; Co" xmlUrl="{feed}"/></outline>
            <outline type="rss" text="Never polled" xmlURL="http://127.0.0.1:9/never.xml"/>
            </body></opml>""",
            encoding="utf-8",
        )

        assert cli.main(["feeds", "import", str(opml), "--data-dir", str(data_dir)]) == 0
        assert "2 new" in capsys.readouterr().out
        assert cli.main(["feeds", "import", str(opml), "--data-dir", str(data_dir)]) == 0
        assert "0 new, 2 already subscribed" in capsys.readouterr().out
        assert cli.main(["feeds", "list", "--data-dir", str(data_dir), "--format", "json"]) == 0
        listed = {row["feed_url"]: row for row in __import__("json").loads(capsys.readouterr().out)}
        assert listed[feed]["health"] == "never polled" and listed[feed]["title"] == "Hostile & Co"

        totals = ingest(feeds_file=None, data_dir=str(data_dir), allow_private_networks=True)

        assert totals["feeds_polled"] == 2 and totals["articles_stored"] == 1
        assert cli.main(["feeds", "list", "--data-dir", str(data_dir), "--format", "json"]) == 0
        listed = {row["feed_url"]: row for row in __import__("json").loads(capsys.readouterr().out)}
        assert listed[feed]["health"] == "ok" and listed[feed]["next_poll_at"]
        assert listed["http://127.0.0.1:9/never.xml"]["health"] == "failing (1 in a row)"

        assert cli.main(["feeds", "export", "--data-dir", str(data_dir)]) == 0
        exported = capsys.readouterr().out
        assert f'xmlUrl="{feed}"' in exported and 'text="Hostile &amp; Co"' in exported
        round_trip = tmp_path / "again.opml"
        round_trip.write_text(exported, encoding="utf-8")
        from newsflow.feedlist import load_feed_list

        assert {s.url for s in load_feed_list(round_trip)} == set(listed)


def test_ingest_switches_reach_the_flow(monkeypatch, tmp_path, capsys):
    seen = {}

    def fake_run(feeds_file, data_dir, allow_private, verbose, poll_all=False, obey_robots=None):
        seen.update(feeds_file=feeds_file, poll_all=poll_all, obey_robots=obey_robots)
        return {}

    monkeypatch.setattr(cli, "_run_ingest", fake_run)
    monkeypatch.setattr(cli, "_print_failures", lambda data_dir: None)
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text("feeds:\n  - url: http://127.0.0.1:9/feed.xml\n", encoding="utf-8")
    assert cli.main(["ingest", "--feeds", str(feeds), "--all", "--ignore-robots", "--data-dir", str(tmp_path)]) == 0
    assert seen == {"feeds_file": feeds, "poll_all": True, "obey_robots": False}
    assert cli.main(["ingest", "--feeds", str(feeds), "--data-dir", str(tmp_path)]) == 0
    assert seen == {"feeds_file": feeds, "poll_all": False, "obey_robots": None}
    assert cli.main(["ingest", "--data-dir", str(tmp_path / "empty")]) == 2
    assert "no feeds to poll" in capsys.readouterr().err
