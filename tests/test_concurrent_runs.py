"""Two `newsflow ingest` runs at once on one data directory: the second waits for the first and
repeats none of its fetches, a third that may not wait long stops with a clear message, both
summaries are true, and readers work throughout."""

from __future__ import annotations

import fcntl
import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest
from werkzeug import Response

import newsflow
from newsflow.runlock import LOCK_NAME, RunLockTimeout, run_lock
from newsflow.settings import Settings
from warehouse.store import Warehouse

from conftest import newsflow_bin, query
from newsweb import article_page, rss

KEYS = ["s400", "s400_copy", "howitzers", "patriots", "club_sanction"]


def _serve(httpserver, copies: int, delay: float) -> tuple[str, Counter]:
    hits: Counter = Counter()
    items = []

    def page(request):
        hits[request.path] += 1
        time.sleep(delay)
        return Response(
            article_page(request.path.split("/")[-1].split("-")[0]), content_type="text/html; charset=utf-8"
        )

    for n in range(copies):
        for key in KEYS:
            path = f"/news/{key}-{n}.html"
            httpserver.expect_request(path).respond_with_handler(page)
            items.append((f"{key} {n}", httpserver.url_for(path)))
    httpserver.expect_request("/feed.xml").respond_with_data(rss(items), content_type="application/rss+xml")
    return httpserver.url_for("/feed.xml"), hits


def _lock_is_held(data_dir) -> bool:
    path = data_dir / LOCK_NAME
    if not path.exists():
        return False
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def _summary_value(output: str, label: str) -> int:
    match = re.search(rf"^\s+{re.escape(label)}\s+(\d+)$", output, re.M)
    assert match, output
    return int(match.group(1))


def test_the_lock_is_reentrant_in_one_process_and_exclusive_across_processes(tmp_path):
    with run_lock(tmp_path, wait_s=0):
        with run_lock(tmp_path, wait_s=0):  # the CLI holds it, then the flow takes it again
            assert _lock_is_held(tmp_path)
        assert _lock_is_held(tmp_path)
    assert not _lock_is_held(tmp_path)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl,sys,time; f=open(sys.argv[1],'a'); "
            "fcntl.flock(f, fcntl.LOCK_EX); print('held', flush=True); time.sleep(30)",
            str(tmp_path / LOCK_NAME),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        messages: list[str] = []
        started = time.monotonic()
        with pytest.raises(RunLockTimeout, match="still running on .* after 0.5 s; nothing was done"):
            with run_lock(tmp_path, wait_s=0.5, on_wait=messages.append):
                pass
        assert time.monotonic() - started >= 0.5
        assert messages and "waiting up to 0.5 s" in messages[0]
    finally:
        holder.kill()
        holder.wait()
    with run_lock(tmp_path, wait_s=5):  # the kernel dropped the killed holder's lock
        pass


@pytest.mark.prefect
def test_two_runs_at_once_fetch_each_page_once_and_report_truly(httpserver, subprocess_env, data_dir, write_feeds):
    feed, hits = _serve(httpserver, copies=3, delay=0.3)
    feeds = write_feeds(feed)
    Warehouse(Settings(data_dir=data_dir).lake_dir).close()  # an empty warehouse a reader can open now
    env = dict(subprocess_env, NEWSFLOW_BATCH_SIZE="4", NEWSFLOW_PER_HOST_CONNECTIONS="1")
    command = [newsflow_bin(), "ingest", "--feeds", str(feeds), "--data-dir", str(data_dir), "--allow-private-networks"]

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
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not _lock_is_held(data_dir) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _lock_is_held(data_dir), "the first run never took the lock"
        second = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        impatient = subprocess.run(
            command, env=dict(env, NEWSFLOW_RUN_LOCK_WAIT="1"), capture_output=True, text=True, timeout=120
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
        first_out, first_err = first.communicate(timeout=300)
        second_out, second_err = second.communicate(timeout=300)
    finally:
        stop.set()
        thread.join()
        reader.close()
        for process in (first, second) if "second" in locals() else (first,):
            if process.poll() is None:
                process.kill()

    assert first.returncode == 0, first_out + first_err
    assert second.returncode == 0, second_out + second_err
    assert "another ingest" in second_err and "waiting up to" in second_err
    assert impatient.returncode == 3
    assert "is still running on" in impatient.stderr and "nothing was done by this run" in impatient.stderr
    assert "Traceback" not in first_err + second_err + impatient.stderr

    # every page fetched once, by the first run; the second found nothing left to do
    assert len(hits) == 15 and set(hits.values()) == {1}
    assert _summary_value(first_out, "pages fetched") == 15
    assert _summary_value(first_out, "articles stored") == 15
    assert _summary_value(second_out, "pages fetched") == 0
    assert _summary_value(second_out, "articles stored") == 0
    assert _summary_value(second_out, "articles (total)") == 15
    assert query(data_dir, "SELECT count(*), count(DISTINCT article_id) FROM article_rows") == [(15, 15)]
    runs = query(data_dir, "SELECT count(*) FROM run_rows")
    assert runs == [(2,)]  # the impatient run recorded nothing

    # readers: the held-open connection and `newsflow sql` both worked during the runs
    assert not errors and seen and seen[0] == 0 and max(seen) <= 15
    assert during.returncode == 0 and '"n": ' in during.stdout
