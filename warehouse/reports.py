"""What the digest and the run reports show, read from the public views: new deals and sanction
actions, the most-copied stories, the feeds' health and recent run durations. Read-only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb


@dataclass(frozen=True)
class DealRow:
    story_id: str
    published_at: datetime | None
    supplier: str | None
    recipient: str | None
    system: str | None
    category: str | None
    quantity: int | None
    value_usd: float | None
    status: str | None
    title: str | None
    url: str | None


@dataclass(frozen=True)
class SanctionRow:
    story_id: str
    published_at: datetime | None
    action: str | None
    sanctioning: str | None
    target: str | None
    target_kind: str | None
    regime: str | None
    title: str | None
    url: str | None


@dataclass(frozen=True)
class StoryRow:
    story_id: str
    title: str | None
    original_source: str | None
    original_url: str | None
    first_published_at: datetime | None
    n_articles: int
    sources: list[str]
    tags: list[str]


@dataclass(frozen=True)
class FeedHealthRow:
    feed_url: str
    title: str | None
    last_status: str | None
    error_count: int
    last_error: str | None
    last_polled_at: datetime | None
    failing_since: datetime | None


@dataclass(frozen=True)
class Digest:
    since: datetime
    generated_at: datetime
    deals: list[DealRow]
    sanction_actions: list[SanctionRow]
    top_stories: list[StoryRow]
    feeds: list[FeedHealthRow]
    articles_since: int


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: list[object]) -> int:
    row = con.execute(sql, params).fetchone()
    return int(row[0]) if row else 0


def _view_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return _count(con, "SELECT count(*) FROM duckdb_views() WHERE view_name = ?", [name]) > 0


def _deals(con: duckdb.DuckDBPyConnection, since: datetime) -> list[DealRow]:
    if not _view_exists(con, "deals"):
        return []
    rows = con.execute(
        """SELECT d.story_id, d.published_at, d.supplier, d.recipient, d.system, d.category, d.quantity,
                  d.value_usd, d.status, s.title, s.original_url
           FROM deals d JOIN stories s USING (story_id)
           JOIN articles a ON a.article_id = d.article_id
           WHERE a.is_original AND a.fetched_at >= ?
           ORDER BY d.published_at DESC NULLS LAST, d.value_usd DESC NULLS LAST""",
        [since],
    ).fetchall()
    return [DealRow(*row) for row in rows]


def _sanctions(con: duckdb.DuckDBPyConnection, since: datetime) -> list[SanctionRow]:
    if not _view_exists(con, "sanction_actions"):
        return []
    rows = con.execute(
        """SELECT x.story_id, x.published_at, x.action, x.sanctioning, x.target, x.target_kind, x.regime,
                  s.title, s.original_url
           FROM sanction_actions x JOIN stories s USING (story_id)
           JOIN articles a ON a.article_id = x.article_id
           WHERE a.is_original AND a.fetched_at >= ?
           ORDER BY x.published_at DESC NULLS LAST""",
        [since],
    ).fetchall()
    return [SanctionRow(*row) for row in rows]


def _top_stories(con: duckdb.DuckDBPyConnection, since: datetime, limit: int) -> list[StoryRow]:
    rows = con.execute(
        """SELECT s.story_id, s.title, s.original_source, s.original_url, s.first_published_at, s.n_articles,
                  s.sources,
                  coalesce((SELECT list(DISTINCT t.tag ORDER BY t.tag) FROM article_tags t
                            JOIN articles a USING (article_id) WHERE a.story_id = s.story_id), []) AS tags
           FROM stories s
           WHERE s.story_id IN (SELECT story_id FROM articles WHERE fetched_at >= ?)
           ORDER BY s.n_articles DESC, s.first_published_at DESC NULLS LAST
           LIMIT ?""",
        [since, limit],
    ).fetchall()
    return [StoryRow(*row) for row in rows]


def _feeds(con: duckdb.DuckDBPyConnection) -> list[FeedHealthRow]:
    # A feed failing N polls in a row has been failing since the oldest of its last N poll failures.
    rows = con.execute(
        """WITH ranked AS (
               SELECT url, "at", row_number() OVER (PARTITION BY url ORDER BY "at" DESC) AS n
               FROM failures WHERE stage = 'poll')
           SELECT f.feed_url, f.title, f.last_status, f.error_count, f.last_error, f.last_polled_at,
                  (SELECT min(r."at") FROM ranked r WHERE r.url = f.feed_url AND r.n <= f.error_count)
           FROM feeds f
           ORDER BY f.error_count DESC, f.title NULLS LAST, f.feed_url"""
    ).fetchall()
    return [FeedHealthRow(*row) for row in rows]


def read_digest(con: duckdb.DuckDBPyConnection, since: datetime, now: datetime, top: int = 10) -> Digest:
    """Everything the digest page shows, for articles fetched or published since `since`."""
    articles_since = _count(con, "SELECT count(*) FROM articles WHERE fetched_at >= ?", [since])
    return Digest(
        since=since,
        generated_at=now,
        deals=_deals(con, since),
        sanction_actions=_sanctions(con, since),
        top_stories=_top_stories(con, since, top),
        feeds=_feeds(con),
        articles_since=articles_since,
    )


def recent_run_durations(con: duckdb.DuckDBPyConnection, limit: int = 20) -> list[float]:
    """Seconds taken by the latest ingest runs, newest first."""
    rows = con.execute(
        "SELECT epoch(finished_at - started_at) FROM run_rows ORDER BY started_at DESC LIMIT ?", [limit]
    ).fetchall()
    return [float(row[0]) for row in rows if row[0] is not None]


@dataclass(frozen=True)
class RunFailureRow:
    stage: str
    url: str
    reason: str
    next_try: str  # a time, "next run", or "never" for a final failure


def run_failures(con: duckdb.DuckDBPyConnection, run_id: str, limit: int = 200) -> list[RunFailureRow]:
    """What failed in one run: a feed's next try is its next poll; a retryable page is tried again
    by the next run; anything else is final."""
    rows = con.execute(
        """SELECT x.stage, x.url, x.error,
                  CASE WHEN x.stage = 'poll' THEN coalesce(strftime(f.next_poll_at, '%Y-%m-%d %H:%M'), 'next run')
                       WHEN x.retryable THEN 'next run' ELSE 'never' END
           FROM failures x LEFT JOIN feeds f ON f.feed_url = x.url
           WHERE x.run_id = ? ORDER BY x.stage, x.url LIMIT ?""",
        [run_id, limit],
    ).fetchall()
    return [RunFailureRow(*row) for row in rows]
