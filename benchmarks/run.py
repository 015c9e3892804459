"""Run every newsflow benchmark, print a report, and save the figures.

    .venv/bin/python benchmarks/run.py            # full run (make bench), writes results/latest.json
    .venv/bin/python benchmarks/run.py --quick    # 40 pages, fewer repeats, writes results/quick.json
    .venv/bin/python benchmarks/run.py --only extraction_quality,tagging_speed

Benchmark data is read from ../shared/benchmarks (or $NEWSFLOW_SHARED_DIR) and never copied."""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import (  # noqa: E402
    dedup_scale,
    extraction_quality,
    extraction_speed,
    feed_fixtures,
    pipeline_speed,
    poll_bench,
    tagging_speed,
)
from benchmarks._common import RESULTS_DIR, environment, write_json  # noqa: E402

BENCHMARKS = {
    "extraction_quality": extraction_quality,
    "extraction_speed": extraction_speed,
    "tagging_speed": tagging_speed,
    "feed_fixtures": feed_fixtures,
    "poll": poll_bench,
    "dedup_scale": dedup_scale,
    "pipeline_speed": pipeline_speed,  # last: it starts Prefect's temporary server
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="40 pages and fewer repeats, for a fast check")
    parser.add_argument("--only", help=f"comma-separated subset of: {', '.join(BENCHMARKS)}")
    args = parser.parse_args(argv)
    names = list(BENCHMARKS)
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in BENCHMARKS]
        if unknown:
            parser.error(f"unknown benchmark(s): {', '.join(unknown)}")

    env = environment()
    print(
        f"newsflow benchmarks{' (QUICK)' if args.quick else ''}  {env['date']}  python {env['python']}, "
        f"{env['cpus']} CPUs, load avg {env['load_avg_at_start']}, trafilatura {env['trafilatura']}, "
        f"prefect {env['prefect']}"
    )
    print("Every timing is a median over repeats; every ratio is measured within the same run.\n", flush=True)

    output: dict = {"quick": args.quick, "environment": env, "benchmarks": {}}
    failed = []
    started = time.perf_counter()
    for name in names:
        module = BENCHMARKS[name]
        start = time.perf_counter()
        try:
            result = module.main(quick=args.quick)
        except Exception as exc:  # keep going: one broken benchmark should not hide the others
            failed.append(name)
            traceback.print_exc()
            output["benchmarks"][name] = {"error": f"{type(exc).__name__}: {exc}"}
            print(f"{name}: FAILED ({type(exc).__name__}: {exc})\n", flush=True)
            continue
        result["benchmark_runtime_s"] = round(time.perf_counter() - start, 1)
        result["load_avg_1min_at_end"] = round(os.getloadavg()[0], 2)
        output["benchmarks"][name] = result
        report = getattr(module, "report", None) or module.report_lines
        print("\n".join(report(result)))
        print(
            f"  [{name} took {result['benchmark_runtime_s']:.0f} s; 1-min load average at the end "
            f"{result['load_avg_1min_at_end']:.1f} on {env['cpus']} CPUs]\n",
            flush=True,
        )

    output["total_runtime_s"] = round(time.perf_counter() - started, 1)
    output["environment"]["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    if args.quick:
        target = RESULTS_DIR / "quick.json"
    elif names == list(BENCHMARKS):
        target = RESULTS_DIR / "latest.json"
    else:
        target = RESULTS_DIR / "partial.json"
    write_json(target, output)
    print(f"total {output['total_runtime_s']:.0f} s; results written to {target.relative_to(RESULTS_DIR.parents[1])}")
    return 1 if failed else 0


if __name__ == "__main__":
    # Prefect reads its settings when first imported: configure it before anything imports it.
    # (Not at module level: the loopback server's spawned child re-imports this file.)
    pipeline_speed.configure_prefect()
    sys.exit(main())
