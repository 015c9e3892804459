"""SSRF guard: decide whether an address may be fetched, before any connection is made."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit


class UnsafeAddressError(Exception):
    """Raised for a URL whose host is, or resolves to, a non-public address."""


def _parse_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    # inet_aton accepts the legacy spellings attackers use: 2130706433, 0x7f000001, 0177.0.0.1, 127.1.
    if host and all(c in "0123456789abcdefxABCDEFX." for c in host) and any(c.isdigit() for c in host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def is_public_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour
        if mapped is not None:
            return is_public_ip(mapped)
        if ip.teredo:
            return is_public_ip(ip.teredo[1])
    return ip.is_global and not ip.is_multicast


def check_host(host: str, port: int | None = None, *, allow_private: bool = False,
               resolve: bool = True) -> list[str]:
    """Return the addresses `host` resolves to, or raise UnsafeAddressError if any is not public.

    Every resolved address is checked, not just the first, so that a name pointing at both a
    public and a private address is refused."""
    if not host:
        raise UnsafeAddressError("URL has no host")
    literal = _parse_ip(host)
    if literal is not None:
        addresses = [literal]
    elif not resolve:
        return []
    else:
        try:
            infos = socket.getaddrinfo(host, port or 80, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise OSError(f"cannot resolve host {host!r}: {exc.strerror}") from exc
        addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if not allow_private:
        for ip in addresses:
            if not is_public_ip(ip):
                raise UnsafeAddressError(
                    f"refused to fetch {host}: it resolves to non-public address {ip} "
                    "(pass --allow-private-networks to allow it)"
                )
    return [str(ip) for ip in addresses]


def check_url(url: str, *, allow_private: bool = False, resolve: bool = True) -> list[str]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise UnsafeAddressError(f"refused to fetch {url!r}: only http and https are allowed")
    return check_host(parts.hostname or "", parts.port, allow_private=allow_private, resolve=resolve)
