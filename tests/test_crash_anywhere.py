"""Crash anywhere: `newsflow ingest` (plain mode, a subprocess) SIGKILLs itself at chosen points in
every stage (NEWSFLOW_FAULT=stage:N, newsflow/faults.py), kill after kill on one data directory,
then runs to completion. Every offered article is then stored exactly once, every story holds
its original and its copy (none split, none doubled), every entry has exactly one final outcome,
and the warehouse opens. The full loop (more kills) is benchmarks/crash_loop.py."""

from __future__ import annotations

import os
import signal
import subprocess
from collections import Counter
from pathlib import Path

import crashweb

from conftest import newsflow_bin, query

PAIRS = 25  # 50 pages
# (point, N): each kills once per run. Small batches (2 entries) and N picked so every stage is
# hit while work remains; between-batches:1 is what moves the work forward between the others.
CI_SCHEDULE = [
    ("after-poll", 1),
    ("fetch", 1),
    ("extract", 1),
    ("load", 1),
    ("between-batches", 1),
    ("fetch", 3),
    ("extract", 2),
    ("load", 2),
    ("between-batches", 2),
    ("after-poll", 1),
    ("fetch", 2),
    ("extract", 3),
    ("load", 1),
    ("between-batches", 1),
    ("fetch", 1),
    ("extract", 1),
    ("load", 3),
    ("between-batches", 1),
    ("after-poll", 1),
    ("fetch", 4),
    ("extract", 1),
    ("load", 1),
    ("between-batches", 1),
    ("fetch", 1),
    ("extract", 2),
    ("load", 2),
    ("between-batches", 1),
    ("after-poll", 1),
    ("fetch", 2),
    ("extract", 1),
    ("load", 1),
    ("between-batches", 1),
]


def crash_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API", "NEWSFLOW_"))}
    env.update(
        PREFECT_HOME=str(tmp_path / "prefect-home"),  # no profile: plain mode
        NEWSFLOW_BATCH_SIZE="2",
        NEWSFLOW_PER_HOST_DELAY="0",
        NEWSFLOW_PER_HOST_CONNECTIONS="4",
        PYTHONUNBUFFERED="1",
    )
    return env


def ingest(env: dict[str, str], feeds: Path, data_dir: Path, fault: str | None) -> subprocess.CompletedProcess[str]:
    """One `newsflow ingest` in its own process group; whatever it leaves behind (extraction
    workers, the fork server) is killed with the group."""
    run_env = dict(env, **({"NEWSFLOW_FAULT": fault} if fault else {}))
    args = [newsflow_bin(), "ingest", "--feeds", str(feeds), "--data-dir", str(data_dir), "--allow-private-networks"]
    proc = subprocess.Popen(
        args, env=run_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        out, err = proc.communicate(timeout=180)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


def kill_loop(env: dict[str, str], feeds: Path, data_dir: Path, schedule: list[tuple[str, int]]) -> Counter[str]:
    """Run the schedule; return the kills that landed, per point."""
    kills: Counter[str] = Counter()
    for point, n in schedule:
        result = ingest(env, feeds, data_dir, f"{point}:{n}")
        if result.returncode == -signal.SIGKILL:
            kills[point] += 1
        else:
            assert result.returncode == 0, result.stderr  # the run finished before reaching the point
    return kills


def check_exactly_once(data_dir: Path, story_of: dict[str, str]) -> None:
    rows = query(data_dir, "SELECT url, article_id, story_id FROM lake.article_rows")
    per_url = Counter(url for url, _, _ in rows)
    assert set(per_url) == set(story_of), "every offered article is stored"
    assert max(per_url.values()) == 1, [u for u, n in per_url.items() if n > 1]
    assert len({article_id for _, article_id, _ in rows}) == len(story_of)
    stories: dict[str, set[str]] = {}
    for url, _, story_id in rows:
        stories.setdefault(story_of[url], set()).add(story_id)
    assert all(len(ids) == 1 for ids in stories.values()), "a story was split"
    story_ids = [next(iter(ids)) for ids in stories.values()]
    assert len(set(story_ids)) == len(story_ids), "two stories were merged"
    outcomes = query(
        data_dir,
        "SELECT e.url, count(o.url) FILTER (WHERE o.outcome IN ('stored', 'skipped', 'failed')) "
        "FROM lake.entries e LEFT JOIN lake.fetch_outcomes o USING (url) GROUP BY e.url",
    )
    assert {url for url, _ in outcomes} == set(story_of)
    assert all(n == 1 for _, n in outcomes), [o for o in outcomes if o[1] != 1]


def test_kills_in_every_stage_lose_and_double_nothing(httpserver, tmp_path):
    feed, story_of = crashweb.serve(httpserver, PAIRS)
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(f"feeds:\n  - url: {feed}\n", encoding="utf-8")
    env = crash_env(tmp_path)
    data_dir = tmp_path / "data"

    kills = kill_loop(env, feeds, data_dir, CI_SCHEDULE)
    assert sum(kills.values()) >= 30, kills
    assert set(kills) == {"after-poll", "fetch", "extract", "load", "between-batches"}, kills

    final = ingest(env, feeds, data_dir, None)
    assert final.returncode == 0, final.stderr
    assert f"articles (total)   {len(story_of)}" in final.stdout
    check_exactly_once(data_dir, story_of)
    sql = subprocess.run(
        [newsflow_bin(), "sql", "--data-dir", str(data_dir), "SELECT count(*) AS n FROM stories"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert sql.returncode == 0 and f"{PAIRS}" in sql.stdout, sql.stderr
