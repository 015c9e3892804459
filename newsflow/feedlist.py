"""The list of feeds to poll: read from YAML (`feeds: [{url, name?}]`) or OPML, merged with the
subscriptions stored in the warehouse, and written back out as OPML.

Each entry is validated on its own (a typed model): a bad entry is rejected with a message that
names it, and the run goes on with the rest. Only a file that cannot be read at all is an error."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit
from xml.etree import ElementTree
from xml.sax.saxutils import quoteattr

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from newsflow.clock import utcnow
from newsflow.models import Failure, FeedSource


class FeedListError(Exception):
    pass


class FeedListEntry(BaseModel):
    """One entry of a feed list. YAML reads `name: 429` or `name: 2024` as a number: that is
    still a name, so numbers become strings; anything else of the wrong type is rejected."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    url: str
    name: str | None = None

    @field_validator("url", mode="before")
    @classmethod
    def _url_is_text(cls, value: object) -> object:
        if not isinstance(value, str):
            raise ValueError(f"`url` must be text, got {type(value).__name__}")
        return value

    @field_validator("url")
    @classmethod
    def _url_is_http(cls, value: str) -> str:
        if not value:
            raise ValueError("`url` is empty")
        if any(c.isspace() or ord(c) < 32 for c in value):
            raise ValueError("`url` contains spaces or control characters")
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises ValueError on a port that is not a number
        except ValueError as exc:
            raise ValueError(f"`url` is not a valid URL ({exc})") from None
        if parts.scheme.lower() not in ("http", "https"):
            raise ValueError(f"`url` must start with http:// or https://, not {parts.scheme or 'no scheme'}")
        if not parts.hostname:
            raise ValueError("`url` has no host name")
        return value

    @field_validator("name", mode="before")
    @classmethod
    def _name_is_text(cls, value: object) -> object:
        if isinstance(value, (bool, int, float)):
            return str(value).lower() if isinstance(value, bool) else str(value)
        if value is not None and not isinstance(value, str):
            raise ValueError(f"`name` must be text, got {type(value).__name__}")
        return value or None


@dataclass(frozen=True)
class RejectedFeed:
    """An entry of the feed list that could not be used, and why."""

    path: str
    index: int  # 1-based position in the list
    value: object
    reason: str

    @property
    def message(self) -> str:
        shown = repr(self.value)
        if len(shown) > 200:
            shown = shown[:200] + "…"
        return f"{self.path}: feed #{self.index} {shown} rejected: {self.reason}; the other feeds are polled"

    def as_failure(self) -> Failure:
        url = self.value.get("url") if isinstance(self.value, dict) else self.value
        where = url if isinstance(url, str) and url.strip() else f"{self.path}#feed-{self.index}"
        return Failure(where, "feeds", self.message, utcnow())


@dataclass
class FeedList:
    sources: list[FeedSource] = field(default_factory=list)
    rejected: list[RejectedFeed] = field(default_factory=list)


def load_feed_list(path: Path | str) -> list[FeedSource]:
    """The usable feeds of a feed list (see `read_feed_list` for the rejected ones)."""
    return read_feed_list(path).sources


def read_feed_list(path: Path | str) -> FeedList:
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FeedListError(f"cannot read feed list {path}: {exc.strerror}") from None
    if path.suffix.lower() in (".opml", ".xml") or raw.lstrip().startswith(b"<"):
        return _from_opml(raw, path)
    return _from_yaml(raw, path)


def _reason(exc: ValidationError) -> str:
    reasons = []
    for error in exc.errors():
        message = error["msg"].removeprefix("Value error, ")
        where = ".".join(str(part) for part in error["loc"])
        if error["type"] == "missing":
            message = f"`{where}` is missing"
        elif where and f"`{where}`" not in message:
            message = f"`{where}`: {message}"
        reasons.append(message)
    return "; ".join(reasons)


def _collect(candidates: list[tuple[int, object]], path: Path) -> FeedList:
    result, seen = FeedList(), set()
    for index, item in candidates:
        value = {"url": item} if isinstance(item, str) else item
        if not isinstance(value, dict):
            result.rejected.append(
                RejectedFeed(
                    str(path), index, item, f"an entry must be a URL or {{url, name}}, got {type(item).__name__}"
                )
            )
            continue
        try:
            entry = FeedListEntry.model_validate(value)
        except ValidationError as exc:
            result.rejected.append(RejectedFeed(str(path), index, item, _reason(exc)))
            continue
        if entry.url not in seen:
            seen.add(entry.url)
            result.sources.append(FeedSource(url=entry.url, name=entry.name))
    return result


def _from_yaml(raw: bytes, path: Path) -> FeedList:
    try:
        document = yaml.safe_load(raw) or {}
    except yaml.YAMLError as exc:
        raise FeedListError(f"{path} is not valid YAML: {exc}") from None
    items = document.get("feeds") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise FeedListError(f"{path} must contain `feeds:`, a list of {{url, name}} entries")
    return _collect(list(enumerate(items, 1)), path)


def _from_opml(raw: bytes, path: Path) -> FeedList:
    try:
        root = ElementTree.fromstring(raw)
    except ElementTree.ParseError as exc:
        raise FeedListError(f"{path} is not valid OPML: {exc}") from None
    candidates: list[tuple[int, object]] = []
    for outline in root.iter():
        if not isinstance(outline.tag, str) or outline.tag.rsplit("}", 1)[-1].lower() != "outline":
            continue
        # Exporters spell it xmlUrl, xmlurl or xmlURL. An outline without one is a folder.
        url = next((v.strip() for k, v in outline.attrib.items() if k.lower() == "xmlurl"), None)
        if url is not None:
            candidates.append((len(candidates) + 1, {"url": url, "name": outline.get("title") or outline.get("text")}))
    return _collect(candidates, path)


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
