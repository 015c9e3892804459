"""The list of feeds to poll: read from YAML (`feeds: [{url, name?}]`) or OPML, merged with the
subscriptions stored in the warehouse, and written back out as OPML."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree
from xml.sax.saxutils import quoteattr

import yaml

from newsflow.clock import utcnow
from newsflow.models import FeedSource


class FeedListError(Exception):
    pass


def load_feed_list(path: Path | str) -> list[FeedSource]:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FeedListError(f"cannot read feed list {path}: {exc.strerror}") from None
    if path.suffix.lower() in (".opml", ".xml") or raw.lstrip().startswith(b"<"):
        return _from_opml(raw, path)
    return _from_yaml(raw, path)


def _from_yaml(raw: bytes, path: Path) -> list[FeedSource]:
    try:
        document = yaml.safe_load(raw) or {}
    except yaml.YAMLError as exc:
        raise FeedListError(f"{path} is not valid YAML: {exc}") from None
    items = document.get("feeds") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise FeedListError(f"{path} must contain `feeds:`, a list of {{url, name}} entries")
    sources, seen = [], set()
    for number, item in enumerate(items, 1):
        if isinstance(item, str):
            item = {"url": item}
        url = item.get("url") if isinstance(item, dict) else None
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise FeedListError(f"{path}: feed #{number} needs an http(s) `url`, got {item!r}")
        if url not in seen:
            seen.add(url)
            sources.append(FeedSource(url=url, name=item.get("name")))
    return sources


def _from_opml(raw: bytes, path: Path) -> list[FeedSource]:
    try:
        root = ElementTree.fromstring(raw)
    except ElementTree.ParseError as exc:
        raise FeedListError(f"{path} is not valid OPML: {exc}") from None
    sources, seen = [], set()
    for outline in root.iter():
        if not isinstance(outline.tag, str) or outline.tag.rsplit("}", 1)[-1].lower() != "outline":
            continue
        # Exporters spell it xmlUrl, xmlurl or xmlURL.
        url = next((v.strip() for k, v in outline.attrib.items() if k.lower() == "xmlurl"), None)
        if url and url.startswith(("http://", "https://")) and url not in seen:
            seen.add(url)
            sources.append(FeedSource(url=url, name=outline.get("title") or outline.get("text")))
    return sources


def merge_sources(*lists: list[FeedSource]) -> list[FeedSource]:
    """One source per URL, in order; the first list that names a feed gives its name."""
    merged: dict[str, FeedSource] = {}
    for sources in lists:
        for source in sources:
            known = merged.get(source.url)
            if known is None:
                merged[source.url] = source
            elif not known.name and source.name:
                merged[source.url] = FeedSource(url=source.url, name=source.name)
    return list(merged.values())


def to_opml(sources: list[FeedSource], title: str = "newsflow feeds") -> str:
    """An OPML 2.0 document listing the feeds, readable by any feed reader."""
    created = utcnow().strftime("%a, %d %b %Y %H:%M:%S GMT")
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<opml version="2.0">',
        "  <head>",
        f"    <title>{_text(title)}</title>",
        f"    <dateCreated>{created}</dateCreated>",
        "  </head>",
        "  <body>",
    ]
    for source in sources:
        name = source.name or source.url
        lines.append(
            f'    <outline type="rss" text={quoteattr(name)} title={quoteattr(name)} xmlUrl={quoteattr(source.url)}/>'
        )
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines)


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
