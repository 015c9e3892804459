"""Scaling benchmark: pages/s of the real `ingest` flow with extraction on 1, 2 and 4 Dask
workers (NEWSFLOW_TASK_RUNNER=dask), over a loopback web of the AEB pages
(../shared/benchmarks/aeb/html, read at run time; 181 pages on 126 loopback sites, as in
pipeline_speed.py).

For each worker count a fresh `distributed.LocalCluster` (worker processes, one thread each)
is started, warmed up with an 8-page run (workers import trafilatura on their first task), and
then one timed run ingests every page into a fresh data dir. The catalog is PostgreSQL (a
throwaway server, tests/pgserver.py) when one can be started, as in a many-writer deployment;
otherwise the default SQLite file. Stage times come from pipeline_speed.py's timers, so the
500,000-articles-a-day estimate in benchmarks/README.md rests on measured per-stage costs.

This machine has 2 cores (shared with other work): beyond 2 workers there is nothing to gain,
and the 4-worker row shows the cost of oversubscribing."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import load_aeb
from benchmarks.pipeline_speed import OTHER, STAGES, LoopbackWeb, StageTimer, configure_prefect

WORKER_COUNTS = (1, 2, 4)
DASK_STAGE = ("extract (Dask, incl. task submission)", "flows.task_runner:DaskExtractor", "extract")


def _postgres_server():
    """A throwaway PostgreSQL server (tests/pgserver.py), or None if none is installed."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    try:
        from pgserver import PostgresServer, find_bin_dir
    finally:
        sys.path.pop(0)
    bin_dir = find_bin_dir()
    return PostgresServer(bin_dir).start() if bin_dir is not None else None


def main(quick: bool = False) -> dict:
    prefect_config = configure_prefect()
    import logging

    from distributed import LocalCluster

    from flows.ingest import ingest

    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    logging.getLogger("distributed").setLevel(logging.ERROR)
    if DASK_STAGE not in STAGES:
        STAGES.append(DASK_STAGE)
    pages = load_aeb(limit=40 if quick else None)
    work = Path(tempfile.mkdtemp(prefix="newsflow-bench-scaling-"))
    server = _postgres_server()
    rows = []
    saved_env = {
        k: os.environ.get(k)
        for k in ("NEWSFLOW_TASK_RUNNER", "NEWSFLOW_DASK_ADDRESS", "NEWSFLOW_CATALOG", "NEWSFLOW_DATA_PATH")
    }
    timer = StageTimer()
    try:
        with LoopbackWeb([(p.page_id, urlsplit(p.url).hostname or p.page_id) for p in pages]) as web:
            for name in ("feed", "warmup"):
                (work / f"{name}.yaml").write_text(
                    f"feeds:\n  - url: {web.urls[name]}\n    name: AEB\n", encoding="utf-8"
                )
            start = time.perf_counter()  # Prefect's temporary server starts on the first run
            ingest(
                feeds_file=str(work / "warmup.yaml"), data_dir=str(work / "warm-prefect"), allow_private_networks=True
            )
            prefect_start_s = time.perf_counter() - start
            os.environ["NEWSFLOW_TASK_RUNNER"] = "dask"
            timer.__enter__()
            for workers in WORKER_COUNTS:
                with LocalCluster(
                    n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
                ) as cluster:
                    os.environ["NEWSFLOW_DASK_ADDRESS"] = cluster.scheduler_address
                    ingest(
                        feeds_file=str(work / "warmup.yaml"),
                        data_dir=str(work / f"warm-{workers}"),
                        allow_private_networks=True,
                    )
                    if server is not None:
                        os.environ["NEWSFLOW_CATALOG"] = server.create_database()
                        os.environ["NEWSFLOW_DATA_PATH"] = str(work / f"files-{workers}")
                    timer.reset()
                    start = time.perf_counter()
                    totals = ingest(
                        feeds_file=str(work / "feed.yaml"),
                        data_dir=str(work / f"data-{workers}"),
                        allow_private_networks=True,
                    )
                    wall = time.perf_counter() - start
                    os.environ.pop("NEWSFLOW_CATALOG", None)
                    os.environ.pop("NEWSFLOW_DATA_PATH", None)
                stages = dict(timer.seconds)
                stages[OTHER] = max(0.0, wall - sum(stages.values()))
                rows.append(
                    {
                        "workers": workers,
                        "wall_s": round(wall, 2),
                        "pages_fetched": totals["pages_fetched"],
                        "articles_stored": totals["articles_stored"],
                        "pages_per_s": round(totals["pages_fetched"] / wall, 2),
                        "stages_s": {k: round(v, 3) for k, v in stages.items()},
                    }
                )
    finally:
        timer.__exit__(None, None, None)
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return {
        "pages_served": len(pages),
        "sites": web.urls["sites"],
        "cores": os.cpu_count(),
        "catalog": "postgres" if server is not None else "sqlite",
        "prefect_config": prefect_config,
        "prefect_start_s_excluded": round(prefect_start_s, 1),
        "rows": rows,
    }


def report(result: dict) -> list[str]:
    r = result
    lines = [
        f"SCALING  real ingest flow, extraction on Dask (LocalCluster, worker processes), {r['pages_served']} "
        f"AEB pages on {r['sites']} loopback sites, {r['catalog']} catalog, {r['cores']} cores",
        "  workers  wall s  pages  pages/s  extract s  tag s  dedup s  load s",
    ]
    for row in r["rows"]:
        s = row["stages_s"]
        lines.append(
            f"  {row['workers']:>7}  {row['wall_s']:6.1f}  {row['pages_fetched']:5}  {row['pages_per_s']:7.2f}"
            f"  {s.get(DASK_STAGE[0], 0):9.2f}  {s.get('tag', 0):5.2f}  {s.get('dedup', 0):7.2f}"
            f"  {s.get('load (DuckLake commit)', 0):6.2f}"
        )
    lines.append("  where the time goes, per worker count (s):")
    for row in r["rows"]:
        lines.append(
            f"    {row['workers']} workers: "
            + ", ".join(f"{k} {v:.2f}" for k, v in row["stages_s"].items() if v >= 0.01)
        )
    return lines


if __name__ == "__main__":
    import json

    result = main(quick="--quick" in sys.argv)
    print("\n".join(report(result)))
    if "--json" in sys.argv:
        print(json.dumps(result, indent=1))
