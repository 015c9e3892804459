"""Fuzz the pure steps of the pipeline with many hypothesis examples (outside CI):

    .venv/bin/python benchmarks/fuzz.py [--examples 10000] [--only feed,url,money,tagger,html]

Runs tests/test_fuzz.py's property tests with NEWSFLOW_FUZZ_EXAMPLES set, plus the named
extremes and the regex check, and prints how many examples each target ran. Loopback only;
nothing is written outside a temporary directory."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGETS = {
    "feed": "feed_parser",
    "url": "url_canonicalisation",
    "money": "money_parser",
    "tagger": "tagger",
    "html": "html_extraction",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=10_000)
    parser.add_argument("--only", default=",".join(TARGETS))
    args = parser.parse_args()
    env = dict(os.environ, NEWSFLOW_FUZZ_EXAMPLES=str(args.examples))
    failed = 0
    for name in args.only.split(","):
        started = time.monotonic()
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                f"tests/test_fuzz.py::test_{TARGETS[name]}_survives_hostile_"
                + {"feed": "bytes", "url": "urls", "money": "text", "tagger": "text", "html": "pages"}[name],
                "--hypothesis-show-statistics",
            ],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
        )
        failed += result.returncode != 0
        passing = [line.strip() for line in result.stdout.splitlines() if "passing examples" in line]
        print(
            f"{name:<7} {'ok' if result.returncode == 0 else 'FAILED'}  {time.monotonic() - started:7.1f} s  "
            f"{passing[0] if passing else ''}",
            flush=True,
        )
        if result.returncode:
            print(result.stdout[-3000:])
    rest = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_fuzz.py",
            "-k",
            "named_extremes or regex",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=dict(env, NEWSFLOW_FUZZ_REGEX_CHARS="50000", NEWSFLOW_FUZZ_REGEXES="1"),
    )
    print(f"extremes and regexes: {'ok' if rest.returncode == 0 else 'FAILED'}  {rest.stdout.strip().splitlines()[-1]}")
    return 1 if failed or rest.returncode else 0


if __name__ == "__main__":
    sys.exit(main())
