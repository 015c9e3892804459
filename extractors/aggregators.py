"""Links and pages of news aggregators: Google News article links resolved to the publisher's
URL where that can be done offline, and MSN-style syndicated pages (`…/ar-<id>`) credited to the
provider they name.

Google News article ids are URL-safe base64 of a small protobuf. Until 2024 one of its
length-delimited fields was the publisher's URL. Since mid-2024 that field holds an opaque token
starting `AU_yqL`, which only Google's own servers can turn into a URL; newsflow does not call
them, so such a link fails with a clear reason (unless the feed item names the article elsewhere).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from urllib.parse import urlsplit

from extractors.pagemeta import json_blobs

GOOGLE_NEWS_HOSTS = ("news.google.com",)
NEW_ENCODING_REASON = "Google News link in the 2024 encoding cannot be resolved offline"
_ARTICLE_ID = re.compile(r"/(?:articles|read)/([A-Za-z0-9_-]{8,})")
_HREF = re.compile(r"""href\s*=\s*["']([^"']+)["']""", re.I)
_SYNDICATED_PATH = re.compile(r"/ar-([A-Za-z0-9]{6,})(?:[./?]|$)")


class AggregatorLinkError(ValueError):
    """An aggregator link that cannot be turned into the publisher's URL."""


def is_google_news_link(url: str) -> bool:
    parts = urlsplit(url)
    return (parts.hostname or "").lower() in GOOGLE_NEWS_HOSTS and bool(_ARTICLE_ID.search(parts.path))


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise AggregatorLinkError("truncated protobuf varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def _length_delimited_fields(data: bytes) -> list[bytes]:
    """The length-delimited values of a flat protobuf message, in order."""
    fields, pos = [], 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        wire_type = key & 7
        if wire_type == 0:
            _, pos = _varint(data, pos)
        elif wire_type == 2:
            length, pos = _varint(data, pos)
            if pos + length > len(data):
                raise AggregatorLinkError("truncated protobuf field")
            fields.append(data[pos : pos + length])
            pos += length
        elif wire_type == 5:
            pos += 4
        elif wire_type == 1:
            pos += 8
        else:
            raise AggregatorLinkError(f"unexpected protobuf wire type {wire_type}")
    return fields


def decode_google_news_url(url: str) -> str:
    """The publisher's URL inside a Google News article link. Raises AggregatorLinkError with the
    reason when the link is in the 2024 encoding or in a form newsflow does not know."""
    match = _ARTICLE_ID.search(urlsplit(url).path)
    if not match:
        raise AggregatorLinkError(f"not a Google News article link: {url}")
    article_id = match.group(1)
    if article_id.startswith("AU_yqL"):
        raise AggregatorLinkError(NEW_ENCODING_REASON)
    try:
        raw = base64.urlsafe_b64decode(article_id + "=" * (-len(article_id) % 4))
    except (binascii.Error, ValueError):
        raise AggregatorLinkError(f"unknown Google News link encoding (id is not base64): {url}") from None
    try:
        fields = _length_delimited_fields(raw)
    except AggregatorLinkError:
        fields = []
    for value in fields:
        if value.startswith(b"AU_yqL"):
            raise AggregatorLinkError(NEW_ENCODING_REASON)
        if value.startswith((b"http://", b"https://")):
            try:
                return value.decode("utf-8")
            except UnicodeDecodeError:
                break
    raise AggregatorLinkError(f"unknown Google News link encoding: {url}")


def publisher_link_in(html_fragment: str | None) -> str | None:
    """The first link in a feed item's description that leaves Google News, if any."""
    for href in _HREF.findall(html_fragment or ""):
        href = href.strip().replace("&amp;", "&")
        if (
            href.startswith(("http://", "https://"))
            and not is_google_news_link(href)
            and (urlsplit(href).hostname or "").lower() not in GOOGLE_NEWS_HOSTS
        ):
            return str(href)
    return None


def is_syndicated_page(url: str) -> bool:
    """True for MSN-style syndicated article URLs: a path segment `ar-<id>`."""
    return bool(_SYNDICATED_PATH.search(urlsplit(url).path))


_PROVIDER_NAME = re.compile(r'"provider"\s*:\s*\{[^{}]*?"name"\s*:\s*"((?:[^"\\]|\\.){1,200})"')
_SOURCE_HREF = re.compile(r'"sourceHref"\s*:\s*"((?:[^"\\]|\\.){1,2000})"')


def _unescape_json_string(value: str) -> str:
    try:
        return str(json.loads(f'"{value}"'))
    except ValueError:
        return value


def msn_provider(html: str) -> tuple[str, str | None] | None:
    """(provider name, source link) of an MSN-style syndicated page, from its embedded JSON
    (`provider.name` and `sourceHref`); None when the page names no provider."""
    name = href = None
    for blob in json_blobs(html):
        name, href = _provider_in(blob, name, href)
    if name is None:
        found = _PROVIDER_NAME.search(html)
        if found:
            name = _unescape_json_string(found.group(1))
    if href is None:
        found = _SOURCE_HREF.search(html)
        if found:
            href = _unescape_json_string(found.group(1))
    if not name or not name.strip():
        return None
    if href is not None and not href.startswith(("http://", "https://")):
        href = None
    return name.strip(), href


def _provider_in(node: object, name: str | None, href: str | None, depth: int = 0) -> tuple[str | None, str | None]:
    if depth > 8:
        return name, href
    if isinstance(node, dict):
        provider = node.get("provider")
        if name is None and isinstance(provider, dict) and isinstance(provider.get("name"), str):
            name = provider["name"]
        if href is None and isinstance(node.get("sourceHref"), str):
            href = node["sourceHref"]
        for value in node.values():
            name, href = _provider_in(value, name, href, depth + 1)
    elif isinstance(node, list):
        for value in node:
            name, href = _provider_in(value, name, href, depth + 1)
    return name, href
