"""End to end: feeds on a loopback server, through the real flow, into a real lake."""

from __future__ import annotations

from flows.ingest import ingest

from conftest import query
from newsweb import serve_site


def test_ingest_stores_tags_and_dedups_a_syndicated_copy(httpserver, prefect_api_url, data_dir, write_feeds):
    feed = serve_site(
        httpserver,
        ["s400", "s400_copy", "howitzers", "patriots", "club_sanction"],
        extra_items=[("Gone", httpserver.url_for("/news/missing.html"))],
    )
    httpserver.expect_request("/news/missing.html").respond_with_data("not here", status=404)

    totals = ingest(feeds_file=str(write_feeds(feed)), data_dir=str(data_dir), allow_private_networks=True)

    assert totals["feeds_polled"] == 1
    assert totals["new_entries"] == 6
    assert totals["articles_stored"] == 5
    assert totals["failures"] == 1
    rows = dict(query(data_dir, "SELECT title, story_id FROM articles"))
    assert rows["Russia starts S-400 deliveries to India"] == rows["India receives first Russian missile shield units"]
    assert len(set(rows.values())) == 4
    story = query(
        data_dir,
        """SELECT original_source, n_articles, original_url FROM stories
                                WHERE title = 'Russia starts S-400 deliveries to India'""",
    )
    assert story == [("Northline Wire", 2, httpserver.url_for("/news/s400.html"))]
    copy = query(data_dir, "SELECT syndicated_from, is_original, url FROM articles WHERE source = 'Dailyfold'")
    assert copy[0][:2] == ("Northline Wire", False)
    assert "utm_source" not in copy[0][2]
    failures = query(data_dir, "SELECT stage, error FROM failures")
    assert failures[0][0] == "fetch" and "404" in failures[0][1]

    import json

    from prefect.artifacts import Artifact

    table = Artifact.get("ingest-summary").data
    rows = {row["url"]: row for row in (json.loads(table) if isinstance(table, str) else table)}
    assert rows[feed] == {
        "feed": feed,
        "url": feed,
        "new_entries": 6,
        "pages_fetched": 5,
        "articles_stored": 5,
        "new_stories": 4,
        "articles_tagged": 3,
        "failures": 1,
    }
    assert rows[""]["feed"] == "TOTAL" and rows[""]["articles_stored"] == 5


def test_tags_and_entities_of_the_flagship_story(httpserver, prefect_api_url, data_dir, write_feeds):
    feed = serve_site(httpserver, ["s400", "patriots", "club_sanction", "howitzers"])
    ingest(feeds_file=str(write_feeds(feed)), data_dir=str(data_dir), allow_private_networks=True)

    tags = query(
        data_dir,
        """SELECT a.title, list(t.tag ORDER BY t.tag), min(length(t.evidence))
                               FROM articles a JOIN article_tags t USING (article_id) GROUP BY a.title""",
    )
    by_title = {title: (tag_list, evidence) for title, tag_list, evidence in tags}
    assert by_title["Russia starts S-400 deliveries to India"][0] == ["arms_deal", "sanctions"]
    assert by_title["Russia starts S-400 deliveries to India"][1] > 20
    assert by_title["Poland signs for more K9 howitzers"][0] == ["arms_deal"]
    assert "Patriots rally late to beat Jets" not in by_title
    assert "League sanctions harbour club over unpaid wages" not in by_title

    entities = set(
        query(
            data_dir,
            """SELECT e.kind, e.name, e.role FROM entities e JOIN articles a USING (article_id)
                                       WHERE a.title = 'Russia starts S-400 deliveries to India'""",
        )
    )
    assert ("country", "Russia", "supplier") in entities
    assert ("country", "India", "recipient") in entities
    assert ("country", "United States", "sanctioning") in entities
    assert ("country", "Turkey", "target") in entities
    assert ("regime", "CAATSA", None) in entities
    assert ("weapon_system", "S-400", None) in entities
    money = query(
        data_dir,
        """SELECT value_usd FROM entities JOIN articles a USING (article_id)
                                WHERE kind = 'money' AND a.title LIKE 'Russia starts%'""",
    )
    assert money == [(5.5e9,)]


def test_second_run_adds_nothing(httpserver, prefect_api_url, data_dir, write_feeds):
    feed = serve_site(httpserver, ["s400", "howitzers"])
    feeds = write_feeds(feed)
    ingest(feeds_file=str(feeds), data_dir=str(data_dir), allow_private_networks=True)
    counts = query(
        data_dir,
        "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM article_tags), "
        "(SELECT count(*) FROM entities), (SELECT count(*) FROM stories)",
    )
    page_requests = len([r for r, _ in httpserver.log if r.path.startswith("/news/")])

    totals = ingest(feeds_file=str(feeds), data_dir=str(data_dir), allow_private_networks=True)

    assert totals["new_entries"] == 0 and totals["articles_stored"] == 0
    assert (
        query(
            data_dir,
            "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM article_tags), "
            "(SELECT count(*) FROM entities), (SELECT count(*) FROM stories)",
        )
        == counts
    )
    assert len([r for r, _ in httpserver.log if r.path.startswith("/news/")]) == page_requests


