"""One ingest run as plain Python: poll the due feeds, then batches of fetch, extract, tag, dedup
and load, each batch one transaction.

The rules live here (article versions, story links, entry outcomes, the run's counts); the
Prefect flow in flows/ingest.py only wraps `run_ingest` and runs each stage as a task. Every
stage is an ordinary function from typed records to typed records, so the whole run works
without Prefect (`stage_runner=run_directly`) and the stages could later be joined by queues."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from urllib.parse import urlsplit

from extractors import feeds as feed_poller
from extractors.dedup import Fingerprint, StoryIndex, article_id_for, fingerprint, signature_bytes
from extractors.fetch import fetch_pages
from extractors.robots import RobotsCache
from extractors.schedule import is_due
from newsflow import faults
from newsflow.clock import utcnow
from newsflow.feedlist import RejectedFeed, merge_sources
from newsflow.models import (
    Article,
    ArticleEntity,
    ArticleFrames,
    ArticleTag,
    ArticleVersion,
    BatchResult,
    Failure,
    FeedEntry,
    FeedSource,
    FetchOutcome,
    Page,
    PolledFeed,
    StoryLink,
)
from newsflow.runlock import run_lock
from newsflow.settings import Settings
from warehouse.store import Warehouse

if TYPE_CHECKING:
    # Imported when a run has work: trafilatura and the tagger's gazetteers cost a no-op run time.
    from extractors.tagging import Tagger

T = TypeVar("T")
Logger = logging.Logger | logging.LoggerAdapter[logging.Logger]

log = logging.getLogger("newsflow.pipeline")
# Told (entries done, entries pending) before the first batch and after each one.
Progress = Callable[[int, int], None]

# The per-feed counts in the run's summary (and the Prefect artifact's columns).
FEED_COUNTS = ("new_entries", "pages_fetched", "articles_stored", "new_stories", "articles_tagged", "failures")


@dataclass
class RunSummary:
    """The run's counts: totals, and per feed (keyed on the configured feed URL)."""

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
    per_feed: dict[str, Counter[str]] = field(default_factory=dict)

    def feed(self, url: str) -> Counter[str]:
        return self.per_feed.setdefault(url, Counter())

    def totals(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "per_feed"}


class StageRunner(Protocol):
    """Runs one named stage: directly, or as a Prefect task (flows/ingest.py)."""

    def __call__(self, name: str, stage: Callable[..., T], /, *args: Any) -> T: ...


def run_directly(name: str, stage: Callable[..., T], /, *args: Any) -> T:
    """The plain-Python stage runner: call the stage, nothing more."""
    return stage(*args)


# -- poll ------------------------------------------------------------------------------------


def poll_feeds(
    sources: list[FeedSource],
    warehouse: Warehouse,
    settings: Settings,
    run_id: str,
    summary: RunSummary,
    poll_all: bool = False,
    logger: Logger = log,
) -> None:
    """Poll the feeds that are due (all of them with `poll_all`); a feed never polled is due.
    Feed states, new entries and feed failures are committed together."""
    states = warehouse.feed_states()
    now = utcnow()
    due = sources if poll_all else [s for s in sources if is_due(states.get(s.url), now)]
    summary.feeds_not_due += len(sources) - len(due)
    polls = asyncio.run(feed_poller.poll_many(due, states, settings)) if due else []
    names = {s.url: s.name for s in sources}
    entries: list[FeedEntry] = []
    failures: list[Failure] = []
    for poll in polls:
        url = poll.state.feed_url
        summary.feeds_polled += 1
        summary.feed(url)["entries_in_feed"] += len(poll.entries)
        if poll.error:
            summary.feeds_failed += 1
            summary.feed(url)["failures"] += 1
            # A feed is never given up on: its schedule backs off instead.
            failures.append(Failure(url, "poll", poll.error, utcnow(), kind="retry"))
        elif poll.not_modified:
            summary.feeds_not_modified += 1
        entries.extend(poll.entries)
    polled = [PolledFeed(p.state, names.get(p.state.feed_url)) for p in polls]
    committed = warehouse.commit_poll(polled, entries, failures, run_id)
    for feed_url, count in committed.new_by_feed.items():
        summary.feed(feed_url)["new_entries"] += count
    summary.new_entries += committed.new_entries
    summary.failures += len(failures)
    logger.info(
        "polled %d feeds (%d not modified, %d not due): %d new entries, %d feeds failed",
        len(polls),
        summary.feeds_not_modified,
        len(sources) - len(due),
        committed.new_entries,
        len(failures),
    )
    for failure in failures:
        logger.info("feed failed: %s: %s", failure.url, failure.error)


