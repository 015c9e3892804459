"""Read the list of feeds to poll from YAML (`feeds: [{url, name?}]`) or OPML."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import yaml

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
    for outline in root.iter("outline"):
        url = outline.get("xmlUrl")
        if url and url.startswith(("http://", "https://")) and url not in seen:
            seen.add(url)
            sources.append(FeedSource(url=url, name=outline.get("title") or outline.get("text")))
    return sources
