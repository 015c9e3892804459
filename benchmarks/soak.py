"""Soak: ingest every few seconds for N minutes against a loopback news web that keeps
publishing, with feeds that start failing and recover. Reports memory (RSS of the ingesting
process) over time, failures recorded against failures injected, and articles stored against
articles offered.

    .venv/bin/python benchmarks/soak.py [--minutes 30] [--interval 5] [--feeds 6] [--json FILE]

The ingest runs in this process, as a long-lived worker would run it, so a leak shows as RSS
growing run after run. Each tick publishes a few new articles (made-up text in our own words);
one feed at a time answers 500 for a stretch of ticks, then recovers. Every feed is polled each
run (`poll_all`), so each 500 served is one poll failure the warehouse must record, no more.
Expect: RSS flat after warm-up, failures == injected (all at stage poll), stored == offered."""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "CRITICAL")

WORDS = (
    "ministry defence contract frigate radar battery delivery tranche export licence parliament "
    "committee budget procurement shipyard engineers trials navy army air force regional partners "
    "officials statement agreement phase training spare parts maintenance schedule review funding "
    "analysts expect further talks next year according people familiar matter local press"
).split()
COUNTRIES = ("Norway", "Chile", "Vietnam", "Ghana", "Peru", "Estonia", "Kenya", "Oman", "Greece", "Brazil")


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class NewsWeb:
    """Feeds and pages held in memory; `publish()` adds articles, `failing` names a broken feed."""

    def __init__(self, feeds: int, seed: int = 5):
        self.rng = random.Random(seed)
        self.feeds = {f"/feed{n}.xml": [] for n in range(feeds)}
        self.pages: dict[str, str] = {}
        self.failing: str | None = None
        self.injected = 0
        self.lock = threading.Lock()
        web = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                with web.lock:
                    if self.path == web.failing:
                        web.injected += 1
                        body, status, kind = b"down for maintenance", 500, "text/plain"
                    elif self.path in web.feeds:
                        body, status, kind = web.rss(self.path).encode(), 200, "application/rss+xml"
                    elif self.path in web.pages:
                        body, status, kind = web.pages[self.path].encode(), 200, "text/html; charset=utf-8"
                    else:
                        body, status, kind = b"not found", 404, "text/plain"
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def publish(self, count: int) -> None:
        with self.lock:
            for _ in range(count):
                feed = self.rng.choice(sorted(self.feeds))
                n = len(self.pages)
                country = self.rng.choice(COUNTRIES)
                title = f"{country} update {n}: {' '.join(self.rng.sample(WORDS, 4))}"
                paragraphs = [" ".join(self.rng.choice(WORDS) for _ in range(40)).capitalize() + "." for _ in range(4)]
                body = "".join(f"<p>{p}</p>" for p in paragraphs)
                path = f"/news/{n}.html"
                self.pages[path] = (
                    f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
                    f"<meta property='og:site_name' content='Soak Wire'></head><body><article>"
                    f"<h1>{title}</h1><p>Report {n} from {country}.</p>{body}</article></body></html>"
                )
                self.feeds[feed].append((title, self.base + path, datetime.now(UTC)))

    def rss(self, feed: str) -> str:
        items = "".join(
            f"<item><title>{t}</title><link>{link}</link><guid>{link}</guid>"
            f"<pubDate>{format_datetime(when)}</pubDate></item>"
            for t, link, when in self.feeds[feed][-50:]
        )
        return (
            f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>Soak {feed}</title>"
            f"<link>{self.base}/</link><description>soak</description>{items}</channel></rss>"
        )

    def offered(self) -> set[str]:
        """Every article URL listed in a feed (feeds keep their last 50 items)."""
        with self.lock:
            return {link for items in self.feeds.values() for _, link, _ in items[-50:]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between the starts of two runs")
    parser.add_argument("--feeds", type=int, default=6)
    parser.add_argument("--per-tick", type=int, default=3, help="articles published before each run")
    parser.add_argument("--json", help="write the report here too")
    args = parser.parse_args()

    from prefect.testing.utilities import prefect_test_harness

    import newsflow
    from flows.ingest import ingest

    web = NewsWeb(args.feeds)
    tmp = Path(tempfile.mkdtemp(prefix="newsflow-soak-"))
    feeds_file = tmp / "feeds.yaml"
    feeds_file.write_text(
        "feeds:\n" + "".join(f"  - url: {web.base}{f}\n    name: Soak {i}\n" for i, f in enumerate(sorted(web.feeds))),
        encoding="utf-8",
    )
    data_dir = tmp / "data"
    samples, errors, runs = [], [], 0
    ends = time.monotonic() + args.minutes * 60
    started = time.monotonic()
    try:
        with prefect_test_harness(server_startup_timeout=240):
            tick = 0
            while time.monotonic() < ends:
                tick_start = time.monotonic()
                # One feed at a time breaks for 4 ticks in every 10, then recovers.
                web.failing = sorted(web.feeds)[(tick // 10) % len(web.feeds)] if tick % 10 >= 6 else None
                web.publish(args.per_tick)
                try:
                    ingest(
                        feeds_file=str(feeds_file),
                        data_dir=str(data_dir),
                        allow_private_networks=True,
                        poll_all=True,
                        obey_robots=False,
                    )
                    runs += 1
                except Exception as exc:  # a run that fails is a finding, not the end of the soak
                    errors.append(f"tick {tick}: {type(exc).__name__}: {exc}")
                samples.append((round(time.monotonic() - started, 1), rss_kib()))
                tick += 1
                time.sleep(max(0.0, args.interval - (time.monotonic() - tick_start)))
            web.failing = None
            # A last run with every feed healthy, so what was offered has had its chance.
            ingest(
                feeds_file=str(feeds_file),
                data_dir=str(data_dir),
                allow_private_networks=True,
                poll_all=True,
                obey_robots=False,
            )
            runs += 1
            samples.append((round(time.monotonic() - started, 1), rss_kib()))
        con = newsflow.connect(data_dir)
        try:
            stored = {u for (u,) in con.execute("SELECT DISTINCT url FROM article_rows").fetchall()}
            doubled = con.execute(
                "SELECT count(*) - count(DISTINCT (article_id, version)) FROM article_rows"
            ).fetchone()[0]
            by_stage = dict(con.execute("SELECT stage, count(*) FROM failures GROUP BY stage").fetchall())
        finally:
            con.close()
    finally:
        web.server.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)

    offered = {u.replace(web.base, "") for u in web.offered()}
    stored_paths = {u.split("127.0.0.1", 1)[-1].split("/", 1)[-1] for u in stored}
    stored_paths = {"/" + p for p in stored_paths}
    quarter = max(1, len(samples) // 4)
    report = {
        "minutes": args.minutes,
        "runs": runs,
        "runs_failed": len(errors),
        "errors": errors[:5],
        "rss_mib_first": round(samples[0][1] / 1024, 1),
        "rss_mib_after_warmup": round(samples[quarter][1] / 1024, 1),
        "rss_mib_last": round(samples[-1][1] / 1024, 1),
        "rss_mib_max": round(max(s[1] for s in samples) / 1024, 1),
        "rss_over_time_mib": [(t, round(k / 1024, 1)) for t, k in samples[:: max(1, len(samples) // 12)]],
        "failures_injected": web.injected,
        "failures_recorded": by_stage,
        "articles_offered": len(offered),
        "articles_stored": len(stored_paths & offered),
        "articles_missing": len(offered - stored_paths),
        "rows_doubled": doubled,
    }
    print(json.dumps(report, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2), encoding="utf-8")
    ok = (
        not errors
        and report["articles_missing"] == 0
        and doubled == 0
        and by_stage.get("poll", 0) == web.injected
        and set(by_stage) <= {"poll"}
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
