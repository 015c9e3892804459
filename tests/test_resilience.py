"""A killed run loses nothing committed; a reader and a writer work side by side."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time

from werkzeug import Response

import newsflow
from flows.ingest import ingest

from conftest import newsflow_bin
from newsweb import article_page, rss

PAGES = ["s400", "s400_copy", "howitzers", "patriots", "club_sanction"]


def _serve_slow_site(httpserver, copies: int, delay: float) -> str:
    """`copies` distinct URLs per fixture article, each answered after `delay` seconds."""
    items = []

    def slow(request):
        time.sleep(delay)
        key = request.path.split("/")[-1].split("-")[0]
        return Response(article_page(key), content_type="text/html; charset=utf-8")

    for n in range(copies):
        for key in PAGES:
            path = f"/news/{key}-{n}.html"
            httpserver.expect_request(path).respond_with_handler(slow)
            items.append((f"{key} {n}", httpserver.url_for(path)))
    httpserver.expect_request("/feed.xml").respond_with_data(rss(items), content_type="application/rss+xml")
    return httpserver.url_for("/feed.xml")


def _count(data_dir, sql):
    con = newsflow.connect(data_dir)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


def test_a_killed_run_loses_nothing_committed_and_the_next_run_completes(
    httpserver, prefect_api_url, subprocess_env, data_dir, write_feeds
):
    feeds = write_feeds(_serve_slow_site(httpserver, copies=4, delay=0.25))
    env = dict(subprocess_env, NEWSFLOW_BATCH_SIZE="3", NEWSFLOW_PER_HOST_CONNECTIONS="1")
    process = subprocess.Popen(
        [newsflow_bin(), "ingest", "--feeds", str(feeds), "--data-dir", str(data_dir), "--allow-private-networks"],
        env=env,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 180
        stored = 0
        while time.monotonic() < deadline and process.poll() is None:
            try:
                stored = _count(data_dir, "SELECT count(*) FROM article_rows")
            except Exception:
                stored = 0
            if stored >= 3:
                break
            time.sleep(0.2)
        assert process.poll() is None, "the run finished before it could be killed"
        assert stored >= 3
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    stored_at_kill = _count(data_dir, "SELECT count(*) FROM article_rows")
    assert stored_at_kill < 20
    assert _count(data_dir, "SELECT count(*) - count(DISTINCT article_id) FROM article_rows") == 0

    totals = ingest(feeds_file=str(feeds), data_dir=str(data_dir), allow_private_networks=True)

    assert _count(data_dir, "SELECT count(*) FROM article_rows") == 20
    assert _count(data_dir, "SELECT count(*) - count(DISTINCT article_id) FROM article_rows") == 0
    assert totals["articles_stored"] == 20 - stored_at_kill
    assert (
        _count(
            data_dir, "SELECT count(*) FROM (SELECT article_id, tag FROM article_tags GROUP BY ALL HAVING count(*) > 1)"
        )
        == 0
    )


def test_a_reader_holding_the_warehouse_open_does_not_block_an_ingest(
    httpserver, prefect_api_url, subprocess_env, data_dir, write_feeds
):
    first = write_feeds(_serve_slow_site(httpserver, copies=1, delay=0.0))
    ingest(feeds_file=str(first), data_dir=str(data_dir), allow_private_networks=True)
    httpserver.clear()
    feeds = write_feeds(_serve_slow_site(httpserver, copies=3, delay=0.05))

    reader = newsflow.connect(data_dir)
    seen: list[int] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def keep_reading():
        while not stop.is_set():
            try:
                seen.append(reader.execute("SELECT count(*) FROM articles").fetchone()[0])
            except BaseException as exc:  # noqa: BLE001 - the test reports any reader failure
                errors.append(exc)
                return
            time.sleep(0.05)

    thread = threading.Thread(target=keep_reading)
    thread.start()
    try:
        result = subprocess.run(
            [
                newsflow_bin(),
                "ingest",
                "--feeds",
                str(feeds),
                "--data-dir",
                str(data_dir),
                "--allow-private-networks",
                "--all",
            ],
            env=subprocess_env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        during = subprocess.run(
            [
                newsflow_bin(),
                "sql",
                "--data-dir",
                str(data_dir),
                "--format",
                "json",
                "SELECT count(*) AS n FROM articles",
            ],
            env=subprocess_env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        stop.set()
        thread.join()
        reader.close()

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert not errors
    assert seen and seen[0] == 5
    assert during.returncode == 0 and '"n": 15' in during.stdout
    assert _count(data_dir, "SELECT count(*) FROM articles") == 15
