"""Who wrote it first: find the original source named in a republished copy.

Pages credit a wire in many ways: a dateline ("NEW DELHI, Nov 14 (Reuters) -", "(AP) —"), a
byline ("By Jane Doe, Associated Press", "By The Associated Press"), an author or provider field,
"Provided by", "Read the whole story from Reuters", a closing "— Reuters" line, a copyright line,
or "according to Yonhap" repeated through the text. Agency names are stored in one spelling
(`canonical_source`, from extractors/data/wire_agencies.yaml), so a story's copies agree."""

from __future__ import annotations

import re

from extractors.pagemeta import json_names
from newsflow.agencies import agencies, fold, spellings

_fold = fold
_agencies = agencies


def canonical_source(name: str) -> str:
    """An agency's stored name for any of its spellings ("The Associated Press", "AP" ->
    "Associated Press"); any other name as given, trimmed."""
    name = name.strip(" .,-–—()")
    return _agencies().get(_fold(name), name)


def is_agency(name: str) -> bool:
    return _fold(name.strip(" .,-–—()")) in _agencies()


def _agency_pattern() -> str:
    """Every spelling of every agency, longest first, as one regex alternation."""
    names = {alias for aliases in spellings().values() for alias in aliases}
    return "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))


_WIRE = _agency_pattern()
# Kept for callers that list the agencies by name.
WIRE_AGENCIES = tuple(sorted(set(_agencies().values())))

_NAME = r"([A-Z][\w&.'-]*(?:[ -][A-Z][\w&.'-]*){0,4})"
# "NEW DELHI, Nov 14 (Reuters) -", "OSTROVEC, Slovakia, March 4 (Agency) -", "ANKARA (Portal / Agency - date)".
_DATELINE = re.compile(
    r"(?:^|\s)[A-Z][A-Za-z .'/-]{1,40}(?:,\s*[A-Z][A-Za-z .'-]{1,30})?,?\s+"
    r"(?:(?:[A-Z][a-z]{2,8}\.?\s+\d{1,2}|\d{1,2}\s+[A-Z][a-z]{2,8}\.?)(?:,?\s+\d{4})?\s+)?"
    r"\(([^()\n]{1,80})\)\s*([-–—]?)"
)
# "(AP) —" or "(Bloomberg) --" opening the text, with no city.
_BARE_DATELINE = re.compile(r"^\s*\((" + _WIRE + r")\)\s*(?:[-–—]+|\s)", re.I)
_PROVIDED_BY = re.compile(r"\bProvided by\s+" + _NAME)
_VIA = re.compile(r"\b(?:per|from)\s+" + _NAME + r"\s+via\s+", re.I)
_COPYRIGHT = re.compile(r"(?:©|\(c\)|Copyright)\s*(?:©\s*)?(?:\d{4}\s*)?" + _NAME)
# `[^\S\n]*`, not `\s*`: after a line start only that line's blanks count, so a run of empty lines
# (the tag-stripped page tail is full of them) is not rescanned from every line in it.
_SOURCE_LINE = re.compile(
    r"^[^\S\n]*(?:Source|Originally published by|This story originally appeared (?:on|in))[:\s]+" + _NAME, re.M
)
_WHOLE_STORY = re.compile(
    r"\b(?:Read|See) (?:the )?(?:whole|full|original|complete|rest of the) (?:story|article)"
    r" (?:from|at|on)\s+(?:the )?" + _NAME
)
# "By Jane Doe, Reuters", "By JANE DOE – Associated Press", "By A and B / The Associated Press", "By Reuters staff".
_BYLINE = re.compile(
    r"^[ \t]*(?:By|Story by|Written by|Report by)\s+(?:[A-Z][\w.'-]*(?:\s+(?:and\s+)?[A-Z][\w.'-]*){0,6}\s*[,(|/–—-]\s*|)(?:The\s+)?("
    + _WIRE
    + r")\b(?:\s+staff)?",
    re.M,
)
# A first line that names the agency alone or before a city: "Reuters, WASHINGTON", "Associated Press".
_CREDIT_FIRST_LINE = re.compile(r"^\s*(?:The\s+)?(" + _WIRE + r")\s*(?:,\s*[A-Z][A-Za-z .'-]{1,30})?\s*$")
# A closing line "— Reuters", "AP", "(AFP)", or a last paragraph signed off "… said. — Reuters".
_CREDIT_LAST_LINE = re.compile(r"^\s*[-–—]*\s*\(?(?:The\s+)?(" + _WIRE + r")\)?\.?\s*$")
_SIGN_OFF = re.compile(r"[.!?\"”]\s*[-–—]+\s*\(?(?:The\s+)?(" + _WIRE + r")\)?\.?\s*$")
# House footers that only one agency's copy carries.
_HOUSE_FOOTERS = (
    (
        "Reuters",
        re.compile(
            r"\((?:Reporting|Additional reporting) by [^()]{2,200}?(?:;\s*(?:Writing|Editing) by [^()]{2,200})?\)\s*$"
        ),
    ),
    (
        "Associated Press",
        re.compile(r"\b(?:Associated Press|AP) (?:writers?|reporters?|correspondents?)\b[^.]{0,200}contributed"),
    ),
)
# [^<>], not [^>]: one attempt never runs past the next tag, so "<meta <meta <meta …" stays linear.
_AUTHOR_META = re.compile(
    r"<meta[^<>]+name=[\"']author[\"'][^<>]+content=[\"']\s*(?:[^\"']*?(?:,|\bfor|\b[-–—/])\s*)?"
    r"(?:The\s+)?(" + _WIRE + r")(?:\s+staff)?\s*[\"']",
    re.I,
)
_BYLINE_ELEMENT = re.compile(
    r"<(?:p|div|span|address)[^>]+class=[\"'][^\"']*(?:byline|author)[^\"']*[\"'][^>]*>(.{1,300}?)</", re.I | re.S
)
_ACCORDING = re.compile(
    r"\baccording to (?:the )?(?:[A-Z][\w.-]*(?:\s[A-Z][\w.-]*)?'s\s+)?\(?(" + _WIRE + r")\)?", re.I
)
_SAID = re.compile(r"\b(?:the )?\(?(" + _WIRE + r")\)?(?: news agency)? (?:said|reported|quoted)\b", re.I)
_TAGS = re.compile(r"<[^<>]+>")  # [^<>]: a run of "<" with no ">" is not rescanned from each one


