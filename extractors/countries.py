"""Which country a name points at: ISO 3166-1 names from pycountry, plus newsflow's own data
for what news prose uses instead (demonyms, capitals, government metonyms, regions).

Pure Python and pure data, so installing newsflow never compiles anything (the library used
before pulled in PyICU). The tagger's matcher is built from `country_names()` and
`country_surfaces()` in extractors/gazetteer.py."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pycountry
import yaml

DATA = Path(__file__).parent / "data"


@dataclass(frozen=True)
class CountryData:
    names: dict[str, str]  # ISO code -> display name
    aliases: dict[str, list[str]]  # ISO code -> news-prose names, most trusted first
    places: dict[str, list[str]]  # ISO code -> capitals, regions, territories, other-language names
    ambiguous: frozenset[str]
    ignore: frozenset[str]


def _read_yaml(name: str) -> dict[str, Any]:
    loaded = yaml.safe_load((DATA / name).read_text(encoding="utf-8"))
    return loaded if isinstance(loaded, dict) else {}


def _iso_names(code: str) -> list[str]:
    """A country's ISO names: short, common and official, those pycountry has."""
    record = pycountry.countries.get(alpha_2=code.upper())
    if record is None:
        return []
    found = [getattr(record, attr, None) for attr in ("name", "common_name", "official_name")]
    return [name for name in found if isinstance(name, str) and name]


@lru_cache(maxsize=1)
def load() -> CountryData:
    config = _read_yaml("countries.yaml")
    places = _read_yaml("country_places.yaml")
    display: dict[str, str] = {str(k): str(v) for k, v in (config.get("display") or {}).items()}
    territories = {str(code) for code in config.get("territories") or []}
    names: dict[str, str] = {}
    for record in pycountry.countries:
        code = record.alpha_2.lower()
        if code not in territories:
            names[code] = display.get(code) or getattr(record, "common_name", None) or record.name
    for code, name in display.items():
        names.setdefault(code, name)
    return CountryData(
        names=names,
        aliases={str(code): [str(a) for a in aliases] for code, aliases in (config.get("aliases") or {}).items()},
        places={str(code): [str(p) for p in found] for code, found in places.items()},
        ambiguous=frozenset(str(s) for s in config.get("ambiguous") or []),
        ignore=frozenset(str(s) for s in config.get("ignore") or []),
    )


def country_names() -> dict[str, str]:
    """ISO code -> the display name the tagger reports (`Turkey`, `United Arab Emirates`)."""
    return dict(load().names)


def country_surfaces() -> Iterator[tuple[str, str]]:
    """(surface, ISO code) for every name that points at a country, most trusted first: where two
    countries share a surface, the first one given wins."""
    data = load()
    for code, aliases in data.aliases.items():
        for alias in aliases:
            yield alias, code
    for code in data.names:
        for name in _iso_names(code):
            yield name, code
        yield data.names[code], code
    for code, places in data.places.items():
        for place in places:
            yield place, code


def resolve(surface: str) -> str | None:
    """The display name of the country `surface` points at (`Emirati` → `United Arab Emirates`)."""
    data = load()
    for candidate, code in country_surfaces():
        if candidate == surface and code in data.names:
            return data.names[code]
    return None
