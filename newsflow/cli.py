"""The `newsflow` command line: ingest, sql, feeds, demo, retag, story, info."""

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
    ("feeds_polled", "feeds polled"), ("feeds_failed", "feeds failed"), ("feeds_not_due", "feeds not due"),
    ("new_entries", "new entries"),
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


def _open_read_only(args: argparse.Namespace):
    """A read-only connection to the warehouse, or None after saying why there is none."""
    from newsflow import connect
    from warehouse.lake import WarehouseMissingError

    try:
        return connect(_data_dir(args))
    except WarehouseMissingError as exc:
        _fail(str(exc))
        return None


def _run_ingest(feeds_file: Path | None, data_dir: Path, allow_private: bool, verbose: bool,
                poll_all: bool = False, obey_robots: bool | None = None) -> dict:
    configure_prefect_environment(verbose)
    from flows.ingest import ingest

    return ingest(feeds_file=str(feeds_file) if feeds_file else None, data_dir=str(data_dir),
                  allow_private_networks=allow_private, poll_all=poll_all, obey_robots=obey_robots)


def _subscription_count(data_dir: Path) -> int:
    import duckdb

    from newsflow import connect
    from warehouse.lake import WarehouseMissingError

    try:
        con = connect(data_dir)
    except WarehouseMissingError:
        return 0
    try:
        return con.execute("SELECT count(*) FROM subscriptions").fetchone()[0]
    except duckdb.Error:
        return 0
    finally:
        con.close()


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
        total = con.execute("""SELECT count(*) FROM failures
            WHERE run_id = (SELECT run_id FROM run_rows ORDER BY finished_at DESC LIMIT 1)""").fetchone()[0]
    finally:
        con.close()
    if rows:
        print("failures in this run:")
        for stage, url, error in rows:
            print(f"  [{stage}] {error}")
        if total > len(rows):
            print(f"  … and {total - len(rows)} more: newsflow sql \"SELECT * FROM failures\"")


def cmd_ingest(args: argparse.Namespace) -> int:
    """Run one ingest flow run over the due feeds (in FILE and the imported ones) and print a summary."""
    from newsflow.feedlist import FeedListError, load_feed_list

    feeds = Path(args.feeds) if args.feeds else None
    data_dir = _data_dir(args)
    if feeds is not None:
        try:
            load_feed_list(feeds)
        except FeedListError as exc:
            return _fail(str(exc))
    elif not _subscription_count(data_dir):
        return _fail("no feeds to poll: pass --feeds FILE, or add feeds with `newsflow feeds import FILE.opml`")
    from newsflow.runlock import RunLockTimeout, run_lock

    try:
        with run_lock(data_dir):  # a second run on this data dir waits for the first (see README)
            totals = _run_ingest(feeds, data_dir, args.allow_private_networks, args.verbose,
                                 poll_all=args.all, obey_robots=False if args.ignore_robots else None)
    except RunLockTimeout as exc:
        return _fail(str(exc), 3)
    except Exception as exc:  # a systemic failure: report it in one line, exit non-zero
        if args.verbose:
            raise
        from warehouse.storage import explain

        problem = explain(exc, data_dir)   # a full or read-only disk says so, without a raw IOException
        return _fail(f"ingest failed: {problem}" if problem else f"ingest failed: {type(exc).__name__}: {exc}", 1)
    _print_summary(totals)
    _print_failures(data_dir)
    silence_shutdown_noise()
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Serve the bundled sample news web on loopback, ingest it, and show the top stories."""
    import yaml

    from newsflow.demo_web import SampleWeb

    data_dir = Path(args.data_dir or "demo-data")
    web = SampleWeb(base_port=args.port)
    try:
        web.__enter__()
    except OSError as exc:
        return _fail(f"cannot serve the sample web on 127.0.0.1 ports {args.port}-{args.port + len(web.sites) - 1} "
                     f"({exc.strerror}); free them or pass --port N")
    with web, tempfile.TemporaryDirectory() as tmp:
        feeds_file = Path(tmp) / "demo-feeds.yaml"
        feeds_file.write_text(yaml.safe_dump({"feeds": web.feeds}), encoding="utf-8")
        print(f"serving the sample web: {len(web.sites)} sites on {web.host}, ports "
              f"{web.base_port}-{web.base_port + len(web.sites) - 1}")
        try:
            totals = _run_ingest(feeds_file, data_dir, True, args.verbose, poll_all=True)
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


def cmd_retag(args: argparse.Namespace) -> int:
    """Re-run the tagger over stored text (no fetching), replacing tags from older tagger versions."""
    from flows.retag import retag_articles
    from newsflow.settings import Settings

    settings = Settings(data_dir=_data_dir(args))
    if not (settings.lake_dir / "catalog.sqlite").exists():
        return _fail(f"no warehouse at {settings.lake_dir}: run `newsflow ingest` first")
    result = retag_articles(settings.lake_dir, args.all)
    print(f"retagged {result['articles_retagged']} articles; {result['articles_tagged']} carry a tag")
    return 0


def cmd_story(args: argparse.Namespace) -> int:
    """Print a story's copies: which is the original, who each credits, and why it joined."""
    con = _open_read_only(args)
    if con is None:
        return 2
    try:
        story = con.execute("""SELECT story_id, title, original_source, n_articles, first_published_at FROM stories
                               WHERE story_id = ? OR story_id LIKE ? || '%'""", [args.story_id.strip(), args.story_id.strip()]).fetchall()
        if len(story) != 1:
            return _fail(f"no story {args.story_id!r}" if not story else f"{args.story_id!r} matches {len(story)} stories")
        story_id, title, original_source, n_articles, first = story[0]
        copies = con.execute("""
            SELECT article_id, is_original, source, syndicated_from, attribution, story_reason, story_similarity,
                   story_matched_article_id, published_at, version, url
            FROM articles WHERE story_id = ? ORDER BY NOT is_original, published_at NULLS LAST, article_id""",
                             [story_id]).fetchall()
    finally:
        con.close()
    print(f"story {story_id}: {title}")
    print(f"  original source: {original_source}; {n_articles} article(s); first published {first}")
    for (article_id, original, source, synd, attribution, reason, similarity, matched, published, version, url) in copies:
        why = {"new_story": "started the story", "exact_hash": f"same text as {matched}",
               "near_duplicate": f"near-duplicate of {matched} (Jaccard ≈ {similarity})",
               "contained": f"contains or is contained in {matched} (containment ≈ {similarity})",
               "canonical_url": f"same page as {matched}", "update": f"new version of {matched}"}.get(reason, reason)
        role = "ORIGINAL" if original else f"copy of {synd} ({attribution})" if synd else "copy"
        print(f"  - {article_id} [{role}] {source}, {published}, v{version}\n      {url}\n      joined: {why}")
    return 0