def _own(name: str, own_source: str | None) -> bool:
    own, key = _fold(own_source or ""), _fold(name)
    if not own:
        return False
    return own.startswith(key) or key.startswith(own) or canonical_source(name) == canonical_source(own_source or "")


def _dateline_names(head: str) -> list[str]:
    match = _DATELINE.search(head)
    if not match:
        return []
    inside, dash = match.group(1), match.group(2)
    parts = [p.split(" - ")[0].strip() for p in re.split(r"\s*/\s*", inside)]
    if len(parts) == 1:
        # "CITY (Name) -": any outlet name, as long as a dash follows (else it is prose).
        name = parts[0]
        return [name] if dash and re.fullmatch(_NAME, name) else []
    return [p for p in parts if re.fullmatch(_NAME, p)]


def _agency_cited_throughout(text: str) -> str | None:
    """A wire named as the source "according to" it and credited again ("… said", "… reported"):
    a rewrite of its copy. One passing citation is reporting, not a credit."""
    according = [canonical_source(m.group(1)) for m in _ACCORDING.finditer(text)]
    if not according:
        return None
    said = [canonical_source(m.group(1)) for m in _SAID.finditer(text)]
    for name in according:
        if according.count(name) + said.count(name) >= 2:
            return name
    return None


def find_syndicated_from(text: str, html: str, json_blobs: list[object], own_source: str | None) -> str | None:
    """The original source's name if the page credits one other than its own site, else None."""
    candidates: list[str] = []
    head = text[:400]
    candidates.extend(_dateline_names(head))
    for found in (
        _BARE_DATELINE.search(head),
        _BYLINE.search(text[:300]),
        _CREDIT_FIRST_LINE.match(text.split("\n", 1)[0]),
        _AUTHOR_META.search(html[:200_000]),
    ):
        if found:
            candidates.append(found.group(1))
    for element in _BYLINE_ELEMENT.findall(html[:200_000]):
        found = _BYLINE.search(_TAGS.sub(" ", element).strip()) or re.fullmatch(
            r"\s*(?:The\s+)?(" + _WIRE + r")\s*", _TAGS.sub(" ", element)
        )
        if found:
            candidates.append(found.group(1))
    tail = _PageTail(html)
    for pattern, hints, any_case in _CREDIT_LINES:
        found = _search(pattern, text, hints, any_case) or tail.search(pattern, hints, any_case)
        if found:
            candidates.append(found.group(1))
    candidates.extend(json_names(json_blobs, ("provider", "sourceOrganization")))
    candidates.extend(name for name in json_names(json_blobs, ("author",)) if is_agency(name))
    candidates.extend(json_names(json_blobs, ("publisher",)))
    text_tail = text[-600:]
    found = _COPYRIGHT.search(text_tail)
    if found:
        candidates.append(found.group(1))
    lines = [line for line in text.strip().split("\n") if line.strip()]
    if lines:
        found = _CREDIT_LAST_LINE.match(lines[-1]) or _SIGN_OFF.search(lines[-1])
        if found:
            candidates.append(found.group(1))
    candidates.extend(agency for agency, footer in _HOUSE_FOOTERS if footer.search(text_tail))
    # An agency citing another agency ("according to KCNA") is reporting, not republishing.
    cited = None if own_source and is_agency(own_source) else _agency_cited_throughout(text)
    if cited:
        candidates.append(cited)
    for name in candidates:
        # "The Associated Press. All rights reserved": a name ends where a sentence does.
        name = re.split(r"\.\s", name)[0].strip(" .,-–—")
        if _fold(name) and not _own(name, own_source):
            return canonical_source(name)
    return None


# Each credit-line pattern with words it cannot match without (lowercase when the pattern ignores
# case). Testing for those in C first is far cheaper than running the pattern over up to 200 kB of
# page tail, and most pages contain none of them.
_CREDIT_LINES = (
    (_PROVIDED_BY, ("Provided by",), False),
    (_VIA, ("via",), True),
    (_SOURCE_LINE, ("Source", "Originally published by", "This story originally appeared"), False),
    (_WHOLE_STORY, ("Read", "See"), False),
)


def _search(
    pattern: re.Pattern[str], text: str, hints: tuple[str, ...], any_case: bool, lowered: str | None = None
) -> re.Match[str] | None:
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

    def search(self, pattern: re.Pattern[str], hints: tuple[str, ...], any_case: bool) -> re.Match[str] | None:
        if self._text is None:
            self._text = _visible_tail(self.html)
        if any_case and self._lowered is None:
            self._lowered = self._text.lower()
        return _search(pattern, self._text, hints, any_case, self._lowered)


def _visible_tail(html: str) -> str:
    # "Provided by" lines often sit in page chrome that text extraction drops. Tags become line
    # breaks so a name never runs on into the next element's text.
    return _TAGS.sub("\n", html[-200_000:])
