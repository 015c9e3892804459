"""Shared fixtures: one real Prefect test server per session, fresh data dirs, feed files."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import yaml

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
# As for `newsflow ingest`: a run's INFO logs go to the (test) server; the CLI's subprocesses keep
# their terminal quiet as a user's does (newsflow/quiet.py).
os.environ.setdefault("PREFECT_LOGGING_LOGGERS_PREFECT_FLOW_RUNS_LEVEL", "INFO")
os.environ.setdefault("PREFECT_LOGGING_LOGGERS_PREFECT_TASK_RUNS_LEVEL", "INFO")
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session")
def prefect_api_url():
    """A real Prefect server for the whole session (it takes 13-75 s to start)."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=240):
        yield PREFECT_API_URL.value()


@pytest.fixture(scope="session")
def demo_warehouse(prefect_api_url, tmp_path_factory):
    """The bundled sample web ingested once per session through the real flow: (data dir, the
    run's totals, each site's base URL, the flow run's id). Tests that read it must not write to it."""
    from flows.ingest import ingest
    from newsflow.demo_web import SampleWeb

    root = tmp_path_factory.mktemp("demo")
    data_dir = root / "data"
    with SampleWeb(base_port=0) as web:
        feeds = root / "feeds.yaml"
        feeds.write_text("feeds:\n" + "".join(f"  - url: {f['url']}\n" for f in web.feeds), encoding="utf-8")
        state = ingest(feeds_file=str(feeds), data_dir=str(data_dir), allow_private_networks=True, return_state=True)
        bases = dict(web.bases)
    return data_dir, state.result(), bases, state.state_details.flow_run_id


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def write_feeds(tmp_path: Path):
    def write(*urls: str) -> Path:
        path = tmp_path / "feeds.yaml"
        path.write_text(yaml.safe_dump({"feeds": [{"url": u} for u in urls]}), encoding="utf-8")
        return path

    return write


@pytest.fixture
def subprocess_env(prefect_api_url: str) -> dict[str, str]:
    """Environment for running the `newsflow` CLI against the session's Prefect server."""
    env = dict(os.environ)
    env["PREFECT_API_URL"] = prefect_api_url
    env["PYTHONUNBUFFERED"] = "1"
    return env


def load_script(relative_path: str, name: str):
    """Import one of the repository's scripts (eval/…/evaluate.py) under a unique module name."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / relative_path
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def query(data_dir, sql, *params):
    """Rows of a read-only query against a test warehouse."""
    import newsflow

    con = newsflow.connect(data_dir)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def newsflow_bin() -> str:
    return str(Path(sys.executable).parent / "newsflow")


NEWS_WEB = ["s400", "s400_copy", "howitzers", "patriots", "club_sanction"]


@pytest.fixture(scope="session")
def plain_ingest(make_httpserver, tmp_path_factory):
    """One ingest run as plain Python (no Prefect) of a small loopback news web: five articles
    (one a syndicated copy) and a 404, into a fresh warehouse. Shared by the tests that only read
    it, so the suite pays for one run."""
    from types import SimpleNamespace

    from newsflow.models import FeedSource
    from newsflow.pipeline import run_ingest
    from newsflow.settings import Settings

    from newsweb import serve_site

    # The session's server, which other tests leave handlers on: cleared before and after.
    httpserver = make_httpserver
    httpserver.clear()
    feed = serve_site(httpserver, NEWS_WEB, extra_items=[("Gone", httpserver.url_for("/news/missing.html"))])
    httpserver.expect_request("/news/missing.html").respond_with_data("not here", status=404)
    settings = Settings(data_dir=tmp_path_factory.mktemp("plain-ingest") / "data", allow_private_networks=True)
    stages: list[str] = []

    def recording_runner(name, stage, /, *args):
        stages.append(name)
        return stage(*args)

    try:
        result = run_ingest(settings, [FeedSource(feed, "Test")], stage_runner=recording_runner)
    finally:
        httpserver.clear()
    return SimpleNamespace(feed=feed, settings=settings, data_dir=settings.data_dir, result=result, stages=stages)


@pytest.fixture(scope="session")
def postgres_server():
    """One real PostgreSQL server on loopback for the session (tests/pgserver.py)."""
    from pgserver import PostgresServer, find_bin_dir

    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed (no initdb/pg_ctl); `apt-get install -y postgresql` to run this")
    server = PostgresServer(bin_dir).start()
    yield server
    server.stop()


@pytest.fixture
def postgres_catalog(postgres_server) -> str:
    """A DuckLake catalog string for a fresh database on the session's PostgreSQL server."""
    return postgres_server.create_database()