# -- one batch: fetch, extract, then decide ----------------------------------------------------


def fetch_stage(batch: list[FeedEntry], settings: Settings, robots: RobotsCache | None) -> list[Page | Failure]:
    return asyncio.run(fetch_pages(batch, settings, robots))


class Extractor(Protocol):
    """Turns fetched pages into articles, keeping their order: the local process pool
    (extractors/article.py) or Dask (flows/task_runner.py)."""

    def extract(self, pages: list[tuple[Page, datetime | None]]) -> list[Article | Failure]: ...

    def __enter__(self) -> Extractor: ...

    def __exit__(self, *exc: object) -> None: ...


def local_extractor(settings: Settings) -> Extractor:
    from extractors.article import ArticleExtractor

    return ArticleExtractor(settings.extract_workers)


def extract_stage(extractor: Extractor, pages: list[Page], by_key: dict[str, FeedEntry]) -> list[Article | Failure]:
    return extractor.extract([(p, by_key[p.entry_key].published_at) for p in pages])


def outcome_of(failure: Failure, decided_at: datetime) -> FetchOutcome:
    """A failure's outcome is its kind, set where it was made: deferred (the host asked us to
    wait; costs no attempt), retry, skipped or failed."""
    return FetchOutcome(
        url=failure.url,
        entry_key=failure.entry_key,
        outcome=failure.outcome,
        detail=failure.error,
        decided_at=decided_at,
    )


def article_version(
    article: Article, link: StoryLink, fp: Fingerprint, article_id: str, version: int, seq: int
) -> ArticleVersion:
    return ArticleVersion(
        article_id=article_id,
        url=article.url,
        canonical_url=article.canonical_url,
        final_url=article.final_url,
        redirects=list(article.redirects),
        source=article.source,
        domain=article.domain,
        title=article.title,
        author=article.author,
        published_at=article.published_at,
        fetched_at=article.fetched_at,
        language=article.language,
        text=article.text,
        word_count=article.word_count,
        content_hash=fp.content_hash,
        syndicated_from=article.syndicated_from,
        syndicated_link=article.syndicated_link,
        feed_url=article.feed_url,
        story_id=link.story_id,
        story_reason=link.reason,
        story_similarity=link.similarity,
        story_matched_article_id=link.matched_article_id,
        signature=signature_bytes(fp.signature),
        n_shingles=fp.n_shingles,
        version=version,
        seq=seq,
    )


class BatchAssembler:
    """Turns one batch's fetched and extracted results into the rows it commits, deciding
    article versions, story links and every entry's outcome, and keeping the counts."""

    def __init__(
        self,
        warehouse: Warehouse,
        tagger: Tagger,
        index: StoryIndex,
        summary: RunSummary,
        entries: Sequence[FeedEntry],
        decided_at: datetime | None = None,
    ) -> None:
        self.warehouse, self.tagger, self.index, self.summary = warehouse, tagger, index, summary
        self.by_key = {e.entry_key: e for e in entries}
        self.decided_at = decided_at or utcnow()
        self.result = BatchResult()
        # article_id -> (version, content hash) of versions added in this batch, not yet stored
        self._versions: dict[str, tuple[int, str]] = {}

    def _count(self, entry_key: str | None, counter: str, amount: int = 1) -> None:
        entry = self.by_key.get(entry_key or "")
        if entry is not None:
            self.summary.feed(entry.feed_url)[counter] += amount

    def fetched(self, results: list[Page | Failure]) -> list[Page]:
        pages = [p for p in results if isinstance(p, Page)]
        self.result.failures.extend(f for f in results if isinstance(f, Failure))
        self.summary.pages_fetched += len(pages)
        for page in pages:
            self._count(page.entry_key, "pages_fetched")
        return pages

    def extracted(self, results: list[Article | Failure]) -> None:
        for item in results:
            if isinstance(item, Failure):
                self.result.failures.append(item)
            else:
                self._article(item)

    def _latest(self, article_id: str) -> tuple[int, str] | None:
        return self._versions.get(article_id) or self.warehouse.latest_version(article_id)

    def _article(self, article: Article) -> None:
        entry = self.by_key[article.entry_key]
        article.feed_url = entry.feed_url
        fp = fingerprint(article.text)
        article_id = article_id_for(article.canonical_url)
        link = self.index.assign(article.canonical_url, fp, article.published_at, article_id)
        version = 1
        if link.reason == "canonical_url":
            # The same page again, through another URL or re-fetched: a new version only if its text changed.
            article_id = link.matched_article_id or article_id
            latest = self._latest(article_id)
            if latest is None or latest[1] == fp.content_hash:
                self._stored(entry, f"same page as article {article_id}")
                return
            version = latest[0] + 1
            link = StoryLink(link.story_id, "update", None, article_id)
        self._versions[article_id] = (version, fp.content_hash)
        seq = self.index.add(article_id, link.story_id, article.canonical_url, fp, article.published_at)
        self.result.articles.append(article_version(article, link, fp, article_id, version, seq))
        tagged = self.tagger.tag(article.title or "", article.text, article.published_at)
        self.result.tags.extend(ArticleTag(article_id, t, self.tagger.version) for t in tagged.tags)
        self.result.entities.extend(ArticleEntity(article_id, e, self.tagger.version) for e in tagged.entities)
        self.result.frames.append(ArticleFrames(article_id, tagged.deals, tagged.sanction_actions, self.tagger.version))
        self._stored(entry, article_id)
        counts = self.summary.feed(entry.feed_url)
        counts["articles_stored"] += 1
        counts["articles_tagged"] += bool(tagged.tags)
        counts["new_stories"] += link.reason == "new_story"
        self.summary.articles_tagged += bool(tagged.tags)

    def _stored(self, entry: FeedEntry, detail: str) -> None:
        self.result.outcomes.append(
            FetchOutcome(
                url=entry.url, entry_key=entry.entry_key, outcome="stored", detail=detail, decided_at=self.decided_at
            )
        )

    def finish(self) -> BatchResult:
        """Add an outcome for every failure and count them; the result is ready to commit."""
        for failure in self.result.failures:
            self.result.outcomes.append(outcome_of(failure, self.decided_at))
            self._count(failure.entry_key, "failures")
        self.summary.articles_stored += len(self.result.articles)
        self.summary.failures += len(self.result.failures)
        return self.result