def cmd_sql(args: argparse.Namespace) -> int:
    """Run a read-only SQL query against the warehouse; safe while an ingest is running."""
    import duckdb

    con = _open_read_only(args)
    if con is None:
        return 2
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


def cmd_feeds_import(args: argparse.Namespace) -> int:
    """Subscribe to the feeds in an OPML (or YAML) file; `ingest` polls them from then on."""
    from newsflow.feedlist import FeedListError, load_feed_list
    from newsflow.settings import Settings
    from warehouse.store import Warehouse

    try:
        sources = load_feed_list(Path(args.file))
    except FeedListError as exc:
        return _fail(str(exc))
    if not sources:
        return _fail(f"{args.file} lists no http(s) feeds")
    warehouse = Warehouse(Settings(data_dir=_data_dir(args)).lake_dir)
    try:
        added = warehouse.add_subscriptions(sources)
    finally:
        warehouse.close()
    print(f"imported {len(sources)} feed{'s' if len(sources) != 1 else ''} from {args.file}: "
          f"{added} new, {len(sources) - added} already subscribed")
    return 0


def _known_feeds(data_dir: Path) -> list[tuple]:
    from newsflow import connect

    con = connect(data_dir)
    try:
        return con.execute("""
            SELECT feed_url, title, last_polled_at, last_status, error_count, next_poll_at, last_error
            FROM feeds ORDER BY coalesce(title, feed_url), feed_url""").fetchall()
    finally:
        con.close()


