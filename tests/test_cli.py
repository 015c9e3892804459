"""The command-line contract: summaries, exit codes, JSON output, no tracebacks."""

from __future__ import annotations

import json
import subprocess

from conftest import newsflow_bin
from newsweb import serve_site


def _run(env, *args, timeout=300):
    return subprocess.run([newsflow_bin(), *args], env=env, capture_output=True, text=True, timeout=timeout)


def test_ingest_prints_a_summary_and_sql_prints_json(httpserver, subprocess_env, data_dir, write_feeds):
    feeds = write_feeds(serve_site(httpserver, ["s400", "howitzers"]))
    result = _run(
        subprocess_env, "ingest", "--feeds", str(feeds), "--data-dir", str(data_dir), "--allow-private-networks"
    )
    assert result.returncode == 0, result.stderr
    assert "articles stored    2" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr

    query = _run(
        subprocess_env,
        "sql",
        "--data-dir",
        str(data_dir),
        "--format",
        "json",
        "SELECT title, source FROM articles ORDER BY title",
    )
    assert query.returncode == 0
    assert json.loads(query.stdout) == [
        {"title": "Poland signs for more K9 howitzers", "source": "Northline Wire"},
        {"title": "Russia starts S-400 deliveries to India", "source": "Northline Wire"},
    ]
    csv_out = _run(subprocess_env, "sql", "--data-dir", str(data_dir), "--format", "csv", "SELECT 1 AS one")
    assert csv_out.stdout.splitlines() == ["one", "1"]


def test_an_unreachable_feed_fails_with_a_one_line_reason_and_the_run_completes(subprocess_env, tmp_path, data_dir):
    feeds = tmp_path / "feeds.yaml"
    # Port 9 (discard) on loopback refuses connections: a feed that cannot be reached.
    feeds.write_text("feeds:\n  - url: http://127.0.0.1:9/feed.xml\n    name: Dead feed\n", encoding="utf-8")
    result = _run(
        subprocess_env, "ingest", "--feeds", str(feeds), "--data-dir", str(data_dir), "--allow-private-networks"
    )
    assert result.returncode == 0, result.stderr
    assert "feeds failed       1" in result.stdout
    assert "[poll] could not reach http://127.0.0.1:9/feed.xml" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_bad_feed_list_and_missing_warehouse_give_clear_errors(subprocess_env, tmp_path):
    bad = tmp_path / "feeds.yaml"
    bad.write_text("feeds: nope\n", encoding="utf-8")
    result = _run(subprocess_env, "ingest", "--feeds", str(bad))
    assert result.returncode == 2 and "must contain `feeds:`" in result.stderr
    missing = _run(subprocess_env, "sql", "--data-dir", str(tmp_path / "none"), "SELECT 1")
    assert missing.returncode == 2 and "run `newsflow ingest` first" in missing.stderr


def test_story_explains_each_copy_and_retag_replaces_old_tags(httpserver, subprocess_env, data_dir, write_feeds):
    feeds = write_feeds(serve_site(httpserver, ["s400", "s400_copy"]))
    assert (
        _run(
            subprocess_env, "ingest", "--feeds", str(feeds), "--data-dir", str(data_dir), "--allow-private-networks"
        ).returncode
        == 0
    )
    [[story_id]] = [
        [row["story_id"]]
        for row in json.loads(
            _run(
                subprocess_env, "sql", "--data-dir", str(data_dir), "--format", "json", "SELECT story_id FROM stories"
            ).stdout
        )
    ]

    story = _run(subprocess_env, "story", story_id[:8], "--data-dir", str(data_dir))
    assert story.returncode == 0, story.stderr
    assert "original source: Northline Wire; 2 article(s)" in story.stdout
    assert "[ORIGINAL] Northline Wire" in story.stdout
    assert "[copy of Northline Wire (credited)] Dailyfold" in story.stdout
    assert "near-duplicate of" in story.stdout or "contains or is contained in" in story.stdout
    assert "(jaccard 0." in story.stdout or "(containment 0." in story.stdout  # the measure that decided it

    up_to_date = _run(subprocess_env, "retag", "--data-dir", str(data_dir))
    assert up_to_date.stdout.startswith("retagged 0 articles")
    everything = _run(subprocess_env, "retag", "--all", "--data-dir", str(data_dir))
    assert everything.stdout.startswith("retagged 2 articles; 2 carry a tag")
    tags = json.loads(
        _run(
            subprocess_env,
            "sql",
            "--data-dir",
            str(data_dir),
            "--format",
            "json",
            "SELECT count(*) AS n, count(DISTINCT (article_id, tag)) AS d FROM article_tags",
        ).stdout
    )
    assert tags == [{"n": 4, "d": 4}]


def test_sql_piped_into_a_reader_that_stops_early_prints_no_traceback(
    httpserver, subprocess_env, data_dir, write_feeds
):
    feeds = write_feeds(serve_site(httpserver, ["s400", "howitzers", "patriots"]))
    assert (
        _run(
            subprocess_env, "ingest", "--feeds", str(feeds), "--data-dir", str(data_dir), "--allow-private-networks"
        ).returncode
        == 0
    )
    reader = subprocess.Popen(
        [newsflow_bin(), "sql", "--data-dir", str(data_dir), "SELECT * FROM articles, range(2000)"],
        env=subprocess_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    reader.stdout.readline()
    reader.stdout.close()  # like `| head -1`
    _, stderr = reader.communicate(timeout=120)
    assert reader.returncode == 0
    assert b"Traceback" not in stderr
