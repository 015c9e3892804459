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
# `[^\S\n]*`, not `\s*`: after a line start only that line's blanks count, so a run of empty lines
# (the tag-stripped page tail is full of them) is not rescanned from every line in it.
_SOURCE_LINE = re.compile(r"^[^\S\n]*(?:Source|Originally published by|This story originally appeared (?:on|in))[:\s]+" + _NAME, re.M)


# News agencies whose name alone in a byline or author field means the text is theirs.
WIRE_AGENCIES = ("Reuters", "Associated Press", "AP", "AFP", "Agence France-Presse", "Bloomberg", "dpa",
                 "Deutsche Presse-Agentur", "ANI", "PTI", "Press Trust of India", "Xinhua", "Yonhap", "Kyodo",
                 "TASS", "RIA Novosti", "Interfax", "EFE", "ANSA", "Anadolu Agency", "Kyodo News", "UPI")
_WIRE_NAME = "|".join(re.escape(name) for name in sorted(WIRE_AGENCIES, key=len, reverse=True))
# "By Jane Doe, Reuters", "By Jane Doe and John Roe (AFP)", "By Reuters staff".
_BYLINE = re.compile(r"^\s*By\s+(?:[A-Z][\w.'-]+(?:\s+(?:and\s+)?[A-Z][\w.'-]+){0,5}\s*[,(|-]\s*|)(" + _WIRE_NAME
                     + r")\b(?:\s+staff)?", re.M)
_AUTHOR_META = re.compile(r"<meta[^>]+name=[\"']author[\"'][^>]+content=[\"']\s*(?:[^\"']*?,\s*)?(" + _WIRE_NAME
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
    tail = _PageTail(html)
    for pattern, hints, any_case in _CREDIT_LINES:
        found = _search(pattern, text, hints, any_case) or tail.search(pattern, hints, any_case)
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


# Each credit-line pattern with words it cannot match without (lowercase when the pattern ignores
# case). Testing for those in C first is far cheaper than running the pattern over up to 200 kB of
# page tail, and most pages contain none of them.
_CREDIT_LINES = (
    (_PROVIDED_BY, ("Provided by",), False),
    (_VIA, ("via",), True),
    (_SOURCE_LINE, ("Source", "Originally published by", "This story originally appeared"), False),
)


def _search(pattern: re.Pattern, text: str, hints: tuple[str, ...], any_case: bool,
            lowered: str | None = None) -> re.Match | None:
    haystack = (lowered if lowered is not None else text.lower()) if any_case else text
    if not any(hint in haystack for hint in hints):
        return None
    return pattern.search(text)


class _PageTail:
    """The page's visible tail, built once and only if a credit line was not found in the text."""

    def __init__(self, html: str):
        self.html = html
        self._text: str | None = None
        self._lowered: str | None = None

    def search(self, pattern: re.Pattern, hints: tuple[str, ...], any_case: bool) -> re.Match | None:
        if self._text is None:
            self._text = _visible_tail(self.html)
        if any_case and self._lowered is None:
            self._lowered = self._text.lower()
        return _search(pattern, self._text, hints, any_case, self._lowered)


_TAGS = re.compile(r"<[^>]+>")


def _visible_tail(html: str) -> str:
    # "Provided by" lines often sit in page chrome that text extraction drops. Tags become line
    # breaks so a name never runs on into the next element's text.
    return _TAGS.sub("\n", html[-200_000:])
