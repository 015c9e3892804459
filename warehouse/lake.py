"""Open the DuckLake warehouse: by default a SQLite catalog plus local Parquet files under the data
dir; with `NEWSFLOW_CATALOG=postgres:...` a PostgreSQL catalog that many writers share.

DuckLake lets the scheduled writer and any number of read-only analysts work at once, which a
plain DuckDB file does not (one process holds its lock). A SQLite catalog takes one writer at a
time; a Postgres catalog takes many, and `WriterLock` serialises the few steps that must be
ordered across them. Extensions load from the pinned `duckdb-extension-*` wheels, so nothing is
downloaded at run time."""

from __future__ import annotations

import contextlib
import importlib
import os
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import duckdb

from newsflow.retry import with_retry
from warehouse.migrations import (
    MIGRATIONS,
    VERSION_TABLE_SQL,
    Migration,
    apply,
    check_not_newer,
    pending,
    schema_version,
)

CATALOG_NAME = "lake"
# Views in views.sql that other views are built on; every other view is public, in the README.
INTERNAL_VIEWS = frozenset({"latest_articles", "story_originals", "source_names", "named_articles"})
_EXTENSIONS = {
    "ducklake": "duckdb_extension_ducklake",
    "sqlite_scanner": "duckdb_extension_sqlite_scanner",
    "postgres_scanner": "duckdb_extension_postgres",
    "httpfs": "duckdb_extension_httpfs",
}
_ALWAYS = ("ducklake", "sqlite_scanner")
# The postgres wheel names its file `postgres.duckdb_extension`, but DuckDB derives the entry point
# from the file name and wants `postgres_scanner`.
_EXTENSION_FILES = {"postgres_scanner": "postgres"}
_NO_AUTOLOAD: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}
_SQL_DIR = Path(__file__).parent


class WarehouseMissingError(Exception):
    pass


def extension_path(name: str) -> Path:
    wheel = f"{_EXTENSIONS[name].replace('_', '-')}=={duckdb.__version__}"
    try:
        module = importlib.import_module(_EXTENSIONS[name])
    except ImportError:
        raise RuntimeError(f"the {name} extension is not installed; run `pip install {wheel}`") from None
    file_name = _EXTENSION_FILES.get(name, name)
    matches = sorted(
        Path(module.__file__ or "").parent.glob(f"extensions/v{duckdb.__version__}/{file_name}.duckdb_extension")
    )
    if not matches:
        raise RuntimeError(
            f"the {name} extension for DuckDB {duckdb.__version__} is not installed; "
            f"run `pip install {_EXTENSIONS[name].replace('_', '-')}=={duckdb.__version__}`"
        )
    if file_name == name:
        return matches[0]
    # A link under the expected name, in a per-user temp dir (site-packages may be read-only).
    link_dir = Path(tempfile.gettempdir()) / f"newsflow-duckdb-{duckdb.__version__}-{os.getuid()}"
    link = link_dir / f"{name}.duckdb_extension"
    if not link.exists() or link.resolve() != matches[0].resolve():
        link_dir.mkdir(parents=True, exist_ok=True)
        scratch = link_dir / f".{name}.{os.getpid()}"
        scratch.unlink(missing_ok=True)
        scratch.symlink_to(matches[0].resolve())
        os.replace(scratch, link)  # atomic: concurrent writers never see a half-made link
    return link


def load_extension(con: duckdb.DuckDBPyConnection, name: str) -> None:
    con.execute(f"LOAD '{extension_path(name)}'")


def catalog_path(lake_dir: Path) -> Path:
    return lake_dir / "catalog.sqlite"


def is_postgres(catalog: str) -> bool:
    return catalog.startswith("postgres:")


def _configured(catalog: str | None, data_path: str | None) -> tuple[str, str]:
    if catalog is None or data_path is None:
        from newsflow.settings import Settings

        settings = Settings()
        catalog = settings.catalog if catalog is None else catalog
        data_path = settings.data_path if data_path is None else data_path
    return catalog, data_path


