"""Compare a warehouse loaded from the sample web (demo/web) with demo/web/expected.yaml.

Usage: python eval/demo_check.py [DATA_DIR] [BASE_PORT]   (defaults: demo-data 47810)"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import yaml

import newsflow
from extractors.urls import canonicalize_url

WEB = Path(__file__).resolve().parents[1] / "demo" / "web"


def compare(con, bases: dict[str, str]) -> dict:
    expected = yaml.safe_load((WEB / "expected.yaml").read_text(encoding="utf-8"))["articles"]
    rows = {
        url: (story, synd, tags, article_id)
        for url, story, synd, tags, article_id in con.execute("""
        SELECT a.url, a.story_id, a.syndicated_from, list(t.tag ORDER BY t.tag) FILTER (WHERE t.tag IS NOT NULL), a.article_id
        FROM articles a LEFT JOIN article_tags t USING (article_id) GROUP BY ALL""").fetchall()
    }
    entities = {}
    for article_id, kind, name, role in con.execute("SELECT article_id, kind, name, role FROM entities").fetchall():
        entities.setdefault(article_id, set()).add((kind, name, role))
    report = {"missing": [], "pairs": {"tp": 0, "fp": 0, "fn": 0}, "attribution": [0, 0], "tags": {}, "errors": []}
    found = []
    for item in expected:
        url = canonicalize_url(bases[item["site"]] + item["path"])
        if url not in rows:
            report["missing"].append(url)
            continue
        found.append((item, rows[url]))
    for (a, ra), (b, rb) in itertools.combinations(found, 2):
        same_truth, same_found = a["story"] == b["story"], ra[0] == rb[0]
        key = "tp" if same_truth and same_found else "fp" if same_found else "fn" if same_truth else None
        if key:
            report["pairs"][key] += 1
            if key != "tp":
                report["errors"].append(f"{key} pair: {a['path']} / {b['path']}")
    for item, row in found:
        if not item["original"]:
            report["attribution"][1] += 1
            if row[1] == item["syndicated_from"]:
                report["attribution"][0] += 1
            else:
                report["errors"].append(f"attribution {item['path']}: {row[1]!r} != {item['syndicated_from']!r}")
        elif row[1] is not None:
            report["errors"].append(f"original {item['path']} marked syndicated from {row[1]!r}")
    for tag in ("arms_deal", "sanctions"):
        tp = fp = fn = 0
        for item, row in found:
            truth, got = tag in item["tags"], tag in (row[2] or [])
            tp += truth and got
            fp += got and not truth
            fn += truth and not got
            if truth != got:
                report["errors"].append(f"{tag} {'FP' if got else 'FN'}: {item['path']}")
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        report["tags"][tag] = {
            "precision": round(precision, 3),
            "recall": round(recall, 3),
            "tp": tp,
            "fp": fp,
            "fn": fn,
        }
    role_hits = role_total = 0
    for item, row in found:
        got = entities.get(row[3], set())
        for role, key in (("supplier", "suppliers"), ("recipient", "recipients")):
            for name in item.get(key) or []:
                role_total += 1
                if ("country", name, role) in got:
                    role_hits += 1
                else:
                    report["errors"].append(f"role {role} {name} missing: {item['path']}")
    report["roles"] = [role_hits, role_total]
    return report


def main() -> None:
    data_dir = sys.argv[1] if len(sys.argv) > 1 else "demo-data"
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 47810
    sites = yaml.safe_load((WEB / "sites.yaml").read_text())["sites"]
    bases = {s["slug"]: f"http://127.0.0.1:{port + i}" for i, s in enumerate(sites)}
    con = newsflow.connect(data_dir)
    report = compare(con, bases)
    for line in report.pop("errors"):
        print(" ", line)
    print(yaml.safe_dump(report, sort_keys=False))


if __name__ == "__main__":
    main()
