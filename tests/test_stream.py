"""The streamed stages: fetching runs ahead of extraction, and batches come out in order."""

from __future__ import annotations

import threading
import time
from datetime import datetime

import crashweb

from extractors.article import ArticleExtractor
from newsflow.models import Article, Failure, FeedEntry, Page
from newsflow.pipeline import BatchStream, chunks
from newsflow.settings import Settings


class TimedExtractor(ArticleExtractor):
    """The real in-process extractor, noting when each batch's extraction ran."""

    def __init__(self) -> None:
        super().__init__(1)
        self.spans: list[tuple[float, float]] = []
        self.lock = threading.Lock()

    def extract(self, pages: list[tuple[Page, datetime | None]]) -> list[Article | Failure]:
        start = time.perf_counter()
        result = super().extract(pages)
        time.sleep(0.2)  # a slower extraction, so the overlap is plain to see
        with self.lock:
            self.spans.append((start, time.perf_counter()))
        return result


def test_fetching_runs_ahead_of_extraction_and_batches_stay_in_order(httpserver):
    _, story_of = crashweb.serve(httpserver, 6)
    entries = [FeedEntry(f"k{i}", "feed", url, None, None, None, None) for i, url in enumerate(story_of)]
    settings = Settings(allow_private_networks=True, per_host_delay=0, obey_robots=False)
    fetch_starts: list[float] = []
    stream = BatchStream(settings, None, TimedExtractor(), depth=3)
    original_fetch = stream._fetch

    def timed_fetch(batch: list[FeedEntry]) -> tuple[list[Page | Failure], float]:
        fetch_starts.append(time.perf_counter())
        return original_fetch(batch)

    stream._fetch = timed_fetch  # type: ignore[method-assign]
    batches = list(chunks(entries, 3))
    out = list(stream.run(iter(batches)))

    assert [b.entries for b in out] == batches
    assert all(isinstance(a, Article) for b in out for a in b.extracted)
    assert [a.url for b in out for a in b.extracted] == [e.url for e in entries]
    first_extract_end = min(end for _, end in stream.extractor.spans)  # type: ignore[attr-defined]
    # Batch 2 (and 3) was being fetched before batch 1's extraction finished.
    assert fetch_starts[1] < first_extract_end and fetch_starts[2] < first_extract_end
