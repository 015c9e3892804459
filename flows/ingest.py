"""The `ingest` flow: one run is one pass over the feeds, through every stage into the lake.

The run itself is plain Python (`newsflow.pipeline.run_ingest`); this flow only runs its stages
as Prefect tasks and publishes the per-feed counts as an artifact."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, TypeVar, cast

from prefect import Task, flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from newsflow.feedlist import load_feed_list
from newsflow.models import FeedSource
from newsflow.pipeline import RunSummary, feed_table, run_ingest
from newsflow.settings import Settings

T = TypeVar("T")


@cache
def _as_task(name: str, stage: Callable[..., Any]) -> Task[..., Any]:
    # Stages take live objects (the warehouse, the story index): never cache or persist results.
    return task(name=name, cache_policy=NO_CACHE)(stage)


def run_as_task(name: str, stage: Callable[..., T], /, *args: Any) -> T:
    """The Prefect stage runner: each stage call is one task run in the UI."""
    return cast(T, _as_task(name, stage)(*args))


@flow(name="ingest", log_prints=False)
def ingest(
    feeds_file: str | None = "feeds.yaml",
    data_dir: str | None = None,
    allow_private_networks: bool | None = None,
    poll_all: bool = False,
    obey_robots: bool | None = None,
) -> dict[str, int]:
    """Poll the due feeds in `feeds_file` and the imported subscriptions (every feed with
    `poll_all`), fetch new articles, and load tagged, deduplicated stories."""
    overrides: dict[str, Any] = {}
    if data_dir is not None:
        overrides["data_dir"] = Path(data_dir)
    if allow_private_networks is not None:
        overrides["allow_private_networks"] = allow_private_networks
    if obey_robots is not None:
        overrides["obey_robots"] = obey_robots
    settings = Settings(**overrides)
    sources = load_feed_list(feeds_file) if feeds_file else []
    result = run_ingest(settings, sources, poll_all=poll_all, stage_runner=run_as_task, logger=get_run_logger())
    _publish_artifact(result.summary, result.totals, result.sources)
    return result.totals


def _publish_artifact(summary: RunSummary, totals: dict[str, int], sources: list[FeedSource]) -> None:
    create_table_artifact(
        key="ingest-summary",
        table=feed_table(summary, sources),
        description=(
            f"{totals['feeds_polled']} feeds polled, {totals['new_entries']} new entries, "
            f"{totals['articles_stored']} articles stored, {totals['failures']} failures"
        ),
    )
