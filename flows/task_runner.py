"""Where the CPU-bound extraction runs, chosen by configuration (NEWSFLOW_TASK_RUNNER).

`process` (the default) is the local process pool in extractors/article.py. `dask` sends each
batch's pages, in one chunk per worker, to prefect-dask's DaskTaskRunner: on the cluster at
NEWSFLOW_DASK_ADDRESS, or on a local `distributed.LocalCluster` started for the run. Both have
the same shape, a context manager whose `extract(pages)` keeps the pages' order, so the flow
does not care which it has."""

from __future__ import annotations

import contextvars
import warnings
from datetime import datetime
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.context import TaskRunContext

from extractors.article import ArticleExtractor, extract_article
from newsflow.models import Article, Failure, Page
from newsflow.settings import Settings


@task(name="extract-pages", cache_policy=NO_CACHE)
def extract_pages(pages: list[tuple[Page, datetime | None]]) -> list[Article | Failure]:
    return [extract_article(page, published) for page, published in pages]


class DaskExtractor:
    """Extraction on Dask: one Prefect task per chunk, so a batch costs a few task runs, not one
    per page (a task run costs about as much as extracting a page)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._runner: Any = None  # an entered DaskTaskRunner

    def _make_runner(self) -> Any:
        from prefect_dask.task_runners import DaskTaskRunner

        if self.settings.dask_address:
            return DaskTaskRunner(address=self.settings.dask_address)
        # A local cluster listens on loopback only, with no dashboard.
        return DaskTaskRunner(
            cluster_kwargs={
                "n_workers": self.settings.dask_workers,
                "threads_per_worker": 1,
                "processes": self.settings.dask_processes,
                "host": "127.0.0.1",
                "dashboard_address": None,
            }
        )

    def __enter__(self) -> DaskExtractor:
        self._runner = self._make_runner().__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._runner is not None:
            self._runner.__exit__(*exc)
            self._runner = None

    @property
    def workers(self) -> int:
        info: dict[str, Any] = self._runner.client.scheduler_info(n_workers=-1) if self._runner is not None else {}
        return max(1, sum(int(w.get("nthreads", 1)) for w in info.get("workers", {}).values()))

    def extract(self, pages: list[tuple[Page, datetime | None]]) -> list[Article | Failure]:
        if not pages:
            return []
        size = max(1, -(-len(pages) // self.workers))

        def submit_all() -> list[Any]:
            # Submitted outside the calling task's run context: prefect-dask ships that context to
            # the workers, and the batch task's parameters (an open warehouse) cannot be pickled.
            TaskRunContext.__var__.set(None)  # type: ignore[arg-type]
            with warnings.catch_warnings():
                # The pages' HTML must reach the workers; Dask's advice to load data there instead
                # does not apply to bytes the flow just fetched.
                warnings.filterwarnings("ignore", message="Sending large graph", category=UserWarning)
                return [
                    self._runner.submit(extract_pages, {"pages": pages[i : i + size]})
                    for i in range(0, len(pages), size)
                ]

        futures = contextvars.copy_context().run(submit_all)
        results: list[Article | Failure] = []
        for future in futures:
            results.extend(future.result())
        return results


def extractor_for(settings: Settings) -> ArticleExtractor | DaskExtractor:
    """The extractor NEWSFLOW_TASK_RUNNER asks for; enter it with `with`."""
    if settings.task_runner == "dask":
        return DaskExtractor(settings)
    return ArticleExtractor(settings.extract_workers)
