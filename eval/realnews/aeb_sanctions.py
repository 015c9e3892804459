"""List every AEB general-news story the tagger tags `sanctions`, with the frames behind the tag.

Usage: python eval/realnews/aeb_sanctions.py [--quiet]

The AEB pages (`../shared/benchmarks/aeb/ground-truth.json`, real pages on every topic) stand for
what a feed carries besides arms and sanctions news: each `sanctions` tag on them must be
defensible from its evidence. The bodies belong to their publishers and are read at run time;
this script prints only what the tagger found (its evidence sentences, for a person to judge).
It exits 0 always: it is a list to read, not a test; `--quiet` prints the count only."""

from __future__ import annotations

import json
import sys
from pathlib import Path

DEFAULT_SET = Path(__file__).resolve().parents[2].parent / "shared" / "benchmarks" / "aeb" / "ground-truth.json"


def tagged_stories(path: Path = DEFAULT_SET) -> list[tuple[str, str, list]]:
    """(url, evidence, sanction actions) for each page tagged `sanctions`."""
    from extractors.tagging import Tagger

    tagger = Tagger.default()
    found = []
    for page in json.loads(path.read_text()).values():
        result = tagger.tag("", page.get("articleBody") or "")
        tag = next((t for t in result.tags if t.tag == "sanctions"), None)
        if tag is not None:
            found.append((page.get("url") or "", tag.evidence, result.sanction_actions))
    return found


def main(argv: list[str]) -> int:
    stories = tagged_stories()
    print(f"AEB pages tagged sanctions: {len(stories)}")
    if "--quiet" in argv:
        return 0
    for url, evidence, actions in stories:
        print(f"\n{url}\n  evidence: {evidence[:600]}")
        for a in actions:
            print(f"  action: {a.action} | by {a.sanctioning} | on {a.target} ({a.target_kind}) | regime {a.regime}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
