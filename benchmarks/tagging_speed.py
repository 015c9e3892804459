"""What tagging costs next to extraction.

On the AEB pages: each page is extracted with newsflow's `extract_article` and the resulting
article tagged with `Tagger.default().tag(title, text, published)`, both timed per article in
every repeat, back to back. Reported: per-article medians and tagging time as a % of extraction
time (issue target: under 10%). On eval/tagging/dev.yaml (short hand-written articles, no HTML,
so no extraction time) tagging is timed alone. Loading the tagger (gazetteers) is a one-off cost,
reported separately. The held-out split is never read."""

from __future__ import annotations

import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import REPO, load_aeb, median, newsflow_page

TARGET_PERCENT = 10.0


def main(quick: bool = False, repeats: int | None = None) -> dict:
    import yaml

    from extractors.article import extract_article
    from extractors.tagging import Tagger
    from newsflow.models import Failure

    repeats = repeats or (2 if quick else 5)
    start = time.perf_counter()
    tagger = Tagger.default()
    load_s = time.perf_counter() - start

    pages = [newsflow_page(p) for p in load_aeb(limit=40 if quick else None)]
    articles = [extract_article(p) for p in pages]  # also warms extraction up
    pairs = [(p, a) for p, a in zip(pages, articles, strict=False) if not isinstance(a, Failure)]
    for _, article in pairs[:10]:
        tagger.tag(article.title or "", article.text, article.published_at)

    extract_times = [[] for _ in pairs]
    tag_times = [[] for _ in pairs]
    for _ in range(repeats):
        for i, (page, article) in enumerate(pairs):
            start = time.perf_counter()
            extract_article(page)
            extract_times[i].append(time.perf_counter() - start)
            start = time.perf_counter()
            tagger.tag(article.title or "", article.text, article.published_at)
            tag_times[i].append(time.perf_counter() - start)

    ext = [median(t) for t in extract_times]
    tag = [median(t) for t in tag_times]
    words = [a.word_count for _, a in pairs]
    percent_total = 100 * sum(tag) / sum(ext)
    percent_per_article = [100 * t / e for t, e in zip(tag, ext, strict=False)]

    heaviest = sorted(range(len(pairs)), key=lambda i: tag[i], reverse=True)[:3]
    slowest = [
        {
            "page": pairs[i][0].entry_key[:16],
            "words": words[i],
            "tag_ms": round(1000 * tag[i], 2),
            "extract_ms": round(1000 * ext[i], 2),
        }
        for i in heaviest
    ]

    dev = yaml.safe_load((REPO / "eval" / "tagging" / "dev.yaml").read_text(encoding="utf-8"))["articles"]
    if quick:
        dev = dev[:30]
    dev_times = [[] for _ in dev]
    for _ in range(repeats):
        for i, item in enumerate(dev):
            start = time.perf_counter()
            tagger.tag(item.get("title") or "", item["text"], None)
            dev_times[i].append(time.perf_counter() - start)
    dev_med = [median(t) for t in dev_times]
    dev_words = [len(item["text"].split()) for item in dev]

    return {
        "repeats": repeats,
        "tagger_load_s": round(load_s, 3),
        "aeb": {
            "articles": len(pairs),
            "median_words": median(words),
            "extract_median_ms": round(1000 * median(ext), 2),
            "tag_median_ms": round(1000 * median(tag), 3),
            "tag_ms_per_1000_words": round(1000 * sum(tag) / sum(words) * 1000, 3),
            "tag_percent_of_extract_total": round(percent_total, 2),
            "tag_percent_of_extract_median_per_article": round(median(percent_per_article), 2),
            "tag_percent_of_extract_max_per_article": round(max(percent_per_article), 2),
            "articles_over_target": sum(p >= TARGET_PERCENT for p in percent_per_article),
            "slowest_to_tag": slowest,
        },
        "dev_yaml": {
            "articles": len(dev),
            "median_words": median(dev_words),
            "tag_median_ms": round(1000 * median(dev_med), 3),
            "tag_ms_per_1000_words": round(1000 * sum(dev_med) / sum(dev_words) * 1000, 3),
        },
        "target_percent": TARGET_PERCENT,
        "meets_target": percent_total < TARGET_PERCENT,
    }


def report(result: dict) -> list[str]:
    a, d = result["aeb"], result["dev_yaml"]
    return [
        f"TAGGING SPEED  {result['repeats']} repeats, medians (tagger load, one-off: {result['tagger_load_s']:.2f} s)",
        f"  AEB, {a['articles']} extracted articles (median {a['median_words']:.0f} words): extract "
        f"{a['extract_median_ms']:.1f} ms, tag {a['tag_median_ms']:.2f} ms per article "
        f"({a['tag_ms_per_1000_words']:.2f} ms per 1000 words)",
        f"  tagging = {a['tag_percent_of_extract_total']:.1f}% of extraction time in total, "
        f"{a['tag_percent_of_extract_median_per_article']:.1f}% median per article, "
        f"max {a['tag_percent_of_extract_max_per_article']:.1f}% "
        f"({a['articles_over_target']} articles at or over {result['target_percent']:.0f}%); "
        f"target < {result['target_percent']:.0f}%: {'MET' if result['meets_target'] else 'NOT MET'}",
        "  slowest to tag: "
        + "; ".join(
            f"{x['page']} ({x['words']} words) tag {x['tag_ms']:.1f} ms vs extract {x['extract_ms']:.1f} ms"
            for x in a["slowest_to_tag"]
        ),
        f"  eval/tagging/dev.yaml, {d['articles']} articles (median {d['median_words']:.0f} words): "
        f"tag {d['tag_median_ms']:.2f} ms per article ({d['tag_ms_per_1000_words']:.2f} ms per 1000 words)",
    ]


if __name__ == "__main__":
    print("\n".join(report(main(quick="--quick" in sys.argv))))
