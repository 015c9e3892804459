"""One careful HTTP GET: redirects followed by hand (each hop checked by the SSRF guard),
bodies streamed under a size cap that counts decompressed bytes, and a total time limit."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import urljoin

import httpx

from extractors.netguard import UnsafeAddressError, check_url
from newsflow.settings import Settings


class FetchError(Exception):
    """A fetch that failed, with a message a person understands."""

    def __init__(self, message: str, *, retryable: bool = False, status: int | None = None,
                 retry_after: float | None = None):
        super().__init__(message)
        self.retryable = retryable
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

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def declared_charset(self) -> str | None:
        for part in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = part.partition("=")
            if key.strip().lower() == "charset" and value.strip():
                return value.strip().strip("\"'").lower()
        return None


class HostLimiter:
    """At most `per_host` requests in flight to one host, and `min_delay` seconds between
    request starts to the same host."""

    def __init__(self, per_host: int, min_delay: float = 0.0):
        self._semaphores: dict[str, asyncio.Semaphore] = defaultdict(lambda: asyncio.Semaphore(per_host))
        self._next_start: dict[str, float] = defaultdict(float)
        self._min_delay = min_delay

    def slot(self, host: str) -> _HostSlot:
        return _HostSlot(self, host)


class _HostSlot:
    def __init__(self, limiter: HostLimiter, host: str):
        self._limiter, self._host = limiter, host

    async def __aenter__(self) -> None:
        await self._limiter._semaphores[self._host].acquire()
        if self._limiter._min_delay:
            now = time.monotonic()
            start = max(now, self._limiter._next_start[self._host])
            self._limiter._next_start[self._host] = start + self._limiter._min_delay
            if start > now:
                await asyncio.sleep(start - now)

    async def __aexit__(self, *exc: object) -> None:
        self._limiter._semaphores[self._host].release()


def make_client(settings: Settings) -> httpx.AsyncClient:
    timeout = httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout)
    limits = httpx.Limits(max_connections=settings.max_connections,
                          max_keepalive_connections=settings.max_connections)
    return httpx.AsyncClient(
        timeout=timeout,
        limits=limits,
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
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


async def get(client: httpx.AsyncClient, url: str, settings: Settings, *, max_bytes: int,
              headers: dict[str, str] | None = None, limiter: HostLimiter | None = None) -> HttpResponse:
    """GET `url`, following up to `settings.max_redirects` redirects. Raises FetchError."""
    try:
        return await asyncio.wait_for(
            _get(client, url, settings, max_bytes=max_bytes, headers=headers or {}, limiter=limiter),
            timeout=settings.total_timeout,
        )
    except (asyncio.TimeoutError, TimeoutError):
        raise FetchError(f"gave up on {url} after {settings.total_timeout:g} s (total time limit)",
                         retryable=True) from None


async def _get(client: httpx.AsyncClient, url: str, settings: Settings, *, max_bytes: int,
               headers: dict[str, str], limiter: HostLimiter | None) -> HttpResponse:
    redirects: list[str] = []
    current = url
    seen = {url}
    while True:
        try:
            await asyncio.to_thread(check_url, current, allow_private=settings.allow_private_networks)
        except UnsafeAddressError as exc:
            raise FetchError(str(exc)) from None
        except OSError as exc:
            raise FetchError(str(exc), retryable=True) from None
        host = httpx.URL(current).host
        try:
            if limiter is not None:
                async with limiter.slot(host):
                    status, resp_headers, body = await _stream(client, current, headers, max_bytes)
            else:
                status, resp_headers, body = await _stream(client, current, headers, max_bytes)
        except httpx.TimeoutException as exc:
            raise FetchError(f"{current} timed out ({type(exc).__name__})", retryable=True) from None
        except httpx.TransportError as exc:
            raise FetchError(f"could not reach {current}: {exc or type(exc).__name__}", retryable=True) from None
        if status in (301, 302, 303, 307, 308) and "location" in resp_headers:
            target = urljoin(current, resp_headers["location"])
            redirects.append(target)
            if target in seen:
                raise FetchError(f"redirect loop at {current} -> {target} after {len(redirects)} hops")
            if len(redirects) > settings.max_redirects:
                raise FetchError(f"too many redirects from {url} (more than {settings.max_redirects})")
            seen.add(target)
            current = target
            continue
        return HttpResponse(url=url, final_url=current, status=status, headers=resp_headers,
                            body=body, redirects=redirects)


async def _stream(client: httpx.AsyncClient, url: str, headers: dict[str, str],
                  max_bytes: int) -> tuple[int, httpx.Headers, bytes]:
    async with client.stream("GET", url, headers=headers) as response:
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise FetchError(f"{url} is {int(declared):,} bytes, over the {max_bytes:,}-byte cap")
        chunks: list[bytes] = []
        size = 0
        try:
            # aiter_bytes yields decompressed bytes, so the cap also stops a gzip bomb.
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise FetchError(f"{url} exceeded the {max_bytes:,}-byte cap (after decompression)")
                chunks.append(chunk)
        except httpx.DecodingError as exc:
            raise FetchError(f"{url} sent a body that could not be decompressed: {exc}") from None
        return response.status_code, response.headers, b"".join(chunks)


def status_error(response: HttpResponse, what: str) -> FetchError:
    status = response.status
    retryable = status == 429 or status >= 500
    retry_after = _retry_after_seconds(response.headers.get("retry-after"))
    message = f"{what} {response.final_url} answered HTTP {status}"
    if retry_after is not None:
        message += f"; server asks to retry after {retry_after:.0f} s"
    return FetchError(message, retryable=retryable, status=status, retry_after=retry_after)
