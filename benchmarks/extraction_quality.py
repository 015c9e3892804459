"""Extraction quality on the AEB benchmark (181 article pages with ground-truth bodies).

Scores newsflow's extraction path (`extractors.article.extract_article`, Article.text; a
Failure counts as an empty prediction) against raw `trafilatura.extract` in several settings,
with the AEB 4-gram shingle metric (see _common.py). Deterministic: run once, no timing."""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import bootstrap_difference, evaluate, load_aeb, newsflow_page, tokens

# (key, label, trafilatura.extract keyword arguments)
TRAFILATURA_CONFIGS = [
    ("trafilatura_default", "extract() library defaults", {}),
    ("trafilatura_no_comments", "extract(include_comments=False)", {"include_comments": False}),
    ("trafilatura_favor_precision", "extract(favor_precision=True)", {"favor_precision": True}),
    (
        "trafilatura_favor_precision_no_comments",
        "extract(favor_precision, include_comments=False)",
        {"favor_precision": True, "include_comments": False},
    ),
    (
        "trafilatura_newsflow_settings",
        "extract(favor_precision, no comments, no tables)",
        {"favor_precision": True, "include_comments": False, "include_tables": False},
    ),
]
NOTES = [
    "DESIGN.md's 'default' 0.960 is extract(include_comments=False), the setting of the AEB runner script;",
    "its favor_precision 0.964 is extract(favor_precision, include_comments=False). Library defaults keep comments.",
    "The last row is the trafilatura call newsflow makes (without with_metadata), to separate settings from code.",
]


def main(quick: bool = False) -> dict:
    import trafilatura

    from extractors.article import extract_article
    from newsflow.models import Failure

    pages = load_aeb(limit=40 if quick else None)
    truths = [p.truth for p in pages]
    rows: dict[str, dict] = {}
    scores: dict[str, list] = {}

    predictions, failures = [], []
    for page in pages:
        result = extract_article(newsflow_page(page))
        if isinstance(result, Failure):
            predictions.append("")
            failures.append(
                {
                    "page": page.page_id[:16],
                    "url": page.url,
                    "truth_tokens": len(tokens(page.truth)),
                    "error": result.error,
                }
            )
        else:
            predictions.append(result.text)
    metrics, scores["newsflow"] = evaluate(truths, predictions)
    rows["newsflow"] = {"label": "newsflow extract_article (Failure = empty)", **metrics}

    for key, label, kwargs in TRAFILATURA_CONFIGS:
        predictions = []
        for page in pages:
            try:
                predictions.append(trafilatura.extract(page.html, **kwargs))
            except Exception:  # count a crash as an empty prediction, like a Failure
                predictions.append("")
        metrics, scores[key] = evaluate(truths, predictions)
        rows[key] = {"label": label, "kwargs": kwargs, **metrics}

    comparisons = {
        f"newsflow - {rows[key]['label']}": bootstrap_difference(scores["newsflow"], scores[key])
        for key in (
            "trafilatura_no_comments",
            "trafilatura_favor_precision_no_comments",
            "trafilatura_newsflow_settings",
        )
    }
    for row in rows.values():
        for key in list(row):
            if isinstance(row[key], float):
                row[key] = round(row[key], 4)
    return {
        "pages": len(pages),
        "bootstrap_resamples": 1000,
        "results": rows,
        "paired_differences": {k: {m: round(v, 4) for m, v in d.items()} for k, d in comparisons.items()},
        "newsflow_failures": failures,
        "reference_design_md": {"include_comments=False": 0.960, "favor_precision": 0.964, "fast": 0.962},
    }


def report(result: dict) -> list[str]:
    lines = [
        f"EXTRACTION QUALITY  AEB 4-gram shingle metric, {result['pages']} pages "
        f"(± = bootstrap std, {result['bootstrap_resamples']} resamples, fixed seed)",
        f"  {'extractor':<50} {'F1':>13} {'prec':>6} {'recall':>6} {'empty':>5} {'F1strict':>8}",
    ]
    for row in result["results"].values():
        lines.append(
            f"  {row['label']:<50} {row['f1']:.3f} ± {row['f1_std']:.3f} {row['precision']:6.3f} "
            f"{row['recall']:6.3f} {row['empty_predictions']:5d} {row['f1_strict']:8.3f}"
        )
    lines.append(
        "  precision averages the pages with a prediction (the published convention); F1strict also "
        "scores an empty prediction as precision 0."
    )
    lines += [f"  {note}" for note in NOTES]
    for name, diff in result["paired_differences"].items():
        lines.append(f"  F1 {name + ':':<61} {diff['f1_diff']:+.3f} ± {diff['f1_diff_std']:.3f} (paired bootstrap)")
    failures = result["newsflow_failures"]
    lines.append(f"  newsflow returned a Failure on {len(failures)} page(s):")
    for f in failures:
        lines.append(f"    {f['page']}  ground truth {f['truth_tokens']} tokens: {f['error'][:100]}")
    return lines


if __name__ == "__main__":
    print("\n".join(report(main(quick="--quick" in sys.argv))))
