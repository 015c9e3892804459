"""Score the tagger on the labelled evaluation set.

Usage: python eval/tagging/evaluate.py [dev|dev2|heldout|all] [--errors]

Prints per-tag precision/recall/F1, the hard-negative false-positive rate, entity recall and
precision by kind and role, supplier/recipient role accuracy, and deal-value accuracy (within 5%).
heldout.yaml is for reporting only: never tune on its errors."""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import yaml

from extractors.tagging import Tagger

HERE = Path(__file__).parent
LABEL_RATES_DATE = datetime(2024, 7, 1)
REGIME_VOCABULARY = {
    "CAATSA",
    "OFAC SDN",
    "EU sanctions",
    "UK sanctions",
    "UN Security Council sanctions",
    "Entity List",
    "Magnitsky",
    "Arms embargo",
    "Oil price cap",
    "Executive Order 14024",
    "Iran sanctions",
    "North Korea sanctions",
}
ROLE_KEYS = {"suppliers": "supplier", "recipients": "recipient", "sanctioning": "sanctioning", "targets": "target"}
KIND_KEYS = {"weapon_systems": "weapon_system", "regimes": "regime"}


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return {
        "precision": round(p, 3),
        "recall": round(r, 3),
        "f1": round(2 * p * r / (p + r) if p + r else 0.0, 3),
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }


def evaluate(articles: list[dict], tagger: Tagger, errors: list[str] | None = None) -> dict:
    tag_counts = {t: [0, 0, 0] for t in ("arms_deal", "sanctions")}
    entity_counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    hard_negatives = hard_negative_fp = 0
    values_stated = values_right = 0
    seconds = 0.0
    for article in articles:
        started = time.perf_counter()
        # The set's labels convert money at 2024 average rates (see README.md); the tagger converts
        # at the rate of the article's year, so the articles are dated in 2024.
        result = tagger.tag(article["title"], article["text"], LABEL_RATES_DATE)
        seconds += time.perf_counter() - started
        got_tags = {t.tag for t in result.tags}
        truth_tags = set(article["tags"])
        for tag, counts in tag_counts.items():
            counts[0] += tag in got_tags and tag in truth_tags
            counts[1] += tag in got_tags and tag not in truth_tags
            counts[2] += tag in truth_tags and tag not in got_tags
            if errors is not None and (tag in got_tags) != (tag in truth_tags):
                kind = "FP" if tag in got_tags else "FN"
                evidence = next((t.evidence for t in result.tags if t.tag == tag), "")
                errors.append(f"{article['id']} {tag} {kind}: {article['title']} | {evidence[:200]}")
        if article.get("hard_negative"):
            hard_negatives += 1
            hard_negative_fp += bool(got_tags)
        if not truth_tags:
            continue  # entities are labelled only for tagged articles
        for key, kind in KIND_KEYS.items():
            truth = {_canonical(tagger, kind, name) for name in article.get(key) or []}
            got = {e.name for e in result.entities if e.kind == kind}
            if kind == "regime":
                # The set labels regimes from a fixed list; a finer one (Swiss sanctions) is not an error.
                got &= REGIME_VOCABULARY
            _count(entity_counts[kind], truth, got, errors, article["id"], kind)
        for key, role in ROLE_KEYS.items():
            truth = set(article.get(key) or [])
            got = {e.name for e in result.entities if e.kind == "country" and e.role == role}
            _count(entity_counts[f"country:{role}"], truth, got, errors, article["id"], role)
        money = [e.value_usd for e in result.entities if e.kind == "money" and e.value_usd]
        for value in article.get("values_usd") or []:
            values_stated += 1
            hit = any(abs(m - value) <= 0.05 * value for m in money)
            values_right += hit
            if errors is not None and not hit:
                errors.append(f"{article['id']} value {value:,.0f} missing; got {money}")
    report = {"articles": len(articles)}
    report["tags"] = {tag: _prf(*counts) for tag, counts in tag_counts.items()}
    report["hard_negative_fp_rate"] = round(hard_negative_fp / hard_negatives, 3) if hard_negatives else 0.0
    report["hard_negatives"] = hard_negatives
    report["entities"] = {kind: _prf(*counts) for kind, counts in sorted(entity_counts.items())}
    role_tp = sum(entity_counts[f"country:{r}"][0] for r in ("supplier", "recipient"))
    role_total = sum(
        entity_counts[f"country:{r}"][0] + entity_counts[f"country:{r}"][2] for r in ("supplier", "recipient")
    )
    report["supplier_recipient_accuracy"] = round(role_tp / role_total, 3) if role_total else 1.0
    report["values_within_5pct"] = round(values_right / values_stated, 3) if values_stated else 1.0
    report["values_stated"] = values_stated
    report["ms_per_article"] = round(1000 * seconds / max(1, len(articles)), 3)
    return report


def _canonical(tagger: Tagger, kind: str, name: str) -> str:
    """The gazetteer's canonical name for a labelled name ("Chunmoo" is the K239 Chunmoo), so the
    score measures what was found, not which of its names the labeller preferred."""
    matcher = tagger.gaz.weapons if kind == "weapon_system" else tagger.gaz.regimes
    found = [m for m in matcher.find(name) if m.start == 0 and m.end == len(name)]
    return found[0].name.canonical if found else name


def _count(counts: list[int], truth: set[str], got: set[str], errors, article_id: str, label: str) -> None:
    counts[0] += len(truth & got)
    counts[1] += len(got - truth)
    counts[2] += len(truth - got)
    if errors is not None and truth != got:
        errors.append(f"{article_id} {label}: missing {sorted(truth - got)} extra {sorted(got - truth)}")


def load(split: str) -> list[dict]:
    return yaml.safe_load((HERE / f"{split}.yaml").read_text(encoding="utf-8"))["articles"]


def main() -> None:
    which = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("-") else "all"
    show_errors = "--errors" in sys.argv
    tagger = Tagger.default()
    for split in ["dev", "dev2", "heldout"] if which == "all" else [which]:
        errors: list[str] | None = [] if show_errors and split != "heldout" else None
        report = evaluate(load(split), tagger, errors)
        print(f"== {split} (tagger {tagger.version})")
        print(yaml.safe_dump(report, sort_keys=False))
        for line in errors or []:
            print("  ", line)


if __name__ == "__main__":
    main()