def test_loopback_is_refused_without_the_flag(httpserver, prefect_api_url, data_dir, write_feeds):
    feed = serve_site(httpserver, ["s400"])

    totals = ingest(feeds_file=str(write_feeds(feed)), data_dir=str(data_dir))

    assert len(httpserver.log) == 0
    assert totals["feeds_failed"] == 1
    [(error,)] = query(data_dir, "SELECT last_error FROM feeds")
    assert "non-public address 127.0.0.1" in error and "--allow-private-networks" in error


def test_maintenance_compacts_without_changing_what_readers_see(httpserver, prefect_api_url, data_dir, write_feeds):
    from flows.maintenance import maintenance

    for keys in (["s400"], ["s400", "howitzers"], ["s400", "howitzers", "patriots"]):
        httpserver.clear()
        ingest(
            feeds_file=str(write_feeds(serve_site(httpserver, keys))),
            data_dir=str(data_dir),
            allow_private_networks=True,
            poll_all=True,
        )
    before = query(data_dir, "SELECT article_id, story_id, title FROM articles ORDER BY article_id")

    result = maintenance(data_dir=str(data_dir), keep_days=0)

    assert query(data_dir, "SELECT article_id, story_id, title FROM articles ORDER BY article_id") == before
    assert len(before) == 3
    assert result["snapshots_kept"] >= 1
    assert result["parquet_files_after"] >= 1


def test_a_page_announced_as_updated_is_fetched_again_and_kept_as_a_new_version(
    httpserver, prefect_api_url, data_dir, write_feeds
):
    from newsweb import ARTICLES, article_page

    def serve(paragraphs, updated):
        httpserver.clear()
        ARTICLES["s400_live"] = dict(ARTICLES["s400"], paragraphs=paragraphs)
        httpserver.expect_request("/news/live.html").respond_with_data(
            article_page("s400_live"), content_type="text/html; charset=utf-8"
        )
        feed = (
            f'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Live</title>'
            f'<entry><title>S-400</title><id>urn:live</id><link href="{httpserver.url_for("/news/live.html")}"/>'
            f"<published>2026-11-14T08:00:00Z</published><updated>{updated}</updated></entry></feed>"
        )
        httpserver.expect_request("/feed.xml").respond_with_data(feed, content_type="application/atom+xml")
        return write_feeds(httpserver.url_for("/feed.xml"))

    first = ARTICLES["s400"]["paragraphs"]
    feeds = serve(first, "2026-11-14T08:00:00Z")
    ingest(feeds_file=str(feeds), data_dir=str(data_dir), allow_private_networks=True, poll_all=True)
    feeds = serve(
        first + ["UPDATE: The defence ministry later said two regiments were already operational."],
        "2026-11-14T12:00:00Z",
    )

    totals = ingest(feeds_file=str(feeds), data_dir=str(data_dir), allow_private_networks=True, poll_all=True)

    assert totals["pages_fetched"] == 1
    versions = query(data_dir, "SELECT version, story_id, story_reason FROM article_versions ORDER BY version")
    assert [v[0] for v in versions] == [1, 2] and versions[0][1] == versions[1][1] and versions[1][2] == "update"
    assert query(data_dir, "SELECT count(*), max(version) FROM articles") == [(1, 2)]
    assert "two regiments" in query(data_dir, "SELECT text FROM articles")[0][0]
    again = ingest(feeds_file=str(feeds), data_dir=str(data_dir), allow_private_networks=True, poll_all=True)
    assert again["pages_fetched"] == 0


def test_a_copy_arriving_in_a_later_run_joins_the_original_story(httpserver, prefect_api_url, data_dir, write_feeds):
    ingest(
        feeds_file=str(write_feeds(serve_site(httpserver, ["s400", "howitzers"]))),
        data_dir=str(data_dir),
        allow_private_networks=True,
    )
    httpserver.clear()
    ingest(
        feeds_file=str(write_feeds(serve_site(httpserver, ["s400_copy"], feed_path="/later.xml"))),
        data_dir=str(data_dir),
        allow_private_networks=True,
    )

    rows = dict(
        query(
            data_dir,
            "SELECT source, story_id FROM articles WHERE title LIKE '%S-400%' OR title LIKE '%missile shield%'",
        )
    )
    assert rows["Dailyfold"] == rows["Northline Wire"]
    assert query(data_dir, "SELECT story_reason, syndicated_from FROM articles WHERE source = 'Dailyfold'") == [
        ("near_duplicate", "Northline Wire")
    ]
    assert (data_dir / "state" / "story-index.npz").exists()


def test_a_damaged_story_index_is_rebuilt_from_the_warehouse(httpserver, prefect_api_url, data_dir, write_feeds):
    ingest(
        feeds_file=str(write_feeds(serve_site(httpserver, ["s400"]))),
        data_dir=str(data_dir),
        allow_private_networks=True,
    )
    (data_dir / "state" / "story-index.npz").write_bytes(b"not an index")
    httpserver.clear()
    ingest(
        feeds_file=str(write_feeds(serve_site(httpserver, ["s400_copy"], feed_path="/later.xml"))),
        data_dir=str(data_dir),
        allow_private_networks=True,
    )

    assert len({story for (story,) in query(data_dir, "SELECT story_id FROM articles")}) == 1
    assert query(data_dir, "SELECT count(*) FROM articles") == [(2,)]
