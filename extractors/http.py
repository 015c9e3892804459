"""One careful HTTP GET: redirects followed by hand (each hop checked by the SSRF guard, and
every connection pinned to the address the guard checked), bodies streamed under a size cap that
also counts decompressed bytes (we decompress ourselves, in bounded pieces, so a gzip bomb never
inflates in memory), connect/read/total time limits, and per-host politeness."""

from __future__ import annotations

import asyncio
import contextlib
import time
import zlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin

import httpx

from extractors.netguard import GuardedNetworkBackend, Resolver, UnsafeAddressError, check_url, guarded_transport
from newsflow.clock import utcnow
from newsflow.models import RETRYABLE_KINDS, FailureKind
from newsflow.settings import Settings

REDIRECT_STATUSES = (301, 302, 303, 307, 308)
PERMANENT_REDIRECTS = (301, 308)
_PIECE = 64 * 1024  # the most decompressed bytes produced at once
_MAX_DEFER = 7 * 24 * 3600.0


class FetchError(Exception):
    """A fetch that failed, with a message a person understands."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool = False,
        status: int | None = None,
        retry_after: float | None = None,
        kind: FailureKind | None = None,
    ):
        super().__init__(message)
        self.kind: FailureKind = kind or ("retry" if retryable else "failed")
        self.retryable = self.kind in RETRYABLE_KINDS
        self.status = status
        self.retry_after = retry_after


@dataclass
class HttpResponse:
    url: str
    final_url: str
    status: int
    headers: httpx.Headers
    body: bytes
    redirects: list[str] = field(default_factory=list)
    redirect_statuses: list[int] = field(default_factory=list)
    bytes_received: int = 0  # body bytes on the wire, before decompression

    @property
    def content_type(self) -> str:
        return str(self.headers.get("content-type", "")).split(";")[0].strip().lower()

    @property
    def declared_charset(self) -> str | None:
        for part in str(self.headers.get("content-type", "")).split(";")[1:]:
            key, _, value = part.partition("=")
            if key.strip().lower() == "charset" and value.strip():
                return value.strip().strip("\"'").lower()
        return None

    @property
    def permanent_target(self) -> str | None:
        """Where the URL has moved for good: the end of the leading run of 301/308 hops, or None
        when the first hop is temporary (302/303/307) or there was no redirect."""
        target = None
        for location, status in zip(self.redirects, self.redirect_statuses, strict=False):
            if status not in PERMANENT_REDIRECTS:
                break
            target = location
        return target


def host_key(url: str) -> str:
    """Politeness is per host and port: two servers on one machine are two hosts."""
    parsed = httpx.URL(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    return f"{parsed.host}:{port}"


class HostLimiter:
    """At most `per_host` requests in flight to one host, `min_delay` seconds between request
    starts to the same host, at most `total` requests in flight overall, and no request at all
    to a host that asked us to wait (429 or Retry-After) until that time has passed."""

    def __init__(self, per_host: int, min_delay: float = 0.0, total: int | None = None):
        self._semaphores: dict[str, asyncio.Semaphore] = defaultdict(lambda: asyncio.Semaphore(per_host))
        self._next_start: dict[str, float] = defaultdict(float)
        self._deferred: dict[str, float] = {}
        self._total = asyncio.Semaphore(total) if total else None
        self._min_delay = min_delay

    def slot(self, host: str) -> _HostSlot:
        return _HostSlot(self, host)

    def defer(self, host: str, seconds: float) -> None:
        until = time.monotonic() + min(max(seconds, 0.0), _MAX_DEFER)
        self._deferred[host] = max(until, self._deferred.get(host, 0.0))

    def deferred_for(self, host: str) -> float:
        """Seconds left before `host` may be contacted again (0 when it may be now)."""
        return max(0.0, self._deferred.get(host, 0.0) - time.monotonic())


def _deferred_error(host: str, wait: float) -> FetchError:
    when = utcnow() + timedelta(seconds=wait)
    return FetchError(
        f"not contacted: {host} asked us to wait until {when:%H:%M:%S} UTC (429/Retry-After)",
        kind="deferred",
        retry_after=wait,
    )


class _HostSlot:
    def __init__(self, limiter: HostLimiter, host: str):
        self._limiter, self._host = limiter, host

    async def __aenter__(self) -> None:
        limiter = self._limiter
        wait = limiter.deferred_for(self._host)
        if wait:
            raise _deferred_error(self._host, wait)
        await limiter._semaphores[self._host].acquire()
        try:
            if limiter._min_delay:
                now = time.monotonic()
                start = max(now, limiter._next_start[self._host])
                limiter._next_start[self._host] = start + limiter._min_delay
                if start > now:
                    await asyncio.sleep(start - now)
            wait = limiter.deferred_for(self._host)  # another request may have been told to wait meanwhile
            if wait:
                raise _deferred_error(self._host, wait)
            if limiter._total is not None:
                await limiter._total.acquire()
        except BaseException:
            limiter._semaphores[self._host].release()
            raise

    async def __aexit__(self, *exc: object) -> None:
        if self._limiter._total is not None:
            self._limiter._total.release()
        self._limiter._semaphores[self._host].release()


def make_limiter(settings: Settings) -> HostLimiter:
    return HostLimiter(settings.per_host_connections, settings.per_host_delay, settings.max_connections)


def make_client(
    settings: Settings, *, resolver: Resolver | None = None, backend: GuardedNetworkBackend | None = None
) -> httpx.AsyncClient:
    """An httpx client whose connections are pinned to addresses the SSRF guard checked."""
    timeout = httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout, pool=None)
    limits = httpx.Limits(max_connections=settings.max_connections, max_keepalive_connections=settings.max_connections)
    backend = backend or GuardedNetworkBackend(
        allow_private=settings.allow_private_networks, allowed_networks=settings.allowed_networks, resolver=resolver
    )
    return httpx.AsyncClient(
        timeout=timeout,
        transport=guarded_transport(backend, limits),
        follow_redirects=False,
        trust_env=False,  # a proxy from the environment would bypass the SSRF guard's view of the address
        headers={"User-Agent": settings.resolved_user_agent(), "Accept-Encoding": "gzip, deflate"},
    )


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - time.time())


async def get(
    client: httpx.AsyncClient,
    url: str,
    settings: Settings,
    *,
    max_bytes: int,
    headers: dict[str, str] | None = None,
    limiter: HostLimiter | None = None,
    total_timeout: float | None = None,
) -> HttpResponse:
    """GET `url`, following up to `settings.max_redirects` redirects. Raises FetchError.

    The total time limit covers the time spent talking to servers, not the time spent waiting
    for a turn at a busy host."""
    budget = limit = settings.total_timeout if total_timeout is None else total_timeout
    redirects: list[str] = []
    statuses: list[int] = []
    current = url
    seen = {url}
    while True:
        try:
            check_url(
                current,
                allow_private=settings.allow_private_networks,
                resolve=False,
                allowed_networks=settings.allowed_networks,
            )
            host = host_key(current)
        except UnsafeAddressError as exc:
            raise FetchError(str(exc)) from None
        except (httpx.InvalidURL, ValueError) as exc:
            raise FetchError(f"{current} is not a valid URL: {exc}") from None
        slot = limiter.slot(host) if limiter is not None else contextlib.nullcontext()
        async with slot:
            started = time.monotonic()
            try:
                status, resp_headers, body, wire = await asyncio.wait_for(
                    _stream(client, current, headers or {}, max_bytes), timeout=max(budget, 0.001)
                )
            except TimeoutError:
                raise FetchError(f"gave up on {current} after {limit:g} s (total time limit)", retryable=True) from None
            except UnsafeAddressError as exc:
                raise FetchError(str(exc)) from None
            except httpx.TimeoutException as exc:
                raise FetchError(f"{current} timed out ({_timeout_kind(exc)})", retryable=True) from None
            except httpx.TransportError as exc:
                raise FetchError(f"could not reach {current}: {exc or type(exc).__name__}", retryable=True) from None
            except httpx.InvalidURL as exc:
                raise FetchError(f"{current} is not a valid URL: {exc}") from None
            budget -= time.monotonic() - started
        if limiter is not None and status in (429, 503):
            wait = _retry_after_seconds(resp_headers.get("retry-after"))
            if wait is None and status == 429:
                wait = 60.0
            if wait:
                limiter.defer(host, wait)
        if status in REDIRECT_STATUSES and "location" in resp_headers:
            target = urljoin(current, resp_headers["location"].strip())
            redirects.append(target)
            statuses.append(status)
            if target in seen:
                raise FetchError(
                    f"redirect loop: {current} redirects back to {target} "
                    f"(after {len(redirects)} hop{'s' if len(redirects) != 1 else ''} from {url})"
                )
            if len(redirects) > settings.max_redirects:
                raise FetchError(f"too many redirects from {url} (more than {settings.max_redirects})")
            seen.add(target)
            current = target
            continue
        return HttpResponse(
            url=url,
            final_url=current,
            status=status,
            headers=resp_headers,
            body=body,
            redirects=redirects,
            redirect_statuses=statuses,
            bytes_received=wire,
        )


def _timeout_kind(exc: httpx.TimeoutException) -> str:
    return {
        httpx.ConnectTimeout: "connect timeout",
        httpx.ReadTimeout: "read timeout",
        httpx.WriteTimeout: "write timeout",
        httpx.PoolTimeout: "pool timeout",
    }.get(type(exc), type(exc).__name__)


class _Decompressor:
    """Content-Encoding decoding in bounded pieces: never more than _PIECE bytes at once."""

    def __init__(self, header: str, url: str):
        codings = [c.strip().lower() for c in header.split(",") if c.strip() and c.strip().lower() != "identity"]
        if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
            raise FetchError(f"{url} sent content encoding {header!r}, which newsflow does not accept")
        self.coding = codings[0] if codings else None
        self._url = url
        self._zlib = self._new()
        self._started = False

    def _new(self, raw_deflate: bool = False) -> zlib._Decompress:
        if self.coding in ("gzip", "x-gzip"):
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        return zlib.decompressobj(-zlib.MAX_WBITS if raw_deflate else zlib.MAX_WBITS)

    def pieces(self, data: bytes) -> Iterator[bytes]:
        if self.coding is None:
            yield data
            return
        try:
            if self.coding == "deflate" and not self._started:
                # "deflate" is zlib-wrapped by the spec but raw deflate from many servers.
                self._started = True
                if len(data) < 2 or data[0] & 0x0F != 8 or (data[0] << 8 | data[1]) % 31:
                    self._zlib = self._new(raw_deflate=True)
            pending = data
            while pending:
                out = self._zlib.decompress(pending, _PIECE)
                if out:
                    yield out
                pending = self._zlib.unconsumed_tail
                if self._zlib.eof:
                    rest = self._zlib.unused_data + pending
                    if self.coding != "deflate" and rest[:2] == b"\x1f\x8b":
                        self._zlib = self._new()  # another gzip member follows
                        pending = rest
                    else:
                        pending = b""  # trailing bytes after the compressed data are ignored
        except zlib.error as exc:
            raise FetchError(f"{self._url} sent a body that could not be decompressed ({exc})") from None

    def tail(self) -> bytes:
        if self.coding is None or self._zlib.eof:
            return b""
        try:
            return bytes(self._zlib.flush())
        except zlib.error:
            return b""


async def _stream(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], max_bytes: int
) -> tuple[int, httpx.Headers, bytes, int]:
    async with client.stream("GET", url, headers=headers) as response:
        if response.status_code in REDIRECT_STATUSES or response.status_code == 304:
            # Read the (normally empty) body so the connection can be reused, but never much of it.
            wire = 0
            async for raw in response.aiter_raw():
                wire += len(raw)
                if wire > _PIECE:
                    break
            return response.status_code, response.headers, b"", wire
        declared = response.headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > max_bytes:
            raise FetchError(f"{url} is {int(declared):,} bytes, over the {max_bytes:,}-byte cap")
        decoder = _Decompressor(response.headers.get("content-encoding", ""), url)
        chunks: list[bytes] = []
        size = wire = 0
        async for raw in response.aiter_raw():
            wire += len(raw)
            if wire > max_bytes:
                raise FetchError(f"{url} exceeded the {max_bytes:,}-byte cap")
            for piece in decoder.pieces(raw):
                size += len(piece)
                if size > max_bytes:
                    raise FetchError(
                        f"{url} exceeded the {max_bytes:,}-byte cap after decompression ({wire:,} bytes on the wire)"
                    )
                chunks.append(piece)
        tail = decoder.tail()
        if size + len(tail) > max_bytes:
            raise FetchError(f"{url} exceeded the {max_bytes:,}-byte cap after decompression")
        chunks.append(tail)
        return response.status_code, response.headers, b"".join(chunks), wire


def status_error(response: HttpResponse, what: str) -> FetchError:
    status = response.status
    retryable = status in (408, 425, 429) or status >= 500
    retry_after = _retry_after_seconds(response.headers.get("retry-after"))
    message = f"{what} {response.final_url} answered HTTP {status}"
    if retry_after is not None:
        message += f"; the server asks to retry after {retry_after:.0f} s"
    return FetchError(message, retryable=retryable, status=status, retry_after=retry_after)
