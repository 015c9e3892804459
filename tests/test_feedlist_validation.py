"""A feed list is validated entry by entry: numbers as names are names, a bad entry is rejected
with a message naming it, and the run goes on with the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.ingest import ingest
from newsflow.feedlist import FeedListError, read_feed_list

from conftest import query
from newsweb import serve_site

HOSTILE_YAML = """feeds:
  - url: {good}
    name: 429
  - url: {other}
    name: 2024
  - url: ftp://files.example.org/feed.xml
    name: wrong scheme
  - url: "http://exa mple.org/feed.xml"
  - url: 12345
  - [not, an, entry]
  - name: no url at all
  - url: https://example.org/rss
    name: {{nested: mapping}}
  - url: "http://"
  - "http://127.0.0.1:9/plain-string-entry.xml"
"""


def _write(tmp_path: Path, text: str, name: str = "feeds.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_numeric_names_become_strings_and_each_bad_entry_is_named(tmp_path):
    listed = read_feed_list(
        _write(tmp_path, HOSTILE_YAML.format(good="http://127.0.0.1:1/a.xml", other="http://127.0.0.1:1/b.xml"))
    )
    assert [(s.url, s.name) for s in listed.sources] == [
        ("http://127.0.0.1:1/a.xml", "429"),
        ("http://127.0.0.1:1/b.xml", "2024"),
        ("http://127.0.0.1:9/plain-string-entry.xml", None),
    ]
    by_index = {r.index: r.message for r in listed.rejected}
    assert sorted(by_index) == [3, 4, 5, 6, 7, 8, 9]
    assert "feed #3 " in by_index[3] and "ftp://files.example.org/feed.xml" in by_index[3]
    assert "http:// or https://" in by_index[3]
    assert "spaces" in by_index[4]
    assert "`url` must be text, got int" in by_index[5] and "12345" in by_index[5]
    assert "got list" in by_index[6]
    assert "`url` is missing" in by_index[7]
    assert "`name` must be text, got dict" in by_index[8]
    assert "no host name" in by_index[9]
    assert all(str(tmp_path / "feeds.yaml") in m for m in by_index.values())


def test_opml_entries_are_validated_the_same_way(tmp_path):
    opml = _write(
        tmp_path,
        """<?xml version="1.0"?><opml version="2.0"><body>
        <outline text="Folder">
          <outline text="Good" xmlUrl="https://example.org/good.xml"/>
          <outline text="Mail" xmlUrl="mailto:editor@example.org"/>
          <outline text="Broken" xmlUrl="http://[::1/feed"/>
        </outline></body></opml>""",
        "feeds.opml",
    )
    listed = read_feed_list(opml)
    assert [(s.url, s.name) for s in listed.sources] == [("https://example.org/good.xml", "Good")]
    assert [r.index for r in listed.rejected] == [2, 3]
    assert "mailto" in listed.rejected[0].message and "not a valid URL" in listed.rejected[1].message


def test_a_file_that_is_not_a_feed_list_is_still_an_error(tmp_path):
    with pytest.raises(FeedListError, match="must contain `feeds:`"):
        read_feed_list(_write(tmp_path, "feeds: 7\n"))


@pytest.mark.prefect
def test_a_run_with_bad_entries_stores_the_good_feeds_and_records_each_rejection(
    httpserver, prefect_api_url, tmp_path, data_dir
):
    good = serve_site(httpserver, ["s400", "howitzers"])
    other = serve_site(httpserver, ["patriots"], feed_path="/other.xml")
    feeds = _write(tmp_path, HOSTILE_YAML.format(good=good, other=other))

    totals = ingest(feeds_file=str(feeds), data_dir=str(data_dir), allow_private_networks=True)

    assert totals["articles_stored"] == 3
    assert query(data_dir, "SELECT name FROM feed_state WHERE feed_url = ?", good) == [("429",)]
    assert query(data_dir, "SELECT name FROM feed_state WHERE feed_url = ?", other) == [("2024",)]
    rejected = query(data_dir, "SELECT error FROM failures WHERE stage = 'feeds' ORDER BY error")
    assert len(rejected) == 7
    assert any("feed #3 " in e and "ftp://files.example.org/feed.xml" in e for (e,) in rejected)
    # the plain-string entry is a real (unreachable) feed: polled, failed at poll, not at load
    assert totals["failures"] >= 7
