"""Shared pieces of the benchmarks: where the data lives, loading the AEB pages, the AEB
4-gram shingle metric, and small timing helpers.

The metric is our own implementation of the Scrapinghub article-extraction-benchmark scoring,
as described in ../shared/benchmarks/README.md:

- tokens are the `\\w+` matches of a text;
- shingles are runs of 4 consecutive tokens, counted as a multiset (a text of fewer than 4
  tokens is one shorter shingle; an empty text has none);
- per page: tp = size of the multiset intersection, fp = predicted minus true, fn = true minus
  predicted; precision = tp / (tp + fp), recall = tp / (tp + fn), each page weighted equally;
- precision is averaged over the pages that have a prediction (tp + fp > 0) and recall over
  the pages that have ground truth (tp + fn > 0), the convention of the published benchmark: an
  empty prediction costs recall, not precision. The "strict" precision below also counts an
  empty prediction as precision 0, so a page we fail on cannot flatter us;
- F1 is the harmonic mean of the two averages, not the mean of per-page F1;
- the ± is the standard deviation of F1 over bootstrap resamples of the pages (fixed seed).
"""

from __future__ import annotations

import gzip
import json
import os
import platform
import random
import re
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO / "benchmarks" / "results"


def shared_benchmarks_dir() -> Path:
    """../shared/benchmarks next to the repo, or under $NEWSFLOW_SHARED_DIR when set.

    NEWSFLOW_SHARED_DIR may name the shared directory (holding `benchmarks/`) or the
    benchmarks directory itself (holding `aeb/`)."""
    override = os.environ.get("NEWSFLOW_SHARED_DIR")
    if override:
        base = Path(override).expanduser().resolve()
        if (base / "benchmarks" / "aeb").is_dir():
            return base / "benchmarks"
        return base
    return REPO.parent / "shared" / "benchmarks"


def aeb_dir() -> Path:
    path = shared_benchmarks_dir() / "aeb"
    if not (path / "ground-truth.json").is_file():
        raise SystemExit(f"AEB benchmark data not found at {path} (set NEWSFLOW_SHARED_DIR)")
    return path


@dataclass(frozen=True)
class AebPage:
    page_id: str
    url: str
    html: str
    truth: str


def load_aeb(limit: int | None = None) -> list[AebPage]:
    """The AEB pages sorted by id (decompressed, decoded as UTF-8); `limit` takes an evenly
    spread subset for quick runs."""
    root = aeb_dir()
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    ids = sorted(truth)
    if limit is not None and limit < len(ids):
        step = len(ids) / limit
        ids = [ids[int(i * step)] for i in range(limit)]
    pages = []
    for page_id in ids:
        html = gzip.decompress((root / "html" / f"{page_id}.html.gz").read_bytes()).decode("utf-8")
        pages.append(AebPage(page_id, truth[page_id].get("url") or "", html, truth[page_id].get("articleBody") or ""))
    return pages


# ---------------------------------------------------------------- the AEB metric

_WORD = re.compile(r"\w+")


def tokens(text: str | None) -> list[str]:
    return _WORD.findall(text or "")


def shingles(text: str | None, n: int = 4) -> Counter:
    words = tokens(text)
    if not words:
        return Counter()
    if len(words) < n:
        return Counter([tuple(words)])
    return Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))


@dataclass(frozen=True)
class PageScore:
    tp: int
    fp: int
    fn: int

    @property
    def has_prediction(self) -> bool:
        return self.tp + self.fp > 0

    @property
    def has_truth(self) -> bool:
        return self.tp + self.fn > 0

    @property
    def precision(self) -> float:
        if self.fp == 0 and self.fn == 0:
            return 1.0  # both empty, or an exact match
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        if self.fp == 0 and self.fn == 0:
            return 1.0
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0


