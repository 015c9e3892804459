"""Read-only queries for the command line: every query `newsflow` runs on an analyst's behalf.

A `Reader` holds a read-only connection, so it works while an ingest run is writing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb

from warehouse import lake


@dataclass(frozen=True)
class RunFailure:
    stage: str
    url: str
    error: str


@dataclass(frozen=True)
class TopStory:
    n_articles: int
    original_source: str | None
    title: str | None
    tags: str  # comma-separated, sorted; empty when untagged


@dataclass(frozen=True)
class StorySummary:
    story_id: str
    title: str | None
    original_source: str | None
    n_articles: int
    first_published_at: datetime | None


@dataclass(frozen=True)
class StoryCopy:
    article_id: str
    is_original: bool
    source: str | None
    syndicated_from: str | None
    attribution: str | None
    story_reason: str | None
    story_similarity: float | None
    story_matched_article_id: str | None
    published_at: datetime | None
    version: int | None
    url: str
    story_measure: str | None = None  # jaccard, containment or exact: the measure that decided the join


@dataclass(frozen=True)
class FeedHealth:
    feed_url: str
    title: str | None
    last_polled_at: datetime | None
    last_status: str | None
    error_count: int | None
    next_poll_at: datetime | None
    last_error: str | None

    @property
    def health(self) -> str:
        if self.last_polled_at is None:
            return "never polled"
        return "ok" if not self.error_count else f"failing ({self.error_count} in a row)"


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]


class Reader:
    """Read-only access to the warehouse in `lake_dir`; raises `lake.WarehouseMissingError` when
    there is none yet."""

    def __init__(self, lake_dir: Path) -> None:
        self.con = lake.connect(lake_dir, read_only=True)

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Reader:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def query(self, sql: str) -> QueryResult:
        """Any read-only query; `duckdb.Error` propagates with DuckDB's message."""
        cursor = self.con.execute(sql)
        columns = [d[0] for d in cursor.description] if cursor.description else []
        return QueryResult(columns, cursor.fetchall() if columns else [])

    def summary(self) -> tuple[int, int, int, datetime | None]:
        """Articles, stories, feeds, and when the last run finished."""
        row = self.con.execute(
            """SELECT (SELECT count(*) FROM articles), (SELECT count(DISTINCT story_id) FROM articles),
                      (SELECT count(*) FROM feeds), (SELECT max(finished_at) FROM run_rows)"""
        ).fetchone()
        return (row[0], row[1], row[2], row[3]) if row else (0, 0, 0, None)

    def subscription_count(self) -> int:
        try:
            row = self.con.execute("SELECT count(*) FROM subscriptions").fetchone()
        except duckdb.Error:  # a warehouse from before subscriptions existed
            return 0
        return int(row[0]) if row else 0

    def last_run_failures(self, limit: int = 20) -> tuple[list[RunFailure], int]:
        """The latest run's failures (at most `limit`), and how many it had in all."""
        last_run = "(SELECT run_id FROM run_rows ORDER BY finished_at DESC LIMIT 1)"
        rows = self.con.execute(
            f"""
            SELECT stage, url, error FROM failures WHERE run_id = {last_run}
            ORDER BY stage, url LIMIT ?""",
            [limit],
        ).fetchall()
        total = self.con.execute(f"SELECT count(*) FROM failures WHERE run_id = {last_run}").fetchone()
        return [RunFailure(*row) for row in rows], int(total[0]) if total else 0

    def top_stories(self, limit: int = 10) -> list[TopStory]:
        rows = self.con.execute(
            """
            SELECT s.n_articles, s.original_source, s.title,
                   coalesce((SELECT string_agg(DISTINCT t.tag, ',' ORDER BY t.tag) FROM article_tags t
                             JOIN articles a USING (article_id) WHERE a.story_id = s.story_id), '') AS tags
            FROM stories s
            ORDER BY s.n_articles DESC, tags DESC, s.first_published_at DESC LIMIT ?""",
            [limit],
        ).fetchall()
        return [TopStory(*row) for row in rows]

    def stories_matching(self, story_id_or_prefix: str) -> list[StorySummary]:
        key = story_id_or_prefix.strip()
        rows = self.con.execute(
            """
            SELECT story_id, title, original_source, n_articles, first_published_at FROM stories
            WHERE story_id = ? OR story_id LIKE ? || '%'""",
            [key, key],
        ).fetchall()
        return [StorySummary(*row) for row in rows]

    def story_copies(self, story_id: str) -> list[StoryCopy]:
        rows = self.con.execute(
            """
            SELECT article_id, is_original, source, syndicated_from, attribution, story_reason, story_similarity,
                   story_matched_article_id, published_at, version, url,
                   story_measure
            FROM articles WHERE story_id = ? ORDER BY NOT is_original, published_at NULLS LAST, article_id""",
            [story_id],
        ).fetchall()
        return [StoryCopy(*row) for row in rows]

    def known_feeds(self) -> list[FeedHealth]:
        """Every feed the warehouse knows, imported or polled, by title."""
        rows = self.con.execute("""
            SELECT feed_url, title, last_polled_at, last_status, error_count, next_poll_at, last_error
            FROM feeds ORDER BY coalesce(title, feed_url), feed_url""").fetchall()
        return [FeedHealth(*row) for row in rows]
