"""The `newsflow` command line: ingest, sql, demo, retag, story."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
from pathlib import Path

from newsflow.quiet import configure_prefect_environment, silence_shutdown_noise

SUMMARY_LINES = [
    ("feeds_polled", "feeds polled"), ("feeds_failed", "feeds failed"), ("new_entries", "new entries"),
    ("pages_fetched", "pages fetched"), ("articles_stored", "articles stored"), ("failures", "failures"),
    ("stories", "stories (total)"), ("articles_tagged", "articles tagged"),
]


def _fail(message: str, code: int = 2) -> int:
    print(f"newsflow: {message}", file=sys.stderr)
    return code


def _data_dir(args: argparse.Namespace) -> Path:
    if getattr(args, "data_dir", None):
        return Path(args.data_dir)
    return Path(os.environ.get("NEWSFLOW_DATA_DIR", "data"))


def _run_ingest(feeds_file: Path, data_dir: Path, allow_private: bool, verbose: bool) -> dict:
    configure_prefect_environment(verbose)
    from flows.ingest import ingest

    return ingest(feeds_file=str(feeds_file), data_dir=str(data_dir), allow_private_networks=allow_private)


def _print_summary(totals: dict) -> None:
    print("newsflow ingest summary")
    for key, label in SUMMARY_LINES:
        print(f"  {label:<18} {totals.get(key, 0)}")
    print(f"  {'articles (total)':<18} {totals.get('articles_total', 0)}")


def _print_failures(data_dir: Path, limit: int = 20) -> None:
    from newsflow import connect

    con = connect(data_dir)
    try:
        rows = con.execute("""
            SELECT stage, url, error FROM failures
            WHERE run_id = (SELECT run_id FROM run_rows ORDER BY finished_at DESC LIMIT 1)
            ORDER BY stage, url LIMIT ?""", [limit]).fetchall()
    finally:
        con.close()
    if rows:
        print("failures in this run:")
        for stage, url, error in rows:
            print(f"  [{stage}] {error}")


def cmd_ingest(args: argparse.Namespace) -> int:
    """Run one ingest flow run over the feeds in FILE and print a summary."""
    from newsflow.feedlist import FeedListError, load_feed_list

    feeds = Path(args.feeds)
    try:
        load_feed_list(feeds)
    except FeedListError as exc:
        return _fail(str(exc))
    data_dir = _data_dir(args)
    try:
        totals = _run_ingest(feeds, data_dir, args.allow_private_networks, args.verbose)
    except Exception as exc:  # a systemic failure: report it in one line, exit non-zero
        if args.verbose:
            raise
        return _fail(f"ingest failed: {type(exc).__name__}: {exc}", 1)
    _print_summary(totals)
    _print_failures(data_dir)
    silence_shutdown_noise()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Serve the bundled sample news web on loopback, ingest it, and show the top stories."""
    import yaml

    from newsflow.demo_web import SampleWeb

    data_dir = Path(args.data_dir or "demo-data")
    with SampleWeb(base_port=args.port) as web, tempfile.TemporaryDirectory() as tmp:
        feeds_file = Path(tmp) / "demo-feeds.yaml"
        feeds_file.write_text(yaml.safe_dump({"feeds": web.feeds}), encoding="utf-8")
        print(f"serving the sample web: {len(web.sites)} sites on {web.host}, ports "
              f"{web.base_port}-{web.base_port + len(web.sites) - 1}")
        try:
            totals = _run_ingest(feeds_file, data_dir, True, args.verbose)
        except Exception as exc:
            if args.verbose:
                raise
            return _fail(f"demo ingest failed: {type(exc).__name__}: {exc}", 1)
    _print_summary(totals)
    _print_failures(data_dir)
    _print_top_stories(data_dir)
    print(f"\nquery it: newsflow sql --data-dir {data_dir} \"select * from stories\"")
    silence_shutdown_noise()
    return 0


def _print_top_stories(data_dir: Path, limit: int = 10) -> None:
    from newsflow import connect

    con = connect(data_dir)
    try:
        rows = con.execute("""
            SELECT s.n_articles, s.original_source, s.title,
                   coalesce((SELECT string_agg(DISTINCT t.tag, ',' ORDER BY t.tag) FROM article_tags t
                             JOIN articles a USING (article_id) WHERE a.story_id = s.story_id), '') AS tags
            FROM stories s
            ORDER BY s.n_articles DESC, tags DESC, s.first_published_at DESC LIMIT ?""", [limit]).fetchall()
    finally:
        con.close()
    print("\ntop stories (copies, original source, tags, title):")
    for n, source, title, tags in rows:
        print(f"  {n:>2}  {source or '?':<24} {tags or '-':<20} {title}")


def cmd_sql(args: argparse.Namespace) -> int:
    """Run a read-only SQL query against the warehouse; safe while an ingest is running."""
    import duckdb

    from newsflow import connect
    from warehouse.lake import WarehouseMissingError

    try:
        con = connect(_data_dir(args))
    except WarehouseMissingError as exc:
        return _fail(str(exc))
    try:
        cursor = con.execute(args.query)
        columns = [d[0] for d in cursor.description] if cursor.description else []
        rows = cursor.fetchall() if columns else []
    except duckdb.Error as exc:
        return _fail(f"query failed: {exc}")
    finally:
        con.close()
    _print_rows(columns, rows, args.format)
    return 0


def _print_rows(columns: list[str], rows: list[tuple], fmt: str) -> None:
    if fmt == "json":
        print(json.dumps([dict(zip(columns, row)) for row in rows], default=str, ensure_ascii=False))
    elif fmt == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows(rows)
    else:
        cells = [[("" if v is None else str(v)).replace("\n", " ") for v in row] for row in rows]
        widths = [min(60, max([len(c)] + [len(r[i]) for r in cells])) for i, c in enumerate(columns)]
        print("  ".join(c.ljust(w) for c, w in zip(columns, widths)))
        print("  ".join("-" * w for w in widths))
        for row in cells:
            print("  ".join(v[:w].ljust(w) for v, w in zip(row, widths)))
        print(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsflow", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    ingest = sub.add_parser("ingest", help=cmd_ingest.__doc__, description=cmd_ingest.__doc__)
    ingest.add_argument("--feeds", required=True, help="YAML (feeds: [{url, name}]) or OPML file")
    ingest.add_argument("--data-dir", help="warehouse directory (default: $NEWSFLOW_DATA_DIR or ./data)")
    ingest.add_argument("--allow-private-networks", action="store_true",
                        help="allow fetching loopback and private addresses (off by default)")
    ingest.add_argument("-v", "--verbose", action="store_true", help="show Prefect logs and tracebacks")
    ingest.set_defaults(func=cmd_ingest)

    sql = sub.add_parser("sql", help=cmd_sql.__doc__, description=cmd_sql.__doc__)
    sql.add_argument("query")
    sql.add_argument("--data-dir", help="warehouse directory (default: $NEWSFLOW_DATA_DIR or ./data)")
    sql.add_argument("--format", choices=["table", "csv", "json"], default="table")
    sql.set_defaults(func=cmd_sql)

    demo = sub.add_parser("demo", help=cmd_demo.__doc__, description=cmd_demo.__doc__)
    demo.add_argument("--data-dir", help="warehouse directory (default: ./demo-data)")
    demo.add_argument("--port", type=int, default=47810, help="first loopback port of the sample web")
    demo.add_argument("-v", "--verbose", action="store_true")
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
