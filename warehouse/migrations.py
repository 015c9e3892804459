"""Schema versions: which shape of the warehouse a lake has, and the steps that bring an older
lake forward.

Two kinds of change, kept apart on purpose:
- additive changes (a new table, a new column) go in schema.sql as `CREATE TABLE IF NOT EXISTS` /
  `ALTER TABLE … ADD COLUMN IF NOT EXISTS`; they run on every open and need no migration;
- a change that must run exactly once, or that every later reader relies on (a backfill, a
  rewritten column, a renamed table), is a numbered `Migration` below. Each runs in its own
  transaction together with the row that records it, so a run killed mid-migration redoes it.

`schema_versions` holds one row per applied migration; a lake's version is the highest one. A
lake written before versioning has no such table: it is version 0 and gets the baseline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    sql: str = ""  # statements separated by ';', run after schema.sql and before views.sql


class SchemaTooNewError(Exception):
    pass


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "baseline: the tables of schema.sql and the contract views of views.sql"),
)
SCHEMA_VERSION = MIGRATIONS[-1].version

VERSION_TABLE_SQL = """CREATE TABLE IF NOT EXISTS schema_versions (
    version INTEGER, description VARCHAR, applied_at TIMESTAMP)"""


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The lake's schema version: 0 for a lake written before versions were recorded."""
    try:
        row = con.execute("SELECT max(version) FROM schema_versions").fetchone()
        value = row[0] if row else None
    except duckdb.CatalogException:
        return 0
    return int(value or 0)


def check_not_newer(found: int, known: int = SCHEMA_VERSION) -> None:
    if found > known:
        raise SchemaTooNewError(
            f"this warehouse has schema version {found}, newer than this newsflow knows ({known}); "
            f"upgrade newsflow before writing to it (reading with `newsflow sql` still works)"
        )


def pending(found: int, migrations: tuple[Migration, ...] = MIGRATIONS) -> list[Migration]:
    return [m for m in sorted(migrations, key=lambda m: m.version) if m.version > found]


def apply(con: duckdb.DuckDBPyConnection, migration: Migration) -> None:
    """Run one migration and record it, in one transaction; a no-op if another writer got there first."""
    con.execute("BEGIN TRANSACTION")
    try:
        if schema_version(con) < migration.version:
            for statement in (s.strip() for s in migration.sql.split(";")):
                if statement:
                    con.execute(statement)
            con.execute(
                "INSERT INTO schema_versions VALUES (?, ?, ?)",
                [migration.version, migration.description, datetime.now(UTC).replace(tzinfo=None)],
            )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