def connect(
    lake_dir: Path, *, read_only: bool = False, catalog: str | None = None, data_path: str | None = None
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the lake attached as the default catalog.

    `catalog` is a DuckLake catalog string such as `postgres:dbname=news host=db user=newsflow`
    (default: NEWSFLOW_CATALOG, else the SQLite file `lake_dir/catalog.sqlite`); `data_path` is
    where Parquet files go, a directory or an `s3://bucket/prefix/` URL (default:
    NEWSFLOW_DATA_PATH, else `lake_dir/data/`)."""
    lake_dir = Path(lake_dir)
    catalog, data_path = _configured(catalog, data_path)
    postgres = is_postgres(catalog)
    if read_only and not postgres and not catalog_path(lake_dir).exists():
        raise WarehouseMissingError(f"no warehouse at {lake_dir}: run `newsflow ingest` first")
    con = duckdb.connect(config=_NO_AUTOLOAD)
    data_path = data_path or f"{(lake_dir / 'data').as_posix()}/"
    for name in (*_ALWAYS, *(["postgres_scanner"] if postgres else []), *(["httpfs"] if "://" in data_path else [])):
        load_extension(con, name)  # httpfs (object storage) is not a dependency: its error says what to install
    if not data_path.endswith("/"):
        data_path += "/"
    options = [f"DATA_PATH '{data_path}'"]
    if not postgres:
        # The Parquet files sit in <lake>/data and the catalog stores their paths relative to it,
        # so a lake copied, moved or restored elsewhere opens where it is now: the data path
        # recorded at creation is overridden, not trusted. (A shared Postgres catalog keeps the
        # one path every writer agreed on.)
        options += ["OVERRIDE_DATA_PATH true", "META_BUSY_TIMEOUT 10000"]
    if read_only:
        options.append("READ_ONLY")
    else:
        if not postgres:
            lake_dir.mkdir(parents=True, exist_ok=True)
            options.append("META_JOURNAL_MODE 'WAL'")
        if "://" not in data_path:
            Path(data_path).mkdir(parents=True, exist_ok=True)
    target = catalog if postgres else f"sqlite:{catalog_path(lake_dir).as_posix()}"
    try:
        # The first writer to attach an empty Postgres catalog creates DuckLake's tables; two at
        # once would both try ("relation ... already exists"), so writers attach one at a time.
        first_attach = WriterLock(catalog if postgres and not read_only else "")
        try:
            with first_attach.held():
                con.execute(f"ATTACH 'ducklake:{target}' AS {CATALOG_NAME} ({', '.join(options)})")
        finally:
            first_attach.close()
    except duckdb.Error as exc:
        con.close()
        if read_only and postgres and "does not exist" in str(exc):
            raise WarehouseMissingError(
                f"no warehouse in the catalog {_redacted(catalog)}: run `newsflow ingest` first"
            ) from None
        if read_only and postgres:
            raise WarehouseMissingError(
                f"cannot open the warehouse catalog {_redacted(catalog)} "
                f"(is NEWSFLOW_CATALOG right, and the server up?): {exc}"
            ) from None
        raise
    if (
        read_only
        and postgres
        and not (
            con.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE database_name = ? AND table_name = 'article_rows'",
                [CATALOG_NAME],
            ).fetchone()
            or (0,)
        )[0]
    ):
        con.close()
        raise WarehouseMissingError(f"no warehouse in the catalog {_redacted(catalog)}: run `newsflow ingest` first")
    con.execute(f"USE {CATALOG_NAME}")
    return con


def _redacted(catalog: str) -> str:
    return " ".join(part for part in catalog.split() if not part.startswith("password="))


class WriterLock:
    """Serialises a step across every writer of one Postgres catalog: a transaction-scoped
    advisory lock held on a connection of its own, released at commit, or by Postgres when the
    process dies. On a SQLite catalog, which takes one writer at a time anyway, it does nothing."""

    def __init__(self, catalog: str, name: str = "newsflow-writer"):
        self.key = zlib.crc32(name.encode())  # a fixed 32-bit key, the same in every process
        self._con: duckdb.DuckDBPyConnection | None = None
        self._held = False
        if is_postgres(catalog):
            self._con = duckdb.connect(config=_NO_AUTOLOAD)
            load_extension(self._con, "postgres_scanner")
            dsn = catalog.removeprefix("postgres:").replace("'", "''")
            self._con.execute(f"ATTACH '{dsn}' AS writer_lock (TYPE postgres)")

    @classmethod
    def configured(cls, catalog: str | None = None) -> WriterLock:
        return cls(_configured(catalog, "")[0])

    def acquire(self) -> None:
        if self._con is None or self._held:
            return
        self._con.execute("BEGIN TRANSACTION")
        self._con.execute(f"SELECT * FROM postgres_query('writer_lock', 'SELECT pg_advisory_xact_lock({self.key})')")
        self._held = True

    def release(self) -> None:
        if self._con is not None and self._held:
            self._held = False
            self._con.execute("COMMIT")

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        if self._held:  # re-entrant: an inner step runs inside an outer one's lock
            yield
            return
        self.acquire()
        try:
            yield
        finally:
            self.release()

    def close(self) -> None:
        if self._con is not None:
            self._held = False
            self._con.close()
            self._con = None


def initialise(con: duckdb.DuckDBPyConnection, migrations: tuple[Migration, ...] = MIGRATIONS) -> int:
    """Create the base tables, bring an older lake forward through the numbered migrations, and
    (re)create the contract views. Safe to run every time; returns the lake's schema version."""
    from newsflow.agencies import source_name_rows

    found = schema_version(con)
    check_not_newer(found, max(m.version for m in migrations))
    run_with_retry(con, (_SQL_DIR / "schema.sql").read_text())
    run_with_retry(con, VERSION_TABLE_SQL)
    for migration in pending(found, migrations):
        apply(con, migration)
    # The agency spellings (extractors/data/wire_agencies.yaml) become a view of literals.
    run_with_retry(con, (_SQL_DIR / "views.sql").read_text().replace("{{source_names}}", source_name_rows()))
    return schema_version(con)


def is_transient(exc: Exception) -> bool:
    """A catalog lock or write conflict, which clears when the other writer finishes."""
    if not isinstance(exc, duckdb.Error):
        return False
    text = str(exc).lower()
    # "conflict" covers DuckLake's commit conflicts on either catalog; "could not serialize" is
    # Postgres refusing one of two concurrent catalog transactions.
    return (
        "database is locked" in text
        or "conflict" in text
        or "busy" in text
        or "could not serialize" in text
        or "deadlock detected" in text
    )


def run_with_retry(con: duckdb.DuckDBPyConnection, sql: str, attempts: int = 8) -> None:
    with_retry(lambda: con.execute(sql), transient=is_transient, attempts=attempts)
