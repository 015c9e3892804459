"""The daily `maintenance` flow: keep the lake small and fast.

Each ingest batch writes small Parquet files and every feed poll rewrites feed state, so the
lake gathers many files and old snapshots. This compacts them, expires snapshots past the
retention window, and removes files that no snapshot (or a killed writer) left behind
(warehouse/maintenance.py holds the SQL)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from newsflow.settings import Settings
from warehouse.maintenance import compact


@flow(name="maintenance")
def maintenance(data_dir: str | None = None, keep_days: int = 7) -> dict[str, int]:
    settings = Settings(data_dir=Path(data_dir)) if data_dir else Settings()
    result = asdict(compact(settings.lake_dir, keep_days))
    get_run_logger().info("maintenance: %s", result)
    create_table_artifact(key="maintenance-summary", table=[result], description="Lake compaction and cleanup")
    return result
