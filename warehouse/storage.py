"""The disk under the warehouse: refuse to start on a read-only or nearly full data directory,
turn a write that hits a full disk into a message that says what to do, and remove the Parquet
files a failed write left half-written (the catalog never references them, so readers never see
them, but they would waste the space that ran out)."""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

import duckdb

MB = 1024 * 1024


class StorageError(Exception):
    pass


def _existing(path: Path) -> Path:
    path = Path(path).absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def free_mb(path: Path) -> float:
    stats = os.statvfs(_existing(path))
    return stats.f_bavail * stats.f_frsize / MB


def read_only_message(path: Path) -> str:
    return f"data directory {Path(path).absolute()} is read-only; make it writable (or pass another --data-dir) and run again"


def full_message(path: Path) -> str:
    return (
        f"no space left on the device holding {Path(path).absolute()}: {free_mb(path):.0f} MB free; "
        f"free space and run again (what earlier runs and batches committed is kept)"
    )


def check_writable(data_dir: Path, min_free_mb: float) -> None:
    """Fail before the first write if `data_dir` cannot be written or has less than `min_free_mb` free."""
    data_dir = Path(data_dir)
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        probe = data_dir / f".write-probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise _from_os_error(exc, data_dir) from None
    available = free_mb(data_dir)
    if available < min_free_mb:
        raise StorageError(
            f"no space left on the device holding {data_dir.absolute()}: {available:.0f} MB free, "
            f"newsflow needs at least {min_free_mb:g} MB (NEWSFLOW_MIN_FREE_DISK_MB); free space and "
            f"run again"
        )


def _from_os_error(exc: OSError, path: Path) -> StorageError:
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return StorageError(read_only_message(path))
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StorageError(full_message(path))
    return StorageError(f"cannot write to data directory {Path(path).absolute()}: {exc.strerror or exc}")


def explain(exc: BaseException, path: Path) -> StorageError | None:
    """A StorageError saying what happened, if `exc` is the disk refusing a write; else None."""
    if isinstance(exc, StorageError):
        return exc
    if isinstance(exc, OSError) and exc.errno in (errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EACCES):
        return _from_os_error(exc, path)
    text = str(exc).lower()
    if "no space left on device" in text or "disk is full" in text or "database or disk is full" in text:
        return StorageError(full_message(path))
    if "read-only file system" in text or "attempt to write a readonly database" in text:
        return StorageError(read_only_message(path))
    return None


def remove_unreferenced_files(
    con: duckdb.DuckDBPyConnection, lake_dir: Path, since: float, catalog: str = "lake"
) -> list[Path]:
    """Delete the Parquet files written since `since` (a time.time()) that the catalog does not
    reference: what a failed transaction left half-written. Older unreferenced files are left to
    DuckLake's own cleanup, so nothing another writer is committing right now is touched."""
    try:
        known = {
            Path(p).name
            for (p,) in con.execute(
                f"SELECT path FROM __ducklake_metadata_{catalog}.ducklake_data_file "
                f"UNION ALL SELECT path FROM __ducklake_metadata_{catalog}.ducklake_delete_file"
            ).fetchall()
        }
    except duckdb.Error:
        return []  # cannot tell which files are live: leave them all
    removed = []
    for path in (Path(lake_dir) / "data").rglob("*.parquet"):
        try:
            if path.name not in known and path.stat().st_mtime >= since - 1:
                path.unlink()
                removed.append(path)
        except OSError:
            continue
    return removed


def now() -> float:
    return time.time()
