"""Compaction and clean-up of the lake: the SQL behind the daily `maintenance` flow."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from warehouse import lake


@dataclass(frozen=True)
class MaintenanceResult:
    parquet_files_before: int
    parquet_files_after: int
    snapshots_kept: int


def _parquet_files(data_path: Path) -> int:
    return sum(1 for _ in data_path.rglob("*.parquet")) if data_path.exists() else 0


def compact(lake_dir: Path, keep_days: int = 7) -> MaintenanceResult:
    """Flush inlined rows to Parquet, merge and rewrite small files, expire snapshots older than
    `keep_days`, and delete files no snapshot (or a killed writer) still refers to."""
    data_path = lake_dir / "data"
    before = _parquet_files(data_path)
    catalog = lake.CATALOG_NAME
    con = lake.connect(lake_dir)
    try:
        lake.initialise(con)
        for step in (
            # Small commits are inlined in the catalog; move them out to Parquet first.
            f"CALL ducklake_flush_inlined_data('{catalog}')",
            f"CALL ducklake_merge_adjacent_files('{catalog}')",
            f"CALL ducklake_rewrite_data_files('{catalog}')",
            f"CALL ducklake_expire_snapshots('{catalog}', older_than => now() - INTERVAL {int(keep_days)} DAY)",
            f"CALL ducklake_cleanup_old_files('{catalog}', cleanup_all => true)",
            f"CALL ducklake_delete_orphaned_files('{catalog}', cleanup_all => true)",
        ):
            lake.run_with_retry(con, step)
        row = con.execute(f"SELECT count(*) FROM ducklake_snapshots('{catalog}')").fetchone()
        snapshots = int(row[0]) if row else 0
    finally:
        con.close()
    return MaintenanceResult(
        parquet_files_before=before, parquet_files_after=_parquet_files(data_path), snapshots_kept=snapshots
    )
