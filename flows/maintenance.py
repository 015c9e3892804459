"""The daily `maintenance` flow: keep the lake small and fast.

Each ingest batch writes small Parquet files and every feed poll rewrites feed state, so the
lake gathers many files and old snapshots. This compacts them, expires snapshots past the
retention window, and removes files that no snapshot (or a killed writer) left behind."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from newsflow.settings import Settings
from warehouse import lake


@flow(name="maintenance")
def maintenance(data_dir: str | None = None, keep_days: int = 7) -> dict:
    settings = Settings(**({"data_dir": Path(data_dir)} if data_dir else {}))
    data_path = settings.lake_dir / "data"

    def parquet_files() -> int:
        return sum(1 for _ in data_path.rglob("*.parquet")) if data_path.exists() else 0

    before = parquet_files()
    con = lake.connect(settings.lake_dir)
    try:
        lake.initialise(con)
        for step in (
            # Small commits are inlined in the catalog; move them out to Parquet first.
            f"CALL ducklake_flush_inlined_data('{lake.CATALOG_NAME}')",
            f"CALL ducklake_merge_adjacent_files('{lake.CATALOG_NAME}')",
            f"CALL ducklake_rewrite_data_files('{lake.CATALOG_NAME}')",
            f"CALL ducklake_expire_snapshots('{lake.CATALOG_NAME}', older_than => now() - INTERVAL {int(keep_days)} DAY)",
            f"CALL ducklake_cleanup_old_files('{lake.CATALOG_NAME}', cleanup_all => true)",
            f"CALL ducklake_delete_orphaned_files('{lake.CATALOG_NAME}', cleanup_all => true)",
        ):
            lake.run_with_retry(con, step)
        snapshots = con.execute(f"SELECT count(*) FROM ducklake_snapshots('{lake.CATALOG_NAME}')").fetchone()[0]
    finally:
        con.close()
    result = {"parquet_files_before": before, "parquet_files_after": parquet_files(), "snapshots_kept": snapshots}
    get_run_logger().info("maintenance: %s", result)
    create_table_artifact(key="maintenance-summary", table=[result], description="Lake compaction and cleanup")
    return result
