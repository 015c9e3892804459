"""Open the DuckLake warehouse: a SQLite catalog plus local Parquet files under the data dir.

DuckLake lets the scheduled writer and any number of read-only analysts work at once, which a
plain DuckDB file does not (one process holds its lock). Extensions load from the pinned
`duckdb-extension-*` wheels, so nothing is downloaded at run time."""

from __future__ import annotations

import importlib
import time
from pathlib import Path

import duckdb

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
    options = [f"DATA_PATH '{(lake_dir / 'data').as_posix()}/'", "META_BUSY_TIMEOUT 10000"]
    if read_only:
        options.append("READ_ONLY")
    else:
        lake_dir.mkdir(parents=True, exist_ok=True)
        options.append("META_JOURNAL_MODE 'WAL'")
    con.execute(f"ATTACH 'ducklake:sqlite:{catalog_path(lake_dir).as_posix()}' AS {CATALOG_NAME} "
                f"({', '.join(options)})")
    con.execute(f"USE {CATALOG_NAME}")
    return con


def initialise(con: duckdb.DuckDBPyConnection) -> None:
    """Create the base tables and (re)create the contract views. Safe to run every time."""
    from extractors.attribution import source_name_rows

    for name in ("schema.sql", "views.sql"):
        # The agency spellings (extractors/data/wire_agencies.yaml) become a view of literals.
        run_with_retry(con, (_SQL_DIR / name).read_text().replace("{{source_names}}", source_name_rows()))


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
