"""A PostgreSQL DuckLake catalog (NEWSFLOW_CATALOG) behind every reader and writer, on a real
server started for the session (tests/pgserver.py)."""

from __future__ import annotations

import json
import subprocess
import threading
import time

import newsflow
from newsflow.demo_web import SampleWeb
from warehouse import lake

from conftest import newsflow_bin


def _feeds_file(tmp_path, web):
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text("feeds:\n" + "".join(f"  - url: {f['url']}\n" for f in web.feeds), encoding="utf-8")
    return feeds


def test_ingest_and_query_through_a_postgres_catalog(subprocess_env, postgres_catalog, tmp_path, monkeypatch):
    data_dir, files = tmp_path / "data", tmp_path / "lake-files"
    env = dict(subprocess_env, NEWSFLOW_CATALOG=postgres_catalog, NEWSFLOW_DATA_PATH=str(files))
    with SampleWeb(base_port=0) as web:
        run = subprocess.run(
            [
                newsflow_bin(),
                "ingest",
                "--feeds",
                str(_feeds_file(tmp_path, web)),
                "--data-dir",
                str(data_dir),
                "--allow-private-networks",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
    assert run.returncode == 0, run.stderr[-3000:]
    # The catalog is in Postgres and the Parquet files under NEWSFLOW_DATA_PATH, not the data dir.
    assert not lake.catalog_path(data_dir / "lake").exists()
    assert list(files.rglob("*.parquet"))

    sql = subprocess.run(
        [
            newsflow_bin(),
            "sql",
            "--format",
            "json",
            "--data-dir",
            str(tmp_path / "elsewhere"),
            "SELECT count(*) AS n, count(DISTINCT story_id) AS s FROM articles",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert sql.returncode == 0, sql.stderr
    assert json.loads(sql.stdout) == [{"n": 46, "s": 36}]

    monkeypatch.setenv("NEWSFLOW_CATALOG", postgres_catalog)
    monkeypatch.setenv("NEWSFLOW_DATA_PATH", str(files))
    con = newsflow.connect(tmp_path / "another-dir")
    try:
        assert con.execute("SELECT count(*) FROM stories").fetchone()[0] == 36
    finally:
        con.close()


def test_reading_an_empty_postgres_catalog_says_to_ingest_first(postgres_catalog, tmp_path):
    import pytest

    with pytest.raises(lake.WarehouseMissingError, match="run `newsflow ingest` first"):
        lake.connect(tmp_path, read_only=True, catalog=postgres_catalog, data_path=str(tmp_path / "files"))


def test_writer_lock_serialises_holders_across_connections(postgres_catalog):
    first, second = lake.WriterLock(postgres_catalog), lake.WriterLock(postgres_catalog)
    events: list[str] = []
    try:
        first.acquire()
        waiter = threading.Thread(target=lambda: (second.acquire(), events.append("second acquired")))
        waiter.start()
        time.sleep(0.5)
        events.append("first releasing")
        first.release()
        waiter.join(timeout=30)
        assert events == ["first releasing", "second acquired"]
        second.release()
        with first.held():  # free again once both released
            pass
    finally:
        first.close()
        second.close()


def test_sqlite_catalog_needs_no_lock(tmp_path):
    no_lock = lake.WriterLock("")
    no_lock.acquire()
    no_lock.release()
    no_lock.close()


def test_claims_split_entries_between_runs_and_expire(postgres_catalog, tmp_path, monkeypatch):
    from newsflow.models import FeedEntry
    from warehouse.store import Warehouse

    monkeypatch.setenv("NEWSFLOW_CATALOG", postgres_catalog)
    monkeypatch.setenv("NEWSFLOW_DATA_PATH", str(tmp_path / "files"))
    entries = [
        FeedEntry(f"k{i}", "http://127.0.0.1/feed.xml", f"http://127.0.0.1/a{i}", None, None, None, None)
        for i in range(4)
    ]
    first, second = Warehouse(tmp_path / "one"), Warehouse(tmp_path / "two")
    try:
        assert first.claim_entries(entries[:2], "run-a", ttl_s=3600) == entries[:2]
        # Another run gets only what is unclaimed; the claiming run keeps its own.
        assert second.claim_entries(entries, "run-b", ttl_s=3600) == entries[2:]
        assert first.claim_entries(entries[:2], "run-a", ttl_s=3600) == entries[:2]
        # A claim past its expiry (its run died) no longer holds.
        assert first.claim_entries(entries[3:], "run-c", ttl_s=0) == []  # run-b's claim is live
        second.con.execute("UPDATE entry_claims SET expires_at = claimed_at WHERE run_id = 'run-a'")
        assert second.claim_entries(entries[:2], "run-d", ttl_s=3600) == entries[:2]
    finally:
        first.close()
        second.close()


def test_sqlite_catalog_makes_no_claims(tmp_path, monkeypatch):
    from newsflow.models import FeedEntry
    from warehouse.store import Warehouse

    monkeypatch.delenv("NEWSFLOW_CATALOG", raising=False)
    monkeypatch.delenv("NEWSFLOW_DATA_PATH", raising=False)
    entries = [FeedEntry("k", "http://127.0.0.1/feed.xml", "http://127.0.0.1/a", None, None, None, None)]
    warehouse = Warehouse(tmp_path / "lake")
    try:
        # One writer at a time: a killed run's leftovers must never hold the next run back.
        assert warehouse.claim_entries(entries, "run-a", ttl_s=3600) == entries
        assert warehouse.claim_entries(entries, "run-b", ttl_s=3600) == entries
        assert warehouse.con.execute("SELECT count(*) FROM entry_claims").fetchone()[0] == 0
    finally:
        warehouse.close()
