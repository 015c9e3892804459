"""Score the tagger on real published news: `../shared/benchmarks/realnews/articles.json`.

Usage: python eval/realnews/evaluate.py [tune|score|synd|all] [--half=a|b] [--errors] [--json]

The texts belong to their publishers, so they are read from ../shared at run time and never
copied here. The set is split once, by a hash of each article's id, into a part to tune on
(`tune`, about 60%) and a part that is only ever scored (`score`): look at `score`'s totals,
never at its errors. `seed-001`, the story this product exists for, is always in `tune`.

Measures (the ones issue 11 names): per-tag precision/recall/F1; the share of look-alikes
(neither label) tagged with anything; supplier/recipient precision over every (role, country)
the tagger gives, in any article; supplier, recipient and sanctioning-party recall; weapon-system
recall (names compared after folding case, spaces, hyphens and diacritics; a label matches a
found name that contains it or is contained in it); and the share of stated deal values found
within 25%.

`synd` scores the 85 real wire copies and independent reports in
`../shared/benchmarks/realsynd/clusters.json` against `realsynd_labels.yaml` (ids and labels only,
written for this task); it is a second part to tune on. `--half=a|b` keeps one of two fixed halves
of a part (by another hash of the id), so a change tuned on one half can be checked on the other."""

from __future__ import annotations

import hashlib
import json
import re
import sys
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

DEFAULT_SET = Path(__file__).resolve().parents[2].parent / "shared" / "benchmarks" / "realnews" / "articles.json"
SYND_SET = DEFAULT_SET.parents[1] / "realsynd" / "clusters.json"
SYND_LABELS = Path(__file__).resolve().parent / "realsynd_labels.yaml"
TAGS = ("arms_deal", "sanctions")
ENTITY_KEYS = (
    "weapon_systems",
    "suppliers",
    "recipients",
    "sanctioning",
    "sanction_targets",
    "regimes",
    "deal_value_usd",
)


def part_of(article_id: str) -> str:
    """`score` for about 40% of ids, chosen by hash so the split never drifts; else `tune`."""
    if article_id == "seed-001":
        return "tune"
    return "score" if int(hashlib.sha1(article_id.encode()).hexdigest(), 16) % 5 in (0, 1) else "tune"


def load(path: Path = DEFAULT_SET, part: str = "all") -> list[dict]:
    articles = json.loads(path.read_text())
    return [a for a in articles if part == "all" or part_of(a["id"]) == part]


def half_of(article_id: str) -> str:
    """`a` or `b`: a second fixed split, independent of `part_of`, for checking a change on a half not looked at."""
    return "a" if int(hashlib.sha256(article_id.encode()).hexdigest(), 16) % 2 == 0 else "b"


def load_synd(clusters_path: Path = SYND_SET, labels_path: Path = SYND_LABELS) -> list[dict]:
    """The realsynd articles in the realnews record shape, with the labels kept in this repository."""
    import yaml

    labels = yaml.safe_load(labels_path.read_text())
    articles = []
    for cluster in json.loads(clusters_path.read_text()):
        for article in cluster["articles"]:
            label = labels[article["id"]]
            articles.append(
                {
                    "id": article["id"],
                    "published": article.get("published"),
                    "headline": article.get("headline"),
                    "text": article["text"],
                    "notes": label.get("note", ""),
                    "labels": {tag: bool(label.get(tag)) for tag in TAGS},
                    "entities": {key: label.get(key) for key in ENTITY_KEYS},
                }
            )
    return articles


def fold_name(name: str) -> str:
    name = unicodedata.normalize("NFKD", name)
    return re.sub(r"[^a-z0-9]", "", "".join(c for c in name if not unicodedata.combining(c)).lower())


def system_matches(label: str, found: Iterable[str]) -> bool:
    want = fold_name(label)
    for name in found:
        got = fold_name(name)
        if got and want and (got == want or (min(len(got), len(want)) >= 3 and (want in got or got in want))):
            return True
    return False


@dataclass
class Prediction:
    """What the system said about one article: its tags, and (role, name) pairs and values."""

    tags: set[str]
    systems: set[str] = field(default_factory=set)
    roles: set[tuple[str, str]] = field(default_factory=set)  # (supplier|recipient|sanctioning|target, name)
    values_usd: list[float] = field(default_factory=list)
    evidence: dict[str, str] = field(default_factory=dict)


