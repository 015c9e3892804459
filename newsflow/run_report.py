"""What an ingest run shows in the Prefect UI, built from the warehouse as plain data: the
markdown report (new deals and sanction actions, the biggest new stories and their copies), the
failures table and the feed-health table. The flow only publishes them."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO

from newsflow.digest import format_usd
from warehouse.reports import Digest, FeedHealthRow, RunFailureRow

_MAX_ROWS = 25


def _md(text: object) -> str:
    """Feed text inside a markdown table cell: no pipes, no line breaks, no raw HTML."""
    value = "" if text is None else str(text)
    return (
        value.replace("\\", "\\\\")
        .replace("|", "\\|")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\r", " ")
        .replace("\n", " ")
        .strip()
    )


def _link(title: str | None, url: str | None) -> str:
    label = _md(title or url or "")
    if url and url.lower().startswith(("http://", "https://")):
        return f"[{label.replace('[', '(').replace(']', ')')}]({url.replace(')', '%29').replace(' ', '%20')})"
    return label


def markdown_report(digest: Digest, totals: Mapping[str, int], digest_path: str | None = None) -> str:
    lines = [
        f"# Ingest run: {totals.get('articles_stored', 0)} articles stored, {totals.get('failures', 0)} failures",
        "",
    ]
    lines.append(
        f"{totals.get('feeds_polled', 0)} feeds polled ({totals.get('feeds_failed', 0)} failed, "
        f"{totals.get('feeds_not_modified', 0)} not modified), {totals.get('new_entries', 0)} new "
        f"entries, {totals.get('pages_fetched', 0)} pages fetched, "
        f"{totals.get('articles_tagged', 0)} articles tagged."
    )
    if digest_path:
        lines += ["", f"Latest digest: `{digest_path}` (open it in a browser; `newsflow digest` rewrites it)."]
    lines += ["", "## New arms deals", ""]
    if digest.deals:
        lines += ["| supplier → recipient | system | qty | value | status | story |", "|---|---|---|---|---|---|"]
        for d in digest.deals[:_MAX_ROWS]:
            lines.append(
                f"| {_md(d.supplier or '?')} → {_md(d.recipient or '?')} | {_md(d.system)} | "
                f"{_md(d.quantity)} | {format_usd(d.value_usd)} | {_md(d.status)} | {_link(d.title, d.url)} |"
            )
    else:
        lines.append("None in this run.")
    lines += ["", "## New sanction actions", ""]
    if digest.sanction_actions:
        lines += ["| action | by | target | regime | story |", "|---|---|---|---|---|"]
        for s in digest.sanction_actions[:_MAX_ROWS]:
            lines.append(
                f"| {_md(s.action)} | {_md(s.sanctioning)} | {_md(s.target)} | {_md(s.regime)} | "
                f"{_link(s.title, s.url)} |"
            )
    else:
        lines.append("None in this run.")
    lines += ["", "## Biggest new stories", ""]
    stories = [s for s in digest.top_stories if s.n_articles > 1][:10]
    if stories:
        lines += ["| copies | story | original | outlets |", "|---|---|---|---|"]
        for story in stories:
            lines.append(
                f"| {story.n_articles} | {_link(story.title, story.original_url)} | "
                f"{_md(story.original_source)} | {_md(', '.join(story.sources or []))} |"
            )
    else:
        lines.append("No story with copies in this run.")
    if len(digest.deals) > _MAX_ROWS or len(digest.sanction_actions) > _MAX_ROWS:
        lines += ["", f"(first {_MAX_ROWS} rows of each table; query the `deals` and `sanction_actions` views for all)"]
    return "\n".join(lines) + "\n"


def failure_table(failures: list[RunFailureRow]) -> list[dict[str, str]]:
    return [{"stage": f.stage, "url": f.url, "reason": f.reason, "next try": f.next_try} for f in failures]


def feed_health_table(feeds: list[FeedHealthRow]) -> list[dict[str, str]]:
    rows = []
    for f in feeds:
        health = (
            f"failing ({f.error_count} in a row)" if f.error_count else "ok" if f.last_polled_at else "never polled"
        )
        rows.append(
            {
                "feed": f.title or f.feed_url,
                "health": health,
                "failing since": f.failing_since.strftime("%Y-%m-%d %H:%M") if f.failing_since else "",
                "last error": f.last_error or "",
            }
        )
    return rows


@dataclass(frozen=True)
class RunReport:
    markdown: str
    failures: list[dict[str, str]]
    feeds: list[dict[str, str]]
    digest_path: Path | None


def build_run_report(
    lake_dir: Path, run_id: str, started_at: datetime, totals: Mapping[str, int], digest_path: Path | None = None
) -> RunReport:
    """Read what this run added back from the warehouse; also rewrite the week's digest page."""
    from newsflow.clock import utcnow
    from newsflow.digest import render_digest
    from warehouse import lake
    from warehouse.reports import read_digest, run_failures

    con = lake.connect(lake_dir, read_only=True)
    try:
        now = utcnow()
        this_run = read_digest(con, started_at, now)
        failures = run_failures(con, run_id)
        if digest_path is not None:
            digest_path.write_text(render_digest(read_digest(con, now - timedelta(days=7), now)), encoding="utf-8")
    finally:
        con.close()
    shown = f"file://{digest_path.resolve()}" if digest_path else None
    return RunReport(
        markdown=markdown_report(this_run, totals, shown),
        failures=failure_table(failures),
        feeds=feed_health_table(this_run.feeds),
        digest_path=digest_path,
    )


class TerminalProgress:
    """A one-line progress bar on a terminal; silent when stdout is a pipe, a log or CI."""

    def __init__(self, stream: TextIO | None = None, width: int = 30) -> None:
        self.stream = stream or sys.stdout
        self.width = width
        self.active = self.stream.isatty() and not os.environ.get("CI")

    def __call__(self, done: int, total: int) -> None:
        if not self.active or not total:
            return
        filled = int(self.width * done / total)
        self.stream.write(f"\r  [{'#' * filled}{'.' * (self.width - filled)}] {done}/{total} entries")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()