@dataclass
class FetchedBatch:
    """One batch through fetch and extraction, ready for the ordered load stage."""

    entries: list[FeedEntry]
    fetched: list[Page | Failure]
    extracted: list[Article | Failure]
    fetch_s: float = 0.0
    extract_s: float = 0.0


def fetch_and_extract(
    batch: list[FeedEntry], settings: Settings, robots: RobotsCache | None, extractor: Extractor
) -> FetchedBatch:
    """Fetch and extract one batch in the calling thread (no warehouse access)."""
    started = time.perf_counter()
    fetched = fetch_stage(batch, settings, robots)
    return _extract(batch, fetched, extractor, time.perf_counter() - started)


def _extract(
    batch: list[FeedEntry], fetched: list[Page | Failure], extractor: Extractor, fetch_s: float
) -> FetchedBatch:
    started = time.perf_counter()
    pages = [p for p in fetched if isinstance(p, Page)]
    extracted = extract_stage(extractor, pages, {e.entry_key: e for e in batch})
    faults.reached("extract")
    return FetchedBatch(batch, fetched, extracted, fetch_s, time.perf_counter() - started)


class BatchStream:
    """Fetching and extraction run ahead of the ordered load, through bounded queues: one fetch
    thread (the pages of batch n+1 download while batch n is extracted) and two extraction feeders
    (the pool gets batch n+1's pages while batch n's last pages finish, so it never idles at a
    batch's tail). At most `depth` batches are claimed and not yet committed; a killed run loses
    only those, and their entries have no outcome, so the next run takes them again. Batches come
    out in the order they went in, so story assignment and load stay ordered."""

    def __init__(self, settings: Settings, robots: RobotsCache | None, extractor: Extractor, depth: int) -> None:
        self.settings, self.robots, self.extractor = settings, robots, extractor
        self.depth = max(1, depth)

    def _fetch(self, batch: list[FeedEntry]) -> tuple[list[Page | Failure], float]:
        started = time.perf_counter()
        fetched = fetch_stage(batch, self.settings, self.robots)
        faults.reached("fetch")
        return fetched, time.perf_counter() - started

    def _extract_when_fetched(
        self, batch: list[FeedEntry], fetching: Future[tuple[list[Page | Failure], float]]
    ) -> FetchedBatch:
        fetched, fetch_s = fetching.result()
        return _extract(batch, fetched, self.extractor, fetch_s)

    def run(self, batches: Iterable[list[FeedEntry]]) -> Generator[FetchedBatch, None, None]:
        """Yield each batch fetched and extracted, in order. `batches` is drawn in the calling
        thread (claiming entries touches the warehouse), only as queue space frees up."""
        fetcher = ThreadPoolExecutor(1, thread_name_prefix="newsflow-fetch")
        feeders = ThreadPoolExecutor(2, thread_name_prefix="newsflow-extract")
        in_flight: deque[Future[FetchedBatch]] = deque()
        source = iter(batches)
        try:
            while True:
                while len(in_flight) < self.depth and (batch := next(source, None)) is not None:
                    # The stages run in the caller's context: as Prefect tasks of the flow run, if any.
                    fetching = fetcher.submit(contextvars.copy_context().run, self._fetch, batch)
                    in_flight.append(
                        feeders.submit(contextvars.copy_context().run, self._extract_when_fetched, batch, fetching)
                    )
                if not in_flight:
                    return
                yield in_flight.popleft().result()
        finally:
            for future in in_flight:
                future.cancel()
            fetcher.shutdown(wait=True, cancel_futures=True)
            feeders.shutdown(wait=True, cancel_futures=True)


