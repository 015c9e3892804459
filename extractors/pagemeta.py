"""Small, fast reads of page metadata that trafilatura does not give at full precision:
published timestamps, <html lang>, JSON-LD and embedded provider JSON."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime

_META_TAG = re.compile(r"<meta\b[^>]*>", re.I)
# The lookbehind starts a name only at its first letter: without it a long run of name characters
# with no "=" is retried from every position (quadratic on a hostile tag).
_ATTR = re.compile(r"""(?<![a-zA-Z_:.-])([a-zA-Z_:.-]+)\s*=\s*("([^"]*)"|'([^']*)'|([^\s>]+))""")
_HTML_LANG = re.compile(r"<html\b[^>]*\blang\s*=\s*[\"']?([A-Za-z]{2,3})", re.I)
_JSON_SCRIPT = re.compile(
    r"<script\b[^>]*type\s*=\s*[\"']application/(?:ld\+)?json[\"'][^>]*>(.*?)</script>", re.I | re.S
)
_HEAD_LIMIT = 200_000

PUBLISHED_KEYS = (
    "article:published_time",
    "og:published_time",
    "datepublished",
    "date",
    "pubdate",
    "publishdate",
    "dc.date",
    "dc.date.issued",
    "sailthru.date",
    "parsely-pub-date",
)


def meta_tags(html: str) -> dict[str, str]:
    """The first value of each <meta name|property|itemprop=… content=…>, keys lowercased."""
    found: dict[str, str] = {}
    for tag in _META_TAG.findall(html[:_HEAD_LIMIT]):
        attrs = {m.group(1).lower(): (m.group(3) or m.group(4) or m.group(5) or "") for m in _ATTR.finditer(tag)}
        key = attrs.get("property") or attrs.get("name") or attrs.get("itemprop")
        if key and "content" in attrs:
            found.setdefault(key.lower(), attrs["content"].strip())
    return found


def parse_timestamp(value: str | None) -> datetime | None:
    """ISO 8601 (with or without zone) to naive UTC; None when it is not a timestamp."""
    if not value:
        return None
    value = value.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def published_at(meta: dict[str, str], json_blobs: list[object]) -> datetime | None:
    for key in PUBLISHED_KEYS:
        stamp = parse_timestamp(meta.get(key))
        if stamp:
            return stamp
    for blob in json_blobs:
        for node in _walk(blob):
            if isinstance(node, dict) and "datePublished" in node:
                stamp = parse_timestamp(str(node["datePublished"]))
                if stamp:
                    return stamp
    return None


def html_language(html: str) -> str | None:
    match = _HTML_LANG.search(html[:5000])
    return match.group(1).lower() if match else None


def json_blobs(html: str) -> list[object]:
    """Every JSON-LD or application/json script that parses; broken ones are skipped."""
    blobs = []
    for raw in _JSON_SCRIPT.findall(html):
        try:
            blobs.append(json.loads(raw.strip()))
        except (ValueError, RecursionError):
            continue
    return blobs


def _walk(node: object, depth: int = 0) -> Iterator[object]:
    if depth > 8:
        return
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from _walk(value, depth + 1)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value, depth + 1)


def json_names(blobs: list[object], keys: tuple[str, ...]) -> list[str]:
    """Names found under any of `keys` (e.g. provider, publisher) in the JSON blobs."""
    names = []
    for blob in blobs:
        for node in _walk(blob):
            if not isinstance(node, dict):
                continue
            for key in keys:
                value = node.get(key)
                if isinstance(value, dict) and isinstance(value.get("name"), str):
                    names.append(value["name"].strip())
                elif isinstance(value, str) and key != "publisher":
                    names.append(value.strip())
    return [n for n in names if n]
