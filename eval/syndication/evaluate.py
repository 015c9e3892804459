"""Score deduplication and attribution on the labelled syndication set, through the real
extraction path (chrome leaking into the text is part of the problem).

Usage: python eval/syndication/evaluate.py [--errors] [--baselines]
Builds the pages first if eval/syndication/out is missing."""

from __future__ import annotations

import hashlib
import itertools
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from extractors.article import extract_article
from extractors.dedup import StoryIndex, article_id_for, fingerprint
from newsflow.models import Failure, Page
from warehouse.store import Warehouse

HERE = Path(__file__).parent
OUT = HERE / "out"


def _load() -> list[dict]:
    if not (OUT / "labels.jsonl").exists():
        subprocess.run([sys.executable, str(HERE / "build.py")], check=True, stdout=subprocess.DEVNULL)
    labels = [json.loads(line) for line in (OUT / "labels.jsonl").read_text(encoding="utf-8").splitlines() if line]
    return sorted(labels, key=lambda label: (label["published"], label["page_id"]))


def run(show_errors: bool = False) -> dict:
    labels = _load()
    index = StoryIndex()
    story_of: dict[str, str] = {}
    reason_of: dict[str, str] = {}
    attributed: dict[str, str | None] = {}
    hashes: dict[str, str] = {}
    extract_seconds = assign_seconds = 0.0
    failures = []
    rows: list[dict] = []
    page_article: dict[str, tuple[str, int]] = {}
    for label in labels:
        html = (OUT / label["path"]).read_text(encoding="utf-8")
        fetched = datetime.fromisoformat(label["published"].replace("Z", "+00:00")).astimezone(UTC).replace(tzinfo=None)
        page = Page(label["page_id"], label["url"], label["url"], (), 200, "text/html", html, fetched)
        started = time.perf_counter()
        article = extract_article(page)
        extract_seconds += time.perf_counter() - started
        if isinstance(article, Failure):
            failures.append(label["page_id"])
            continue
        started = time.perf_counter()
        fp = fingerprint(article.text)
        article_id = article_id_for(article.canonical_url)
        link = index.assign(article.canonical_url, fp, article.published_at or fetched, article_id)
        if link.reason == "canonical_url" and hashes.get(link.matched_article_id or "") == fp.content_hash:
            article_id = link.matched_article_id or article_id  # the same version again
        else:
            if link.reason == "canonical_url":
                article_id = link.matched_article_id or article_id
            seq = index.add(article_id, link.story_id, article.canonical_url, fp, article.published_at or fetched)
            hashes[article_id] = fp.content_hash
            version = sum(1 for r in rows if r["article_id"] == article_id) + 1
            rows.append(
                dict(
                    article_id=article_id,
                    url=article.url,
                    canonical_url=article.canonical_url,
                    source=article.source,
                    title=article.title,
                    published_at=article.published_at or fetched,
                    fetched_at=fetched,
                    text=article.text,
                    content_hash=fp.content_hash,
                    syndicated_from=article.syndicated_from,
                    story_id=link.story_id,
                    story_reason=link.reason,
                    version=version,
                    seq=seq,
                )
            )
        page_article[label["page_id"]] = (article_id, 0)
        assign_seconds += time.perf_counter() - started
        story_of[label["page_id"]] = link.story_id
        reason_of[label["page_id"]] = link.reason

    # Attribution as analysts see it: through the warehouse's `articles` view, which adds
    # content-match attribution to the credits found on the page.
    with tempfile.TemporaryDirectory() as tmp:
        warehouse = Warehouse(Path(tmp) / "lake")
        try:
            warehouse.commit_article_rows(rows, "eval")
            view = dict(warehouse.con.execute("SELECT article_id, syndicated_from FROM articles").fetchall())
        finally:
            warehouse.close()
    for page_id, (article_id, _) in page_article.items():
        attributed[page_id] = view.get(article_id)

    found = [label for label in labels if label["page_id"] in story_of]
    tp = fp_ = fn = 0
    errors: list[str] = []
    independent_merged = 0
    for a, b in itertools.combinations(found, 2):
        truth = a["story_key"] == b["story_key"]
        predicted = story_of[a["page_id"]] == story_of[b["page_id"]]
        tp += truth and predicted
        fp_ += predicted and not truth
        fn += truth and not predicted
        if truth != predicted:
            errors.append(
                f"{'merged' if predicted else 'split'}: {a['page_id']} ({a['kind']}) / {b['page_id']} ({b['kind']})"
            )
        if (
            predicted
            and not truth
            and "independent" in (a["kind"], b["kind"])
            and (a.get("related_to") == b["story_key"] or b.get("related_to") == a["story_key"])
        ):
            independent_merged += 1
    independent_pairs = sum(
        1
        for a, b in itertools.combinations(found, 2)
        if a["kind"] == b["kind"] == "independent" and a.get("related_to") == b["story_key"]
    )
    copies = [label for label in found if label["syndicated_from"]]
    right = sum(1 for label in copies if attributed[label["page_id"]] == label["syndicated_from"])
    originals = [label for label in found if not label["syndicated_from"]]
    false_credit = sum(1 for label in originals if attributed[label["page_id"]] is not None)
    for label in copies:
        if attributed[label["page_id"]] != label["syndicated_from"]:
            errors.append(
                f"attribution {label['page_id']}: {attributed[label['page_id']]!r} != {label['syndicated_from']!r}"
            )
    for label in originals:
        if attributed[label["page_id"]] is not None:
            errors.append(f"false credit {label['page_id']} ({label['kind']}): {attributed[label['page_id']]!r}")
    report = {
        "pages": len(labels),
        "extraction_failures": len(failures),
        "pairs": {
            "tp": tp,
            "fp": fp_,
            "fn": fn,
            "precision": round(tp / (tp + fp_), 4) if tp + fp_ else 1.0,
            "recall": round(tp / (tp + fn), 4) if tp + fn else 1.0,
        },
        "independent_same_event_pairs": independent_pairs,
        "independent_pairs_merged": independent_merged,
        "attribution": {
            "copies": len(copies),
            "right": right,
            "accuracy": round(right / len(copies), 4) if copies else 1.0,
            "originals_falsely_credited": false_credit,
        },
        "reasons": {r: list(reason_of.values()).count(r) for r in sorted(set(reason_of.values()))},
        "ms_per_page": {
            "extract": round(1000 * extract_seconds / len(found), 2),
            "fingerprint_and_assign": round(1000 * assign_seconds / len(found), 3),
        },
    }
    if show_errors:
        report["errors"] = errors
    return report