def load_batch(
    batch: FetchedBatch,
    warehouse: Warehouse,
    tagger: Tagger,
    index: StoryIndex,
    run_id: str,
    summary: RunSummary,
) -> BatchResult:
    """The ordered stage: decide story links, tag, and commit one batch in one transaction."""
    assembler = BatchAssembler(warehouse, tagger, index, summary, batch.entries)
    assembler.fetched(batch.fetched)
    # Story assignment and load are one ordered stage across writers of a shared catalog: under
    # the writer lock, with the index caught up on what other writers committed (README: Many
    # writers). On a SQLite catalog the lock is a no-op and the catch-up finds nothing.
    warehouse.hold_writer_lock()
    try:
        index.add_many(list(warehouse.story_index_rows(from_seq=len(index))))
        assembler.extracted(batch.extracted)
        result = assembler.finish()
        warehouse.commit_batch(result, run_id, before_commit=lambda: faults.reached("load"))
    finally:
        warehouse.release_writer_lock()
    return result


def process_batch(
    batch: list[FeedEntry],
    warehouse: Warehouse,
    extractor: Extractor,
    tagger: Tagger,
    index: StoryIndex,
    settings: Settings,
    run_id: str,
    summary: RunSummary,
    robots: RobotsCache | None = None,
) -> BatchResult:
    """Fetch, extract, tag and dedup one batch, then commit it in one transaction, with nothing
    overlapped (run_ingest streams the same stages through `BatchStream`)."""
    return load_batch(fetch_and_extract(batch, settings, robots, extractor), warehouse, tagger, index, run_id, summary)


def log_batch(
    result: BatchResult, logger: Logger, batch_no: int, batches: int, fetched: FetchedBatch | None = None
) -> None:
    """What a person wants to read about one committed batch, at INFO: pages per host, stories
    created, tags added, and each failure with its reason."""
    hosts = Counter(urlsplit(a.final_url or a.url).netloc or "?" for a in result.articles)
    tags = Counter(t.tag.tag for t in result.tags)
    new_stories = sum(a.story_reason == "new_story" for a in result.articles)
    logger.info(
        "batch %d/%d: %d articles stored (%s), %d new stories, tags added: %s, %d failures",
        batch_no,
        batches,
        len(result.articles),
        ", ".join(f"{host} {n}" for host, n in hosts.most_common(8)) or "none",
        new_stories,
        ", ".join(f"{tag} {n}" for tag, n in sorted(tags.items())) or "none",
        len(result.failures),
    )
    if fetched is not None:
        logger.debug("batch %d: fetch %.2f s, extract %.2f s", batch_no, fetched.fetch_s, fetched.extract_s)
    for failure in result.failures:
        logger.info("%s failed: %s: %s", failure.stage, failure.url, failure.error)


# -- the story index and the whole run -------------------------------------------------------


def load_story_index(warehouse: Warehouse, settings: Settings, logger: Logger = log) -> StoryIndex:
    """The saved story index, caught up with the warehouse; rebuilt if the two disagree."""
    options: dict[str, Any] = dict(
        threshold=settings.near_duplicate_threshold,
        max_days=settings.near_duplicate_max_days,
        copy_containment=settings.copy_containment,
        min_shared_shingles=settings.min_shared_shingles,
    )
    try:
        index = StoryIndex.load(settings.data_dir / "state", **options)
    except Exception as exc:  # a damaged cache is rebuilt from the lake, never fatal
        logger.warning("story index unreadable (%s); rebuilding it from the warehouse", exc)
        index = StoryIndex(**options)
    if len(index) and warehouse.article_at_seq(len(index) - 1) != index.article_at(len(index) - 1):
        index = StoryIndex(**options)
    index.add_many(list(warehouse.story_index_rows(from_seq=len(index))))
    return index


