"""SSRF guard: decide whether an address may be fetched, before any connection is made.

Two layers, both needed:
- `check_url` refuses a bad scheme or a literal non-public address before a request is sent
  (every redirect hop goes through it);
- `GuardedNetworkBackend` sits under httpx: it resolves each host name once, checks *every*
  address the name resolves to, and connects to the address it checked. httpx never resolves the
  name itself, so a second DNS answer (DNS rebinding) cannot slip a private address in. TLS still
  uses the host name for SNI and certificate checks, and the Host header is unchanged.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import typing
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urlsplit

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]

# Ranges Python's `is_global` calls global but that reach a private address or are not routable.
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_SITE_LOCAL = ipaddress.ip_network("fec0::/10")
# Names that mean "this machine" or a cloud metadata service whatever DNS says.
_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
_METADATA_NAMES = ("metadata.google.internal", "metadata", "instance-data", "instance-data.ec2.internal")


class UnsafeAddressError(Exception):
    """Raised for a URL whose host is, or resolves to, a non-public address."""


def parse_ip(host: str) -> IPAddress | None:
    """The address a host string denotes literally, including the legacy spellings attackers
    use (2130706433, 0x7f000001, 0177.0.0.1, 127.1); None for a name."""
    host = host.strip().strip("[]").rstrip(".")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if host and all(c in "0123456789abcdefxABCDEFX." for c in host) and any(c.isdigit() for c in host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if any(ip in net for net in _NAT64) or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public_ip(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            return is_public_ip(embedded)
        if ip in _SITE_LOCAL:
            return False
    return ip.is_global and not ip.is_multicast


def _networks(allowed: Iterable[str]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return _parsed_networks(tuple(allowed))


@functools.lru_cache(maxsize=64)
def _parsed_networks(allowed: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(n, strict=False) for n in allowed)


def is_allowed_ip(ip: IPAddress, *, allow_private: bool = False, allowed_networks: Iterable[str] = ()) -> bool:
    """Public addresses always; others only with `allow_private` or inside `allowed_networks`."""
    if allow_private or is_public_ip(ip):
        return True
    return any(ip.version == net.version and ip in net for net in _networks(allowed_networks))


def _refusal(host: str, ip: IPAddress) -> UnsafeAddressError:
    what = "is" if parse_ip(host) is not None else "resolves to"  # "it is the …", "it resolves to the …"
    return UnsafeAddressError(
        f"refused to fetch {host}: it {what} the non-public address {ip} (pass --allow-private-networks to allow it)"
    )


def _literal_for_name(host: str) -> IPAddress | None:
    name = host.lower().rstrip(".")
    if name in _LOCAL_NAMES or name.endswith(".localhost"):
        return ipaddress.ip_address("127.0.0.1")
    if name in _METADATA_NAMES:
        return ipaddress.ip_address("169.254.169.254")
    return None


def check_host(
    host: str,
    port: int | None = None,
    *,
    allow_private: bool = False,
    resolve: bool = True,
    allowed_networks: Iterable[str] = (),
) -> list[str]:
    """Return the addresses `host` resolves to, or raise UnsafeAddressError if any is not allowed.

    Every resolved address is checked, not just the first, so that a name pointing at both a
    public and a private address is refused. With `resolve=False` a name is not looked up and
    the result is empty (the connection-time check in GuardedNetworkBackend covers it)."""
    if not host:
        raise UnsafeAddressError("URL has no host")
    literal = parse_ip(host) or _literal_for_name(host)
    if literal is not None:
        addresses = [literal]
    elif not resolve:
        return []
    else:
        try:
            infos = socket.getaddrinfo(host, port or 80, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise OSError(f"cannot resolve host {host!r}: {exc.strerror}") from exc
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    for ip in addresses:
        if not is_allowed_ip(ip, allow_private=allow_private, allowed_networks=allowed_networks):
            raise _refusal(host, ip)
    return [str(ip) for ip in addresses]


def check_url(
    url: str, *, allow_private: bool = False, resolve: bool = True, allowed_networks: Iterable[str] = ()
) -> list[str]:
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise UnsafeAddressError(f"refused to fetch {url!r}: it is not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https"):
        raise UnsafeAddressError(f"refused to fetch {url!r}: only http and https are allowed")
    try:
        port = parts.port
    except ValueError:
        raise UnsafeAddressError(f"refused to fetch {url!r}: the port is not a number") from None
    return check_host(
        parts.hostname or "", port, allow_private=allow_private, resolve=resolve, allowed_networks=allowed_networks
    )


async def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for `host`, in its order."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    seen: list[str] = []
    for info in infos:
        address = str(info[4][0]).split("%")[0]
        if address not in seen:
            seen.append(address)
    return seen


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that resolves, checks and connects to the checked address."""

    def __init__(
        self,
        *,
        allow_private: bool = False,
        allowed_networks: Iterable[str] = (),
        resolver: Resolver | None = None,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ):
        self.allow_private = allow_private
        self.allowed_networks = tuple(allowed_networks)
        self._resolver = resolver or system_resolver
        self._inner = inner or httpcore.AnyIOBackend()
        self.connected: list[tuple[str, str]] = []  # (host, address) of each connection, for tests

    async def addresses(self, host: str, port: int) -> list[str]:
        literal = parse_ip(host) or _literal_for_name(host)
        if literal is not None:
            candidates = [literal]
        else:
            try:
                candidates = [ipaddress.ip_address(a) for a in await self._resolver(host, port)]
            except (OSError, ValueError) as exc:
                raise httpcore.ConnectError(f"cannot resolve host {host!r}: {exc}") from None
            if not candidates:
                raise httpcore.ConnectError(f"cannot resolve host {host!r}: no addresses")
        for ip in candidates:
            if not is_allowed_ip(ip, allow_private=self.allow_private, allowed_networks=self.allowed_networks):
                raise _refusal(host, ip)
        return [str(ip) for ip in candidates]

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        last_error: Exception | None = None
        for address in await self.addresses(host, port):
            try:
                stream = await self._inner.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
                continue
            self.connected.append((host, address))
            return stream
        assert last_error is not None
        raise last_error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise UnsafeAddressError("refused to connect to a unix socket")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def guarded_transport(backend: GuardedNetworkBackend, limits: httpx.Limits) -> httpx.AsyncHTTPTransport:
    """An httpx transport whose every connection goes through `backend`."""
    transport = httpx.AsyncHTTPTransport(limits=limits, retries=0, trust_env=False)
    pool = getattr(transport, "_pool", None)
    if not isinstance(pool, httpcore.AsyncConnectionPool) or not hasattr(pool, "_network_backend"):
        raise RuntimeError(
            "this httpx/httpcore version does not let newsflow pin connections to "
            "checked addresses; install the versions in constraints.txt"
        )
    pool._network_backend = backend
    return transport
