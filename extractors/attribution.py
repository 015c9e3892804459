"""Who wrote it first: find the original source named in a republished copy."""

from __future__ import annotations

import re

from extractors.pagemeta import json_names

_NAME = r"([A-Z][\w&.'-]*(?:[ -][A-Z][\w&.'-]*){0,4})"
# "NEW DELHI, Nov 14 (Reuters) -" or "OSTROVEC, Slovakia, March 4 (Agency) -" near the start of the body.
_DATELINE = re.compile(r"(?:^|\s)[A-Z][A-Za-z .'/-]{1,40}(?:,\s*[A-Z][A-Za-z .'-]{1,30})?,?\s+"
                       r"(?:[A-Z][a-z]{2,8}\.?\s+\d{1,2}\s+)?\(" + _NAME + r"\)\s*[-–—]")
_PROVIDED_BY = re.compile(r"\bProvided by\s+" + _NAME)
_VIA = re.compile(r"\b(?:per|from)\s+" + _NAME + r"\s+via\s+", re.I)
_COPYRIGHT = re.compile(r"(?:©|\(c\)|Copyright)\s*(?:\d{4}\s*)?" + _NAME)
# [ \t]*, not \s*: under re.M, \s* would run across blank lines from every line start (quadratic).
_SOURCE_LINE = re.compile(r"^[ \t]*(?:Source|Originally published by|This story originally appeared (?:on|in))[:\s]+" + _NAME, re.M)


# News agencies whose name alone in a byline or author field means the text is theirs.
WIRE_AGENCIES = ("Reuters", "Associated Press", "AP", "AFP", "Agence France-Presse", "Bloomberg", "dpa",
                 "Deutsche Presse-Agentur", "ANI", "PTI", "Press Trust of India", "Xinhua", "Yonhap", "Kyodo",
                 "TASS", "RIA Novosti", "Interfax", "EFE", "ANSA", "Anadolu Agency", "Kyodo News", "UPI")
_WIRE_NAME = "|".join(re.escape(name) for name in sorted(WIRE_AGENCIES, key=len, reverse=True))
# "By Jane Doe, Reuters", "By Jane Doe and John Roe (AFP)", "By Reuters staff".
_BYLINE = re.compile(r"^[ \t]*By\s+(?:[A-Z][\w.'-]+(?:\s+(?:and\s+)?[A-Z][\w.'-]+){0,5}\s*[,(|-]\s*|)(" + _WIRE_NAME
                     + r")\b(?:\s+staff)?", re.M)
# [^<>], not [^>]: one attempt never runs past the next tag, so "<meta <meta <meta …" stays linear.
_AUTHOR_META = re.compile(r"<meta[^<>]+name=[\"']author[\"'][^<>]+content=[\"']\s*(?:[^\"']*?,\s*)?(" + _WIRE_NAME
                          + r")(?:\s+staff)?\s*[\"']", re.I)


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def find_syndicated_from(text: str, html: str, json_blobs: list[object], own_source: str | None) -> str | None:
    """The original source's name if the page credits one other than its own site, else None."""
    own = _norm(own_source or "")
    candidates: list[str] = []
    head = text[:400]
    match = _DATELINE.search(head)
    if match:
        candidates.append(match.group(1))
    for found in (_BYLINE.search(text[:300]), _AUTHOR_META.search(html[:200_000])):
        if found:
            candidates.append(found.group(1))
    for pattern in (_PROVIDED_BY, _VIA, _SOURCE_LINE):
        found = pattern.search(text) or pattern.search(_visible_tail(html))
        if found:
            candidates.append(found.group(1))
    candidates.extend(json_names(json_blobs, ("provider", "sourceOrganization")))
    candidates.extend(json_names(json_blobs, ("publisher",)))
    tail = text[-600:]
    found = _COPYRIGHT.search(tail)
    if found:
        candidates.append(found.group(1))
    for name in candidates:
        name = name.strip(" .,-")
        key = _norm(name)
        if key and not (own and (own.startswith(key) or key.startswith(own))):
            return name
    return None


_TAGS = re.compile(r"<[^<>]+>")   # [^<>]: a run of "<" with no ">" is not rescanned from each one


def _visible_tail(html: str) -> str:
    # "Provided by" lines often sit in page chrome that text extraction drops. Tags become line
    # breaks so a name never runs on into the next element's text.
    return _TAGS.sub("\n", html[-200_000:])
