"""News agencies and their spellings (extractors/data/wire_agencies.yaml): read by the
attribution rules and by the warehouse's `source_names` view, so both fold names alike."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

AGENCY_FILE = Path(__file__).resolve().parents[1] / "extractors" / "data" / "wire_agencies.yaml"


def fold(name: str) -> str:
    """Lower case, no leading "the", only a-z0-9: how names are compared."""
    return re.sub(r"[^a-z0-9]", "", re.sub(r"^\s*the\s+", "", name.lower()))


@lru_cache(maxsize=1)
def _table() -> dict[str, Any]:
    table: dict[str, Any] = yaml.safe_load(AGENCY_FILE.read_text(encoding="utf-8"))["agencies"]
    return table


def spellings() -> dict[str, list[str]]:
    """Each agency's stored name with every spelling of it (the name included)."""
    return {name: [name, *((entry or {}).get("aliases") or [])] for name, entry in _table().items()}


@lru_cache(maxsize=1)
def agencies() -> dict[str, str]:
    """Folded name or alias -> the agency's stored name."""
    return {fold(alias): name for name, aliases in spellings().items() for alias in aliases}


def source_name_rows() -> str:
    """SQL VALUES rows (folded spelling, stored name) for the warehouse's `source_names` view,
    folded the way its `source_key` expression folds."""

    def literal(value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    return ", ".join(f"({literal(key)}, {literal(name)})" for key, name in sorted(agencies().items()))
