"""Kill-and-check loop: `newsflow ingest` SIGKILLed at chosen points in every stage, kill after kill
on one data directory, then run to completion; prints the kills per stage and the exactly-once
checks (the same checks as tests/test_crash_anywhere.py, which runs a 32-kill schedule in CI).

    .venv/bin/python benchmarks/crash_loop.py [--rounds R] [--pairs P]

Each round is one kill at each point (after-poll, fetch, extract, load, between-batches) with N
cycling 1..3; the default 10 rounds is 50 kills on an 80-page loopback web."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]

POINTS = ("after-poll", "fetch", "extract", "load", "between-batches")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--pairs", type=int, default=40)
    args = parser.parse_args()

    import crashweb
    from pytest_httpserver import HTTPServer
    from test_crash_anywhere import check_exactly_once, crash_env, ingest, kill_loop

    schedule = [
        (p, 1 if p in ("after-poll", "between-batches") else 1 + r % 3) for r in range(args.rounds) for p in POINTS
    ]
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    try:
        feed, story_of = crashweb.serve(server, args.pairs)
        with tempfile.TemporaryDirectory() as tmp:
            tmp_path = Path(tmp)
            feeds = tmp_path / "feeds.yaml"
            feeds.write_text(f"feeds:\n  - url: {feed}\n", encoding="utf-8")
            env = crash_env(tmp_path)
            started = time.perf_counter()
            kills = kill_loop(env, feeds, tmp_path / "data", schedule)
            final = ingest(env, feeds, tmp_path / "data", None)
            assert final.returncode == 0, final.stderr
            check_exactly_once(tmp_path / "data", story_of)
            elapsed = time.perf_counter() - started
    finally:
        server.stop()
    print(
        f"{len(story_of)} pages offered, {args.pairs} stories; {len(schedule)} runs with a fault armed, {elapsed:.0f} s"
    )
    for point in POINTS:
        print(f"  killed at {point:<16} {kills[point]}")
    print(f"  total kills          {sum(kills.values())}")
    print("exactly once: every article stored once, every story whole, one final outcome per entry, warehouse opens")
    return 0


if __name__ == "__main__":
    sys.exit(main())
