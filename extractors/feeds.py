"""Poll feeds: conditional GET, a body hash for servers whose validators lie, feedparser (or JSON
Feed) over the bytes, per-feed scheduling, and feed URLs that follow permanent redirects only once
they repeat. Returns typed entries; never raises for a bad feed."""

from __future__ import annotations

import asyncio
import calendar
import codecs
import hashlib
import json
import random
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import feedparser
import httpx

from extractors import aggregators, http, schedule
from extractors.netguard import Resolver
from extractors.pagemeta import parse_timestamp
from extractors.urls import canonicalize_url
from newsflow.clock import utcnow
from newsflow.models import FeedEntry, FeedPoll, FeedSource, FeedState
from newsflow.settings import Settings

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
# Content types that are never a feed, whatever the body looks like.
NOT_FEED_TYPES = (
    "image/",
    "audio/",
    "video/",
    "font/",
    "application/pdf",
    "application/zip",
    "application/gzip",
    "application/x-gzip",
)
_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_XML_DECL_ENCODING = re.compile(rb"""^(\s*<\?xml[^>]{0,200}?encoding\s*=\s*["'])([^"']{1,40})(["'])""")
_FIRST_TAG = re.compile(rb"<(!--|!doctype\s+[a-z]+|\?|/?[a-z][\w:.-]*)", re.I)
_FEED_LINK = re.compile(rb"""<link\b[^>]*type\s*=\s*["']application/(?:rss|atom)\+xml["'][^>]*>""", re.I)
_HREF = re.compile(rb"""href\s*=\s*["']([^"']+)["']""", re.I)
_FEED_ROOTS = (b"rss", b"feed", b"rdf", b"channel")
# One parser thread: parsing holds the GIL, so more threads would only contend for it.
INLINE_PARSE_BYTES = 256 * 1024
_PARSER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsflow-feed-parser")
UNEXPECTED = "newsflow hit an unexpected error (please report it)"


# (link, guid, title, published, description, updated) of one feed item, before it is keyed.
RawEntry = tuple[str, str | None, str | None, datetime | None, str | None, datetime | None]


def entry_key(link: str, guid: str | None) -> str:
    """Key on link and GUID together: some feeds reuse one GUID for every item."""
    return hashlib.sha256(f"{link}\n{guid or ''}".encode()).hexdigest()[:32]


def _as_datetime(parsed: object) -> datetime | None:
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC).replace(tzinfo=None)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None


@dataclass
class ParsedFeed:
    title: str | None
    entries: list[FeedEntry] = field(default_factory=list)
    bozo: str | None = None
    ttl: str | None = None


# -- bytes to entries ------------------------------------------------------------------------


def prefer_utf8(body: bytes, content_type: str | None) -> tuple[bytes, str | None]:
    """Valid UTF-8 wins over a wrong declaration: when the bytes decode as UTF-8 and are not plain
    ASCII, tell the parser so (HTTP charset and XML declaration), instead of letting a stale
    `iso-8859-1` or a missing charset (text/xml defaults to us-ascii) garble them."""
    if body.startswith(_BOMS) or body.isascii():
        return body, content_type
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return body, content_type
    media = (content_type or "").split(";")[0].strip().lower() or "application/xml"
    body = _XML_DECL_ENCODING.sub(rb"\1utf-8\3", body, count=1)
    return body, f"{media}; charset=utf-8"