def score_page(truth: str, prediction: str | None) -> PageScore:
    true, pred = shingles(truth), shingles(prediction)
    tp = sum((true & pred).values())
    return PageScore(tp, sum(pred.values()) - tp, sum(true.values()) - tp)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def aggregate(scores: Sequence[PageScore]) -> dict[str, float]:
    precision = _mean([s.precision for s in scores if s.has_prediction])
    recall = _mean([s.recall for s in scores if s.has_truth])
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    strict_p = _mean([s.precision if s.has_prediction else 0.0 for s in scores if s.has_truth or s.has_prediction])
    strict_f1 = 2 * strict_p * recall / (strict_p + recall) if strict_p + recall else 0.0
    return {"f1": f1, "precision": precision, "recall": recall, "precision_strict": strict_p, "f1_strict": strict_f1}


def bootstrap_std(scores: Sequence[PageScore], resamples: int = 1000, seed: int = 20191101) -> dict[str, float]:
    """Standard deviation of each metric over `resamples` resamples of the pages, with replacement."""
    rng = random.Random(seed)
    n = len(scores)
    values: dict[str, list[float]] = {}
    for _ in range(resamples):
        sample = [scores[rng.randrange(n)] for _ in range(n)]
        for key, value in aggregate(sample).items():
            values.setdefault(key, []).append(value)
    return {key: statistics.stdev(v) for key, v in values.items()}


def evaluate(
    truths: Sequence[str], predictions: Sequence[str | None], resamples: int = 1000
) -> tuple[dict, list[PageScore]]:
    """Metrics with bootstrap stds, and the per-page scores (for paired comparisons)."""
    scores = [score_page(t, p) for t, p in zip(truths, predictions, strict=True)]
    result = aggregate(scores)
    std = bootstrap_std(scores, resamples)
    result.update({f"{key}_std": value for key, value in std.items()})
    result["pages"] = len(scores)
    result["empty_predictions"] = sum(not s.has_prediction for s in scores)
    return result, scores


def bootstrap_difference(
    a: Sequence[PageScore], b: Sequence[PageScore], resamples: int = 1000, seed: int = 20191101
) -> dict[str, float]:
    """F1(a) - F1(b) on the same pages, with its std over paired resamples."""
    rng = random.Random(seed)
    n = len(a)
    diffs = []
    for _ in range(resamples):
        idx = [rng.randrange(n) for _ in range(n)]
        diffs.append(aggregate([a[i] for i in idx])["f1"] - aggregate([b[i] for i in idx])["f1"])
    return {"f1_diff": aggregate(a)["f1"] - aggregate(b)["f1"], "f1_diff_std": statistics.stdev(diffs)}


# ---------------------------------------------------------------- timing


def median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def timed(fn: Callable, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def environment() -> dict:
    from importlib.metadata import version

    def v(name: str) -> str | None:
        try:
            return version(name)
        except Exception:
            return None

    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        **git_state(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
        "trafilatura": v("trafilatura"),
        "prefect": v("prefect"),
        "duckdb": v("duckdb"),
    }


def git_state() -> dict:
    """The commit measured and whether the working tree had local changes (read-only git)."""
    import subprocess

    def git(*args: str) -> str | None:
        try:
            return subprocess.run(
                ["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
        except Exception:
            return None

    status = git("status", "--porcelain", "--untracked-files=no")
    return {
        "git_head": (git("rev-parse", "--short", "HEAD") or "unknown"),
        "git_modified_files": len(status.splitlines()) if status else 0,
    }


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n", encoding="utf-8")


def newsflow_page(page: AebPage):
    """A newsflow `Page` for an AEB file, as the fetch stage would hand it to extraction."""
    from newsflow.models import Page

    return Page(
        entry_key=page.page_id,
        requested_url=page.url,
        final_url=page.url,
        redirects=(),
        status=200,
        content_type="text/html",
        html=page.html,
        fetched_at=datetime(2024, 1, 1, 12, 0, 0),
    )


def bootstrap_path() -> None:
    """Make `import benchmarks…` work when a module is run as a script."""
    import sys

    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
