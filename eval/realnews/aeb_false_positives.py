"""General news the tagger should leave alone: tag every story body in the AEB pages
(`../shared/benchmarks/aeb/ground-truth.json`, real pages on every topic) and list each story
tagged, with its deals and evidence, so every tag can be judged by a reader.

Usage: python eval/realnews/aeb_false_positives.py [--tag arms_deal|sanctions] [--max-arms N]

Exits non-zero when more than `--max-arms` stories (default 1, issue 11's target) are tagged
`arms_deal`. The bodies belong to their publishers: they are read at run time, never copied.
This is a check, not a tuning set: no rule may name its stories."""

from __future__ import annotations

import json
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

GROUND_TRUTH = Path(__file__).resolve().parents[2].parent / "shared" / "benchmarks" / "aeb" / "ground-truth.json"


def tagged_stories(path: Path = GROUND_TRUTH, only: str | None = None) -> tuple[int, list[dict]]:
    """(number of stories, the tagged ones with their tags, deals and evidence)."""
    from extractors.tagging import Tagger

    tagger = Tagger.default()
    pages = json.loads(path.read_text(encoding="utf-8"))
    found = []
    for page_id, page in sorted(pages.items()):
        body = page.get("articleBody") or ""
        result = tagger.tag("", body)
        tags = {t.tag: t for t in result.tags if only is None or t.tag == only}
        if tags:
            found.append(
                {
                    "id": page_id,
                    "url": page.get("url"),
                    "tags": sorted(tags),
                    "evidence": {k: t.evidence[:400] for k, t in tags.items()},
                    "deals": [
                        {
                            "systems": [s.name for s in d.systems],
                            "supplier": list(d.supplier),
                            "recipient": list(d.recipient),
                            "status": d.status,
                        }
                        for d in result.deals
                    ],
                }
            )
    return len(pages), found


def main(argv: list[str]) -> int:
    only = argv[argv.index("--tag") + 1] if "--tag" in argv else None
    max_arms = int(argv[argv.index("--max-arms") + 1]) if "--max-arms" in argv else 1
    total, found = tagged_stories(only=only)
    arms = [f for f in found if "arms_deal" in f["tags"]]
    print(
        f"stories {total}  tagged {len(found)}  arms_deal {len(arms)}  "
        f"sanctions {sum('sanctions' in f['tags'] for f in found)}"
    )
    for f in found:
        print(f"\n{f['id'][:12]}  {','.join(f['tags'])}  {f['url']}")
        for deal in f["deals"]:
            print(f"  deal: {deal['status']} {deal['systems']} {deal['supplier']} -> {deal['recipient']}")
        for tag, evidence in f["evidence"].items():
            print(f"  {tag}: {evidence}")
    return 0 if len(arms) <= max_arms else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
