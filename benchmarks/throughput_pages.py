"""The throughput benchmark's pages: N unique article pages made from the 181 AEB pages.

Standard library only: the peer extractors' own virtual environments import this file too, so
every system is fed the very same bytes.

Page i is AEB page `i % 181`, copy `i // 181`, with its <title>, its URL and one short sentence
opening its first paragraph changed, so no two pages have the same text (exact-hash dedup does
not fold them) while each stays a real article page. Pages are built when asked for, never all
held at once (5,000 pages are about 850 MB of HTML)."""

from __future__ import annotations

import gzip
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

_TITLE = re.compile(r"<title\b[^>]*>", re.I)
_FIRST_P = re.compile(r"<p\b[^>]*>", re.I)

# Short, neutral openers in our own words; with the copy number they make each page's text unique.
_OPENERS = (
    "Regional edition {n}.",
    "Updated for readers, copy {n}.",
    "Filed again as edition {n}.",
    "Morning edition {n}.",
    "Evening edition {n}.",
)


def aeb_dir() -> Path:
    """../shared/benchmarks/aeb next to the repository, or under $NEWSFLOW_SHARED_DIR."""
    override = os.environ.get("NEWSFLOW_SHARED_DIR")
    if override:
        base = Path(override).expanduser().resolve()
        return base / "benchmarks" / "aeb" if (base / "benchmarks" / "aeb").is_dir() else base / "aeb"
    return Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "aeb"


@dataclass(frozen=True)
class BasePage:
    page_id: str
    html: str


def load_base_pages() -> list[BasePage]:
    root = aeb_dir()
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    return [
        BasePage(page_id, gzip.decompress((root / "html" / f"{page_id}.html.gz").read_bytes()).decode("utf-8"))
        for page_id in sorted(truth)
    ]


def page_path(base: list[BasePage], i: int) -> str:
    return f"/news/{base[i % len(base)].page_id[:16]}-{i // len(base)}.html"


def page_html(base: list[BasePage], i: int) -> str:
    page = base[i % len(base)]
    copy = i // len(base)
    if copy == 0:
        return page.html
    html = page.html
    title = _TITLE.search(html)
    if title:
        end = html.find("</title>", title.end())
        if end != -1:
            html = f"{html[:end]} ({copy}){html[end:]}"
    opener = _OPENERS[copy % len(_OPENERS)].format(n=copy)
    paragraph = _FIRST_P.search(html)
    if paragraph:
        html = f"{html[: paragraph.end()]}{opener} {html[paragraph.end() :]}"
    return html


def host_of(i: int, hosts: int) -> int:
    """Pages go round-robin over the hosts, so any run of feed entries spreads over them all."""
    return i % hosts
