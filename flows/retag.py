"""The `retag` flow: re-run the tagger over stored text (newsflow/retagging.py does the work)."""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from newsflow.retagging import retag_articles
from newsflow.settings import Settings

__all__ = ["retag", "retag_articles"]


@flow(name="retag")
def retag(data_dir: str | None = None, everything: bool = False) -> dict[str, int]:
    settings = Settings(data_dir=Path(data_dir)) if data_dir else Settings()
    return retag_articles(settings.lake_dir, everything)
