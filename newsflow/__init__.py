"""newsflow: news ingestion for analysts who track arms deals and sanctions.

`newsflow.connect()` opens the warehouse read-only with the public views (articles, stories,
article_tags, entities, feeds, failures); it works while an ingest run is writing."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

__all__ = ["connect"]


def connect(data_dir: str | Path | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only DuckDB connection to the warehouse in `data_dir` (default: NEWSFLOW_DATA_DIR or ./data)."""
    from newsflow.settings import Settings
    from warehouse import lake

    settings = Settings(data_dir=Path(data_dir)) if data_dir is not None else Settings()
    return lake.connect(settings.lake_dir, read_only=True)
