"""Reads and idempotent writes of the pipeline's state and results.

Every write is one transaction that can be re-run: rows are inserted only where their key is
absent, so repeating an ingest, or resuming a killed one, never adds duplicates."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from newsflow.clock import utcnow
from newsflow.models import (
    FINAL_OUTCOMES,
    ArticleEntity,
    ArticleFrames,
    ArticleTag,
    BatchResult,
    Failure,
    FeedEntry,
    FeedSource,
    FeedState,
    IndexedVersion,
    PollCommit,
    PolledFeed,
    StoredText,
    VersionStamp,
    WarehouseCounts,
)
from newsflow.retry import with_retry
from warehouse import lake, storage

FEED_STATE_COLUMNS = (
    "feed_url",
    "name",
    "title",
    "etag",
    "last_modified",
    "body_hash",
    "last_polled_at",
    "last_status",
    "error_count",
    "last_error",
    "next_poll_at",
    "poll_url",
    "redirect_candidate",
    "poll_interval_s",
)


DEAL_COLUMNS = (
    "article_id",
    "deal_no",
    "systems",
    "categories",
    "from_gazetteer",
    "quantity",
    "suppliers",
    "recipients",
    "value_usd",
    "status",
    "evidence",
    "tagger_version",
)
SANCTION_COLUMNS = (
    "article_id",
    "action_no",
    "action",
    "sanctioning",
    "target",
    "target_kind",
    "regime",
    "evidence",
    "tagger_version",
)
TAG_COLUMNS = ("article_id", "tag", "score", "evidence", "tagger_version")
ENTITY_COLUMNS = ("article_id", "kind", "name", "role", "value_usd", "mention", "category", "in_deal", "tagger_version")
OUTCOME_COLUMNS = ("url", "entry_key", "outcome", "detail", "decided_at")

Row = dict[str, Any]


def _table(rows: list[Row], columns: Iterable[str]) -> pa.Table:
    columns = list(columns)
    return (
        pa.Table.from_pylist([{c: row.get(c) for c in columns} for row in rows])
        if rows
        else pa.table({c: pa.array([], pa.null()) for c in columns})
    )


def _tag_rows(tags: list[ArticleTag]) -> list[Row]:
    return [
        dict(
            article_id=t.article_id,
            tag=t.tag.tag,
            score=t.tag.score,
            evidence=t.tag.evidence,
            tagger_version=t.tagger_version,
        )
        for t in tags
    ]


def _entity_rows(entities: list[ArticleEntity]) -> list[Row]:
    return [
        dict(
            article_id=e.article_id,
            kind=e.entity.kind,
            name=e.entity.name,
            role=e.entity.role,
            value_usd=e.entity.value_usd,
            mention=e.entity.mention,
            category=e.entity.category,
            in_deal=e.entity.in_deal,
            tagger_version=e.tagger_version,
        )
        for e in entities
    ]


def _frame_rows(frames: list[ArticleFrames]) -> tuple[list[Row], list[Row]]:
    deals = [
        dict(
            article_id=f.article_id,
            deal_no=n,
            systems=[x.name for x in d.systems],
            categories=[x.category for x in d.systems],
            from_gazetteer=[x.from_gazetteer for x in d.systems],
            quantity=d.quantity,
            suppliers=list(d.supplier),
            recipients=list(d.recipient),
            value_usd=d.value_usd,
            status=d.status,
            evidence=d.evidence,
            tagger_version=f.tagger_version,
        )
        for f in frames
        for n, d in enumerate(f.deals, 1)
    ]
    actions = [
        dict(
            article_id=f.article_id,
            action_no=n,
            action=x.action,
            sanctioning=x.sanctioning,
            target=x.target,
            target_kind=x.target_kind,
            regime=x.regime,
            evidence=x.evidence,
            tagger_version=f.tagger_version,
        )
        for f in frames
        for n, x in enumerate(f.sanction_actions, 1)
    ]
    return deals, actions


def _insert_frames(con: duckdb.DuckDBPyConnection, frames: list[ArticleFrames], replace: list[str]) -> None:
    """Replace the deal and sanction rows of `replace` (article ids), then add `frames`."""
    if replace:
        con.execute("DELETE FROM deal_rows WHERE article_id IN (SELECT unnest(?))", [replace])
        con.execute("DELETE FROM sanction_rows WHERE article_id IN (SELECT unnest(?))", [replace])
    deals, actions = _frame_rows(frames)
    Warehouse._insert(con, "deal_rows", deals, DEAL_COLUMNS)
    Warehouse._insert(con, "sanction_rows", actions, SANCTION_COLUMNS)


class Warehouse:
    """The ingest flow's handle on the lake. Only one ingest writes at a time (Prefect's
    concurrency limit); readers may come and go freely."""

    def __init__(self, lake_dir: Path, min_free_disk_mb: float | None = None) -> None:
        self.lake_dir = Path(lake_dir)
        if min_free_disk_mb is None:
            from newsflow.settings import Settings

            min_free_disk_mb = Settings().min_free_disk_mb
        storage.check_writable(self.lake_dir.parent, min_free_disk_mb)  # fail before the first write
        try:
            self.con = lake.connect(lake_dir)
        except duckdb.Error as exc:
            raise (storage.explain(exc, self.lake_dir.parent) or exc) from exc
        self.shared = lake.is_postgres(lake._configured(None, "")[0])
        self.writer_lock = lake.WriterLock.configured()
        try:
            with self.writer_lock.held():  # concurrent CREATE/ALTERs of one catalog would conflict
                self.schema_version = lake.initialise(self.con)
        except duckdb.Error as exc:
            raise (storage.explain(exc, self.lake_dir.parent) or exc) from exc

    def close(self) -> None:
        self.writer_lock.close()  # releases the lock too, if an error left it held
        self.con.close()

    # -- transactions --------------------------------------------------------------------------

    def _transaction(self, body: Callable[[duckdb.DuckDBPyConnection], None], attempts: int = 8) -> None:
        started = storage.now()

        def attempt() -> None:
            try:
                self.con.execute("BEGIN TRANSACTION")
                body(self.con)
                self.con.execute("COMMIT")
            except duckdb.Error as exc:
                try:
                    self.con.execute("ROLLBACK")
                except duckdb.Error:
                    pass
                problem = storage.explain(exc, self.lake_dir.parent)
                if problem is not None:  # a full or read-only disk: clear up, say so, keep what is committed
                    storage.remove_unreferenced_files(self.con, self.lake_dir, started)
                    raise problem from exc
                raise

        with_retry(attempt, transient=lake.is_transient, attempts=attempts)

    def _scalar(self, sql: str, params: list[Any] | None = None) -> Any:
        row = self.con.execute(sql, params or []).fetchone()
        return row[0] if row else None

    @staticmethod
    def _insert(
        con: duckdb.DuckDBPyConnection,
        table: str,
        rows: list[Row],
        columns: Iterable[str],
        unless_exists: str | tuple[str, ...] | None = None,
    ) -> None:
        """Bulk-insert `rows` (one Arrow table). Each `unless_exists` condition is its own NOT EXISTS:
        equality-only conditions plan as hash anti-joins; an OR inside one plans as a nested loop
        whose cost grows with incoming rows times the table (3.7 s against 0.02 s for 2,000 new
        entries over 200,000)."""
        if not rows:
            return
        columns = list(columns)
        con.register("incoming", _table(rows, columns))
        try:
            select = ", ".join(f"incoming.{c}" for c in columns)
            conditions = (unless_exists,) if isinstance(unless_exists, str) else unless_exists or ()
            where = " AND ".join(f"NOT EXISTS (SELECT 1 FROM {table} t WHERE {c})" for c in conditions)
            where = f" WHERE {where}" if where else ""
            con.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT {select} FROM incoming{where}")
        finally:
            con.unregister("incoming")

    # -- feeds and entries ---------------------------------------------------------------------

    def feed_states(self) -> dict[str, FeedState]:
        rows = self.con.execute(f"SELECT {', '.join(FEED_STATE_COLUMNS)} FROM feed_state").fetchall()
        states: dict[str, FeedState] = {}
        for row in rows:
            values = dict(zip(FEED_STATE_COLUMNS, row, strict=True))
            values.pop("name")
            states[values["feed_url"]] = FeedState(**values)
        return states

    def _entries_by_feed(self) -> dict[str, int]:
        return dict(self.con.execute("SELECT feed_url, count(*) FROM entries GROUP BY feed_url").fetchall())

    def commit_poll(
        self, polled: list[PolledFeed], entries: list[FeedEntry], failures: list[Failure], run_id: str
    ) -> PollCommit:
        """Store polled feed states, new entries and feed failures at once, and say how many
        entries were new, per feed."""
        now = utcnow()
        entry_rows = [dict(asdict(e), first_seen_at=now) for e in entries]
        state_rows = [dict(asdict(p.state), name=p.name) for p in polled]

        def body(con: duckdb.DuckDBPyConnection) -> None:
            if state_rows:
                con.register("polled", _table(state_rows, ["feed_url"]))
                con.execute("DELETE FROM feed_state WHERE feed_url IN (SELECT feed_url FROM polled)")
                con.unregister("polled")
            self._insert(con, "feed_state", state_rows, FEED_STATE_COLUMNS)
            self._insert(
                con,
                "entries",
                entry_rows,
                ("entry_key", "feed_url", "url", "guid", "title", "published_at", "updated_at", "first_seen_at"),
                # An item whose GUID changed but whose link did not is not a new entry.
                unless_exists=(
                    "t.entry_key = incoming.entry_key",
                    "t.url = incoming.url AND t.feed_url = incoming.feed_url",
                ),
            )
            self._insert(con, "entry_updates", update_rows, ("url", "updated_at", "seen_at"))
            self._insert_failures(con, failures, run_id)

        # Under the writer lock, so two runs polling the same feed at once add its entries once.
        with self.writer_lock.held():
            before = self._entries_by_feed()
            update_rows = self._updated_pages(entries, now)
            self._transaction(body)
            after = self._entries_by_feed()
        new_by_feed = {url: count - before.get(url, 0) for url, count in after.items() if count > before.get(url, 0)}
        return PollCommit(new_entries=sum(new_by_feed.values()), new_by_feed=new_by_feed)

    def _updated_pages(self, entries: list[FeedEntry], now: datetime) -> list[Row]:
        """Stored pages whose feed item now carries a later `updated` stamp than any seen before."""
        stamped: dict[str, datetime] = {}
        for e in entries:
            if e.updated_at is not None and (e.url not in stamped or e.updated_at > stamped[e.url]):
                stamped[e.url] = e.updated_at
        if not stamped:
            return []
        known = dict(
            self.con.execute(
                """
            SELECT a.url, greatest(max(e.updated_at), max(e.published_at), max(u.updated_at))
            FROM (SELECT DISTINCT url FROM article_rows WHERE url IN (SELECT unnest($urls))) a
            LEFT JOIN entries e USING (url) LEFT JOIN entry_updates u USING (url)
            GROUP BY a.url""",
                {"urls": list(stamped)},
            ).fetchall()
        )
        return [
            dict(url=url, updated_at=stamp, seen_at=now)
            for url, stamp in stamped.items()
            if url in known and (known[url] is None or stamp > known[url])
        ]

    def subscriptions(self) -> list[FeedSource]:
        """Feeds added with `newsflow feeds import`, oldest first."""
        rows = self.con.execute("SELECT feed_url, name FROM subscriptions ORDER BY added_at, feed_url").fetchall()
        return [FeedSource(url=url, name=name) for url, name in rows]

    def add_subscriptions(self, sources: list[FeedSource]) -> int:
        """Subscribe to feeds not yet subscribed to; returns how many were new."""
        now = utcnow()
        rows = [dict(feed_url=s.url, name=s.name, added_at=now) for s in {s.url: s for s in sources}.values()]
        before: int = self._scalar("SELECT count(*) FROM subscriptions")
        self._transaction(
            lambda con: self._insert(
                con,
                "subscriptions",
                rows,
                ("feed_url", "name", "added_at"),
                unless_exists="t.feed_url = incoming.feed_url",
            )
        )
        after: int = self._scalar("SELECT count(*) FROM subscriptions")
        return after - before

    def pending_entries(self, max_attempts: int, limit: int | None = None) -> list[FeedEntry]:
        """Entry URLs with no final outcome yet: new ones, and retryable failures with attempts
        left. One entry per URL, so an item in two feeds, or whose GUID changed, is fetched once."""
        sql = """
            WITH updates AS (
                SELECT url, max(seen_at) AS announced FROM entry_updates GROUP BY url
            ), outcome AS (
                -- Only outcomes after the page was last announced as updated count.
                SELECT f.url, bool_or(list_contains($final, f.outcome)) AS final,
                       count(*) FILTER (WHERE f.outcome = 'retry') AS retries
                FROM fetch_outcomes f LEFT JOIN updates u USING (url)
                WHERE u.announced IS NULL OR f.decided_at >= u.announced
                GROUP BY f.url
            ), candidates AS (
                SELECT e.*, row_number() OVER (PARTITION BY e.url ORDER BY e.first_seen_at, e.entry_key) AS n
                FROM entries e LEFT JOIN outcome o USING (url) LEFT JOIN updates u USING (url)
                WHERE coalesce(o.final, false) = false AND coalesce(o.retries, 0) < $max_attempts
                  AND (e.url NOT IN (SELECT url FROM article_rows) OR u.announced IS NOT NULL)
            )
            SELECT entry_key, feed_url, url, guid, title, published_at, updated_at FROM candidates WHERE n = 1
            ORDER BY published_at DESC NULLS LAST, entry_key
        """
        if limit:
            sql += f" LIMIT {int(limit)}"
        params = {"final": list(FINAL_OUTCOMES), "max_attempts": max_attempts}
        return [FeedEntry(*row) for row in self.con.execute(sql, params).fetchall()]

    def claim_entries(self, entries: list[FeedEntry], run_id: str, ttl_s: int) -> list[FeedEntry]:
        """The entries this run may fetch: on a shared (Postgres) catalog, those no other live run
        has claimed, now claimed by this one; claiming runs one run at a time under the writer
        lock, so two runs never both claim a URL. Claims expire after `ttl_s` seconds, so a killed
        run's entries return to the pool. On a SQLite catalog only one run writes, so every
        pending entry is this run's."""
        if not self.shared or not entries:
            return entries
        now = utcnow()
        with self.writer_lock.held():
            taken = {
                row[0]
                for row in self.con.execute(
                    "SELECT DISTINCT url FROM entry_claims WHERE expires_at > ? AND run_id <> ? "
                    "AND url IN (SELECT unnest(?))",
                    [now, run_id, [e.url for e in entries]],
                ).fetchall()
            }
            mine = [e for e in entries if e.url not in taken]
            rows = [
                dict(url=e.url, run_id=run_id, claimed_at=now, expires_at=now + timedelta(seconds=ttl_s)) for e in mine
            ]
            self._transaction(
                lambda con: self._insert(con, "entry_claims", rows, ("url", "run_id", "claimed_at", "expires_at"))
            )
        return mine

    def hold_writer_lock(self) -> None:
        """Start a step ordered across writers (story assignment and load); `release_writer_lock`
        ends it, and `close` does if an error came first."""
        self.writer_lock.acquire()

    def release_writer_lock(self) -> None:
        self.writer_lock.release()

    # -- articles ------------------------------------------------------------------------------

    def story_index_rows(self, from_seq: int = 0) -> list[IndexedVersion]:
        """Article versions for the story index, in the order they were indexed."""
        return [
            IndexedVersion(*row)
            for row in self.con.execute(
                """
            SELECT article_id, story_id, canonical_url, content_hash, signature, coalesce(n_shingles, 0), published_at
            FROM article_rows WHERE coalesce(seq, -1) >= ? OR (seq IS NULL AND ? = 0)
            ORDER BY seq NULLS FIRST, fetched_at, article_id
        """,
                [from_seq, from_seq],
            ).fetchall()
        ]

    def article_at_seq(self, seq: int) -> str | None:
        found: str | None = self._scalar("SELECT article_id FROM article_rows WHERE seq = ?", [seq])
        return found

    def latest_version(self, article_id: str) -> VersionStamp | None:
        """The newest stored version of an article, with its content hash."""
        row = self.con.execute(
            """
            SELECT coalesce(version, 1), content_hash FROM article_rows WHERE article_id = ?
            ORDER BY coalesce(version, 1) DESC LIMIT 1""",
            [article_id],
        ).fetchone()
        return VersionStamp(*row) if row else None

    def commit_batch(self, batch: BatchResult, run_id: str, *, before_commit: Callable[[], None] | None = None) -> None:
        """One transaction per batch: article versions with their tags and entities, and the
        outcome of every entry in the batch, so a killed run redoes at most this batch. A new
        version of an article replaces that article's tags and entities. `before_commit` runs
        inside the transaction after the last insert (a crash test's fault point)."""
        self._commit_rows(
            [asdict(a) for a in batch.articles],
            _tag_rows(batch.tags),
            _entity_rows(batch.entities),
            [asdict(o) for o in batch.outcomes],
            batch.failures,
            run_id,
            batch.frames,
            before_commit,
        )

    def commit_article_rows(self, rows: list[Row], run_id: str) -> None:
        """Store article rows that carry only some of `article_rows`' columns, with nothing else:
        for the evaluation scripts, which score attribution through the `articles` view."""
        self._commit_rows(rows, [], [], [], [], run_id)

    def _commit_rows(
        self,
        articles: list[Row],
        tag_rows: list[Row],
        entity_rows: list[Row],
        outcomes: list[Row],
        failures: list[Failure],
        run_id: str,
        frames: list[ArticleFrames] | None = None,
        before_commit: Callable[[], None] | None = None,
    ) -> None:
        keys = [(a["article_id"], a["version"]) for a in articles]
        existing: set[tuple[str, int]] = set()
        if keys:
            existing = set(
                self.con.execute(
                    "SELECT article_id, coalesce(version, 1) FROM article_rows WHERE article_id IN (SELECT unnest(?))",
                    [[k[0] for k in keys]],
                ).fetchall()
            )
        articles = [a for a in articles if (a["article_id"], a["version"]) not in existing]
        fresh = {a["article_id"] for a in articles}
        updated = sorted({a["article_id"] for a in articles if a["version"] > 1})
        tag_rows = [t for t in tag_rows if t["article_id"] in fresh]
        entity_rows = [e for e in entity_rows if e["article_id"] in fresh]
        fresh_frames = [f for f in frames or [] if f.article_id in fresh]

        def body(con: duckdb.DuckDBPyConnection) -> None:
            if updated:
                con.execute("DELETE FROM tag_rows WHERE article_id IN (SELECT unnest(?))", [updated])
                con.execute("DELETE FROM entity_rows WHERE article_id IN (SELECT unnest(?))", [updated])
            if articles:
                self._insert(con, "article_rows", articles, articles[0].keys())
            self._insert(con, "tag_rows", tag_rows, TAG_COLUMNS)
            self._insert(con, "entity_rows", entity_rows, ENTITY_COLUMNS)
            _insert_frames(con, fresh_frames, updated)
            self._insert(con, "fetch_outcomes", outcomes, OUTCOME_COLUMNS)
            self._insert_failures(con, failures, run_id)
            if before_commit is not None:
                before_commit()

        self._transaction(body)

    def articles_to_retag(self, tagger_version: str, everything: bool) -> list[StoredText]:
        """Articles whose tags an older tagger wrote, or that this version never tagged."""
        where = (
            ""
            if everything
            else """
            WHERE a.article_id NOT IN (SELECT article_id FROM tag_rows WHERE tagger_version = $v
                                       UNION SELECT article_id FROM entity_rows WHERE tagger_version = $v)"""
        )
        rows = self.con.execute(
            f"""
            SELECT a.article_id, a.title, a.text, a.published_at FROM latest_articles a {where}
            ORDER BY a.article_id""",
            {"v": tagger_version} if not everything else {},
        ).fetchall()
        return [StoredText(*row) for row in rows]

    def replace_tags(
        self,
        tags: list[ArticleTag],
        entities: list[ArticleEntity],
        article_ids: list[str],
        frames: list[ArticleFrames] | None = None,
    ) -> None:
        """Swap the tags, entities and frames of these articles for a new tagger's output."""
        tag_rows = _tag_rows(tags)
        entity_rows = _entity_rows(entities)

        def body(con: duckdb.DuckDBPyConnection) -> None:
            con.execute("DELETE FROM tag_rows WHERE article_id IN (SELECT unnest(?))", [article_ids])
            con.execute("DELETE FROM entity_rows WHERE article_id IN (SELECT unnest(?))", [article_ids])
            self._insert(con, "tag_rows", tag_rows, TAG_COLUMNS)
            self._insert(con, "entity_rows", entity_rows, ENTITY_COLUMNS)
            _insert_frames(con, frames or [], article_ids)

        self._transaction(body)

    def record_failures(self, failures: list[Failure], run_id: str) -> None:
        if failures:
            self._transaction(lambda con: self._insert_failures(con, failures, run_id))

    def _insert_failures(self, con: duckdb.DuckDBPyConnection, failures: list[Failure], run_id: str) -> None:
        rows = [
            dict(
                url=f.url,
                stage=f.stage,
                error=f.error,
                failed_at=f.at,
                entry_key=f.entry_key,
                retryable=f.retryable,
                run_id=run_id,
            )
            for f in failures
        ]
        self._insert(
            con, "failure_rows", rows, ("url", "stage", "error", "failed_at", "entry_key", "retryable", "run_id")
        )

    def record_run(self, run_id: str, started_at: datetime, summary: Mapping[str, int]) -> None:
        row = dict(
            run_id=run_id, started_at=started_at, finished_at=utcnow(), summary=json.dumps(dict(summary), default=str)
        )
        self._transaction(lambda con: self._insert(con, "run_rows", [row], row.keys()))

    def counts(self) -> WarehouseCounts:
        return WarehouseCounts(
            articles=self._scalar("SELECT count(DISTINCT article_id) FROM article_rows"),
            stories=self._scalar("SELECT count(DISTINCT story_id) FROM article_rows"),
            articles_tagged=self._scalar("SELECT count(DISTINCT article_id) FROM tag_rows"),
        )
