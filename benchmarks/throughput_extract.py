"""Extraction alone over the throughput benchmark's pages, in N worker processes.

Run by the interpreter of the system measured (newsflow's .venv for trafilatura, the peers' own
virtual environments for newspaper4k and news-please), so it imports nothing from newsflow:

    python benchmarks/throughput_extract.py --system trafilatura --pages 5000 --workers 2 --host-url http://127.0.0.1:1

Prints one JSON object: pages, extracted (non-empty text), seconds (wall time of the timed pass,
on warm workers), pages_per_s. Every page gets the URL it has in the served web."""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import throughput_pages  # noqa: E402

_BASE: list = []
_SYSTEM = ""
_HOSTS: list[str] = []


def _loopback_only() -> None:
    """Nothing here may reach the network: refuse any connection that is not to loopback."""
    original = socket.socket.connect

    def connect(self, address):
        host = address[0] if isinstance(address, tuple) else str(address)
        if self.family in (socket.AF_INET, socket.AF_INET6) and not (host.startswith("127.") or host == "::1"):
            raise OSError(f"throughput benchmark: refused a connection to {host} (loopback only)")
        return original(self, address)

    socket.socket.connect = connect
    os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""  # tldextract: the bundled snapshot, no download


def _extractor(system: str):
    if system == "trafilatura":
        import trafilatura

        def run(html: str, url: str) -> str:
            document = trafilatura.bare_extraction(html, url=url, with_metadata=True)
            return (document.text or "") if document is not None else ""
    elif system == "newspaper4k":
        from newspaper import Article

        def run(html: str, url: str) -> str:
            article = Article(url, fetch_images=False)
            article.download(input_html=html)
            article.parse()
            return article.text or ""
    elif system == "news-please":
        from newsplease import NewsPlease

        def run(html: str, url: str) -> str:
            article = NewsPlease.from_html(html, url=url, fetch_images=False)
            return (article.maintext or "") if article is not None else ""
    else:
        raise SystemExit(f"unknown system {system!r}")
    return run


def _init(system: str, hosts: list[str]) -> None:
    global _BASE, _SYSTEM, _HOSTS
    import logging

    _loopback_only()
    logging.disable(logging.CRITICAL)  # per-page warnings from the extractors are not the benchmark
    _BASE, _SYSTEM, _HOSTS = throughput_pages.load_base_pages(), system, hosts
    run = _extractor(system)
    for i in range(3):  # warm-up: imports and first-call caches
        run(throughput_pages.page_html(_BASE, i), "http://127.0.0.1/warm-up")


def _extract(indices: list[int]) -> int:
    run = _extractor(_SYSTEM)
    extracted = 0
    for i in indices:
        url = _HOSTS[throughput_pages.host_of(i, len(_HOSTS))] + throughput_pages.page_path(_BASE, i)
        try:
            extracted += bool(run(throughput_pages.page_html(_BASE, i), url).strip())
        except Exception:  # a page an extractor chokes on counts as not extracted, as in the pipeline
            pass
    return extracted


def _ready(_: int) -> int:
    time.sleep(0.05)
    return os.getpid()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--system", required=True, choices=["trafilatura", "newspaper4k", "news-please"])
    parser.add_argument("--pages", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--hosts", required=True, help="comma-separated host base URLs, as served")
    args = parser.parse_args()
    hosts = args.hosts.split(",")
    chunk = 20  # small chunks keep both workers busy to the end
    chunks = [list(range(s, min(s + chunk, args.pages))) for s in range(0, args.pages, chunk)]
    with ProcessPoolExecutor(args.workers, initializer=_init, initargs=(args.system, hosts)) as pool:
        pids: set[int] = set()
        for _ in range(200):  # wait until every worker has started and warmed up
            pids |= set(pool.map(_ready, range(args.workers * 2)))
            if len(pids) >= args.workers:
                break
        start = time.perf_counter()
        extracted = sum(pool.map(_extract, chunks))
        seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "system": args.system,
                "pages": args.pages,
                "workers": args.workers,
                "worker_processes_seen": len(pids),
                "extracted": extracted,
                "seconds": round(seconds, 3),
                "pages_per_s": round(args.pages / seconds, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
