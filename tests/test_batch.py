"""The batch rules (article versions, story links, entry outcomes, counts) and a whole ingest
run as plain Python: no Prefect server involved."""

from __future__ import annotations

from datetime import datetime

import pytest

from extractors.dedup import StoryIndex
from extractors.http import FetchError
from extractors.tagging import Tagger
from newsflow.models import Article, Failure, FeedEntry, FeedSource, FeedState, PollCommit, PolledFeed
from newsflow.pipeline import BatchAssembler, RunSummary, run_ingest
from newsflow.retry import backoff_delay, with_retry
from warehouse.store import Warehouse

from conftest import NEWS_WEB
from newsweb import ARTICLES, serve_site

FEED = "https://wire.example.com/feed.xml"
AT = datetime(2026, 11, 14, 9, 0)


def entry(key: str, url: str, feed: str = FEED) -> FeedEntry:
    return FeedEntry(entry_key=key, feed_url=feed, url=url, guid=key, title=None, published_at=AT)


def article(key: str, url: str, fixture: str, extra: str = "") -> Article:
    text = "\n".join(ARTICLES[fixture]["paragraphs"]) + extra
    return Article(
        entry_key=key,
        url=url,
        canonical_url=url,
        final_url=url,
        source=ARTICLES[fixture]["site"],
        domain="wire.example.com",
        title=ARTICLES[fixture]["title"],
        author=None,
        published_at=AT,
        fetched_at=AT,
        language="en",
        text=text,
    )


@pytest.fixture
def warehouse(tmp_path):
    store = Warehouse(tmp_path / "lake")
    yield store
    store.close()


@pytest.fixture(scope="module")
def tagger():
    return Tagger.default()


def test_each_failure_kind_becomes_the_entry_outcome_whatever_its_wording(warehouse, tagger):
    entries = [entry(k, f"https://wire.example.com/{k}") for k in ("wait", "timeout", "robots", "gone")]
    failures = [
        Failure(entries[0].url, "fetch", "host busy", AT, "wait", kind="deferred"),
        Failure(
            entries[1].url,
            "fetch",
            "skipped: the wording says skipped but the kind is retry",
            AT,
            "timeout",
            kind="retry",
        ),
        Failure(entries[2].url, "fetch", "robots.txt disallows it", AT, "robots", kind="skipped"),
        Failure(entries[3].url, "fetch", "not contacted: wording again", AT, "gone"),
    ]
    summary = RunSummary()
    assembler = BatchAssembler(warehouse, tagger, StoryIndex(), summary, entries, decided_at=AT)
    assert assembler.fetched(list(failures)) == []
    result = assembler.finish()

    assert [(o.entry_key, o.outcome) for o in result.outcomes] == [
        ("wait", "deferred"),
        ("timeout", "retry"),
        ("robots", "skipped"),
        ("gone", "failed"),
    ]
    assert summary.failures == 4 and summary.feed(FEED)["failures"] == 4
    warehouse.commit_batch(result, "run-1")
    # Only deferred and retry outcomes leave an entry pending; robots and 404 are final.
    warehouse.commit_poll([PolledFeed(FeedState(feed_url=FEED))], entries, [], "run-1")
    assert sorted(e.entry_key for e in warehouse.pending_entries(3)) == ["timeout", "wait"]


def test_a_failure_without_a_kind_takes_it_from_retryable():
    assert Failure("u", "fetch", "e", AT, retryable=True).kind == "retry"
    assert Failure("u", "fetch", "e", AT).kind == "failed"
    assert Failure("u", "fetch", "e", AT, kind="deferred").retryable is True
    assert Failure("u", "fetch", "e", AT, kind="skipped").retryable is False
    with pytest.raises(ValueError, match="unknown failure kind"):
        Failure("u", "fetch", "e", AT, kind="maybe")  # type: ignore[arg-type]
    assert FetchError("x", retryable=True).kind == "retry" and FetchError("x", kind="deferred").retryable


