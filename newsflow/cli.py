"""The `newsflow` command line: ingest, sql, feeds, demo, retag, story, info."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newsflow.quiet import silence_shutdown_noise

if TYPE_CHECKING:
    from newsflow import run_mode
    from newsflow.pipeline import Extractor
    from newsflow.settings import Settings
    from warehouse.reader import FeedHealth, Reader

SUMMARY_LINES = [
    ("feeds_polled", "feeds polled"),
    ("feeds_failed", "feeds failed"),
    ("feeds_not_due", "feeds not due"),
    ("new_entries", "new entries"),
    ("pages_fetched", "pages fetched"),
    ("articles_stored", "articles stored"),
    ("failures", "failures"),
    ("stories", "stories (total)"),
    ("articles_tagged", "articles tagged"),
]


def _fail(message: str, code: int = 2) -> int:
    print(f"newsflow: {message}", file=sys.stderr)
    return code


def _data_dir(args: argparse.Namespace) -> Path:
    if getattr(args, "data_dir", None):
        return Path(args.data_dir)
    return Path(os.environ.get("NEWSFLOW_DATA_DIR", "data"))


def _reader(data_dir: Path) -> Reader:
    """Read-only access to the warehouse; raises WarehouseMissingError when there is none."""
    from newsflow.settings import Settings
    from warehouse.reader import Reader

    return Reader(Settings(data_dir=data_dir).lake_dir)


def _open_read_only(args: argparse.Namespace) -> Reader | None:
    """Read-only access to the warehouse, or None after saying why there is none."""
    from warehouse.lake import WarehouseMissingError

    try:
        return _reader(_data_dir(args))
    except WarehouseMissingError as exc:
        _fail(str(exc))
        return None


def _run_ingest(
    feeds_file: Path | None,
    data_dir: Path,
    allow_private: bool,
    verbose: bool,
    poll_all: bool = False,
    obey_robots: bool | None = None,
) -> dict[str, int]:
    """Plain Python, or the Prefect flow when a Prefect server is configured (newsflow/run_mode.py)."""
    from newsflow import run_mode

    request = run_mode.IngestRequest(feeds_file, data_dir, allow_private, verbose, poll_all, obey_robots)
    return run_mode.run(request, lambda line: print(f"newsflow: {line}", file=sys.stderr), _run_flow, _extractor)


def _run_flow(request: run_mode.IngestRequest) -> dict[str, int]:
    from newsflow.quiet import configure_prefect_environment

    configure_prefect_environment(request.verbose)
    # Prefect's client retries a lost server with backoff (2+4+8+16+32 s per request by default);
    # a CLI run whose server went away finishes without it instead (newsflow/run_mode.py), so it
    # need not wait a minute per call first.
    os.environ.setdefault("PREFECT_CLIENT_MAX_RETRIES", "2")
    from flows.ingest import ingest

    totals: dict[str, int] = ingest(
        feeds_file=str(request.feeds_file) if request.feeds_file else None,
        data_dir=str(request.data_dir),
        allow_private_networks=request.allow_private,
        poll_all=request.poll_all,
        obey_robots=request.obey_robots,
    )
    return totals


def _extractor(settings: Settings) -> Extractor:
    """The plain run's extractor: the local process pool, or Dask when configured (which
    imports Prefect)."""
    if settings.task_runner == "dask":
        from flows.task_runner import extractor_for

        return extractor_for(settings)
    from newsflow.pipeline import local_extractor

    return local_extractor(settings)


def _subscription_count(data_dir: Path) -> int:
    from warehouse.lake import WarehouseMissingError

    try:
        with _reader(data_dir) as reader:
            return reader.subscription_count()
    except WarehouseMissingError:
        return 0


def _print_summary(totals: dict[str, int]) -> None:
    print("newsflow ingest summary")
    for key, label in SUMMARY_LINES:
        print(f"  {label:<18} {totals.get(key, 0)}")
    print(f"  {'articles (total)':<18} {totals.get('articles_total', 0)}")


def _print_failures(data_dir: Path, limit: int = 20) -> None:
    with _reader(data_dir) as reader:
        rows, total = reader.last_run_failures(limit)
    if rows:
        print("failures in this run:")
        for failure in rows:
            print(f"  [{failure.stage}] {failure.error}")
        if total > len(rows):
            print(f'  … and {total - len(rows)} more: newsflow sql "SELECT * FROM failures"')


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
            totals = _run_ingest(
                feeds,
                data_dir,
                args.allow_private_networks,
                args.verbose,
                poll_all=args.all,
                obey_robots=False if args.ignore_robots else None,
            )
    except RunLockTimeout as exc:
        return _fail(str(exc), 3)
    except Exception as exc:  # a systemic failure: report it in one line, exit non-zero
        if args.verbose:
            raise
        from warehouse.storage import explain

        problem = explain(exc, data_dir)  # a full or read-only disk says so, without a raw IOException
        return _fail(f"ingest failed: {problem}" if problem else f"ingest failed: {type(exc).__name__}: {exc}", 1)
    _print_summary(totals)
    if totals.get("failures"):  # a run without failures need not open the warehouse again
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
        return _fail(
            f"cannot serve the sample web on 127.0.0.1 ports {args.port}-{args.port + len(web.sites) - 1} "
            f"({exc.strerror}); free them or pass --port N"
        )
    with web, tempfile.TemporaryDirectory() as tmp:
        feeds_file = Path(tmp) / "demo-feeds.yaml"
        feeds_file.write_text(yaml.safe_dump({"feeds": web.feeds}), encoding="utf-8")
        print(
            f"serving the sample web: {len(web.sites)} sites on {web.host}, ports "
            f"{web.base_port}-{web.base_port + len(web.sites) - 1}"
        )
        try:
            totals = _run_ingest(feeds_file, data_dir, True, args.verbose, poll_all=True)
        except Exception as exc:
            if args.verbose:
                raise
            return _fail(f"demo ingest failed: {type(exc).__name__}: {exc}", 1)
    _print_summary(totals)
    _print_failures(data_dir)
    _print_top_stories(data_dir)
    print(f'\nquery it: newsflow sql --data-dir {data_dir} "select * from stories"')
    silence_shutdown_noise()
    return 0


def _print_top_stories(data_dir: Path, limit: int = 10) -> None:
    with _reader(data_dir) as reader:
        stories = reader.top_stories(limit)
    print("\ntop stories (copies, original source, tags, title):")
    for s in stories:
        print(f"  {s.n_articles:>2}  {s.original_source or '?':<24} {s.tags or '-':<20} {s.title}")


def cmd_retag(args: argparse.Namespace) -> int:
    """Re-run the tagger over stored text (no fetching), replacing tags from older tagger versions."""
    from newsflow.retagging import retag_articles
    from newsflow.settings import Settings
    from warehouse.lake import WarehouseMissingError, connect

    settings = Settings(data_dir=_data_dir(args))
    try:
        connect(settings.lake_dir, read_only=True).close()  # the SQLite file or the configured catalog
    except WarehouseMissingError as exc:
        return _fail(str(exc))
    result = retag_articles(settings.lake_dir, args.all)
    print(f"retagged {result['articles_retagged']} articles; {result['articles_tagged']} carry a tag")
    return 0


def cmd_story(args: argparse.Namespace) -> int:
    """Print a story's copies: which is the original, who each credits, and why it joined."""
    reader = _open_read_only(args)
    if reader is None:
        return 2
    with reader:
        found = reader.stories_matching(args.story_id)
        if len(found) != 1:
            return _fail(
                f"no story {args.story_id!r}" if not found else f"{args.story_id!r} matches {len(found)} stories"
            )
        story = found[0]
        copies = reader.story_copies(story.story_id)
    print(f"story {story.story_id}: {story.title}")
    print(
        f"  original source: {story.original_source}; {story.n_articles} article(s); "
        f"first published {story.first_published_at}"
    )
    for c in copies:
        matched, similarity = c.story_matched_article_id, c.story_similarity
        why = {
            "new_story": "started the story",
            "exact_hash": f"same text as {matched}",
            # The similarity that decided the join, with its measure's name (jaccard or containment).
            "near_duplicate": f"near-duplicate of {matched} ({c.story_measure or 'jaccard'} {similarity})",
            "contained": f"contains or is contained in {matched} ({c.story_measure or 'containment'} {similarity})",
            "canonical_url": f"same page as {matched}",
            "update": f"new version of {matched}",
        }.get(c.story_reason or "", c.story_reason)
        role = (
            "ORIGINAL"
            if c.is_original
            else f"copy of {c.syndicated_from} ({c.attribution})"
            if c.syndicated_from
            else "copy"
        )
        print(
            f"  - {c.article_id} [{role}] {c.source}, {c.published_at}, v{c.version}\n      {c.url}\n"
            f"      joined: {why}"
        )
    return 0