def chunks(items: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class IngestResult:
    """What a run returns: the totals (as printed by `newsflow ingest`), the per-feed counts, and
    the feeds it covered (those given and the imported subscriptions)."""

    totals: dict[str, int]
    summary: RunSummary
    sources: list[FeedSource]
    run_id: str = ""
    started_at: datetime | None = None


def run_ingest(
    settings: Settings,
    sources: list[FeedSource],
    *,
    poll_all: bool = False,
    stage_runner: StageRunner = run_directly,
    logger: Logger = log,
    run_id: str | None = None,
    progress: Progress | None = None,
    extractor_factory: Callable[[Settings], Extractor] = local_extractor,
    rejected: Sequence[RejectedFeed] = (),
) -> IngestResult:
    """One ingest run over `sources` and the imported subscriptions, as plain Python. Entries of
    the feed list that could not be used (`rejected`) are recorded as this run's failures. A second
    run on the same data directory waits for the first (newsflow/runlock.py)."""
    with run_lock(settings.data_dir, settings.run_lock_wait):
        return _run_ingest_locked(
            settings, sources, poll_all, stage_runner, logger, run_id, progress, extractor_factory, rejected
        )


def _run_ingest_locked(
    settings: Settings,
    sources: list[FeedSource],
    poll_all: bool,
    stage_runner: StageRunner,
    logger: Logger,
    run_id: str | None,
    progress: Progress | None,
    extractor_factory: Callable[[Settings], Extractor],
    rejected: Sequence[RejectedFeed],
) -> IngestResult:
    run_id = run_id or uuid.uuid4().hex[:12]
    started = utcnow()
    summary = RunSummary()
    warehouse = Warehouse(settings.lake_dir)
    try:
        # Rejected feed-list entries are failures of this run; the other feeds go on.
        warehouse.record_failures([r.as_failure() for r in rejected], run_id)
        summary.failures += len(rejected)
        for r in rejected:
            logger.info("feed list entry rejected: %s", r.message)
        feed_list = merge_sources(sources, warehouse.subscriptions())
        stage_runner("poll-feeds", poll_feeds, feed_list, warehouse, settings, run_id, summary, poll_all, logger)
        faults.reached("after-poll")
        robots = RobotsCache()
        pending = warehouse.pending_entries(settings.max_fetch_attempts)
        if pending:
            index = load_story_index(warehouse, settings, logger)
            from extractors.tagging import Tagger

            tagger = Tagger.default()
            with extractor_factory(settings) as extractor:
                batches = list(chunks(pending, settings.batch_size))
                if progress:
                    progress(0, len(pending))
                done = 0

                def claimed() -> Iterator[list[FeedEntry]]:
                    for batch in batches:
                        # On a shared catalog, concurrent runs split the work batch by batch.
                        mine = warehouse.claim_entries(batch, run_id, settings.claim_ttl)
                        if mine:
                            yield mine

                stream = BatchStream(settings, robots, extractor, settings.stream_depth)
                # Closed before the extractor: on an error, the threads stop before the pool does.
                with contextlib.closing(stream.run(claimed())) as streamed:
                    for batch_no, fetched in enumerate(streamed, 1):
                        result = stage_runner(
                            "load-batch", load_batch, fetched, warehouse, tagger, index, run_id, summary
                        )
                        log_batch(result, logger, batch_no, len(batches), fetched)
                        faults.reached("between-batches")
                        done += len(fetched.entries)
                        if progress:
                            progress(done, len(pending))
            # Saved only after every batch committed: the lake stays the source of truth, and the
            # next run catches up on whatever a killed run committed after the last save.
            index.save(settings.data_dir / "state")
        counts = warehouse.counts()
        summary.stories = counts.stories
        totals = summary.totals()
        totals["articles_total"] = counts.articles
        totals["articles_tagged_total"] = counts.articles_tagged
        warehouse.record_run(run_id, started, totals)
    finally:
        warehouse.close()
    return IngestResult(totals=totals, summary=summary, sources=feed_list, run_id=run_id, started_at=started)


def feed_table(summary: RunSummary, sources: list[FeedSource]) -> list[dict[str, Any]]:
    """Per-feed counts, one row per configured feed plus a TOTAL row (the run's artifact)."""
    rows: list[dict[str, Any]] = []
    for source in sources:
        counts = summary.per_feed.get(source.url, Counter())
        rows.append({"feed": source.name or source.url, "url": source.url, **{c: counts[c] for c in FEED_COUNTS}})
    rows.append({"feed": "TOTAL", "url": "", **{c: sum(r[c] for r in rows) for c in FEED_COUNTS}})
    return rows
