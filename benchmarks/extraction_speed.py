"""Extraction speed on the 181 AEB pages.

One core (sequential, in this process): raw `trafilatura.extract` (library defaults) against
newsflow's `extract_article` (trafilatura with metadata, plus newsflow's meta/JSON-LD reads and
attribution). In every repeat each page runs under each extractor back to back, in an order
that alternates between repeats, so the ratio newsflow/raw is measured under the same noise.
Then the batched process-pool path, `ArticleExtractor(workers=2).extract(...)`, in batches of
the flow's `batch_size`, on a warm pool, in the same repeat. All figures are medians."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import load_aeb, median, newsflow_page


def _extractors():
    import trafilatura

    from extractors.article import extract_article

    def raw(page, _nf_page):
        return trafilatura.extract(page.html)

    def newsflow_settings(page, _nf_page):
        # The trafilatura call inside extract_article, alone: separates trafilatura's metadata
        # work from newsflow's own code.
        return trafilatura.bare_extraction(
            page.html,
            url=page.url,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            favor_precision=True,
        )

    def bare_with_metadata(page, _nf_page):
        # The ceiling: trafilatura with metadata, library defaults.
        return trafilatura.bare_extraction(page.html, url=page.url, with_metadata=True)

    def newsflow(_page, nf_page):
        return extract_article(nf_page)

    return {
        "raw": raw,
        "bare_with_metadata": bare_with_metadata,
        "trafilatura_with_metadata": newsflow_settings,
        "newsflow": newsflow,
    }


def _workers_cpu_seconds(extractor) -> float | None:
    """CPU seconds used so far by the pool's worker processes (from /proc; None if unknown).
    Wall time alone cannot tell a slow pool from a machine whose other work took the cores."""
    pool = getattr(extractor, "_pool", None)
    processes = getattr(pool, "_processes", None) or {}
    if not processes:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in processes:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    return total


def main(quick: bool = False, repeats: int | None = None) -> dict:
    from extractors.article import ArticleExtractor
    from newsflow.settings import Settings

    repeats = repeats or (2 if quick else 5)
    pages = load_aeb(limit=40 if quick else None)
    nf_pages = [newsflow_page(p) for p in pages]
    extractors = _extractors()
    names = list(extractors)
    batch_size = Settings().batch_size
    workers = 2

    for page, nf_page in list(zip(pages, nf_pages, strict=False))[:10]:  # warm-up: imports, caches
        for fn in extractors.values():
            fn(page, nf_page)

    per_page: dict[str, list[list[float]]] = {n: [[] for _ in pages] for n in names}
    totals: dict[str, list[float]] = {n: [] for n in names}
    cpu_totals: dict[str, list[float]] = {n: [] for n in names}
    pool_totals: list[float] = []
    pool_cores: list[float] = []
    with ArticleExtractor(workers=workers) as pool:
        pool.extract([(p, None) for p in nf_pages[:batch_size]])  # warm the worker processes
        for r in range(repeats):
            order = names if r % 2 == 0 else names[::-1]
            run_total = dict.fromkeys(names, 0.0)
            run_cpu = dict.fromkeys(names, 0.0)
            for i, (page, nf_page) in enumerate(zip(pages, nf_pages, strict=False)):
                for name in order:
                    cpu = time.process_time()
                    start = time.perf_counter()
                    extractors[name](page, nf_page)
                    elapsed = time.perf_counter() - start
                    run_cpu[name] += time.process_time() - cpu
                    per_page[name][i].append(elapsed)
                    run_total[name] += elapsed
            for name in names:
                totals[name].append(run_total[name])
                cpu_totals[name].append(run_cpu[name])
            cpu_before = _workers_cpu_seconds(pool)
            start = time.perf_counter()
            for b in range(0, len(nf_pages), batch_size):
                pool.extract([(p, None) for p in nf_pages[b : b + batch_size]])
            pool_totals.append(time.perf_counter() - start)
            cpu_after = _workers_cpu_seconds(pool)
            if cpu_before is not None and cpu_after is not None:
                pool_cores.append((cpu_after - cpu_before) / pool_totals[-1])

    n = len(pages)
    single = {}
    for name in names:
        page_medians = [median(times) for times in per_page[name]]
        single[name] = {
            "median_ms_per_page": round(1000 * median(page_medians), 2),
            "mean_ms_per_page": round(1000 * median(totals[name]) / n, 2),
            "pages_per_s": round(n / median(totals[name]), 1),
            "cpu_ms_per_page": round(1000 * median(cpu_totals[name]) / n, 2),
            "total_s_per_pass": [round(t, 3) for t in totals[name]],
        }
    ratio_runs = [nf / raw for nf, raw in zip(totals["newsflow"], totals["raw"], strict=False)]
    ratio_pages = [median(per_page["newsflow"][i]) / median(per_page["raw"][i]) for i in range(n)]
    speedup_runs = [nf / pool_t for nf, pool_t in zip(totals["newsflow"], pool_totals, strict=False)]
    return {
        "pages": n,
        "repeats": repeats,
        "single_core": single,
        "ratio_newsflow_over_raw": {
            "total_time_median_of_repeats": round(median(ratio_runs), 3),
            "median_per_page": round(median(ratio_pages), 3),
            "per_repeat": [round(x, 3) for x in ratio_runs],
            "cpu_time": round(
                median(a / b for a, b in zip(cpu_totals["newsflow"], cpu_totals["raw"], strict=False)), 3
            ),
        },
        "ratio_newsflow_over_bare_with_metadata": round(
            median(a / b for a, b in zip(totals["newsflow"], totals["bare_with_metadata"], strict=False)), 3
        ),
        "ratio_trafilatura_with_metadata_over_raw": round(
            median(a / b for a, b in zip(totals["trafilatura_with_metadata"], totals["raw"], strict=False)), 3
        ),
        "process_pool": {
            "workers": workers,
            "batch_size": batch_size,
            "pages_per_s": round(n / median(pool_totals), 1),
            "total_s_per_pass": [round(t, 3) for t in pool_totals],
            "speedup_over_newsflow_single_core": round(median(speedup_runs), 2),
            "worker_cpu_s_per_wall_s": round(median(pool_cores), 2) if pool_cores else None,
        },
    }


def report(result: dict) -> list[str]:
    s = result["single_core"]
    labels = {
        "raw": "trafilatura.extract() defaults",
        "bare_with_metadata": "trafilatura.bare_extraction(with_metadata=True)",
        "trafilatura_with_metadata": "trafilatura.bare_extraction(newsflow's args)",
        "newsflow": "newsflow extract_article",
    }
    lines = [
        f"EXTRACTION SPEED  {result['pages']} AEB pages, {result['repeats']} repeats, medians",
        f"  {'one core, sequential':<46} {'median ms/page':>14} {'mean ms/page':>12} {'pages/s':>8} "
        f"{'CPU ms/page':>11}",
    ]
    for key, label in labels.items():
        lines.append(
            f"  {label:<46} {s[key]['median_ms_per_page']:>14.1f} {s[key]['mean_ms_per_page']:>12.1f} "
            f"{s[key]['pages_per_s']:>8.1f} {s[key]['cpu_ms_per_page']:>11.1f}"
        )
    r = result["ratio_newsflow_over_raw"]
    lines.append(
        f"  ratio newsflow / raw (same run): {r['total_time_median_of_repeats']:.2f}x total time "
        f"(repeats {', '.join(f'{x:.2f}' for x in r['per_repeat'])}); {r['median_per_page']:.2f}x median per page; "
        f"{r['cpu_time']:.2f}x CPU time"
    )
    lines.append(
        f"  ratio newsflow / bare_extraction(with_metadata=True): "
        f"{result['ratio_newsflow_over_bare_with_metadata']:.2f}x total time"
    )
    lines.append(
        f"  of which trafilatura's metadata and settings: {result['ratio_trafilatura_with_metadata_over_raw']:.2f}x raw"
    )
    p = result["process_pool"]
    lines.append(
        f"  ArticleExtractor(workers={p['workers']}), batches of {p['batch_size']}, warm pool: "
        f"{p['pages_per_s']:.1f} pages/s, {p['speedup_over_newsflow_single_core']:.2f}x newsflow on one core"
    )
    if p.get("worker_cpu_s_per_wall_s") is not None:
        lines.append(
            f"  the workers got {p['worker_cpu_s_per_wall_s']:.2f} CPU-seconds per wall second "
            f"(2.0 = both cores; less means other load on the machine took the rest)"
        )
    return lines


if __name__ == "__main__":
    print("\n".join(report(main(quick="--quick" in sys.argv))))
