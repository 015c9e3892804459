"""Fetch article pages: bounded concurrency, a per-host limit, robots.txt obeyed, redirects
recorded, content type and charset checked. Every page comes back as a Page or a Failure."""

from __future__ import annotations

import asyncio
import codecs
import re

import httpx

from extractors import aggregators, http
from extractors.netguard import Resolver, UnsafeAddressError, check_url
from extractors.robots import RobotsCache
from newsflow.clock import utcnow as _now
from newsflow.models import Failure, FeedEntry, Page
from newsflow.settings import Settings

HTML_TYPES = ("text/html", "application/xhtml+xml")
_META_CHARSET = re.compile(rb"""<meta[^<>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)


def decode_html(body: bytes, declared: str | None) -> str:
    """Valid UTF-8 wins over a wrong declaration; then the header, then <meta>, then cp1252."""
    if body.startswith(codecs.BOM_UTF8):
        return body[3:].decode("utf-8", errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    candidates = [declared]
    meta = _META_CHARSET.search(body[:4096])
    if meta:
        candidates.append(meta.group(1).decode("ascii", "ignore"))
    for charset in candidates:
        if not charset:
            continue
        try:
            codecs.lookup(charset)
        except LookupError:
            continue
        if charset.lower().replace("-", "") in ("utf8",):
            continue
        try:
            return body.decode(charset, errors="replace")
        except (LookupError, UnicodeError, TypeError):
            continue  # a codec that is not a text encoding (<meta charset=base64>, rot13, …)
    return body.decode("cp1252", errors="replace")


async def fetch_page(
    client: httpx.AsyncClient,
    entry: FeedEntry,
    settings: Settings,
    limiter: http.HostLimiter,
    robots: RobotsCache | None = None,
) -> Page | Failure:
    url = entry.url
    if aggregators.is_google_news_link(url):
        try:
            url = aggregators.decode_google_news_url(url)
        except aggregators.AggregatorLinkError as exc:
            return Failure(entry.url, "fetch", f"skipped {entry.url}: {exc}", _now(), entry.entry_key, kind="skipped")
    if robots is not None and settings.obey_robots:
        try:  # a refused address is reported as such, and its robots.txt is never asked for
            check_url(
                url,
                allow_private=settings.allow_private_networks,
                resolve=False,
                allowed_networks=settings.allowed_networks,
            )
        except UnsafeAddressError as exc:
            return Failure(entry.url, "fetch", str(exc), _now(), entry.entry_key)
        if not await robots.allows(client, url, settings, limiter):
            return Failure(
                entry.url,
                "fetch",
                f"skipped {url}: robots.txt of {RobotsCache.origin(url)} disallows newsflow "
                "(pass --ignore-robots to fetch it anyway)",
                _now(),
                entry.entry_key,
                kind="skipped",
            )
    try:
        response = await http.get(
            client,
            url,
            settings,
            max_bytes=settings.max_page_bytes,
            headers={"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"},
            limiter=limiter,
        )
    except http.FetchError as exc:
        return Failure(entry.url, "fetch", str(exc), _now(), entry.entry_key, kind=exc.kind)
    if response.status != 200:
        error = http.status_error(response, "page")
        return Failure(entry.url, "fetch", str(error), _now(), entry.entry_key, kind=error.kind)
    if response.content_type and response.content_type not in HTML_TYPES:
        return Failure(
            entry.url,
            "fetch",
            f"skipped {response.final_url}: content type {response.content_type!r} is not HTML",
            _now(),
            entry.entry_key,
            kind="skipped",
        )
    if not response.body.strip():
        return Failure(
            entry.url, "fetch", f"{response.final_url} answered 200 with an empty body", _now(), entry.entry_key
        )
    html = decode_html(response.body, response.declared_charset)
    return Page(
        entry_key=entry.entry_key,
        requested_url=entry.url,
        final_url=response.final_url,
        redirects=tuple(response.redirects),
        status=response.status,
        content_type=response.content_type or "text/html",
        html=html,
        fetched_at=_now(),
    )


async def fetch_pages(
    entries: list[FeedEntry], settings: Settings, robots: RobotsCache | None = None, *, resolver: Resolver | None = None
) -> list[Page | Failure]:
    """Fetch all entries concurrently, at most `per_host_connections` per host, `per_host_delay`
    apart, obeying robots.txt unless `settings.obey_robots` is off. Pass one RobotsCache per run
    so each host's robots.txt is read once."""
    limiter = http.make_limiter(settings)
    robots = robots if robots is not None else RobotsCache()

    async def one(client: httpx.AsyncClient, entry: FeedEntry) -> Page | Failure:
        try:
            return await fetch_page(client, entry, settings, limiter, robots)
        except Exception as exc:  # a bug must cost one page, not the run
            return Failure(
                entry.url,
                "fetch",
                f"newsflow hit an unexpected error (please report it) while "
                f"fetching {entry.url}: {type(exc).__name__}: {exc}",
                _now(),
                entry.entry_key,
                kind="retry",
            )

    async with http.make_client(settings, resolver=resolver) as client:
        return list(await asyncio.gather(*(one(client, e) for e in entries)))
