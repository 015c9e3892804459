"""NEWSFLOW_TASK_RUNNER=dask: extraction batches run on a real `distributed.LocalCluster` through
prefect-dask's DaskTaskRunner, with the same results as the default local process pool."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from extractors.article import ArticleExtractor, extract_article
from flows.task_runner import DaskExtractor, extractor_for
from newsflow.models import Page
from newsflow.settings import Settings

WEB = Path(__file__).resolve().parents[1] / "demo" / "web"


@pytest.fixture(scope="module")
def cluster():
    """Two single-threaded workers in threads of this process: worker processes would each import
    Prefect and trafilatura, which on this 2-core machine costs more than the test itself."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        yield cluster


def _pages() -> list[tuple[Page, datetime | None]]:
    now = datetime(2026, 1, 5, 12, 0)
    return [
        (
            Page(
                f"k{i}",
                f"http://127.0.0.1/{p.name}",
                f"http://127.0.0.1/{p.name}",
                (),
                200,
                "text/html",
                p.read_text(encoding="utf-8"),
                now,
            ),
            None,
        )
        for i, p in enumerate(sorted(p for p in WEB.rglob("*.html") if p.name != "index.html")[:12])
    ]


def test_default_runner_is_the_local_process_pool():
    assert isinstance(extractor_for(Settings()), ArticleExtractor)
    assert isinstance(extractor_for(Settings(task_runner="dask")), DaskExtractor)


def test_dask_extraction_matches_local_extraction_in_order(prefect_api_url, cluster):
    from distributed import Client, get_task_stream

    pages = _pages()
    assert len(pages) == 12
    expected = [extract_article(page, published) for page, published in pages]
    with Client(cluster) as client, get_task_stream(client) as stream:
        with extractor_for(Settings(task_runner="dask", dask_address=cluster.scheduler_address)) as extractor:
            assert extractor.workers == 2
            got = extractor.extract(pages)
    assert [(a.entry_key, a.canonical_url, getattr(a, "text", None)) for a in got] == [
        (a.entry_key, a.canonical_url, getattr(a, "text", None)) for a in expected
    ]
    ran = [t for t in stream.data if "extract" in t["key"]]
    assert len(ran) == 2, [t["key"] for t in stream.data]  # one chunk per worker
    assert len({t["worker"] for t in ran}) == 2  # spread over both workers


def test_ingest_flow_on_a_dask_cluster(prefect_api_url, cluster, tmp_path, monkeypatch):
    import newsflow
    from flows.ingest import ingest
    from newsflow.demo_web import SampleWeb

    monkeypatch.setenv("NEWSFLOW_TASK_RUNNER", "dask")
    monkeypatch.setenv("NEWSFLOW_DASK_ADDRESS", cluster.scheduler_address)
    data_dir = tmp_path / "data"
    from distributed import Client, get_task_stream

    with SampleWeb(base_port=0) as web, Client(cluster) as client, get_task_stream(client) as stream:
        feeds = tmp_path / "feeds.yaml"
        feeds.write_text("feeds:\n" + "".join(f"  - url: {f['url']}\n" for f in web.feeds), encoding="utf-8")
        totals = ingest(feeds_file=str(feeds), data_dir=str(data_dir), allow_private_networks=True)
    assert totals["articles_stored"] == 46
    assert len([t for t in stream.data if "extract" in t["key"]]) >= 2  # the pages went to the cluster
    con = newsflow.connect(data_dir)
    try:
        assert con.execute("SELECT count(*) FROM stories").fetchone()[0] == 36
    finally:
        con.close()
