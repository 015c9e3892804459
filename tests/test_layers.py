"""What each folder may import (the README's "Layers" paragraph), checked on the source."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Shared records, settings and helpers that every layer may use.
COMMON = ("newsflow.models", "newsflow.settings", "newsflow.clock", "newsflow.retry", "newsflow.agencies")
RULES = {
    # folder: (allowed first-party prefixes, forbidden third-party prefixes)
    "extractors": (("extractors",) + COMMON, ("prefect", "duckdb")),
    "warehouse": (("warehouse",) + COMMON, ("prefect",)),
    "newsflow": (("newsflow", "extractors", "warehouse"), ("prefect",)),
}
# The CLI starts flows (a Prefect run), so it alone in newsflow/ may import flows.
EXCEPTIONS = {"newsflow/cli.py": ("flows",)}
FIRST_PARTY = ("newsflow", "flows", "extractors", "warehouse")


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
            if node.module in FIRST_PARTY:  # `from extractors import http` names the module
                names.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize("folder", sorted(RULES))
def test_each_folder_imports_only_what_its_layer_may(folder):
    allowed, forbidden = RULES[folder]
    breaches = []
    for path in sorted((ROOT / folder).glob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        extra = EXCEPTIONS.get(relative, ())
        for name in _imports(path):
            first_party = _under(name, FIRST_PARTY)
            if (first_party and not _under(name, allowed + extra)) or _under(name, forbidden):
                breaches.append(f"{relative} imports {name}")
    assert breaches == []


def test_the_checker_sees_a_breach(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("from warehouse.store import Warehouse\nimport prefect\n", encoding="utf-8")
    names = _imports(probe)
    allowed, forbidden = RULES["extractors"]
    assert [n for n in names if (_under(n, FIRST_PARTY) and not _under(n, allowed)) or _under(n, forbidden)] == [
        "warehouse.store",
        "prefect",
    ]
