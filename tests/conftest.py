"""Shared fixtures: one real Prefect test server per session, fresh data dirs, feed files."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import yaml

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session")
def prefect_api_url():
    """A real Prefect server for the whole session (it takes 13-75 s to start)."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=240):
        yield PREFECT_API_URL.value()


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
