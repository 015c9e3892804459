"""The words a story reports, for telling copies of one text from independent reports of one event.

Real copies of a wire story differ in what surrounds the reporting: a dateline dropped or
changed, a credit or copyright line added, "U.S." against "US", "defence" against "defense".
Independent reports of the same event, on the other hand, share little but the statements they
both quote. So the words compared are the article's own prose: credit and legal lines, the
leading dateline and quoted statements are left out (a quotation becomes a break that no shingle
spans), and spelling variants are folded to one form."""

from __future__ import annotations

import re
import unicodedata

BREAK = "\x00"  # a token no shingle may span

_WORD = re.compile(r"\w+|\x00", re.U)
# Lines that credit or license the text rather than report anything.
_CREDIT_LINE = re.compile(
    r"^\s*(?:(?:©|\(c\)|copyright\b).*|.*\ball rights reserved\b.*|.*\bmay not be (?:published|reproduced)\b.*"
    r"|\(?(?:reporting|writing|editing|additional reporting|compiled) by\b.*|.*\bcontributed to this report\b.*"
    r"|(?:read|see) (?:the )?(?:whole|full|original|complete) (?:story|article)\b.*|(?:source|provided by)\s*:.*"
    r"|by\s+[^.!?]{1,80})\s*$",
    re.I,
)
_CREDIT_LINE_MAX = 240  # characters: credit lines are short, and long paragraphs are never tested
# "WASHINGTON (AP) —", "MOSCOW, July 25 (Xinhua) --", "(Bloomberg) —", "TOKYO —", "Reuters, WASHINGTON".
_DATELINE = re.compile(
    r"^\s*(?:[A-Z][A-Za-z.'’/-]*(?:[ ,]+[A-Z0-9][A-Za-z0-9.'’/-]*){0,5},?\s*)?\([^()\n]{1,80}\)\s*(?:[-–—:]+\s*)?"
    r"|^\s*[A-Z][A-Z.'’/-]+(?:[ ,]+[A-Z][A-Za-z.'’/-]*){0,4}\s*[-–—]+\s*"
)
_SHORT_FIRST_LINE = 8  # words: a first line this short without a full stop is a dateline or a byline
# A quoted statement: straight or curly double quotes, within one paragraph.
_QUOTE = re.compile(r"[\"“”„][^\"“”„\n]{12,800}[\"“”„]")
_DOTTED = re.compile(r"\b((?:[a-z]\.){2,4})")
# British spellings folded to one form (a short list of the variants wire copies differ in).
_SPELLING = {
    "defence": "defense",
    "defences": "defenses",
    "offence": "offense",
    "offences": "offenses",
    "programme": "program",
    "programmes": "programs",
    "licence": "license",
    "centre": "center",
    "centres": "centers",
    "metre": "meter",
    "metres": "meters",
    "kilometre": "kilometer",
    "kilometres": "kilometers",
    "armour": "armor",
    "armoured": "armored",
    "honour": "honor",
    "favour": "favor",
    "labour": "labor",
    "neighbour": "neighbor",
    "neighbouring": "neighboring",
    "organisation": "organization",
    "organisations": "organizations",
    "authorised": "authorized",
    "criticised": "criticized",
    "recognised": "recognized",
    "modernise": "modernize",
    "emphasised": "emphasized",
    "travelled": "traveled",
    "manoeuvres": "maneuvers",
}


def reported_text(text: str) -> str:
    """The text without credit lines, its leading dateline or byline, and quoted statements."""
    text = unicodedata.normalize("NFKC", text)
    text = "\n".join(line for line in text.split("\n") if len(line) > _CREDIT_LINE_MAX or not _CREDIT_LINE.match(line))
    first, _, rest = text.lstrip().partition("\n")
    if len(first.split()) < _SHORT_FIRST_LINE and not first.rstrip().endswith((".", "!", "?")) and rest.strip():
        text = rest
    text = _DATELINE.sub("", text.lstrip(), count=1)
    return _QUOTE.sub(f" {BREAK} ", text)


def reported_words(text: str) -> list[str]:
    """Lower-cased words of the reported text, spelling folded, with BREAK where a quote was."""
    lowered = _DOTTED.sub(lambda m: m.group(1).replace(".", ""), reported_text(text).lower())
    return [_SPELLING.get(word, word) for word in _WORD.findall(lowered)]
