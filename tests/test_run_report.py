"""What an ingest run shows in the Prefect UI, read back through the Prefect API: its logs, the
per-feed table, the markdown report, the failures and feed-health tables, and its progress."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from newsflow.run_report import TerminalProgress, markdown_report
from warehouse.reports import DealRow, Digest


def _run_artifacts_and_logs(flow_run_id: Any) -> tuple[list[Any], list[str]]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, LogFilter, LogFilterFlowRunId

    async def read() -> tuple[list[Any], list[str]]:
        async with get_client() as client:
            artifacts = await client.read_artifacts(
                artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
            )
            logs = await client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
            return artifacts, [log.message for log in logs]

    # Logs are shipped to the server in the background: give them a moment to land.
    for _ in range(20):
        artifacts, messages = asyncio.run(read())
        if any(m.startswith("batch ") for m in messages):
            break
        import time

        time.sleep(0.5)
    return artifacts, messages


def test_a_run_publishes_logs_and_artifacts_a_person_can_read(demo_warehouse):
    data_dir, totals, _, flow_run_id = demo_warehouse
    artifacts, messages = _run_artifacts_and_logs(flow_run_id)
    by_key = {a.key: a for a in artifacts if a.key}
    assert {"ingest-summary", "ingest-report", "ingest-failures", "feed-health", "ingest-progress"} <= set(by_key)

    report = by_key["ingest-report"].data
    assert report.startswith(f"# Ingest run: {totals['articles_stored']} articles stored")
    assert "## New arms deals" in report and "Russia → India" in report and "S-400" in report
    assert "## New sanction actions" in report and "CAATSA" in report
    assert "## Biggest new stories" in report and "Northline Wire" in report
    assert "digest.html" in report and (data_dir / "digest.html").exists()

    failures = json.loads(by_key["ingest-failures"].data)  # table artifacts come back as JSON
    assert len(failures) == totals["failures"] == 2
    assert all(row["next try"] in ("never", "next run") for row in failures)
    assert {row["health"] for row in json.loads(by_key["feed-health"].data)} == {"ok"}
    assert by_key["ingest-progress"].data == 100.0

    # The run's own INFO logs, shown in the UI's Logs tab.
    assert any(m.startswith("polled 6 feeds") for m in messages), messages
    batch_lines = [m for m in messages if m.startswith("batch ")]
    assert batch_lines and any("new stories" in m and "arms_deal" in m for m in batch_lines), batch_lines
    assert any(m.startswith("fetch failed:") or m.startswith("extract failed:") for m in messages), messages


def test_report_tables_cannot_be_broken_by_feed_text():
    deal = DealRow(
        story_id="s",
        published_at=None,
        supplier="A|B",
        recipient="C\nD",
        system="<X>",
        category=None,
        quantity=2,
        value_usd=2.5e9,
        status="ordered",
        title="T [1]",
        url="https://news.test/a b",
    )
    digest = Digest(
        since=None,
        generated_at=None,
        deals=[deal],
        sanction_actions=[],
        top_stories=[],
        feeds=[],  # type: ignore[arg-type]
        articles_since=1,
    )
    report = markdown_report(digest, {"articles_stored": 1, "failures": 0})
    row = next(line for line in report.splitlines() if line.startswith("| A"))
    assert row.count(" | ") == 5  # the pipe in a name does not add a column
    assert "A\\|B → C D" in row and "&lt;X&gt;" in row and "$2.50 bn" in row
    assert "(https://news.test/a%20b)" in row


def test_progress_bar_only_on_a_terminal(tmp_path):
    with open(tmp_path / "out.txt", "w") as not_a_terminal:
        bar = TerminalProgress(not_a_terminal)
        bar(5, 10)
    assert (tmp_path / "out.txt").read_text() == ""