def cmd_sql(args: argparse.Namespace) -> int:
    """Run a read-only SQL query against the warehouse; safe while an ingest is running."""
    import duckdb

    reader = _open_read_only(args)
    if reader is None:
        return 2
    try:
        with reader:
            result = reader.query(args.query)
    except duckdb.Error as exc:
        return _fail(f"query failed: {exc}")
    _print_rows(result.columns, result.rows, args.format)
    return 0


def _print_rows(columns: list[str], rows: Sequence[tuple[Any, ...]], fmt: str) -> None:
    if fmt == "json":
        print(json.dumps([dict(zip(columns, row, strict=True)) for row in rows], default=str, ensure_ascii=False))
    elif fmt == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows(rows)
    else:
        cells = [[("" if v is None else str(v)).replace("\n", " ") for v in row] for row in rows]
        widths = [min(60, max([len(c)] + [len(r[i]) for r in cells])) for i, c in enumerate(columns)]
        print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
        print("  ".join("-" * w for w in widths))
        for row in cells:
            print("  ".join(v[:w].ljust(w) for v, w in zip(row, widths, strict=True)))
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
    print(
        f"imported {len(sources)} feed{'s' if len(sources) != 1 else ''} from {args.file}: "
        f"{added} new, {len(sources) - added} already subscribed"
    )
    return 0