def predict_with_tagger() -> Callable[[dict], Prediction]:
    from extractors.tagging import Tagger

    tagger = Tagger.default()

    def predict(article: dict) -> Prediction:
        published = datetime.fromisoformat(article["published"]) if article.get("published") else None
        result = tagger.tag(article.get("headline") or "", article["text"], published)
        deals = getattr(result, "deals", None)
        values = [e.value_usd for e in result.entities if e.kind == "money" and e.value_usd]
        if deals is not None:
            values = [d.value_usd for d in deals if getattr(d, "value_usd", None)] or values
        return Prediction(
            tags={t.tag for t in result.tags},
            systems={e.name for e in result.entities if e.kind == "weapon_system"},
            roles={(e.role, e.name) for e in result.entities if e.role},
            values_usd=values,
            evidence={t.tag: t.evidence for t in result.tags},
        )

    return predict


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 3) if den else None


def score(articles: list[dict], predict: Callable[[dict], Prediction], errors: list[str] | None = None) -> dict:
    tag_counts = {t: [0, 0, 0] for t in TAGS}
    lookalikes = lookalikes_tagged = 0
    role_given = role_right = 0
    recall = {r: [0, 0] for r in ("supplier", "recipient", "sanctioning", "target")}
    systems_found = systems_total = 0
    values_found = values_total = 0
    role_keys = {
        "supplier": "suppliers",
        "recipient": "recipients",
        "sanctioning": "sanctioning",
        "target": "sanction_targets",
    }

    def note(message: str) -> None:
        if errors is not None:
            errors.append(message)

    for article in articles:
        labels, truth = article["labels"], article["entities"]
        got = predict(article)
        for tag, counts in tag_counts.items():
            said, true = tag in got.tags, bool(labels.get(tag))
            counts[0] += said and true
            counts[1] += said and not true
            counts[2] += true and not said
            if said != true:
                note(
                    f"{article['id']} {tag} {'FP' if said else 'FN'}: {article.get('headline')} | "
                    f"{got.evidence.get(tag, '')[:240]}"
                )
        if not labels.get("arms_deal") and not labels.get("sanctions"):
            lookalikes += 1
            lookalikes_tagged += bool(got.tags)
        for role in ("supplier", "recipient"):
            true_names = set(truth.get(role_keys[role]) or [])
            for r, name in got.roles:
                if r == role:
                    role_given += 1
                    role_right += name in true_names
                    if name not in true_names:
                        note(f"{article['id']} wrong {role}: {name}")
        for role, key in role_keys.items():
            true_names = set(truth.get(key) or [])
            found = {name for r, name in got.roles if r == role}
            recall[role][0] += len(true_names & found)
            recall[role][1] += len(true_names)
            for name in true_names - found:
                note(f"{article['id']} missed {role}: {name}")
        for system in truth.get("weapon_systems") or []:
            systems_total += 1
            hit = system_matches(system, got.systems)
            systems_found += hit
            if not hit:
                note(f"{article['id']} missed system: {system} (found {sorted(got.systems)})")
        value = truth.get("deal_value_usd")
        if value:
            values_total += 1
            hit = any(abs(v - value) <= 0.25 * value for v in got.values_usd)
            values_found += hit
            if not hit:
                note(f"{article['id']} value {value:,.0f} not found (got {got.values_usd})")

    def prf(tp: int, fp: int, fn: int) -> dict:
        p = tp / (tp + fp) if tp + fp else 1.0
        r = tp / (tp + fn) if tp + fn else 1.0
        return {
            "precision": round(p, 3),
            "recall": round(r, 3),
            "f1": round(2 * p * r / (p + r), 3) if p + r else 0.0,
            "tp": tp,
            "fp": fp,
            "fn": fn,
        }

    return {
        "articles": len(articles),
        **{tag: prf(*counts) for tag, counts in tag_counts.items()},
        "lookalikes": lookalikes,
        "lookalikes_tagged": _ratio(lookalikes_tagged, lookalikes),
        "supplier_recipient_precision": _ratio(role_right, role_given),
        **{f"{role}_recall": _ratio(*counts) for role, counts in recall.items()},
        "weapon_system_recall": _ratio(systems_found, systems_total),
        "deal_value_within_25pct": _ratio(values_found, values_total),
        "values_stated": values_total,
    }


def main(argv: list[str]) -> int:
    part = next((a for a in argv if a in ("tune", "score", "synd", "all")), "tune")
    half = next((a.split("=", 1)[1] for a in argv if a.startswith("--half=")), None)
    errors: list[str] | None = [] if "--errors" in argv else None
    if errors is not None and part not in ("tune", "synd"):
        print(
            "errors are shown for the tune and synd parts only: the score part is never read for tuning",
            file=sys.stderr,
        )
        return 2
    articles = load_synd() if part == "synd" else load(part=part)
    if half:
        articles = [a for a in articles if half_of(a["id"]) == half]
    result = score(articles, predict_with_tagger(), errors)
    if "--json" in argv:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:32} {value}")
    for line in errors or []:
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