def test_a_syndicated_copy_joins_the_story_and_is_counted_per_feed(warehouse, tagger):
    other_feed = "https://daily.example.com/rss"
    entries = [entry("a", "https://wire.example.com/s400"), entry("b", "https://daily.example.com/s400", other_feed)]
    summary = RunSummary()
    assembler = BatchAssembler(warehouse, tagger, StoryIndex(), summary, entries, decided_at=AT)
    assembler.extracted([article("a", entries[0].url, "s400"), article("b", entries[1].url, "s400_copy")])
    result = assembler.finish()

    original, copy = result.articles
    assert original.story_reason == "new_story" and copy.story_reason == "near_duplicate"
    assert copy.story_id == original.story_id and copy.story_matched_article_id == original.article_id
    assert [o.outcome for o in result.outcomes] == ["stored", "stored"]
    assert {t.tag.tag for t in result.tags if t.article_id == original.article_id} == {"arms_deal", "sanctions"}
    assert summary.per_feed[FEED]["new_stories"] == 1 and summary.per_feed[other_feed]["new_stories"] == 0
    assert summary.per_feed[other_feed]["articles_stored"] == 1 and summary.articles_stored == 2


def test_the_same_page_again_is_a_new_version_only_when_its_text_changed(warehouse, tagger):
    index = StoryIndex()
    url = "https://wire.example.com/s400"
    first = BatchAssembler(warehouse, tagger, index, RunSummary(), [entry("a", url)], decided_at=AT)
    first.extracted([article("a", url, "s400")])
    warehouse.commit_batch(first.finish(), "run-1")

    same = BatchAssembler(warehouse, tagger, index, RunSummary(), [entry("a2", url)], decided_at=AT)
    same.extracted([article("a2", url, "s400")])
    unchanged = same.finish()
    assert unchanged.articles == []
    assert [(o.outcome, o.detail) for o in unchanged.outcomes] == [
        ("stored", f"same page as article {first.result.articles[0].article_id}")
    ]

    changed = BatchAssembler(warehouse, tagger, index, RunSummary(), [entry("a3", url)], decided_at=AT)
    changed.extracted([article("a3", url, "s400", extra="\nA later paragraph the page gained in an update.")])
    [version] = changed.finish().articles
    assert (version.version, version.story_reason) == (2, "update")
    assert version.article_id == first.result.articles[0].article_id


def test_poll_commit_counts_new_entries_per_feed_itself(warehouse):
    a, b = "https://a.example.com/feed", "https://b.example.com/feed"
    entries = [
        entry("1", "https://a.example.com/1", a),
        entry("2", "https://a.example.com/2", a),
        entry("3", "https://b.example.com/3", b),
    ]
    polled = [PolledFeed(FeedState(feed_url=a)), PolledFeed(FeedState(feed_url=b))]
    assert warehouse.commit_poll(polled, entries, [], "r1") == PollCommit(3, {a: 2, b: 1})
    again = entries + [entry("4", "https://b.example.com/4", b)]
    assert warehouse.commit_poll(polled, again, [], "r2") == PollCommit(1, {b: 1})


def test_a_whole_ingest_runs_as_plain_python_without_prefect(plain_ingest, httpserver):
    result, feed = plain_ingest.result, plain_ingest.feed

    assert plain_ingest.stages == ["poll-feeds", "load-batch"]
    assert result.totals["new_entries"] == 6 and result.totals["articles_stored"] == 5
    assert result.totals["failures"] == 1 and result.totals["stories"] == 4
    counts = result.summary.per_feed[feed]
    assert (counts["new_entries"], counts["pages_fetched"], counts["failures"]) == (6, 5, 1)
    assert [s.url for s in result.sources] == [feed]
    assert serve_site(httpserver, NEWS_WEB) == feed  # the same feed again, on the same server
    again = run_ingest(plain_ingest.settings, [FeedSource(feed, "Test")], poll_all=True)
    assert again.totals["feeds_polled"] == 1 and again.totals["feeds_failed"] == 0
    assert again.totals["new_entries"] == 0 and again.summary.per_feed[feed]["new_entries"] == 0


def test_retry_backs_off_doubling_to_a_cap_and_gives_up_on_other_errors():
    assert [backoff_delay(n) for n in range(7)] == [0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 2.0]
    waits: list[float] = []
    calls = iter([ConnectionError("busy"), ConnectionError("busy"), "done"])

    def flaky() -> str:
        value = next(calls)
        if isinstance(value, Exception):
            raise value
        return value

    assert with_retry(flaky, transient=lambda e: isinstance(e, ConnectionError), sleep=waits.append) == "done"
    assert waits == [0.05, 0.1]
    with pytest.raises(KeyError):
        with_retry(lambda: {}["x"], transient=lambda e: isinstance(e, ConnectionError), sleep=waits.append)
    with pytest.raises(ConnectionError):
        with_retry(
            lambda: (_ for _ in ()).throw(ConnectionError("busy")),
            transient=lambda e: True,
            attempts=3,
            sleep=waits.append,
        )
    assert waits == [0.05, 0.1, 0.05, 0.1]
