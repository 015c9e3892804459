"""The README cannot rot: every SQL example in it runs against a real warehouse, and every CLI
command and public view is documented in it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import newsflow
from newsflow.cli import build_parser
from warehouse import lake

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
# `newsflow sql "…"` in the README's shell examples; the query may span lines.
SQL_EXAMPLES = [q for q in re.findall(r'newsflow sql "(.*?)"', README, flags=re.S) if q.strip() != "QUERY"]


@pytest.fixture(scope="module")
def small_warehouse(plain_ingest) -> Path:
    """A warehouse built by a real ingest (plain Python, no Prefect) of a small loopback news web."""
    assert plain_ingest.result.totals["articles_stored"] == 5
    data_dir: Path = plain_ingest.data_dir
    return data_dir


def test_the_readme_has_sql_examples():
    assert len(SQL_EXAMPLES) >= 6


@pytest.mark.parametrize("sql", SQL_EXAMPLES, ids=[" ".join(q.split())[:60] for q in SQL_EXAMPLES])
def test_every_readme_sql_example_runs(small_warehouse, sql):
    con = newsflow.connect(small_warehouse)
    try:
        cursor = con.execute(sql)
        assert cursor.description, "an example should return columns"
        cursor.fetchall()
    finally:
        con.close()


def test_the_readme_examples_find_the_ingested_stories_and_deals(small_warehouse):
    con = newsflow.connect(small_warehouse)
    try:
        results = [con.execute(sql).fetchall() for sql in SQL_EXAMPLES]
    finally:
        con.close()
    # All but the "this month" example (dated fixtures) see the sample news.
    assert sum(1 for rows in results if rows) >= len(SQL_EXAMPLES) - 1


def _commands() -> list[str]:
    parser = build_parser()
    [sub] = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
    commands = []
    for name, command in sub.choices.items():  # type: ignore[attr-defined]
        nested = [a for a in command._actions if a.__class__.__name__ == "_SubParsersAction"]
        if nested:
            commands.extend(f"{name} {child}" for child in nested[0].choices)
        else:
            commands.append(name)
    return commands


def test_every_cli_command_is_in_the_readme():
    commands = _commands()
    assert {"ingest", "sql", "feeds import", "feeds list"} <= set(commands)
    usage = README.split("## Command line", 1)[1].split("\n## ", 1)[0]
    missing = [
        c
        for c in commands
        if not re.search(rf"newsflow {re.escape(c)}\b", usage)
        and not (" " in c and re.search(rf"\b{re.escape(c.split()[1])}\b", usage))
    ]
    assert missing == [], f"README's 'Command line' section does not document: {missing}"


def test_every_public_view_is_in_the_readme(small_warehouse):
    con = newsflow.connect(small_warehouse)
    try:
        views = {
            name
            for (name,) in con.execute(
                "SELECT view_name FROM duckdb_views() WHERE database_name = ? AND NOT internal", [lake.CATALOG_NAME]
            ).fetchall()
        }
    finally:
        con.close()
    public = views - lake.INTERNAL_VIEWS
    assert {"articles", "stories", "entities", "failures"} <= public
    missing = sorted(v for v in public if not re.search(rf"`{v}`", README))
    assert missing == [], f"README does not document these public views: {missing}"
