"""Robustness of the poll path on feedparser's test corpus: serve every file in
../shared/benchmarks/feed-fixtures from a loopback server (with the HTTP headers each file asks
for in its `Header:` lines), poll it through the real HTTP path, and count how each one ends:
parsed, parsed with a bozo warning, or failed with a reason. Items are never followed.

    .venv/bin/python benchmarks/feed_fixtures.py [--show-failures N]

The files are read at run time and never copied into the repository."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from extractors import feeds  # noqa: E402
from newsflow.models import FeedSource  # noqa: E402
from newsflow.settings import Settings  # noqa: E402

from hostile_server import HostileHandler, HostileServer  # noqa: E402

_HEADER = re.compile(rb"^\s*Header:\s*([A-Za-z0-9-]+):[ \t]*(.*?)\s*$", re.M)


def fixtures_dir() -> Path:
    override = os.environ.get("NEWSFLOW_SHARED_DIR")
    base = Path(override).expanduser() if override else REPO.parent / "shared"
    for candidate in (base / "benchmarks" / "feed-fixtures", base / "feed-fixtures", base):
        if (candidate / "wellformed").is_dir():
            return candidate
    raise SystemExit(f"feed fixtures not found under {base} (set NEWSFLOW_SHARED_DIR)")


def fixture_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name != "LICENSE")


def declared_headers(data: bytes) -> list[tuple[str, str]]:
    """The `Header: Name: value` lines in a fixture's opening comment."""
    head = data[: data.find(b"-->") + 3] if b"-->" in data[:4096] else data[:4096]
    return [(k.decode("latin-1"), v.decode("latin-1")) for k, v in _HEADER.findall(head)]


@dataclass
class CorpusReport:
    files: int = 0
    outcomes: Counter = field(default_factory=Counter)  # parsed / bozo / failed / crashed
    entries: int = 0
    reasons: Counter = field(default_factory=Counter)  # failure reasons, with the URL taken out
    failed: dict[str, str] = field(default_factory=dict)  # relative path -> reason
    crashed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def _serve(root: Path):
    def route(handler: HostileHandler) -> None:
        relative = unquote(handler.path.split("?", 1)[0]).removeprefix("/fx/")
        target = (root / relative).resolve()
        if root.resolve() not in target.parents or not target.is_file():
            handler.send_error(404)
            return
        data = target.read_bytes()
        handler.send_response(200)
        for key, value in declared_headers(data):
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.write(data)

    return route


def _reason_kind(error: str, url: str) -> str:
    text = error.replace(url, "<feed>").split("; next try at")[0]
    text = re.sub(r"\(.*", "", text).strip()
    return text[:90]


def run_corpus(root: Path | None = None, settings: Settings | None = None) -> CorpusReport:
    root = root or fixtures_dir()
    files = fixture_files(root)
    settings = settings or Settings(
        allow_private_networks=True, per_host_connections=4, per_host_delay=0.0, max_connections=8, total_timeout=20.0
    )
    report = CorpusReport(files=len(files))
    with HostileServer() as server:
        server.fallback = _serve(root)
        sources = [FeedSource(server.url("/fx/" + quote(p.relative_to(root).as_posix()))) for p in files]
        started = time.perf_counter()
        polls = asyncio.run(feeds.poll_many(sources, {}, settings))
        report.seconds = time.perf_counter() - started
    for path, source, poll in zip(files, sources, polls, strict=False):
        name = path.relative_to(root).as_posix()
        if poll.error and feeds.UNEXPECTED in poll.error:
            report.outcomes["crashed"] += 1
            report.crashed[name] = poll.error
        elif poll.error:
            report.outcomes["failed"] += 1
            report.failed[name] = poll.error
            report.reasons[_reason_kind(poll.error, source.url)] += 1
        elif poll.bozo:
            report.outcomes["bozo"] += 1
        else:
            report.outcomes["parsed"] += 1
        report.entries += len(poll.entries)
    return report


def main(quick: bool = False) -> dict:
    report = run_corpus()
    return {
        "files": report.files,
        "parsed": report.outcomes["parsed"],
        "parsed_with_bozo_warning": report.outcomes["bozo"],
        "failed_with_reason": report.outcomes["failed"],
        "crashed": report.outcomes["crashed"],
        "entries": report.entries,
        "seconds": round(report.seconds, 1),
        "failure_reasons": dict(report.reasons.most_common()),
        "failed": report.failed,
    }


def report_lines(result: dict, show_failures: int = 0) -> list[str]:
    lines = [
        "feed-fixtures corpus through the real poll path (loopback)",
        f"  files                     {result['files']}",
        f"  parsed                    {result['parsed']}",
        f"  parsed with bozo warning  {result['parsed_with_bozo_warning']}",
        f"  failed with a reason      {result['failed_with_reason']}",
        f"  crashed                   {result['crashed']}",
        f"  entries read              {result['entries']}",
        f"  time                      {result['seconds']} s",
        "  failure reasons:",
    ]
    lines += [f"    {n:>4}  {reason}" for reason, n in result["failure_reasons"].items()]
    for name, error in list(result["failed"].items())[:show_failures]:
        lines.append(f"  {name}: {error}")
    return lines


report = report_lines


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--show-failures", type=int, default=0, metavar="N", help="print the first N failures")
    args = parser.parse_args()
    outcome = main()
    print("\n".join(report_lines(outcome, args.show_failures)))
    sys.exit(1 if outcome["crashed"] else 0)
