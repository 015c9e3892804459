"""Poll one feed: conditional GET, a body hash for servers whose validators lie, and
feedparser over the bytes. Returns typed entries; never raises for a bad feed."""

from __future__ import annotations

import calendar
import hashlib
from datetime import datetime, timezone
from urllib.parse import urljoin

import feedparser
import httpx

from extractors import http
from extractors.urls import canonicalize_url
from newsflow.models import FeedEntry, FeedPoll, FeedSource, FeedState
from newsflow.settings import Settings

FEED_ACCEPT = ("application/rss+xml, application/atom+xml, application/rdf+xml, "
               "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5")


def entry_key(link: str, guid: str | None) -> str:
    """Key on link and GUID together: some feeds reuse one GUID for every item."""
    return hashlib.sha256(f"{link}\n{guid or ''}".encode()).hexdigest()[:32]


def _as_datetime(parsed: object) -> datetime | None:
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=timezone.utc).replace(tzinfo=None)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None


def parse_feed(body: bytes, feed_url: str, content_type: str | None = None) -> tuple[str | None, list[FeedEntry], str | None]:
    """Parse feed bytes into (title, entries, bozo message). Raises ValueError for something
    that is not a feed at all."""
    headers = {"content-type": content_type} if content_type else {}
    parsed = feedparser.parse(body, response_headers=headers, resolve_relative_uris=False,
                              sanitize_html=False)
    bozo = None
    if parsed.get("bozo"):
        exc = parsed.get("bozo_exception")
        bozo = f"{type(exc).__name__}: {exc}" if exc else "malformed feed"
    version = parsed.get("version") or ""
    if not parsed.entries and not version:
        reason = bozo or "no feed elements found"
        raise ValueError(f"{feed_url} is not a readable RSS/Atom feed ({reason})")
    entries: list[FeedEntry] = []
    seen: set[str] = set()
    for item in parsed.entries:
        link = item.get("link") or ""
        if not link:
            for candidate in item.get("links", []):
                if candidate.get("href") and candidate.get("rel", "alternate") == "alternate":
                    link = candidate["href"]
                    break
        guid = item.get("id") or None
        if not link and guid and guid.startswith(("http://", "https://")):
            link = guid
        if not link:
            continue
        link = urljoin(feed_url, link.strip())
        if not link.startswith(("http://", "https://")):
            continue
        canonical = canonicalize_url(link)
        key = entry_key(canonical, guid)
        if key in seen:
            continue
        seen.add(key)
        published = _as_datetime(item.get("published_parsed")) or _as_datetime(item.get("updated_parsed"))
        title = item.get("title")
        entries.append(FeedEntry(entry_key=key, feed_url=feed_url, url=canonical, guid=guid,
                                 title=title[:1000] if title else None, published_at=published))
    title = parsed.feed.get("title") if parsed.get("feed") else None
    return title, entries, bozo


async def poll_feed(client: httpx.AsyncClient, source: FeedSource, state: FeedState,
                    settings: Settings, limiter: http.HostLimiter | None = None) -> FeedPoll:
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    state.last_polled_at = now
    headers = {"Accept": FEED_ACCEPT}
    if state.etag:
        headers["If-None-Match"] = state.etag
    if state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    try:
        response = await http.get(client, source.url, settings, max_bytes=settings.max_feed_bytes,
                                  headers=headers, limiter=limiter)
        if response.status == 304:
            return _succeeded(state, "304 not modified", not_modified=True)
        if response.status != 200:
            raise http.status_error(response, "feed")
        body_hash = hashlib.sha256(response.body).hexdigest()
        if not response.body.strip():
            raise http.FetchError(f"feed {source.url} answered 200 with an empty body")
        if body_hash == state.body_hash:
            return _succeeded(state, "200 unchanged body", not_modified=True)
        title, entries, bozo = parse_feed(response.body, response.final_url,
                                          response.headers.get("content-type"))
        # Validators are kept only once the body parsed, so a broken feed is re-read next time.
        state.etag = response.headers.get("etag") or None
        state.last_modified = response.headers.get("last-modified") or None
        state.body_hash = body_hash
        state.title = source.name or title or state.title
        poll = _succeeded(state, "200 parsed" + (" with warnings" if bozo else ""))
        poll.entries, poll.bozo = entries, bozo
        return poll
    except http.FetchError as exc:
        return _failed(state, str(exc))
    except ValueError as exc:
        return _failed(state, str(exc))


def _succeeded(state: FeedState, status: str, *, not_modified: bool = False) -> FeedPoll:
    state.last_status = status
    state.error_count = 0
    state.last_error = None
    return FeedPoll(state=state, not_modified=not_modified)


def _failed(state: FeedState, error: str) -> FeedPoll:
    state.last_status = "failed"
    state.error_count += 1
    state.last_error = error
    return FeedPoll(state=state, error=error)
