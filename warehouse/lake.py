"""Open the DuckLake warehouse: a SQLite catalog plus local Parquet files under the data dir.

DuckLake lets the scheduled writer and any number of read-only analysts work at once, which a
plain DuckDB file does not (one process holds its lock). Extensions load from the pinned
`duckdb-extension-*` wheels, so nothing is downloaded at run time."""

from __future__ import annotations

import importlib
import time
from pathlib import Path

import duckdb

from warehouse.migrations import (MIGRATIONS, VERSION_TABLE_SQL, Migration, apply, check_not_newer, pending,
                                  schema_version)

CATALOG_NAME = "lake"
_EXTENSIONS = {"ducklake": "duckdb_extension_ducklake", "sqlite_scanner": "duckdb_extension_sqlite_scanner"}
_SQL_DIR = Path(__file__).parent


class WarehouseMissingError(Exception):
    pass


def extension_path(name: str) -> Path:
    module = importlib.import_module(_EXTENSIONS[name])
    matches = sorted(Path(module.__file__).parent.glob(f"extensions/v{duckdb.__version__}/{name}.duckdb_extension"))
    if not matches:
        raise RuntimeError(f"the {name} extension for DuckDB {duckdb.__version__} is not installed; "
                           f"run `pip install {_EXTENSIONS[name].replace('_', '-')}=={duckdb.__version__}`")
    return matches[0]


def catalog_path(lake_dir: Path) -> Path:
    return lake_dir / "catalog.sqlite"


def connect(lake_dir: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the lake attached as the default catalog."""
    lake_dir = Path(lake_dir)
    if read_only and not catalog_path(lake_dir).exists():
        raise WarehouseMissingError(f"no warehouse at {lake_dir}: run `newsflow ingest` first")
    con = duckdb.connect(config={"autoinstall_known_extensions": False,
                                 "autoload_known_extensions": False})
    for name in _EXTENSIONS:
        con.execute(f"LOAD '{extension_path(name)}'")
    # The Parquet files always sit in <lake>/data and the catalog stores their paths relative to
    # it, so a lake copied, moved or restored elsewhere is opened where it is now: the data path
    # recorded at creation is overridden, not trusted.
    options = [f"DATA_PATH '{(lake_dir / 'data').as_posix()}/'", "OVERRIDE_DATA_PATH true", "META_BUSY_TIMEOUT 10000"]
    if read_only:
        options.append("READ_ONLY")
    else:
        lake_dir.mkdir(parents=True, exist_ok=True)
        options.append("META_JOURNAL_MODE 'WAL'")
    con.execute(f"ATTACH 'ducklake:sqlite:{catalog_path(lake_dir).as_posix()}' AS {CATALOG_NAME} "
                f"({', '.join(options)})")
    con.execute(f"USE {CATALOG_NAME}")
    return con


def initialise(con: duckdb.DuckDBPyConnection, migrations: tuple[Migration, ...] = MIGRATIONS) -> int:
    """Create the base tables, bring an older lake forward through the numbered migrations, and
    (re)create the contract views. Safe to run every time; returns the lake's schema version."""
    found = schema_version(con)
    check_not_newer(found, max(m.version for m in migrations))
    run_with_retry(con, (_SQL_DIR / "schema.sql").read_text())
    run_with_retry(con, VERSION_TABLE_SQL)
    for migration in pending(found, migrations):
        apply(con, migration)
    run_with_retry(con, (_SQL_DIR / "views.sql").read_text())
    return schema_version(con)


def is_transient(exc: Exception) -> bool:
    text = str(exc).lower()
    return "database is locked" in text or "conflict" in text or "busy" in text


def run_with_retry(con: duckdb.DuckDBPyConnection, sql: str, attempts: int = 8) -> None:
    for attempt in range(attempts):
        try:
            con.execute(sql)
            return
        except duckdb.Error as exc:
            if attempt == attempts - 1 or not is_transient(exc):
                raise
            time.sleep(min(2.0, 0.05 * 2 ** attempt))
