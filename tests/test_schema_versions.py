"""Schema versions: a warehouse written by an earlier release (kept as a fixture) opens, ingests,
and migrates forward to a later schema; newsflow says which version a warehouse has."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from warehouse import lake
from warehouse.migrations import MIGRATIONS, SCHEMA_VERSION, Migration, SchemaTooNewError, schema_version
from warehouse.store import Warehouse

from conftest import newsflow_bin, query

FIXTURE = Path(__file__).parent / "fixtures" / "warehouse-v1"
FIXTURE_ARTICLES = 5

# A later release's schema: an added column and a new view, as the next real migration would be.
LATER = MIGRATIONS + (
    Migration(
        SCHEMA_VERSION + 1,
        "reviewer column and a reviewed_articles view",
        "ALTER TABLE article_rows ADD COLUMN IF NOT EXISTS reviewed_by VARCHAR; "
        "CREATE OR REPLACE VIEW reviewed_articles AS SELECT article_id, title, reviewed_by FROM latest_articles "
        "WHERE reviewed_by IS NOT NULL",
    ),
)


@pytest.fixture
def old_warehouse(tmp_path) -> Path:
    """A copy of the fixture, at a path it was not written at."""
    data_dir = tmp_path / "restored-data"
    shutil.copytree(FIXTURE, data_dir)
    return data_dir


def test_the_fixture_is_a_version_1_warehouse_readable_as_it_is(old_warehouse):
    con = lake.connect(old_warehouse / "lake", read_only=True)
    try:
        assert schema_version(con) == 1
        assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == FIXTURE_ARTICLES
    finally:
        con.close()


def test_a_later_schema_migrates_the_old_warehouse_forward_once(old_warehouse):
    con = lake.connect(old_warehouse / "lake")
    try:
        assert lake.initialise(con, LATER) == SCHEMA_VERSION + 1
        con.execute(
            "UPDATE article_rows SET reviewed_by = 'desk' WHERE article_id = (SELECT min(article_id) FROM article_rows)"
        )
        assert con.execute("SELECT count(*) FROM reviewed_articles").fetchone()[0] == 1
        assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == FIXTURE_ARTICLES
        assert lake.initialise(con, LATER) == SCHEMA_VERSION + 1  # opening again applies nothing twice
        assert con.execute("SELECT version FROM schema_versions ORDER BY version").fetchall() == [(1,), (2,)]
    finally:
        con.close()
    assert query(old_warehouse, "SELECT count(*) FROM reviewed_articles") == [(1,)]

    # This release must not write to a warehouse a later one has migrated; reading still works.
    with pytest.raises(SchemaTooNewError, match="schema version 2, newer than this newsflow knows"):
        Warehouse(old_warehouse / "lake")
    assert query(old_warehouse, "SELECT count(*) FROM articles") == [(FIXTURE_ARTICLES,)]


def test_a_failed_migration_leaves_the_old_version_and_its_data(old_warehouse):
    broken = MIGRATIONS + (
        Migration(
            SCHEMA_VERSION + 1,
            "refers to a missing table",
            "ALTER TABLE article_rows ADD COLUMN IF NOT EXISTS x INTEGER; INSERT INTO no_such_table VALUES (1)",
        ),
    )
    con = lake.connect(old_warehouse / "lake")
    try:
        with pytest.raises(Exception, match="no_such_table"):
            lake.initialise(con, broken)
        assert schema_version(con) == SCHEMA_VERSION
        assert "x" not in [c[0] for c in con.execute("DESCRIBE article_rows").fetchall()]
    finally:
        con.close()


def test_a_warehouse_from_before_versions_gets_the_baseline_and_tables_added_later(old_warehouse):
    con = lake.connect(old_warehouse / "lake")
    try:
        con.execute("DROP TABLE schema_versions")
        con.execute("DROP TABLE entry_updates")  # as if the release that wrote it predates this table
        assert schema_version(con) == 0
        assert lake.initialise(con) == SCHEMA_VERSION
        assert con.execute("SELECT count(*) FROM entry_updates").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM articles").fetchone()[0] == FIXTURE_ARTICLES
    finally:
        con.close()


def test_newsflow_info_names_the_schema_version(old_warehouse, tmp_path):
    result = subprocess.run(
        [newsflow_bin(), "info", "--data-dir", str(old_warehouse)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert f"schema version   1 (current; this newsflow writes version {SCHEMA_VERSION})" in result.stdout
    assert f"articles         {FIXTURE_ARTICLES} in " in result.stdout
    missing = subprocess.run(
        [newsflow_bin(), "info", "--data-dir", str(tmp_path / "none")], capture_output=True, text=True, timeout=120
    )
    assert missing.returncode == 2 and "run `newsflow ingest` first" in missing.stderr


@pytest.mark.prefect
def test_the_old_warehouse_ingests_with_this_release(httpserver, prefect_api_url, old_warehouse, write_feeds):
    from flows.ingest import ingest

    from newsweb import serve_site

    feeds = write_feeds(serve_site(httpserver, ["s400", "howitzers", "patriots", "club_sanction", "s400_copy"]))
    totals = ingest(feeds_file=str(feeds), data_dir=str(old_warehouse), allow_private_networks=True)
    assert totals["articles_total"] >= FIXTURE_ARTICLES
    assert query(old_warehouse, "SELECT count(*) - count(DISTINCT (article_id, version)) FROM article_rows") == [(0,)]
