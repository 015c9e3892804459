"""The `ingest` flow: one run is one pass over the feeds, through every stage into the lake.

The run itself is plain Python (`newsflow.pipeline.run_ingest`); this flow only runs its stages
as Prefect tasks and publishes the per-feed counts as an artifact."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, TypeVar, cast

from prefect import Task, flow, get_run_logger, task
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.cache_policies import NO_CACHE

from flows.task_runner import extractor_for
from newsflow.clock import utcnow
from newsflow.feedlist import FeedList, read_feed_list
from newsflow.models import FeedSource
from newsflow.pipeline import RunSummary, feed_table, run_ingest
from newsflow.run_report import TerminalProgress, build_run_report
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
    feed_list = read_feed_list(feeds_file) if feeds_file else FeedList()
    logger = get_run_logger()
    progress = _ProgressArtifact()
    result = run_ingest(
        settings,
        feed_list.sources,
        poll_all=poll_all,
        rejected=feed_list.rejected,
        stage_runner=run_as_task,
        logger=logger,
        progress=progress,
        extractor_factory=extractor_for,  # a local process pool, or Dask (flows/task_runner.py)
    )
    _publish_artifact(result.summary, result.totals, result.sources)
    try:
        report = build_run_report(
            settings.lake_dir,
            result.run_id,
            result.started_at or utcnow(),
            result.totals,
            settings.data_dir / "digest.html",
        )
    except Exception as exc:  # the data has landed; a report that cannot be built must not fail the run
        logger.warning("run report not published: %s: %s", type(exc).__name__, exc)
    else:
        create_markdown_artifact(
            key="ingest-report",
            markdown=report.markdown,
            description="New deals, sanction actions and stories of this run",
        )
        create_table_artifact(
            key="ingest-failures",
            table=report.failures or [{"stage": "", "url": "", "reason": "no failures", "next try": ""}],
            description="What failed in this run, and when it is tried again",
        )
        create_table_artifact(key="feed-health", table=report.feeds, description="Every feed's health")
    return result.totals


class _ProgressArtifact:
    """The run's progress in the UI (a progress artifact) and, on a terminal, as a bar."""

    def __init__(self) -> None:
        self.artifact_id: Any = None
        self.terminal = TerminalProgress()

    def __call__(self, done: int, total: int) -> None:
        self.terminal(done, total)
        percent = 100.0 * done / total if total else 100.0
        description = f"{done} of {total} pending entries processed"
        if self.artifact_id is None:
            self.artifact_id = create_progress_artifact(percent, key="ingest-progress", description=description)
        else:
            update_progress_artifact(self.artifact_id, percent, description=description)


def _publish_artifact(summary: RunSummary, totals: dict[str, int], sources: list[FeedSource]) -> None:
    create_table_artifact(
        key="ingest-summary",
        table=feed_table(summary, sources),
        description=(
            f"{totals['feeds_polled']} feeds polled, {totals['new_entries']} new entries, "
            f"{totals['articles_stored']} articles stored, {totals['failures']} failures"
        ),
    )
