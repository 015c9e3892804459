"""Load the tagger's data files and find their names in text with Aho-Corasick automata."""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import ahocorasick
import yaml

from extractors import countries

DATA = Path(__file__).parent / "data"


@dataclass(frozen=True)
class Name:
    """One thing a surface form can refer to."""

    kind: str  # weapon_system, country, regime, organization
    canonical: str
    category: str | None = None  # weapon category, organisation type
    country: str | None = None  # origin of a weapon, home of an organisation, issuer of a regime
    ambiguous: bool = False


@dataclass(frozen=True)
class Mention:
    name: Name
    surface: str
    start: int
    end: int


def _accent_table() -> dict[int, str]:
    table = {}
    for code in range(0xC0, 0x250):
        base = unicodedata.normalize("NFKD", chr(code))[0]
        if base != chr(code) and base.isascii():
            table[code] = base
    return table


_ACCENTS = _accent_table()


def fold_accents(text: str) -> str:
    """ "Akıncı" → "Akinci", one character for one, so positions stay those of the text."""
    return text.translate(_ACCENTS).replace("ı", "i")


class Matcher:
    """Whole-word matches of many names at once. Case-insensitive names are folded to lower
    case; ambiguous ones (Patriot, Jordan) must match exactly as written."""

    def __init__(self) -> None:
        self._folded = ahocorasick.Automaton()
        self._exact = ahocorasick.Automaton()
        self._size = 0

    def add(self, surface: str, name: Name, *, exact: bool = False) -> None:
        surface = surface.strip()
        if len(surface) < 2:
            return
        automaton, key = (self._exact, surface) if exact else (self._folded, fold_accents(surface.lower()))
        if key not in automaton:
            automaton.add_word(key, (key, name))
            self._size += 1

    def finalize(self) -> Matcher:
        for automaton in (self._folded, self._exact):
            if len(automaton):
                automaton.make_automaton()
        return self

    def find(self, text: str) -> list[Mention]:
        found: list[Mention] = []
        low = fold_accents(text.lower())
        if len(low) != len(text):
            low = text.lower()
        for automaton, haystack in ((self._folded, low), (self._exact, text)):
            if not len(automaton):
                continue
            # Longest matches only: far fewer candidates to check than every overlapping match.
            for end, (key, name) in automaton.iter_long(haystack):
                start = end - len(key) + 1
                if _is_word_boundary(text, start, end + 1):
                    found.append(Mention(name, text[start : end + 1], start, end + 1))
        return _longest_non_overlapping(found)


