"""URL identity: one page reached through many URLs is one article."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Parameters that identify a campaign or a click, never the page.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "igshid",
        "ocid",
        "cvid",
        "ei",
        "mc_cid",
        "mc_eid",
        "mkt_tok",
        "_hsenc",
        "_hsmi",
        "hsctatracking",
        "cmpid",
        "cmp",
        "icid",
        "ncid",
        "sr_share",
        "share",
        "smid",
        "soc_src",
        "soc_trk",
        "ref",
        "ref_src",
        "referrer",
        "src",
        "spm",
        "taid",
        "guccounter",
        "guce_referrer",
        "guce_referrer_sig",
        "at_medium",
        "at_campaign",
        "at_custom1",
        "rss",
        "feed",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "at_", "__twitter", "_ga")
DEFAULT_PORTS = {"http": 80, "https": 443}
MOBILE_HOST_PREFIXES = ("m.", "mobile.", "amp.")


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


_SURROGATE = re.compile("[\ud800-\udfff]")


def canonicalize_url(url: str) -> str:
    """Lowercase scheme and host, drop default ports, fragments and tracking parameters,
    sort the query, and fold AMP and mobile variants onto the desktop URL."""
    # A lone surrogate (from a feed's "&#xD800;") cannot be percent-encoded: replace it first.
    url = _SURROGATE.sub("\ufffd", url)
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:  # "http://[::1/", "http://host:99999/": nothing to normalise; keep it as given
        return url.strip()
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    for prefix in MOBILE_HOST_PREFIXES:
        if host.startswith(prefix) and host.count(".") >= 2:
            host = host[len(prefix) :]
            break
    netloc = host if port is None or DEFAULT_PORTS.get(scheme) == port else f"{host}:{port}"
    if ":" in host and not host.startswith("["):
        netloc = f"[{host}]" + (f":{port}" if port and DEFAULT_PORTS.get(scheme) != port else "")
    path = parts.path or "/"
    for amp_suffix in ("/amp/", "/amp", ".amp"):
        if path.endswith(amp_suffix) and len(path) > len(amp_suffix):
            path = path[: -len(amp_suffix)] + ("/" if amp_suffix == "/amp/" else "")
            break
    if path.startswith("/amp/"):
        path = path[4:]
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)]
    query = [(k, v) for k, v in query if k.lower() not in ("amp", "outputtype") or v not in ("", "1", "amp")]
    return urlunsplit((scheme, netloc, path, urlencode(sorted(query)), ""))


def domain_of(url: str) -> str:
    """The registrable-looking host of a URL, without `www.`; keeps a non-default port so that
    sites served on loopback ports stay apart."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # an invalid IPv6 literal or port: no domain to name
        return ""
    host = (parts.hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    if port and DEFAULT_PORTS.get(parts.scheme.lower()) != port:
        return f"{host}:{port}"
    return host


def same_site(a: str, b: str) -> bool:
    """True when two URLs share a host, ignoring `www.` and mobile prefixes."""

    def site(u: str) -> str:
        host = domain_of(canonicalize_url(u))
        return host

    return site(a) == site(b)