def _known_feeds(data_dir: Path) -> list[FeedHealth]:
    with _reader(data_dir) as reader:
        return reader.known_feeds()


def cmd_feeds_export(args: argparse.Namespace) -> int:
    """Write every feed the warehouse knows (imported or polled) as OPML, to stdout or --output."""
    from newsflow.feedlist import to_opml
    from newsflow.models import FeedSource
    from warehouse.lake import WarehouseMissingError

    try:
        rows = _known_feeds(_data_dir(args))
    except WarehouseMissingError as exc:
        return _fail(str(exc))
    document = to_opml([FeedSource(url=feed.feed_url, name=feed.title) for feed in rows])
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
    columns = [
        "feed_url",
        "title",
        "health",
        "last_polled_at",
        "last_status",
        "error_count",
        "next_poll_at",
        "last_error",
    ]
    table = [
        (f.feed_url, f.title, f.health, f.last_polled_at, f.last_status, f.error_count, f.next_poll_at, f.last_error)
        for f in rows
    ]
    _print_rows(columns, table, args.format)
    return 0


def cmd_digest(args: argparse.Namespace) -> int:
    """Write one self-contained HTML page: new deals and sanction actions, deal values over time,
    the most-copied stories and feed health since --since (default 7d)."""
    from newsflow.clock import utcnow
    from newsflow.digest import parse_since, render_digest
    from warehouse.reports import read_digest

    try:
        window = parse_since(args.since)
    except ValueError as exc:
        return _fail(str(exc))
    reader = _open_read_only(args)
    if reader is None:
        return 2
    now = utcnow()
    with reader:
        page = render_digest(read_digest(reader.con, now - window, now))
    output = Path(args.output)
    output.write_text(page, encoding="utf-8")
    print(f"digest written to {output} ({len(page) // 1024} KiB)")
    return 0