def _html_reason(body: bytes, feed_url: str) -> str | None:
    """A reason when the body is an HTML page rather than a feed, naming the page's own feed link."""
    head = body[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    html_doctype = False
    for match in _FIRST_TAG.finditer(head):
        tag = match.group(1).lower()
        if tag in (b"!--", b"?"):
            continue
        if tag.startswith(b"!doctype"):
            html_doctype = html_doctype or tag.endswith(b"html")
            continue
        # The first element decides: <html>, or anything but a feed root after an HTML doctype.
        if tag == b"html" or (html_doctype and tag.split(b":")[-1] not in _FEED_ROOTS):
            break
        return None
    else:
        return None
    reason = f"{feed_url} is an HTML page, not a readable RSS/Atom feed"
    link = _FEED_LINK.search(body[:200_000])
    href = _HREF.search(link.group(0)) if link else None
    if href:
        reason += f"; the page points to a feed at {urljoin(feed_url, href.group(1).decode('utf-8', 'replace'))}"
    return reason


def _looks_like_json(body: bytes, content_type: str | None) -> bool:
    return "json" in (content_type or "").lower() or body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def _json_feed(body: bytes, feed_url: str, base_url: str) -> ParsedFeed | None:
    """JSON Feed (jsonfeed.org) 1.0/1.1; None when the body is not one."""
    try:
        document = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(document, dict) or "jsonfeed.org" not in str(document.get("version", "")):
        return None
    parsed = ParsedFeed(title=document.get("title") if isinstance(document.get("title"), str) else None)
    items: list[Any] = document["items"] if isinstance(document.get("items"), list) else []
    raw: list[RawEntry] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        guid = str(item["id"]) if item.get("id") is not None else None
        link = item.get("url") or item.get("external_url") or (guid if guid and guid.startswith("http") else "")
        published = parse_timestamp(str(item.get("date_published") or item.get("date_modified") or "")) or None
        raw.append(
            (
                str(link or ""),
                guid,
                item.get("title") if isinstance(item.get("title"), str) else None,
                published,
                None,
                None,
            )
        )
    parsed.entries = _entries(raw, feed_url, base_url)
    return parsed


def _updated(item: dict[str, Any]) -> datetime | None:
    # dict's own lookup: feedparser's would silently answer with the published date instead.
    return _as_datetime(dict.get(item, "updated_parsed"))


def _entries(raw: list[RawEntry], feed_url: str, base_url: str) -> list[FeedEntry]:
    """(link, guid, title, published, description, updated) tuples to keyed entries."""
    link_counts: dict[str, int] = {}
    for link, *_ in raw:
        link_counts[link] = link_counts.get(link, 0) + 1
    entries: list[FeedEntry] = []
    seen: set[str] = set()
    for link, guid, title, published, description, updated in raw:
        # A feed that gives every item the same link (its home page) but a permalink GUID.
        if link and link_counts[link] > 1 and guid and guid.startswith(("http://", "https://")) and guid != link:
            link = guid
        if not link and guid and guid.startswith(("http://", "https://")):
            link = guid
        if not link:
            continue
        try:
            canonical = _entry_url(link, base_url, description)
        except ValueError:  # a malformed link (bad port, broken IPv6 literal) skips that item only
            continue
        if canonical is None:
            continue
        key = entry_key(canonical, guid)
        if key in seen:
            continue
        seen.add(key)
        entries.append(
            FeedEntry(
                entry_key=key,
                feed_url=feed_url,
                url=canonical,
                guid=guid,
                title=title[:1000] if title else None,
                published_at=published,
                updated_at=updated,
            )
        )
    return entries


def _entry_url(link: str, base_url: str, description: str | None) -> str | None:
    link = urljoin(base_url, link.strip())
    if not link.startswith(("http://", "https://")):
        return None
    if aggregators.is_google_news_link(link):
        try:
            link = aggregators.decode_google_news_url(link)
        except aggregators.AggregatorLinkError:
            # Keep the Google link unless the item names the article itself; the fetch stage
            # then records why it cannot be resolved.
            link = aggregators.publisher_link_in(description) or link
    canonical = canonicalize_url(link)
    _ = urlsplit(canonical).port  # raises ValueError for a port that is not a number
    return canonical


def parse_feed_document(
    body: bytes, feed_url: str, content_type: str | None = None, base_url: str | None = None
) -> ParsedFeed:
    """Parse feed bytes. `feed_url` is the feed's identity (stored on each entry); `base_url`, the
    URL the bytes came from, resolves relative links. Raises ValueError for something that is not
    a feed at all, with the reason."""
    base_url = base_url or feed_url
    if not body.strip():
        raise ValueError(f"{feed_url} is empty")
    if _looks_like_json(body, content_type):
        parsed = _json_feed(body, feed_url, base_url)
        if parsed is not None:
            return parsed
        if "json" in (content_type or "").lower():
            raise ValueError(f"{feed_url} is JSON but not a JSON Feed")
    reason = _html_reason(body, base_url)
    if reason:
        raise ValueError(reason)
    body, content_type = prefer_utf8(body, content_type)
    headers = {"content-type": content_type} if content_type else {}
    try:
        parsed = feedparser.parse(body, response_headers=headers, resolve_relative_uris=False, sanitize_html=False)
    except Exception as exc:  # feedparser is defensive, but a parser crash must not end the run
        raise ValueError(f"{feed_url} could not be parsed ({type(exc).__name__}: {exc})") from None
    bozo = None
    if parsed.get("bozo"):
        problem = parsed.get("bozo_exception")
        bozo = f"{type(problem).__name__}: {problem}" if problem else "malformed feed"
    version = parsed.get("version") or ""
    if not parsed.entries and not version and (bozo or not parsed.get("feed")):
        raise ValueError(f"{feed_url} is not a readable RSS/Atom feed ({bozo or 'no feed elements found'})")
    raw: list[RawEntry] = []
    for item in parsed.entries:
        link = item.get("link") or ""
        if not link:
            for candidate in item.get("links", []):
                if candidate.get("href") and candidate.get("rel", "alternate") == "alternate":
                    link = candidate["href"]
                    break
        title = item.get("title")
        published = _as_datetime(item.get("published_parsed")) or _as_datetime(item.get("updated_parsed"))
        raw.append(
            (
                str(link),
                item.get("id") or None,
                title if isinstance(title, str) else None,
                published,
                item.get("summary") or item.get("description"),
                _updated(item),
            )
        )
    feed = parsed.get("feed") or {}
    title = feed.get("title") if isinstance(feed.get("title"), str) else None
    return ParsedFeed(title=title, entries=_entries(raw, feed_url, base_url), bozo=bozo, ttl=feed.get("ttl"))


def parse_feed(
    body: bytes, feed_url: str, content_type: str | None = None
) -> tuple[str | None, list[FeedEntry], str | None]:
    """Parse feed bytes into (title, entries, bozo message). Raises ValueError for something
    that is not a feed at all."""
    parsed = parse_feed_document(body, feed_url, content_type)
    return parsed.title, parsed.entries, parsed.bozo


# -- polling -----------------------------------------------------------------------------------


def _note_redirect(state: FeedState, response: http.HttpResponse, configured_url: str) -> None:
    """Move the feed's poll URL only when a permanent redirect repeats on a later poll; a
    temporary redirect, or a permanent one seen once, changes nothing."""
    target = response.permanent_target
    current = state.poll_url or configured_url
    if target is None or target == current:
        state.redirect_candidate = None
    elif state.redirect_candidate == target:
        state.poll_url = None if target == configured_url else target
        state.redirect_candidate = None
    else:
        state.redirect_candidate = target


def _keep_validators(state: FeedState, response: http.HttpResponse) -> None:
    state.etag = response.headers.get("etag") or state.etag
    state.last_modified = response.headers.get("last-modified") or state.last_modified


async def poll_feed(
    client: httpx.AsyncClient,
    source: FeedSource,
    state: FeedState,
    settings: Settings,
    limiter: http.HostLimiter | None = None,
    *,
    now: datetime | None = None,
    rng: random.Random | None = None,
) -> FeedPoll:
    now = now or utcnow()
    state.last_polled_at = now
    url = state.poll_url or source.url
    headers = {"Accept": FEED_ACCEPT}
    if state.etag:
        headers["If-None-Match"] = state.etag
    if state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    try:
        response = await http.get(
            client, url, settings, max_bytes=settings.max_feed_bytes, headers=headers, limiter=limiter
        )
    except http.FetchError as exc:
        return _failed(state, settings, now, str(exc), retry_after=exc.retry_after, rng=rng)
    max_age = schedule.cache_max_age(response.headers.get("cache-control"))
    if response.status == 304:
        _note_redirect(state, response, source.url)
        _keep_validators(state, response)
        return _succeeded(state, settings, now, "304 not modified", max_age=max_age, not_modified=True, rng=rng)
    if response.status != 200:
        error = http.status_error(response, "feed")
        message = str(error)
        if response.status in (404, 410) and state.poll_url:
            # The address the feed moved to is gone: go back to the one that was configured.
            message += f"; the next poll tries the configured address {source.url} again"
            state.poll_url = state.redirect_candidate = None
        return _failed(state, settings, now, message, retry_after=error.retry_after, rng=rng)
    if not response.body.strip():
        return _failed(state, settings, now, f"feed {response.final_url} answered 200 with an empty body", rng=rng)
    if response.content_type.startswith(NOT_FEED_TYPES):
        return _failed(
            state, settings, now, f"feed {response.final_url} is {response.content_type!r}, not a feed", rng=rng
        )
    _note_redirect(state, response, source.url)
    body_hash = hashlib.sha256(response.body).hexdigest()
    if body_hash == state.body_hash:
        _keep_validators(state, response)
        return _succeeded(state, settings, now, "200 unchanged body", max_age=max_age, not_modified=True, rng=rng)
    try:
        args = (response.body, source.url, response.headers.get("content-type"), response.final_url)
        if len(response.body) > INLINE_PARSE_BYTES:
            # A big feed is parsed in a thread, so the event loop keeps serving other feeds' sockets
            # and their timers stay honest; small ones (tens of ms) are cheaper parsed in place.
            parsed = await asyncio.get_running_loop().run_in_executor(_PARSER, parse_feed_document, *args)
        else:
            parsed = parse_feed_document(*args)
    except ValueError as exc:
        return _failed(state, settings, now, str(exc), rng=rng)
    # Validators are kept only once the body parsed, so a broken feed is re-read next time.
    state.etag = response.headers.get("etag") or None
    state.last_modified = response.headers.get("last-modified") or None
    state.body_hash = body_hash
    state.title = source.name or parsed.title or state.title
    schedule.learn_interval(state, settings, now, [e.published_at for e in parsed.entries], parsed.ttl)
    poll = _succeeded(
        state, settings, now, "200 parsed" + (" with warnings" if parsed.bozo else ""), max_age=max_age, rng=rng
    )
    poll.entries, poll.bozo = parsed.entries, parsed.bozo
    return poll


def _succeeded(
    state: FeedState,
    settings: Settings,
    now: datetime,
    status: str,
    *,
    max_age: float | None,
    not_modified: bool = False,
    rng: random.Random | None = None,
) -> FeedPoll:
    state.last_status = status
    state.error_count = 0
    state.last_error = None
    schedule.schedule_success(state, settings, now, max_age=max_age, rng=rng)
    return FeedPoll(state=state, not_modified=not_modified)


def _failed(
    state: FeedState,
    settings: Settings,
    now: datetime,
    error: str,
    *,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> FeedPoll:
    state.last_status = "failed"
    state.error_count = (state.error_count or 0) + 1
    when = schedule.schedule_failure(state, settings, now, retry_after=retry_after, rng=rng)
    why = f"error {state.error_count} in a row"
    if retry_after:
        why = f"honouring Retry-After; {why}"
    error = f"{error}; next try at {when:%Y-%m-%d %H:%M} UTC ({why})"
    state.last_error = error
    return FeedPoll(state=state, error=error)


def interleave_by_host(sources: list[FeedSource], states: dict[str, FeedState] | None = None) -> list[FeedSource]:
    """Round-robin over hosts, so that one busy host does not hold up the others."""
    by_host: dict[str, list[FeedSource]] = {}
    for source in sources:
        state = (states or {}).get(source.url)
        url = (state.poll_url if state else None) or source.url
        by_host.setdefault((urlsplit(url).netloc or "").lower(), []).append(source)
    queues = list(by_host.values())
    ordered: list[FeedSource] = []
    for index in range(max((len(q) for q in queues), default=0)):
        ordered.extend(q[index] for q in queues if index < len(q))
    return ordered


async def poll_many(
    sources: list[FeedSource],
    states: dict[str, FeedState],
    settings: Settings,
    *,
    resolver: Resolver | None = None,
    now: datetime | None = None,
) -> list[FeedPoll]:
    """Poll `sources` concurrently within the per-host and overall limits; one FeedPoll each, in
    the order given. A feed with no state yet starts from a blank one."""
    limiter = http.make_limiter(settings)
    async with http.make_client(settings, resolver=resolver) as client:

        async def one(source: FeedSource) -> FeedPoll:
            state = states.get(source.url) or FeedState(feed_url=source.url)
            try:
                return await poll_feed(client, source, state, settings, limiter, now=now)
            except Exception as exc:  # a bug must cost one feed, not the run
                return _failed(
                    state,
                    settings,
                    now or utcnow(),
                    f"{UNEXPECTED} while polling {source.url}: {type(exc).__name__}: {exc}",
                )

        tasks = {s.url: asyncio.ensure_future(one(s)) for s in interleave_by_host(sources, states)}
        await asyncio.gather(*tasks.values())
        return [tasks[s.url].result() for s in sources]