def _is_word_boundary(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    if before.isalnum() or before in "-_":
        return False
    if after.isalnum() or after == "_":
        return False
    # "S-400s" and "F-16s" are plurals of a designation, but "S-400-class" is fine too.
    return True


def _longest_non_overlapping(mentions: list[Mention]) -> list[Mention]:
    mentions.sort(key=lambda m: (m.start, -(m.end - m.start)))
    kept: list[Mention] = []
    last_end = -1
    for mention in mentions:
        if mention.start >= last_end:
            kept.append(mention)
            last_end = mention.end
    return kept


def _plural_forms(surface: str) -> list[str]:
    # Designations take plural "s" ("F-16s", "Rafales"); words ending in s do not change.
    if surface.endswith(("s", "S")) or not surface[-1].isalnum():
        return [surface]
    return [surface, surface + "s"]


@dataclass(frozen=True)
class Gazetteer:
    weapons: Matcher
    countries: Matcher
    regimes: Matcher
    organizations: Matcher
    country_names: dict[str, str]  # ISO code -> display name
    regime_issuers: dict[str, str]  # regime canonical -> sanctioning party display name
    regime_defaults: dict[str, str]  # sanctioning party -> its regime when none is named
    regime_target_defaults: dict[str, str]  # target country -> its programme when none is named
    regime_implies: dict[str, list[str]]  # regime -> regimes it implies
    org_regimes: dict[str, str]  # organisation -> the regime its designations belong to
    org_parties: dict[str, str]  # organisation -> the party it acts for (UN, EU, or its country)


@lru_cache(maxsize=1)
def load() -> Gazetteer:
    countries, names = _load_countries()
    regimes, issuers = _load_regimes(names)
    regime_items = _regime_items()
    org_items = (
        yaml.safe_load((DATA / "organizations.yaml").read_text(encoding="utf-8")) or []
        if (DATA / "organizations.yaml").exists()
        else []
    )
    return Gazetteer(
        weapons=_load_weapons(names).finalize(),
        countries=countries.finalize(),
        regimes=regimes.finalize(),
        organizations=_load_organizations(names).finalize(),
        country_names=names,
        regime_issuers=issuers,
        regime_defaults={i["default_for"]: i["name"] for i in regime_items if i.get("default_for")},
        regime_target_defaults={
            i["default_for_target"]: i["name"] for i in regime_items if i.get("default_for_target")
        },
        regime_implies={i["name"]: list(i["also"]) for i in regime_items if i.get("also")},
        org_regimes={i["name"]: i["regime"] for i in org_items if i.get("regime")},
        org_parties={
            i["name"]: i.get("party") or names.get(_country_code(i.get("country"), names) or "", "")
            for i in org_items
            if i.get("party") or i.get("type") in ("government_agency", "sanctions_authority")
        },
    )


def _regime_items() -> list[dict[str, Any]]:  # YAML records, checked where read
    path = DATA / "regimes.yaml"
    return (yaml.safe_load(path.read_text(encoding="utf-8")) or []) if path.exists() else []


def _load_countries() -> tuple[Matcher, dict[str, str]]:
    data = countries.load()
    names = countries.country_names()
    matcher = Matcher()
    latin = re.compile(r"^[A-Za-zÀ-ÿ .'’-]+$")

    aliases = {(alias, code) for code, listed in data.aliases.items() for alias in listed}
    for surface, code in countries.country_surfaces():
        # Only capitalised Latin-script names (or aliases written for newsflow, like "the United
        # States"): the others never match English prose as written.
        if code not in names or not surface or not (surface[0].isupper() or (surface, code) in aliases):
            continue
        if surface in data.ignore or not latin.match(surface):
            continue
        country = Name("country", names[code], country=code, ambiguous=surface in data.ambiguous)
        # Country names are proper nouns: match them as written so "turkey" the bird stays out.
        matcher.add(surface, country, exact=True)
    return matcher, names


def _country_code(value: str | None, names: dict[str, str]) -> str | None:
    if not value:
        return None
    value = value.strip()
    if value.lower() in names:
        return value.lower()
    for code, name in names.items():
        if name.lower() == value.lower():
            return code
    return None


def _load_weapons(names: dict[str, str]) -> Matcher:
    matcher = Matcher()
    path = DATA / "weapons.csv"
    if not path.exists():
        return matcher
    with path.open(encoding="utf-8") as handle:
        rows = csv.DictReader(line for line in handle if not line.startswith("#"))
        for row in rows:
            canonical = (row.get("name") or "").strip()
            if not canonical:
                continue
            ambiguous = (row.get("kind_hint") or "").strip().lower() == "ambiguous"
            name = Name(
                "weapon_system",
                canonical,
                category=(row.get("category") or "").strip() or None,
                country=_country_code(row.get("origin"), names),
                ambiguous=ambiguous,
            )
            surfaces = [canonical] + [a for a in (row.get("aliases") or "").split("|") if a.strip()]
            # "BayraktarTB2", "K-9": the same names written without their spaces or hyphens
            surfaces += [re.sub(r"[ ]", "", x) for x in surfaces if " " in x.strip() and any(c.isdigit() for c in x)]
            for surface in surfaces:
                for form in _plural_forms(surface.strip()):
                    # A designation with a digit (F-16, S-400) is safe in any case; a word
                    # (Patriot, Rafale) must be capitalised as written.
                    matcher.add(form, name, exact=ambiguous or not any(c.isdigit() for c in form))
    return matcher


def _load_regimes(names: dict[str, str]) -> tuple[Matcher, dict[str, str]]:
    matcher = Matcher()
    issuers: dict[str, str] = {}
    for item in _regime_items():
        canonical = item["name"]
        issuer = item.get("sanctioning")
        if issuer:
            issuers[canonical] = issuer
        name = Name("regime", canonical, country=issuer)
        for surface in [canonical] + list(item.get("aliases") or []):
            matcher.add(str(surface), name, exact=str(surface).isupper() and len(str(surface)) <= 3)
        # Generic phrases ("sanctions package") name this regime only when its issuer is named nearby.
        contextual = Name("regime", canonical, country=issuer, ambiguous=True)
        for surface in item.get("context_aliases") or []:
            matcher.add(str(surface), contextual, exact=str(surface).isupper())
    return matcher, issuers


def _load_organizations(names: dict[str, str]) -> Matcher:
    matcher = Matcher()
    path = DATA / "organizations.yaml"
    if not path.exists():
        return matcher
    for item in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
        name = Name(
            "organization",
            item["name"],
            category=item.get("type"),
            country=_country_code(item.get("country"), names),
            ambiguous=(item.get("kind_hint") or "") == "ambiguous",
        )
        for surface in [item["name"]] + list(item.get("aliases") or []):
            matcher.add(str(surface), name, exact=True)
    return matcher