def cmd_automations_apply(args: argparse.Namespace) -> int:
    """Create or update the Prefect automations in automations.yaml (failed, crashed or stuck
    ingest runs notify --webhook-url) on the server in PREFECT_API_URL."""
    import asyncio

    from flows.automations import api_url, apply

    if not api_url():
        return _fail(
            "PREFECT_API_URL is not set: automations live on a Prefect server; start one "
            "(`prefect server start`) and `prefect config set PREFECT_API_URL=http://127.0.0.1:4200/api`"
        )
    durations: list[float] = []
    data_dir = _data_dir(args)
    if (data_dir / "lake" / "catalog.sqlite").exists():
        from warehouse.reports import recent_run_durations

        with _reader(data_dir) as reader:
            durations = recent_run_durations(reader.con)
    try:
        applied = asyncio.run(apply(args.webhook_url, durations, allow_private_urls=args.allow_private_networks))
    except Exception as exc:  # the server's refusal or absence, said plainly
        return _fail(f"could not apply automations: {type(exc).__name__}: {exc}", 1)
    for automation in applied:
        extra = f" (after {automation.within_s} s)" if automation.within_s else ""
        print(f"applied: {automation.name}{extra}")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    """Describe the warehouse: where it is, its schema version, what it holds, and the last run."""
    from warehouse.migrations import SCHEMA_VERSION, schema_version

    reader = _open_read_only(args)
    if reader is None:
        return 2
    with reader:
        version = schema_version(reader.con)
        articles, stories, feeds, last = reader.summary()
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
    ingest.add_argument(
        "--feeds",
        help="YAML (feeds: [{url, name}]) or OPML file; optional once feeds are imported with `newsflow feeds import`",
    )
    ingest.add_argument("--data-dir", help="warehouse directory (default: $NEWSFLOW_DATA_DIR or ./data)")
    ingest.add_argument(
        "--allow-private-networks",
        action="store_true",
        help="allow fetching loopback and private addresses (off by default)",
    )
    ingest.add_argument(
        "--all", action="store_true", help="poll every feed now, not only those whose next poll time has come"
    )
    ingest.add_argument(
        "--ignore-robots", action="store_true", help="fetch article pages even where robots.txt disallows it"
    )
    ingest.add_argument("-v", "--verbose", action="store_true", help="show Prefect logs and tracebacks")
    ingest.set_defaults(func=cmd_ingest)

    feeds = sub.add_parser(
        "feeds",
        help="import, export and list the feeds newsflow polls",
        description="Import, export and list the feeds newsflow polls.",
    )
    feeds_sub = feeds.add_subparsers(dest="feeds_command", required=True)
    feeds_import = feeds_sub.add_parser("import", help=cmd_feeds_import.__doc__, description=cmd_feeds_import.__doc__)
    feeds_import.add_argument("file", help="OPML (or YAML) file of feeds")
    feeds_export = feeds_sub.add_parser("export", help=cmd_feeds_export.__doc__, description=cmd_feeds_export.__doc__)
    feeds_export.add_argument("-o", "--output", help="file to write (default: stdout)")
    feeds_list = feeds_sub.add_parser("list", help=cmd_feeds_list.__doc__, description=cmd_feeds_list.__doc__)
    feeds_list.add_argument("--format", choices=["table", "csv", "json"], default="table")
    for command, func in (
        (feeds_import, cmd_feeds_import),
        (feeds_export, cmd_feeds_export),
        (feeds_list, cmd_feeds_list),
    ):
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

    digest = sub.add_parser("digest", help=cmd_digest.__doc__, description=cmd_digest.__doc__)
    digest.add_argument("--since", default="7d", help="how far back: 48h, 7d, 2w (default 7d)")
    digest.add_argument("-o", "--output", default="digest.html", help="the HTML file to write (default digest.html)")
    digest.add_argument("--data-dir", type=Path)
    digest.set_defaults(func=cmd_digest)
    automations = sub.add_parser("automations", help="Prefect automations that notify on failed or stuck runs")
    automations_sub = automations.add_subparsers(dest="automations_command", required=True)
    automations_apply = automations_sub.add_parser(
        "apply", help=cmd_automations_apply.__doc__, description=cmd_automations_apply.__doc__
    )
    automations_apply.add_argument("--webhook-url", required=True, help="where notifications are POSTed")
    automations_apply.add_argument(
        "--allow-private-networks", action="store_true", help="allow a webhook on a private or loopback address"
    )
    automations_apply.add_argument("--data-dir", type=Path)
    automations_apply.set_defaults(func=cmd_automations_apply)
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
        code: int = args.func(args)
        return code
    except BrokenPipeError:
        # The reader went away (`newsflow sql … | head`): not an error, and no traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
