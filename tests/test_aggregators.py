"""Aggregator links: Google News links decoded offline where possible (links built here), a
clear reason where not; MSN-style syndicated pages credited to their provider."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

import pytest

from extractors import aggregators
from extractors.feeds import parse_feed
from extractors.fetch import fetch_pages
from newsflow.models import Failure, FeedEntry
from newsflow.settings import Settings


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def google_link(payload: bytes, trailer: bytes = b"\xd2\x01\x00") -> str:
    """A Google News article link whose protobuf carries `payload` in field 4, as Google's did."""
    message = b"\x08\x13\x22" + _varint(len(payload)) + payload + trailer
    article_id = base64.urlsafe_b64encode(message).decode().rstrip("=")
    return f"https://news.google.com/rss/articles/{article_id}?oc=5"


def test_the_pre_2024_encoding_decodes_to_the_publisher_url():
    publisher = "https://www.defence-wire.example/2026/11/25/poland-orders-more-k9-howitzers/?ref=gn"
    link = google_link(publisher.encode())
    assert link.split("/articles/")[1].startswith("CBMi")
    assert aggregators.decode_google_news_url(link) == publisher
    long_one = "https://publisher.example/" + "a" * 300  # a two-byte length
    assert aggregators.decode_google_news_url(google_link(long_one.encode())) == long_one


def test_the_2024_encoding_fails_clearly():
    token = b"AU_yqLPq9n3x2kFtE1bM0cQw7Hc6jYpXzR4sD8aGkLu"
    with pytest.raises(aggregators.AggregatorLinkError, match="2024 encoding cannot be resolved offline"):
        aggregators.decode_google_news_url(google_link(token))
    with pytest.raises(aggregators.AggregatorLinkError, match="2024 encoding"):
        aggregators.decode_google_news_url("https://news.google.com/rss/articles/AU_yqLPq9n3x2kFtE1bM0cQw7H?oc=5")


def test_an_unknown_encoding_fails_clearly():
    with pytest.raises(aggregators.AggregatorLinkError, match="unknown Google News link encoding"):
        aggregators.decode_google_news_url(google_link(b"\x00\x01 not a url at all"))


def test_feed_entries_carry_the_publisher_url_or_the_description_link():
    publisher = "https://www.defence-wire.example/story-1"
    new_style = google_link(b"AU_yqLxxxxxxxxxxxxxxxxxxxxxxxxxxxx")
    feed = f"""<?xml version="1.0"?><rss version="2.0"><channel><title>Google News</title>
    <item><title>Old style</title><link>{google_link(publisher.encode())}</link><guid>1</guid></item>
    <item><title>New style, named in the description</title><link>{new_style}</link><guid>2</guid>
      <description>&lt;a href="https://www.other-paper.example/story-2?utm_source=gn"&gt;Story&lt;/a&gt;</description>
      <source url="https://www.other-paper.example">Other Paper</source></item>
    <item><title>New style, nowhere else</title><link>{new_style.replace("oc=5", "oc=6")}</link><guid>3</guid></item>
    </channel></rss>""".encode()
    _, entries, _ = parse_feed(feed, "https://news.google.com/rss/search?q=sanctions")
    assert [e.url for e in entries[:2]] == [publisher, "https://www.other-paper.example/story-2"]
    assert aggregators.is_google_news_link(entries[2].url)


def test_an_unresolvable_google_link_is_skipped_with_the_reason_and_no_request():
    async def no_dns(host: str, port: int) -> list[str]:
        raise AssertionError(f"nothing may be resolved, asked for {host}")

    link = google_link(b"AU_yqLzzzzzzzzzzzzzzzzzzzzzz")
    entry = FeedEntry(entry_key="k", feed_url="f", url=link, guid=None, title=None, published_at=None)
    [result] = asyncio.run(fetch_pages([entry], Settings(), resolver=no_dns))
    assert isinstance(result, Failure) and result.error.startswith("skipped")
    assert aggregators.NEW_ENCODING_REASON in result.error


def test_msn_style_pages_name_their_provider_and_source_link():
    page = Path(__file__).resolve().parents[1] / "demo" / "web" / "aggregator" / "news" / "world" / "ar-AA1uL3wD.html"
    html = page.read_text(encoding="utf-8").replace("{{base:wire}}", "http://wire.example")
    name, href = aggregators.msn_provider(html)
    assert (
        name == "Northline Wire"
        and href == "http://wire.example" + "/world/2026/11/us-adds-companies-entity-list-russia-military.html"
    )

    inline = (
        '<html><script>window.__state = {"article": {"provider": {"id": "BB1", "name": "Harbour \\"Daily\\""}, '
        '"sourceHref": "https:\\/\\/harbour.example\\/a"}};</script></html>'
    )
    assert aggregators.msn_provider(inline) == ('Harbour "Daily"', "https://harbour.example/a")
    assert aggregators.msn_provider("<html><body>no provider here</body></html>") is None
    assert aggregators.is_syndicated_page("https://www.msn.com/en-us/news/world/some-title/ar-AA1uL3wD")
    assert not aggregators.is_syndicated_page("https://www.msn.com/en-us/news/world")
