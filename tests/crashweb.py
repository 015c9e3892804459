"""A loopback news web for kill-and-check loops: `pairs` stories, each an original page and a
syndicated copy (the same report under another site's chrome, some with a credit line added),
and one RSS feed listing every page. The text is generated from a small word list of our own,
seeded per story, so stories differ and copies match."""

from __future__ import annotations

import html
import random
from dataclasses import dataclass

_SUBJECTS = ["the ministry", "the navy", "the army", "the coalition", "the parliament", "the agency", "the council"]
_VERBS = ["approved", "delayed", "reviewed", "announced", "confirmed", "questioned", "extended", "postponed"]
_OBJECTS = [
    "a purchase of patrol boats",
    "the radar upgrade",
    "an order for trucks",
    "the training programme",
    "new export rules",
    "a frigate contract",
    "the fuel supply deal",
    "spare parts for helicopters",
    "the border survey",
    "a depot expansion",
]
_PLACES = ["Kestrel Bay", "Northmoor", "Valdane", "Ostrava Ridge", "Pellham", "Corvin", "Luhta", "Marrow Point"]
_TAILS = [
    "after months of talks",
    "citing cost overruns",
    "despite objections from auditors",
    "following a site visit",
    "ahead of the budget vote",
    "under a revised schedule",
]


@dataclass(frozen=True)
class Story:
    key: str
    title: str
    paragraphs: list[str]


def story(n: int) -> Story:
    rng = random.Random(1000 + n)
    paragraphs = []
    for _ in range(5):
        sentences = [
            f"In {rng.choice(_PLACES)}, {rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} "
            f"{rng.choice(_TAILS)}, officials said on day {rng.randint(1, 28)} of report {n}."
            for _ in range(3)
        ]
        paragraphs.append(" ".join(sentences))
    title = f"Report {n}: {rng.choice(_SUBJECTS).title()} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)}"
    return Story(f"story{n}", title, paragraphs)


def page(s: Story, site: str, credit: str | None = None) -> str:
    body = "".join(f"<p>{html.escape(p)}</p>" for p in s.paragraphs)
    if credit:
        body += f"<p>{html.escape(credit)}</p>"
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{html.escape(s.title)} | {site}</title><meta property="og:site_name" content="{site}">
<meta property="article:published_time" content="2026-11-14T08:00:00Z"></head>
<body><header><nav><a href="/">Home</a> <a href="/world">World</a></nav></header>
<main><article><h1>{html.escape(s.title)}</h1>{body}</article></main>
<footer>About us. Contact. Privacy.</footer></body></html>"""


def rss(items: list[tuple[str, str]]) -> str:
    entries = "".join(
        f"<item><title>{html.escape(t)}</title><link>{html.escape(u)}</link><guid>{html.escape(u)}</guid>"
        f"<pubDate>Sat, 14 Nov 2026 08:00:00 GMT</pubDate></item>"
        for t, u in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Crash web</title>'
        f"<link>http://example.invalid/</link><description>test</description>{entries}</channel></rss>"
    )


def serve(httpserver, pairs: int) -> tuple[str, dict[str, str]]:
    """Serve `pairs` originals at /wire/storyN.html and their copies at /portal/storyN.html;
    return the feed URL and each page URL's story key."""
    items: list[tuple[str, str]] = []
    story_of: dict[str, str] = {}
    for n in range(pairs):
        s = story(n)
        credit = "This report first appeared on Wire Desk." if n % 2 else None
        for path, html_page in (
            (f"/wire/{s.key}.html", page(s, "Wire Desk")),
            (f"/portal/{s.key}.html", page(s, "Portal Daily", credit)),
        ):
            httpserver.expect_request(path).respond_with_data(html_page, content_type="text/html; charset=utf-8")
            url = httpserver.url_for(path)
            items.append((s.title, url))
            story_of[url] = s.key
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    httpserver.expect_request("/feed.xml").respond_with_data(rss(items), content_type="application/rss+xml")
    return httpserver.url_for("/feed.xml"), story_of