# -- baselines the issue names, on the same extracted texts -------------------------------------


def _pairwise(labels: list[dict], same: dict[tuple[str, str], bool]) -> dict:
    tp = fp_ = fn = 0
    for a, b in itertools.combinations(labels, 2):
        truth, predicted = a["story_key"] == b["story_key"], same[(a["page_id"], b["page_id"])]
        tp += truth and predicted
        fp_ += predicted and not truth
        fn += truth and not predicted
    return {
        "precision": round(tp / (tp + fp_), 4) if tp + fp_ else 1.0,
        "recall": round(tp / (tp + fn), 4) if tp + fn else 1.0,
    }


def _simhash(tokens: set[str]) -> int:
    weights = [0] * 64
    for token in tokens:
        value = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "little")
        for bit in range(64):
            weights[bit] += 1 if value >> bit & 1 else -1
    return sum(1 << bit for bit in range(64) if weights[bit] > 0)


def baselines() -> dict:
    """URL + title within one source over 7 days (Media Cloud's rule), SimHash at Hamming
    distance <= 3, and exact 5-shingle Jaccard >= 0.6, each as a pairwise same-story decision."""
    from extractors.dedup import shingles, words
    from extractors.urls import canonicalize_url

    labels = _load()
    info = {}
    for label in labels:
        html = (OUT / label["path"]).read_text(encoding="utf-8")
        page = Page(label["page_id"], label["url"], label["url"], (), 200, "text/html", html, datetime(2026, 1, 1))
        article = extract_article(page)
        if isinstance(article, Failure):
            continue
        grams = set(shingles(words(article.text)))
        info[label["page_id"]] = (
            canonicalize_url(article.canonical_url),
            article.source,
            " ".join(words(article.title or "")),
            grams,
            _simhash(grams),
            datetime.fromisoformat(label["published"].replace("Z", "+00:00")),
        )
    kept = [label for label in labels if label["page_id"] in info]
    rules = {"url_or_title_same_source_7d": {}, "simhash_hamming_le_3": {}, "jaccard_5shingle_ge_0.6": {}}
    for a, b in itertools.combinations(kept, 2):
        ia, ib = info[a["page_id"]], info[b["page_id"]]
        key = (a["page_id"], b["page_id"])
        rules["url_or_title_same_source_7d"][key] = ia[0] == ib[0] or (
            ia[1] == ib[1] and ia[2] == ib[2] and abs((ia[5] - ib[5]).days) <= 7
        )
        rules["simhash_hamming_le_3"][key] = bin(ia[4] ^ ib[4]).count("1") <= 3
        union = len(ia[3] | ib[3])
        rules["jaccard_5shingle_ge_0.6"][key] = union > 0 and len(ia[3] & ib[3]) / union >= 0.6
    return {name: _pairwise(kept, decisions) for name, decisions in rules.items()}


def main() -> None:
    report = run("--errors" in sys.argv)
    errors = report.pop("errors", [])
    if "--baselines" in sys.argv:
        report["baselines"] = baselines()
    print(json.dumps(report, indent=2))
    for line in errors:
        print("  ", line)


if __name__ == "__main__":
    main()
