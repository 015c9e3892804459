"""End-to-end speed of the real `ingest` flow on the AEB pages.

A child process serves the decompressed AEB pages and an RSS feed listing them from a stdlib
ThreadingHTTPServer on 127.0.0.1 (random port). Each repeat runs
`flows.ingest.ingest(feeds_file=…, data_dir=<fresh tmp>, allow_private_networks=True)` (poll,
fetch, extract in the process pool, tag, dedup, DuckLake load) and then, in the same repeat, a
sequential single-core pass of raw `trafilatura.extract` over the same pages, the denominator
of the ratio. Prefect's temporary API server starts once per process (~15 s or more): a warm-up
flow run on a few pages pays that before timing starts."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from email.utils import formatdate
from pathlib import Path
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import aeb_dir, load_aeb, median

_PREFECT_HOME: str | None = None


def configure_prefect() -> str:
    """Point Prefect at a throwaway home and keep it quiet; must run before prefect is imported."""
    global _PREFECT_HOME
    if _PREFECT_HOME is None:
        import atexit

        _PREFECT_HOME = tempfile.mkdtemp(prefix="newsflow-bench-prefect-")
        atexit.register(shutil.rmtree, _PREFECT_HOME, True)  # registered first, so it runs last
    if "prefect" in sys.modules:
        return "warning: prefect was imported before the benchmark configured it"
    os.environ["PREFECT_HOME"] = _PREFECT_HOME
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    os.environ["PREFECT_LOGGING_LEVEL"] = "WARNING"
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "240")
    os.environ.pop("PREFECT_API_URL", None)  # always the temporary server, never a live one
    return "ok"


# ---------------------------------------------------------------- the loopback web (child process)
#
# Each original site of the AEB pages (126 of them) gets its own loopback server on its own
# port, so newsflow's per-host politeness (connections per host, delay between requests to one
# host, one robots.txt per host) applies as it would on the real web, not to one host serving
# everything. The feed is served from one more port.

WARMUP_PAGES = 8
ROBOTS_TXT = b"User-agent: *\nAllow: /\n"


def _feed_xml(base: str, links: list[tuple[str, str]]) -> bytes:
    now = time.time()
    items = []
    for n, (page_id, link) in enumerate(links):
        items.append(
            f"<item><title>AEB page {page_id[:12]}</title><link>{escape(link)}</link>"
            f'<guid isPermaLink="true">{escape(link)}</guid>'
            f"<pubDate>{formatdate(now - 60 * n, usegmt=True)}</pubDate></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        f"<title>AEB benchmark pages</title><link>{base}/</link><description>benchmark</description>"
        + "".join(items)
        + "</channel></rss>\n"
    ).encode("utf-8")


def _serve(html_dir: str, pages: list[tuple[str, str]], conn) -> None:
    """Child process: `pages` is [(page id, original site)]; sends back the feed URLs."""
    import gzip
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    def start(routes: dict[str, tuple[bytes, str]]) -> str:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                route = routes.get(self.path.split("?", 1)[0])
                if route is None:
                    self.send_error(404)
                    return
                body, ctype = route
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{server.server_address[1]}"

    by_site: dict[str, list[str]] = {}
    for page_id, site in pages:
        by_site.setdefault(site, []).append(page_id)
    links: dict[str, str] = {}
    for ids in by_site.values():
        routes = {"/robots.txt": (ROBOTS_TXT, "text/plain")}
        for page_id in ids:
            body = gzip.decompress((Path(html_dir) / f"{page_id}.html.gz").read_bytes())
            routes[f"/aeb/{page_id}.html"] = (body, "text/html; charset=utf-8")
        base = start(routes)
        links.update({page_id: f"{base}/aeb/{page_id}.html" for page_id in ids})
    ordered = [(page_id, links[page_id]) for page_id, _ in pages]
    feed_routes: dict[str, tuple[bytes, str]] = {}
    feed_base = start(feed_routes)
    feed_routes["/feed.xml"] = (_feed_xml(feed_base, ordered), "application/rss+xml; charset=utf-8")
    feed_routes["/warmup.xml"] = (_feed_xml(feed_base, ordered[:WARMUP_PAGES]), "application/rss+xml; charset=utf-8")
    conn.send({"feed": f"{feed_base}/feed.xml", "warmup": f"{feed_base}/warmup.xml", "sites": len(by_site)})
    threading.Event().wait()


class LoopbackWeb:
    def __init__(self, pages: list[tuple[str, str]]):
        self.pages = pages
        self.urls: dict = {}
        self._process = None

    def __enter__(self) -> LoopbackWeb:
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        self._process = ctx.Process(target=_serve, args=(str(aeb_dir() / "html"), self.pages, child), daemon=True)
        self._process.start()
        if not parent.poll(120):
            raise RuntimeError("the loopback web server did not start")
        self.urls = parent.recv()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.join(10)


# ---------------------------------------------------------------- stage timing
#
# Where the flow's time goes, measured without touching its code: for the length of the
# benchmark, the functions the flow calls for each stage are wrapped (in this process only) with
# a timer. Only the outermost timed call counts, so stages never overlap. Names that do not exist in the flow's
# current version are skipped, so the breakdown degrades rather than breaks as the code moves.

STAGES = [
    # (stage, module or class path, attribute)
    ("poll", "extractors.feeds", "poll_many"),
    ("poll", "warehouse.store:Warehouse", "commit_poll"),
    ("fetch", "newsflow.pipeline", "fetch_pages"),
    ("extract (pool, incl. worker start)", "extractors.article:ArticleExtractor", "extract"),
    ("extract (pool, incl. worker start)", "extractors.article:ArticleExtractor", "__exit__"),
    ("tag", "extractors.tagging:Tagger", "tag"),
    ("dedup", "newsflow.pipeline", "fingerprint"),
    ("dedup", "extractors.dedup:StoryIndex", "assign"),
    ("dedup", "extractors.dedup:StoryIndex", "add"),
    ("load (DuckLake commit)", "warehouse.store:Warehouse", "commit_batch"),
    ("warehouse open and close", "warehouse.store:Warehouse", "__init__"),
    ("warehouse open and close", "warehouse.store:Warehouse", "close"),
    ("warehouse reads (states, pending, index, counts)", "warehouse.store:Warehouse", "feed_states"),
    ("warehouse reads (states, pending, index, counts)", "warehouse.store:Warehouse", "subscriptions"),
    ("warehouse reads (states, pending, index, counts)", "warehouse.store:Warehouse", "pending_entries"),
    ("warehouse reads (states, pending, index, counts)", "warehouse.store:Warehouse", "story_index_rows"),
    ("warehouse reads (states, pending, index, counts)", "warehouse.store:Warehouse", "article_at_seq"),
    ("warehouse reads (states, pending, index, counts)", "warehouse.store:Warehouse", "latest_version"),
    ("warehouse reads (states, pending, index, counts)", "warehouse.store:Warehouse", "counts"),
    ("run record and Prefect artifact", "warehouse.store:Warehouse", "record_run"),
    ("run record and Prefect artifact", "flows.ingest", "_publish_artifact"),
    ("tagger load (gazetteers)", "extractors.tagging:Tagger", "default"),
]
OTHER = "other (Prefect flow and task run orchestration, untimed glue)"


class StageTimer:
    def __init__(self):
        import threading

        self.seconds: dict[str, float] = {}
        # Per thread: the streamed run times fetch, extraction and load in different threads at once.
        self._local = threading.local()
        self._patched: list[tuple[object, str, object]] = []

    def reset(self) -> None:
        self.seconds = {}

    def _wrap(self, stage: str, fn):
        import functools
        import inspect

        timer = self
        local = self._local

        def enter() -> None:
            local.depth = getattr(local, "depth", 0) + 1

        def finish(start: float) -> None:
            local.depth -= 1
            if local.depth == 0:
                timer.seconds[stage] = timer.seconds.get(stage, 0.0) + time.perf_counter() - start

        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args, **kwargs):
                enter()
                start = time.perf_counter()
                try:
                    return await fn(*args, **kwargs)
                finally:
                    finish(start)

            return async_wrapper

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            enter()
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                finish(start)

        return wrapper

    def __enter__(self) -> StageTimer:
        import importlib

        for stage, path, attr in STAGES:
            module_name, _, class_name = path.partition(":")
            try:
                owner = importlib.import_module(module_name)
                if class_name:
                    owner = getattr(owner, class_name)
                original = owner.__dict__[attr] if class_name else getattr(owner, attr)
            except (ImportError, AttributeError, KeyError):
                continue
            self._patched.append((owner, attr, original))
            if isinstance(original, (classmethod, staticmethod)):
                setattr(owner, attr, type(original)(self._wrap(stage, original.__func__)))
            else:
                setattr(owner, attr, self._wrap(stage, original))
        return self

    def __exit__(self, *exc: object) -> None:
        for owner, attr, original in reversed(self._patched):
            setattr(owner, attr, original)
        self._patched.clear()


# ---------------------------------------------------------------- the benchmark


def main(quick: bool = False, repeats: int | None = None) -> dict:
    prefect_config = configure_prefect()
    import logging

    import trafilatura

    from flows.ingest import ingest
    from newsflow.settings import Settings

    logging.getLogger("trafilatura").setLevel(logging.ERROR)  # "discarding data" per failed page

    defaults = Settings()
    settings_used = {
        key: getattr(defaults, key)
        for key in (
            "extract_workers",
            "batch_size",
            "max_connections",
            "per_host_connections",
            "per_host_delay",
            "obey_robots",
        )
        if hasattr(defaults, key)
    }

    repeats = repeats or (1 if quick else 3)
    pages = load_aeb(limit=40 if quick else None)
    work = Path(tempfile.mkdtemp(prefix="newsflow-bench-pipeline-"))
    runs = []
    timer = None
    try:
        with LoopbackWeb([(p.page_id, urlsplit(p.url).hostname or p.page_id) for p in pages]) as web:
            for name in ("feed", "warmup"):
                (work / f"{name}.yaml").write_text(
                    f"feeds:\n  - url: {web.urls[name]}\n    name: AEB\n", encoding="utf-8"
                )
            timer = StageTimer().__enter__()
            start = time.perf_counter()
            warm = ingest(
                feeds_file=str(work / "warmup.yaml"), data_dir=str(work / "warmup-data"), allow_private_networks=True
            )
            warmup_s = time.perf_counter() - start
            shutil.rmtree(work / "warmup-data", ignore_errors=True)
            for r in range(repeats):
                data_dir = work / f"data-{r}"
                timer.reset()
                start = time.perf_counter()
                totals = ingest(feeds_file=str(work / "feed.yaml"), data_dir=str(data_dir), allow_private_networks=True)
                pipeline_s = time.perf_counter() - start
                stages = dict(timer.seconds)
                stages[OTHER] = max(0.0, pipeline_s - sum(stages.values()))
                shutil.rmtree(data_dir, ignore_errors=True)
                start = time.perf_counter()
                for page in pages:
                    trafilatura.extract(page.html)
                raw_s = time.perf_counter() - start
                runs.append(
                    {
                        "pipeline_s": round(pipeline_s, 3),
                        "raw_trafilatura_s": round(raw_s, 3),
                        "ratio": round(pipeline_s / raw_s, 3),
                        "articles_stored": totals["articles_stored"],
                        "failures": totals["failures"],
                        "new_entries": totals["new_entries"],
                        "pages_fetched": totals["pages_fetched"],
                        "stages_s": {k: round(v, 3) for k, v in stages.items()},
                    }
                )
    finally:
        if timer is not None:
            timer.__exit__(None, None, None)
        shutil.rmtree(work, ignore_errors=True)

    pipeline_med = median(r["pipeline_s"] for r in runs)
    stored = median(r["articles_stored"] for r in runs)
    return {
        "pages_served": len(pages),
        "sites": web.urls["sites"],
        "repeats": repeats,
        "prefect_config": prefect_config,
        "settings": settings_used,
        "warmup_run_s_excluded": round(warmup_s, 1),
        "warmup_articles": warm["articles_stored"],
        "pipeline_wall_s": round(pipeline_med, 2),
        "articles_stored": stored,
        "articles_per_s": round(stored / pipeline_med, 1),
        "raw_trafilatura_single_core_s": round(median(r["raw_trafilatura_s"] for r in runs), 2),
        "ratio_pipeline_over_raw": round(median(r["ratio"] for r in runs), 3),
        "stages_median_s": {k: round(median(r["stages_s"].get(k, 0.0) for r in runs), 3) for k in runs[0]["stages_s"]},
        "runs": runs,
    }


def report(result: dict) -> list[str]:
    r = result
    last = r["runs"][-1]
    return [
        f"PIPELINE SPEED  real ingest flow, {r['pages_served']} AEB pages on loopback, {r['repeats']} repeats "
        f"on fresh data dirs, medians",
        f"  {r['sites']} loopback sites (one port per original site), feed on its own port; settings: "
        + ", ".join(f"{k}={v}" for k, v in r["settings"].items()),
        f"  warm-up run on {WARMUP_PAGES} pages first, excluded from timing: {r['warmup_run_s_excluded']:.1f} s "
        f"(mostly Prefect's one-time temporary server start)",
        f"  wall time {r['pipeline_wall_s']:.2f} s, articles stored {r['articles_stored']:.0f} "
        f"(entries {last['new_entries']}, fetched {last['pages_fetched']}, failures {last['failures']}), "
        f"{r['articles_per_s']:.1f} articles/s",
        f"  raw trafilatura.extract on the same pages, one core: {r['raw_trafilatura_single_core_s']:.2f} s; "
        f"ratio pipeline / raw = {r['ratio_pipeline_over_raw']:.2f}x "
        f"(repeats {', '.join(format(x['ratio'], '.2f') for x in r['runs'])})",
        "  where the time goes (median s per run; stage functions wrapped with timers in this process):",
    ] + [
        f"    {stage:<66} {seconds:6.2f}  {100 * seconds / r['pipeline_wall_s']:4.0f}%"
        for stage, seconds in r["stages_median_s"].items()
    ]


if __name__ == "__main__":
    print("\n".join(report(main(quick="--quick" in sys.argv))))