def cmd_feeds_export(args: argparse.Namespace) -> int:
    """Write every feed the warehouse knows (imported or polled) as OPML, to stdout or --output."""
    from newsflow.feedlist import to_opml
    from newsflow.models import FeedSource
    from warehouse.lake import WarehouseMissingError

    try:
        rows = _known_feeds(_data_dir(args))
    except WarehouseMissingError as exc:
        return _fail(str(exc))
    document = to_opml([FeedSource(url=row[0], name=row[1]) for row in rows])
    if args.output:
        Path(args.output).write_text(document, encoding="utf-8")
        print(f"wrote {len(rows)} feeds to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(document)
    return 0


def cmd_feeds_list(args: argparse.Namespace) -> int:
    """List every feed with its health: last poll, status, errors in a row, next poll, last error."""
    from warehouse.lake import WarehouseMissingError

    try:
        rows = _known_feeds(_data_dir(args))
    except WarehouseMissingError as exc:
        return _fail(str(exc))
    columns = ["feed_url", "title", "health", "last_polled_at", "last_status", "error_count", "next_poll_at",
               "last_error"]
    table = []
    for url, title, polled, status, errors, next_poll, error in rows:
        health = "never polled" if polled is None else ("ok" if not errors else f"failing ({errors} in a row)")
        table.append((url, title, health, polled, status, errors, next_poll, error))
    _print_rows(columns, table, args.format)
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    """Describe the warehouse: where it is, its schema version, what it holds, and the last run."""
    from warehouse.migrations import SCHEMA_VERSION, schema_version

    con = _open_read_only(args)
    if con is None:
        return 2
    try:
        version = schema_version(con)
        articles, stories = con.execute("SELECT count(*), count(DISTINCT story_id) FROM articles").fetchone()
        feeds = con.execute("SELECT count(*) FROM feeds").fetchone()[0]
        last = con.execute("SELECT max(finished_at) FROM run_rows").fetchone()[0]
    finally:
        con.close()
    note = {True: "current", False: "older: the next ingest migrates it forward"}[version == SCHEMA_VERSION]
    if version > SCHEMA_VERSION:
        note = "newer than this newsflow: upgrade newsflow before writing to it"
    print(f"data directory   {_data_dir(args).absolute()}")
    print(f"schema version   {version} ({note}; this newsflow writes version {SCHEMA_VERSION})")
    print(f"articles         {articles} in {stories} stories, from {feeds} feeds")
    print(f"last run         {last or 'never'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsflow", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    ingest = sub.add_parser("ingest", help=cmd_ingest.__doc__, description=cmd_ingest.__doc__)
    ingest.add_argument("--feeds", help="YAML (feeds: [{url, name}]) or OPML file; optional once feeds "
                                        "are imported with `newsflow feeds import`")
    ingest.add_argument("--data-dir", help="warehouse directory (default: $NEWSFLOW_DATA_DIR or ./data)")
    ingest.add_argument("--allow-private-networks", action="store_true",
                        help="allow fetching loopback and private addresses (off by default)")
    ingest.add_argument("--all", action="store_true",
                        help="poll every feed now, not only those whose next poll time has come")
    ingest.add_argument("--ignore-robots", action="store_true",
                        help="fetch article pages even where robots.txt disallows it")
    ingest.add_argument("-v", "--verbose", action="store_true", help="show Prefect logs and tracebacks")
    ingest.set_defaults(func=cmd_ingest)

    feeds = sub.add_parser("feeds", help="import, export and list the feeds newsflow polls",
                           description="Import, export and list the feeds newsflow polls.")
    feeds_sub = feeds.add_subparsers(dest="feeds_command", required=True)
    feeds_import = feeds_sub.add_parser("import", help=cmd_feeds_import.__doc__, description=cmd_feeds_import.__doc__)
    feeds_import.add_argument("file", help="OPML (or YAML) file of feeds")
    feeds_export = feeds_sub.add_parser("export", help=cmd_feeds_export.__doc__, description=cmd_feeds_export.__doc__)
    feeds_export.add_argument("-o", "--output", help="file to write (default: stdout)")
    feeds_list = feeds_sub.add_parser("list", help=cmd_feeds_list.__doc__, description=cmd_feeds_list.__doc__)
    feeds_list.add_argument("--format", choices=["table", "csv", "json"], default="table")
    for command, func in ((feeds_import, cmd_feeds_import), (feeds_export, cmd_feeds_export),
                          (feeds_list, cmd_feeds_list)):
        command.add_argument("--data-dir", help="warehouse directory (default: $NEWSFLOW_DATA_DIR or ./data)")
        command.set_defaults(func=func)

    retag = sub.add_parser("retag", help=cmd_retag.__doc__, description=cmd_retag.__doc__)
    retag.add_argument("--data-dir", help="warehouse directory (default: $NEWSFLOW_DATA_DIR or ./data)")
    retag.add_argument("--all", action="store_true", help="retag every article, not only stale ones")
    retag.set_defaults(func=cmd_retag)

    story = sub.add_parser("story", help=cmd_story.__doc__, description=cmd_story.__doc__)
    story.add_argument("story_id", help="a story id (or a unique prefix of one)")
    story.add_argument("--data-dir", help="warehouse directory (default: $NEWSFLOW_DATA_DIR or ./data)")
    story.set_defaults(func=cmd_story)

    sql = sub.add_parser("sql", help=cmd_sql.__doc__, description=cmd_sql.__doc__)
    sql.add_argument("query")
    sql.add_argument("--data-dir", help="warehouse directory (default: $NEWSFLOW_DATA_DIR or ./data)")
    sql.add_argument("--format", choices=["table", "csv", "json"], default="table")
    sql.set_defaults(func=cmd_sql)

    info = sub.add_parser("info", help=cmd_info.__doc__, description=cmd_info.__doc__)
    info.add_argument("--data-dir", help="warehouse directory (default: $NEWSFLOW_DATA_DIR or ./data)")
    info.set_defaults(func=cmd_info)

    demo = sub.add_parser("demo", help=cmd_demo.__doc__, description=cmd_demo.__doc__)
    demo.add_argument("--data-dir", help="warehouse directory (default: ./demo-data)")
    demo.add_argument("--port", type=int, default=47810, help="first loopback port of the sample web")
    demo.add_argument("-v", "--verbose", action="store_true")
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:
        # The reader went away (`newsflow sql … | head`): not an error, and no traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
