"""The `ingest` flow: one run is one pass over the feeds, through every stage into the lake.

poll → new entries (committed with the feed state) → batches of fetch, extract, tag, dedup,
load (one transaction each). A killed run loses at most the batch in flight; the next run picks
up every entry that has no outcome yet."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from extractors import feeds as feed_poller
from extractors.article import ArticleExtractor
from extractors.dedup import Fingerprint, StoryIndex, article_id_for, fingerprint, signature_bytes
from extractors.fetch import fetch_pages
from extractors.robots import RobotsCache
from extractors.schedule import is_due
from extractors.tagging import Tagger
from newsflow.feedlist import FeedList, merge_sources, read_feed_list
from newsflow.models import Article, Failure, FeedEntry, FeedSource, StoryLink
from newsflow.runlock import run_lock
from newsflow.settings import Settings
from warehouse.store import Warehouse


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


@dataclass
class RunSummary:
    feeds_polled: int = 0
    feeds_failed: int = 0
    feeds_not_modified: int = 0
    feeds_not_due: int = 0
    new_entries: int = 0
    pages_fetched: int = 0
    articles_stored: int = 0
    failures: int = 0
    stories: int = 0
    articles_tagged: int = 0
    per_feed: dict[str, Counter] = field(default_factory=dict)

    def feed(self, url: str) -> Counter:
        return self.per_feed.setdefault(url, Counter())

    def totals(self) -> dict[str, int]:
        return {k: v for k, v in self.__dict__.items() if k != "per_feed"}


@task(name="poll-feeds", cache_policy=NO_CACHE)
def poll_feeds(sources: list[FeedSource], warehouse: Warehouse, settings: Settings, run_id: str,
               summary: RunSummary, poll_all: bool = False) -> None:
    """Poll the feeds that are due (all of them with `poll_all`); a feed never polled is due."""
    states = warehouse.feed_states()
    now = _utcnow()
    due = sources if poll_all else [s for s in sources if is_due(states.get(s.url), now)]
    summary.feeds_not_due += len(sources) - len(due)
    polls = asyncio.run(feed_poller.poll_many(due, states, settings)) if due else []
    names = {s.url: s.name for s in sources}
    entries, failures = [], []
    for poll in polls:
        url = poll.state.feed_url
        summary.feeds_polled += 1
        summary.feed(url)["entries_in_feed"] += len(poll.entries)
        if poll.error:
            summary.feeds_failed += 1
            summary.feed(url)["failures"] += 1
            failures.append(Failure(url, "poll", poll.error, _utcnow(), retryable=True))
        elif poll.not_modified:
            summary.feeds_not_modified += 1
        entries.extend(poll.entries)
    committed_from = _utcnow()
    new = warehouse.commit_poll([(p.state, names.get(p.state.feed_url)) for p in polls], entries, failures, run_id)
    for feed_url, count in warehouse.new_entries_by_feed(committed_from).items():
        summary.feed(feed_url)["new_entries"] += count
    summary.new_entries += new
    summary.failures += len(failures)
    get_run_logger().info("polled %d feeds: %d new entries, %d feeds failed", len(polls), new, len(failures))


def _article_row(article: Article, link: StoryLink, fp: Fingerprint, article_id: str, version: int,
                 seq: int) -> dict:
    return dict(
        article_id=article_id, url=article.url, canonical_url=article.canonical_url,
        final_url=article.final_url, redirects=list(article.redirects),
        source=article.source, domain=article.domain, title=article.title, author=article.author,
        published_at=article.published_at, fetched_at=article.fetched_at, language=article.language,
        text=article.text, word_count=article.word_count, content_hash=fp.content_hash,
        syndicated_from=article.syndicated_from, syndicated_link=article.syndicated_link,
        feed_url=article.feed_url, story_id=link.story_id,
        story_reason=link.reason, story_similarity=link.similarity,
        story_matched_article_id=link.matched_article_id, signature=signature_bytes(fp.signature),
        n_shingles=fp.n_shingles, version=version, seq=seq,
    )


@task(name="process-batch", cache_policy=NO_CACHE)
def process_batch(batch: list[FeedEntry], warehouse: Warehouse, extractor: ArticleExtractor,
                  tagger: Tagger, index: StoryIndex, settings: Settings, run_id: str,
                  summary: RunSummary, robots: RobotsCache | None = None) -> None:
    """Fetch, extract, tag and dedup one batch, then commit it in one transaction."""
    by_key = {e.entry_key: e for e in batch}
    fetched = asyncio.run(fetch_pages(batch, settings, robots))
    pages = [p for p in fetched if not isinstance(p, Failure)]
    failures = [f for f in fetched if isinstance(f, Failure)]
    summary.pages_fetched += len(pages)
    for page in pages:
        summary.feed(by_key[page.entry_key].feed_url)["pages_fetched"] += 1
    extracted = extractor.extract([(p, by_key[p.entry_key].published_at) for p in pages])
    rows, tags, entities, outcomes = [], [], [], []
    now = _utcnow()
    versions: dict[str, tuple[int, str]] = {}   # article_id -> (version, content hash) seen in this batch
    for result in extracted:
        if isinstance(result, Failure):
            failures.append(result)
            continue
        entry = by_key[result.entry_key]
        result.feed_url = entry.feed_url
        fp = fingerprint(result.text)
        article_id = article_id_for(result.canonical_url)
        link = index.assign(result.canonical_url, fp, result.published_at, article_id)
        version = 1
        if link.reason == "canonical_url":
            # The same page again, through another URL or re-fetched: a new version only if its text changed.
            article_id = link.matched_article_id or article_id
            latest = versions.get(article_id) or warehouse.latest_version(article_id)
            if latest is None or latest[1] == fp.content_hash:
                outcomes.append(dict(url=entry.url, entry_key=entry.entry_key, outcome="stored",
                                     detail=f"same page as article {article_id}", decided_at=now))
                continue
            version = latest[0] + 1
            link = StoryLink(link.story_id, "update", None, article_id)
        versions[article_id] = (version, fp.content_hash)
        seq = index.add(article_id, link.story_id, result.canonical_url, fp, result.published_at)
        rows.append(_article_row(result, link, fp, article_id, version, seq))
        tagged = tagger.tag(result.title or "", result.text, result.published_at)
        tags.extend((article_id, t, tagger.version) for t in tagged.tags)
        entities.extend((article_id, e, tagger.version) for e in tagged.entities)
        outcomes.append(dict(url=entry.url, entry_key=entry.entry_key, outcome="stored", detail=article_id, decided_at=now))
        summary.feed(entry.feed_url)["articles_stored"] += 1
        summary.feed(entry.feed_url)["articles_tagged"] += bool(tagged.tags)
        summary.feed(entry.feed_url)["new_stories"] += link.reason == "new_story"
        summary.articles_tagged += bool(tagged.tags)
    for failure in failures:
        entry = by_key.get(failure.entry_key or "")
        if failure.error.startswith("not contacted:"):
            outcome = "deferred"   # the host asked us to wait: not an attempt, so it costs no retry
        elif failure.retryable:
            outcome = "retry"
        else:
            outcome = "skipped" if failure.error.startswith("skipped") else "failed"
        outcomes.append(dict(url=failure.url, entry_key=failure.entry_key, outcome=outcome,
                             detail=failure.error, decided_at=now))
        if entry is not None:
            summary.feed(entry.feed_url)["failures"] += 1
    warehouse.commit_batch(rows, tags, entities, outcomes, failures, run_id)
    summary.articles_stored += len(rows)
    summary.failures += len(failures)


def load_story_index(warehouse: Warehouse, settings: Settings) -> StoryIndex:
    """The saved story index, caught up with the warehouse; rebuilt if the two disagree."""
    options = dict(threshold=settings.near_duplicate_threshold, max_days=settings.near_duplicate_max_days)
    try:
        index = StoryIndex.load(settings.data_dir / "state", **options)
    except Exception as exc:  # a damaged cache is rebuilt from the lake, never fatal
        get_run_logger().warning("story index unreadable (%s); rebuilding it from the warehouse", exc)
        index = StoryIndex(**options)
    if len(index) and warehouse.article_at_seq(len(index) - 1) != index.article_at(len(index) - 1):
        index = StoryIndex(**options)
    index.add_many(warehouse.story_index_rows(from_seq=len(index)))
    return index


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


@flow(name="ingest", log_prints=False)
def ingest(feeds_file: str | None = "feeds.yaml", data_dir: str | None = None,
           allow_private_networks: bool | None = None, poll_all: bool = False,
           obey_robots: bool | None = None) -> dict:
    """Poll the due feeds in `feeds_file` and the imported subscriptions (every feed with
    `poll_all`), fetch new articles, and load tagged, deduplicated stories."""
    overrides = {}
    if data_dir is not None:
        overrides["data_dir"] = Path(data_dir)
    if allow_private_networks is not None:
        overrides["allow_private_networks"] = allow_private_networks
    if obey_robots is not None:
        overrides["obey_robots"] = obey_robots
    settings = Settings(**overrides)
    run_id = uuid.uuid4().hex[:12]
    started = _utcnow()
    summary = RunSummary()
    feed_list = read_feed_list(feeds_file) if feeds_file else FeedList()
    with run_lock(settings.data_dir, settings.run_lock_wait):
        totals, sources = _ingest_locked(feed_list, settings, run_id, started, summary, poll_all)
    _publish_artifact(summary, sources)
    return totals


def _ingest_locked(feed_list: FeedList, settings: Settings, run_id: str, started: datetime, summary: RunSummary,
                   poll_all: bool) -> tuple[dict, list[FeedSource]]:
    warehouse = Warehouse(settings.lake_dir)
    try:
        # Rejected feed-list entries are failures of this run; the other feeds go on.
        warehouse.record_failures([r.as_failure() for r in feed_list.rejected], run_id)
        summary.failures += len(feed_list.rejected)
        sources = merge_sources(feed_list.sources, warehouse.subscriptions())
        poll_feeds(sources, warehouse, settings, run_id, summary, poll_all)
        robots = RobotsCache()
        pending = warehouse.pending_entries(settings.max_fetch_attempts)
        if pending:
            index = load_story_index(warehouse, settings)
            tagger = Tagger.default()
            with ArticleExtractor(settings.extract_workers) as extractor:
                for batch in _chunks(pending, settings.batch_size):
                    process_batch(batch, warehouse, extractor, tagger, index, settings, run_id, summary, robots)
            # Saved only after every batch committed: the lake stays the source of truth, and the
            # next run catches up on whatever a killed run committed after the last save.
            index.save(settings.data_dir / "state")
        counts = warehouse.counts()
        summary.stories = counts["stories"]
        totals = summary.totals()
        totals["articles_total"] = counts["articles"]
        totals["articles_tagged_total"] = counts["articles_tagged"]
        warehouse.record_run(run_id, started, totals)
    finally:
        warehouse.close()
    return totals, sources


def _publish_artifact(summary: RunSummary, sources: list[FeedSource]) -> None:
    columns = ("new_entries", "pages_fetched", "articles_stored", "new_stories", "articles_tagged", "failures")
    rows = []
    for source in sources:
        counts = summary.per_feed.get(source.url, Counter())
        rows.append({"feed": source.name or source.url, "url": source.url, **{c: counts[c] for c in columns}})
    totals = summary.totals()
    rows.append({"feed": "TOTAL", "url": "", **{c: sum(r[c] for r in rows) for c in columns}})
    create_table_artifact(key="ingest-summary", table=rows,
                          description=(f"{totals['feeds_polled']} feeds polled, {totals['new_entries']} new entries, "
                                       f"{totals['articles_stored']} articles stored, {totals['failures']} failures"))
