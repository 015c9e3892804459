"""Many writers on one Postgres catalog: 4 `newsflow ingest` runs at once, through the real CLI,
each with its own data dir, against the sample web on loopback, whose wire stories are copied
across several outlets' feeds. Every article is stored exactly once, no commit is lost, no run
reports "database is locked", and syndicated copies that different runs fetched share a story."""

from __future__ import annotations

import re
import subprocess
from collections import Counter

import newsflow
from newsflow.demo_web import SampleWeb

from conftest import load_script, newsflow_bin

compare = load_script("eval/demo_check.py", "demo_check_many_writers").compare
RUNS = 4


def _article_requests(requests: list[str]) -> Counter:
    """Page fetches only: every run polls every feed and reads robots.txt, so those repeat."""
    return Counter(r for r in requests if not r.endswith((".xml", "/robots.txt")))


def _ingest(env: dict, feeds, data_dir) -> subprocess.Popen:
    return subprocess.Popen(
        [
            newsflow_bin(),
            "ingest",
            "--all",
            "--feeds",
            str(feeds),
            "--data-dir",
            str(data_dir),
            "--allow-private-networks",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_four_concurrent_ingests_store_every_article_once(subprocess_env, postgres_catalog, tmp_path, monkeypatch):
    files = tmp_path / "lake-files"
    # Small batches, so the runs' claims interleave and copies of one story reach different writers.
    shared = dict(
        subprocess_env,
        NEWSFLOW_CATALOG=postgres_catalog,
        NEWSFLOW_DATA_PATH=str(files),
        NEWSFLOW_BATCH_SIZE="6",
        NEWSFLOW_EXTRACT_WORKERS="1",
    )
    with SampleWeb(base_port=0) as web:
        feeds = tmp_path / "feeds.yaml"
        feeds.write_text("feeds:\n" + "".join(f"  - url: {f['url']}\n" for f in web.feeds), encoding="utf-8")
        # A single run on its own SQLite catalog: which pages one pass fetches, and how often.
        alone = _ingest(subprocess_env, feeds, tmp_path / "alone")
        assert alone.wait(timeout=600) == 0, alone.stderr.read()[-3000:]
        alone.stdout.close(), alone.stderr.close()
        baseline = _article_requests(web.requests)
        mark = len(web.requests)

        runs = [_ingest(shared, feeds, tmp_path / f"writer-{i}") for i in range(RUNS)]
        outputs = [run.communicate(timeout=900) for run in runs]
        concurrent = _article_requests(web.requests[mark:])
        bases = dict(web.bases)

    for run, (out, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, err[-3000:]
        assert "database is locked" not in out + err
    stored_per_run = [int(re.search(r"articles stored\s+(\d+)", out).group(1)) for out, _ in outputs]
    # Work is split, not repeated: together the runs fetched each page exactly as often as one run alone.
    assert concurrent == baseline
    assert sum(n > 0 for n in stored_per_run) >= 2, stored_per_run

    monkeypatch.setenv("NEWSFLOW_CATALOG", postgres_catalog)
    monkeypatch.setenv("NEWSFLOW_DATA_PATH", str(files))
    con = newsflow.connect(tmp_path / "reader")
    try:
        rows, distinct = con.execute("SELECT count(*), count(DISTINCT article_id) FROM article_rows").fetchone()
        assert (rows, distinct) == (46, 46)  # every article once: none lost, none doubled
        assert sum(stored_per_run) == 46  # and each run's commits all landed
        assert con.execute("SELECT count(*) FROM run_rows").fetchone()[0] == RUNS
        seqs = [r[0] for r in con.execute("SELECT seq FROM article_rows ORDER BY seq").fetchall()]
        assert seqs == list(range(46))  # one story-index order across writers
        assert con.execute("SELECT count(*) FROM stories").fetchone()[0] == 36
        report = compare(con, bases)
    finally:
        con.close()
    print(
        f"\nmany writers: {RUNS} runs, 46 articles offered, {distinct} stored ({rows} rows), "
        f"{46 - distinct} lost, {rows - distinct} doubled, 0 lock errors; stored per run {stored_per_run}; "
        f"story pairs fp={report['pairs']['fp']} fn={report['pairs']['fn']}"
    )
    assert report["missing"] == []
    # Copies of one story fetched by different writers share that story, and nothing else does.
    assert report["pairs"]["fp"] == 0 and report["pairs"]["fn"] == 0, report["errors"]
    assert report["attribution"][0] == report["attribution"][1]
