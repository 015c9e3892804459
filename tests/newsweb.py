"""A tiny news web for tests, served by pytest-httpserver on loopback: pages with page chrome
built from tests/fixtures/articles.yaml, and RSS feeds that link to them."""

from __future__ import annotations

import html
from pathlib import Path

import yaml

ARTICLES = yaml.safe_load((Path(__file__).parent / "fixtures" / "articles.yaml").read_text(encoding="utf-8"))


def article_page(key: str, canonical: str | None = None) -> str:
    article = ARTICLES[key]
    body = "".join(f"<p>{html.escape(p)}</p>" for p in article["paragraphs"])
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{html.escape(article["title"])} | {article["site"]}</title>
<meta property="og:title" content="{html.escape(article["title"])}">
<meta property="og:site_name" content="{article["site"]}">
<meta property="article:published_time" content="{article["published"]}">{link}
</head><body><header><nav><a href="/">Home</a> <a href="/world">World</a> <a href="/business">Business</a></nav></header>
<main><article><h1>{html.escape(article["title"])}</h1>{body}</article></main>
<aside><h3>Most read</h3><ul><li>Weather warning for the weekend</li><li>Council budget vote delayed</li></ul></aside>
<footer>All rights reserved. About us. Contact. Privacy.</footer></body></html>"""


def rss(items: list[tuple[str, str]], title: str = "Test feed") -> str:
    """items: (title, link) pairs."""
    entries = "".join(
        f"<item><title>{html.escape(t)}</title><link>{html.escape(link)}</link><guid>{html.escape(link)}</guid>"
        f"<pubDate>Sat, 14 Nov 2026 08:00:00 GMT</pubDate></item>"
        for t, link in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>http://example.invalid/</link><description>test</description>{entries}</channel></rss>"
    )


def serve_site(
    httpserver, keys: list[str], *, extra_items: list[tuple[str, str]] | None = None, feed_path: str = "/feed.xml"
) -> str:
    """Serve the given articles at /news/<key>.html and a feed listing them; return the feed URL."""
    items = []
    for key in keys:
        path = f"/news/{key}.html"
        httpserver.expect_request(path).respond_with_data(article_page(key), content_type="text/html; charset=utf-8")
        items.append((ARTICLES[key]["title"], httpserver.url_for(path) + "?utm_source=rss"))
    items.extend(extra_items or [])
    httpserver.expect_request(feed_path).respond_with_data(rss(items), content_type="application/rss+xml")
    return httpserver.url_for(feed_path)
