"""Reads and idempotent writes of the pipeline's state and results.

Every write is one transaction that can be re-run: rows are inserted only where their key is
absent, so repeating an ingest, or resuming a killed one, never adds duplicates."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from newsflow.models import Entity, Failure, FeedEntry, FeedSource, FeedState, Tag
from warehouse import lake, storage

FEED_STATE_COLUMNS = ("feed_url", "name", "title", "etag", "last_modified", "body_hash", "last_polled_at",
                      "last_status", "error_count", "last_error", "next_poll_at", "poll_url",
                      "redirect_candidate", "poll_interval_s")


def _table(rows: list[dict], columns: Iterable[str]) -> pa.Table:
    columns = list(columns)
    return pa.Table.from_pylist([{c: row.get(c) for c in columns} for row in rows]) if rows else pa.table(
        {c: pa.array([], pa.null()) for c in columns})


class Warehouse:
    """The ingest flow's handle on the lake. Only one ingest writes at a time (Prefect's
    concurrency limit); readers may come and go freely."""

    def __init__(self, lake_dir: Path, min_free_disk_mb: float | None = None):
        self.lake_dir = Path(lake_dir)
        if min_free_disk_mb is None:
            from newsflow.settings import Settings

            min_free_disk_mb = Settings().min_free_disk_mb
        storage.check_writable(self.lake_dir.parent, min_free_disk_mb)   # fail before the first write
        try:
            self.con = lake.connect(lake_dir)
            self.schema_version = lake.initialise(self.con)
        except duckdb.Error as exc:
            raise (storage.explain(exc, self.lake_dir.parent) or exc) from exc

    def close(self) -> None:
        self.con.close()

    # -- transactions --------------------------------------------------------------------------

    def _transaction(self, body: Callable[[duckdb.DuckDBPyConnection], None], attempts: int = 8) -> None:
        started = storage.now()
        for attempt in range(attempts):
            try:
                self.con.execute("BEGIN TRANSACTION")
                body(self.con)
                self.con.execute("COMMIT")
                return
            except duckdb.Error as exc:
                try:
                    self.con.execute("ROLLBACK")
                except duckdb.Error:
                    pass
                problem = storage.explain(exc, self.lake_dir.parent)
                if problem is not None:   # a full or read-only disk: clear up, say so, keep what is committed
                    storage.remove_unreferenced_files(self.con, self.lake_dir, started)
                    raise problem from exc
                if attempt == attempts - 1 or not lake.is_transient(exc):
                    raise
                time.sleep(min(2.0, 0.05 * 2 ** attempt))

    @staticmethod
    def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict], columns: Iterable[str],
                unless_exists: str | None = None) -> None:
        if not rows:
            return
        columns = list(columns)
        con.register("incoming", _table(rows, columns))
        try:
            select = ", ".join(f"incoming.{c}" for c in columns)
            where = ""
            if unless_exists:
                where = f" WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE {unless_exists})"
            con.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT {select} FROM incoming{where}")
        finally:
            con.unregister("incoming")

    # -- feeds and entries ---------------------------------------------------------------------

    def feed_states(self) -> dict[str, FeedState]:
        rows = self.con.execute(f"SELECT {', '.join(FEED_STATE_COLUMNS)} FROM feed_state").fetchall()
        states = {}
        for row in rows:
            values = dict(zip(FEED_STATE_COLUMNS, row))
            values.pop("name")
            states[values["feed_url"]] = FeedState(**values)
        return states

    def commit_poll(self, states: list[tuple[FeedState, str | None]], entries: list[FeedEntry],
                    failures: list[Failure], run_id: str) -> int:
        """Store polled feed states, new entries and feed failures at once. Returns the number of
        entries that were new."""
        now = datetime.utcnow()
        entry_rows = [dict(asdict(e), first_seen_at=now) for e in entries]
        state_rows = [dict(asdict(state), name=name) for state, name in states]
        before = self.con.execute("SELECT count(*) FROM entries").fetchone()[0]

        def body(con: duckdb.DuckDBPyConnection) -> None:
            if state_rows:
                con.register("polled", _table(state_rows, ["feed_url"]))
                con.execute("DELETE FROM feed_state WHERE feed_url IN (SELECT feed_url FROM polled)")
                con.unregister("polled")
            self._insert(con, "feed_state", state_rows, FEED_STATE_COLUMNS)
            self._insert(con, "entries", entry_rows,
                         ("entry_key", "feed_url", "url", "guid", "title", "published_at", "updated_at",
                          "first_seen_at"),
                         # An item whose GUID changed but whose link did not is not a new entry.
                         unless_exists="t.entry_key = incoming.entry_key OR "
                                       "(t.url = incoming.url AND t.feed_url = incoming.feed_url)")
            self._insert(con, "entry_updates", update_rows, ("url", "updated_at", "seen_at"))
            self._insert_failures(con, failures, run_id)

        update_rows = self._updated_pages(entries, now)
        self._transaction(body)
        return self.con.execute("SELECT count(*) FROM entries").fetchone()[0] - before

    def _updated_pages(self, entries: list[FeedEntry], now: datetime) -> list[dict]:
        """Stored pages whose feed item now carries a later `updated` stamp than any seen before."""
        stamped = {}
        for e in entries:
            if e.updated_at is not None and (e.url not in stamped or e.updated_at > stamped[e.url]):
                stamped[e.url] = e.updated_at
        if not stamped:
            return []
        known = dict(self.con.execute("""
            SELECT a.url, greatest(max(e.updated_at), max(e.published_at), max(u.updated_at))
            FROM (SELECT DISTINCT url FROM article_rows WHERE url IN (SELECT unnest($urls))) a
            LEFT JOIN entries e USING (url) LEFT JOIN entry_updates u USING (url)
            GROUP BY a.url""", {"urls": list(stamped)}).fetchall())
        return [dict(url=url, updated_at=stamp, seen_at=now) for url, stamp in stamped.items()
                if url in known and (known[url] is None or stamp > known[url])]

    def new_entries_by_feed(self, since: datetime) -> dict[str, int]:
        """How many entries each feed added since `since` (a poll's commit time)."""
        return dict(self.con.execute(
            "SELECT feed_url, count(*) FROM entries WHERE first_seen_at >= ? GROUP BY feed_url", [since]).fetchall())

    def subscriptions(self) -> list[FeedSource]:
        """Feeds added with `newsflow feeds import`, oldest first."""
        rows = self.con.execute("SELECT feed_url, name FROM subscriptions ORDER BY added_at, feed_url").fetchall()
        return [FeedSource(url=url, name=name) for url, name in rows]

    def add_subscriptions(self, sources: list[FeedSource]) -> int:
        """Subscribe to feeds not yet subscribed to; returns how many were new."""
        now = datetime.utcnow()
        rows = [dict(feed_url=s.url, name=s.name, added_at=now) for s in {s.url: s for s in sources}.values()]
        before = self.con.execute("SELECT count(*) FROM subscriptions").fetchone()[0]
        self._transaction(lambda con: self._insert(con, "subscriptions", rows, ("feed_url", "name", "added_at"),
                                                   unless_exists="t.feed_url = incoming.feed_url"))
        return self.con.execute("SELECT count(*) FROM subscriptions").fetchone()[0] - before

    def pending_entries(self, max_attempts: int, limit: int | None = None) -> list[FeedEntry]:
        """Entry URLs with no final outcome yet: new ones, and retryable failures with attempts
        left. One entry per URL, so an item in two feeds, or whose GUID changed, is fetched once."""
        sql = """
            WITH updates AS (
                SELECT url, max(seen_at) AS announced FROM entry_updates GROUP BY url
            ), outcome AS (
                -- Only outcomes after the page was last announced as updated count.
                SELECT f.url, bool_or(f.outcome IN ('stored', 'skipped', 'failed')) AS final,
                       count(*) FILTER (WHERE f.outcome = 'retry') AS retries
                FROM fetch_outcomes f LEFT JOIN updates u USING (url)
                WHERE u.announced IS NULL OR f.decided_at >= u.announced
                GROUP BY f.url
            ), candidates AS (
                SELECT e.*, row_number() OVER (PARTITION BY e.url ORDER BY e.first_seen_at, e.entry_key) AS n
                FROM entries e LEFT JOIN outcome o USING (url) LEFT JOIN updates u USING (url)
                WHERE coalesce(o.final, false) = false AND coalesce(o.retries, 0) < ?
                  AND (e.url NOT IN (SELECT url FROM article_rows) OR u.announced IS NOT NULL)
            )
            SELECT entry_key, feed_url, url, guid, title, published_at, updated_at FROM candidates WHERE n = 1
            ORDER BY published_at DESC NULLS LAST, entry_key
        """
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [FeedEntry(*row) for row in self.con.execute(sql, [max_attempts]).fetchall()]

    # -- articles ------------------------------------------------------------------------------

    def story_index_rows(self, from_seq: int = 0) -> list[tuple]:
        """Article versions for the story index, in the order they were indexed."""
        return self.con.execute("""
            SELECT article_id, story_id, canonical_url, content_hash, signature, coalesce(n_shingles, 0), published_at
            FROM article_rows WHERE coalesce(seq, -1) >= ? OR (seq IS NULL AND ? = 0)
            ORDER BY seq NULLS FIRST, fetched_at, article_id
        """, [from_seq, from_seq]).fetchall()

    def article_at_seq(self, seq: int) -> str | None:
        row = self.con.execute("SELECT article_id FROM article_rows WHERE seq = ?", [seq]).fetchone()
        return row[0] if row else None

    def latest_version(self, article_id: str) -> tuple[int, str] | None:
        """(version, content_hash) of the newest stored version of an article."""
        return self.con.execute("""
            SELECT coalesce(version, 1), content_hash FROM article_rows WHERE article_id = ?
            ORDER BY coalesce(version, 1) DESC LIMIT 1""", [article_id]).fetchone()

    def commit_batch(self, articles: list[dict], tags: list[tuple[str, Tag, str]],
                     entities: list[tuple[str, Entity, str]], outcomes: list[dict],
                     failures: list[Failure], run_id: str) -> None:
        """One transaction per batch: article versions with their tags and entities, and the
        outcome of every entry in the batch, so a killed run redoes at most this batch. A new
        version of an article replaces that article's tags and entities."""
        tag_rows = [dict(article_id=a, tag=t.tag, score=t.score, evidence=t.evidence, tagger_version=v)
                    for a, t, v in tags]
        entity_rows = [dict(article_id=a, kind=e.kind, name=e.name, role=e.role, value_usd=e.value_usd,
                            mention=e.mention, category=e.category, in_deal=e.in_deal, tagger_version=v)
                       for a, e, v in entities]
        keys = [(a["article_id"], a["version"]) for a in articles]
        existing: set[tuple[str, int]] = set()
        if keys:
            existing = set(self.con.execute(
                "SELECT article_id, coalesce(version, 1) FROM article_rows WHERE article_id IN (SELECT unnest(?))",
                [[k[0] for k in keys]]).fetchall())
        articles = [a for a in articles if (a["article_id"], a["version"]) not in existing]
        fresh = {a["article_id"] for a in articles}
        updated = sorted({a["article_id"] for a in articles if a["version"] > 1})
        tag_rows = [t for t in tag_rows if t["article_id"] in fresh]
        entity_rows = [e for e in entity_rows if e["article_id"] in fresh]

        def body(con: duckdb.DuckDBPyConnection) -> None:
            if updated:
                con.execute("DELETE FROM tag_rows WHERE article_id IN (SELECT unnest(?))", [updated])
                con.execute("DELETE FROM entity_rows WHERE article_id IN (SELECT unnest(?))", [updated])
            if articles:
                self._insert(con, "article_rows", articles, articles[0].keys())
            self._insert(con, "tag_rows", tag_rows, ("article_id", "tag", "score", "evidence", "tagger_version"))
            self._insert(con, "entity_rows", entity_rows,
                         ("article_id", "kind", "name", "role", "value_usd", "mention", "category", "in_deal", "tagger_version"))
            self._insert(con, "fetch_outcomes", outcomes, ("url", "entry_key", "outcome", "detail", "decided_at"))
            self._insert_failures(con, failures, run_id)

        self._transaction(body)

    def articles_to_retag(self, tagger_version: str, everything: bool) -> list[tuple]:
        """(article_id, title, text, published_at) of articles whose tags an older tagger wrote,
        or that were never tagged by this version."""
        where = "" if everything else """
            WHERE a.article_id NOT IN (SELECT article_id FROM tag_rows WHERE tagger_version = $v
                                       UNION SELECT article_id FROM entity_rows WHERE tagger_version = $v)"""
        return self.con.execute(f"""
            SELECT a.article_id, a.title, a.text, a.published_at FROM latest_articles a {where}
            ORDER BY a.article_id""", {"v": tagger_version} if not everything else {}).fetchall()

    def replace_tags(self, tags: list[tuple[str, Tag, str]], entities: list[tuple[str, Entity, str]],
                     article_ids: list[str]) -> None:
        """Swap the tags and entities of these articles for a new tagger's output."""
        tag_rows = [dict(article_id=a, tag=t.tag, score=t.score, evidence=t.evidence, tagger_version=v)
                    for a, t, v in tags]
        entity_rows = [dict(article_id=a, kind=e.kind, name=e.name, role=e.role, value_usd=e.value_usd,
                            mention=e.mention, category=e.category, in_deal=e.in_deal, tagger_version=v)
                       for a, e, v in entities]

        def body(con: duckdb.DuckDBPyConnection) -> None:
            con.execute("DELETE FROM tag_rows WHERE article_id IN (SELECT unnest(?))", [article_ids])
            con.execute("DELETE FROM entity_rows WHERE article_id IN (SELECT unnest(?))", [article_ids])
            self._insert(con, "tag_rows", tag_rows, ("article_id", "tag", "score", "evidence", "tagger_version"))
            self._insert(con, "entity_rows", entity_rows,
                         ("article_id", "kind", "name", "role", "value_usd", "mention", "category", "in_deal", "tagger_version"))

        self._transaction(body)

    def record_failures(self, failures: list[Failure], run_id: str) -> None:
        if failures:
            self._transaction(lambda con: self._insert_failures(con, failures, run_id))

    def _insert_failures(self, con: duckdb.DuckDBPyConnection, failures: list[Failure], run_id: str) -> None:
        rows = [dict(url=f.url, stage=f.stage, error=f.error, failed_at=f.at, entry_key=f.entry_key,
                     retryable=f.retryable, run_id=run_id) for f in failures]
        self._insert(con, "failure_rows", rows, ("url", "stage", "error", "failed_at", "entry_key", "retryable", "run_id"))

    def record_run(self, run_id: str, started_at: datetime, summary: dict) -> None:
        row = dict(run_id=run_id, started_at=started_at, finished_at=datetime.utcnow(),
                   summary=json.dumps(summary, default=str))
        self._transaction(lambda con: self._insert(con, "run_rows", [row], row.keys()))

    def counts(self) -> dict[str, int]:
        return {
            "articles": self.con.execute("SELECT count(DISTINCT article_id) FROM article_rows").fetchone()[0],
            "stories": self.con.execute("SELECT count(DISTINCT story_id) FROM article_rows").fetchone()[0],
            "articles_tagged": self.con.execute("SELECT count(DISTINCT article_id) FROM tag_rows").fetchone()[0],
        }
