"""Story-index scale: assign and add N simulated articles one at a time, as ingest does.

Unrelated articles get independent random MinHash signatures (what MinHash gives unrelated
texts); every 50th article is a syndicated copy of an earlier one, with 20-35% of its signature
changed, as edited copies score. Reports the amortised time per article (assign + add,
including periodic merges), recall on the planted copies, memory and on-disk size as the index
grows, and the time to load the saved index. Also times fingerprinting one real article.

Usage: python benchmarks/dedup_scale.py [--n 1000000]   (also part of `make bench`)"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from extractors.dedup import NUM_PERM, Fingerprint, StoryIndex, fingerprint  # noqa: E402

RECENT = 5000
CHECKPOINTS = (10_000, 100_000, 250_000, 500_000, 1_000_000)


def _rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


_LOADER = """
import resource, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from extractors.dedup import StoryIndex
started = time.perf_counter()
index = StoryIndex.load(Path(sys.argv[1]))
print(time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, len(index))
"""


def _load_elsewhere(directory: Path) -> tuple[float, float]:
    """(seconds, peak RSS MiB) to load a saved index in a new process."""
    out = subprocess.run(
        [sys.executable, "-c", _LOADER, str(directory), str(Path(__file__).resolve().parents[1])],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return round(float(out[0]), 2), round(float(out[1]), 1)


def run(n: int, seed: int = 7) -> dict:
    rng = np.random.default_rng(seed)
    index = StoryIndex()
    start_day = datetime(2026, 1, 1)
    rows, copies, found = [], 0, 0
    base_rss = _rss_mib()
    window_start, window_n = time.perf_counter(), 0
    total = 0.0
    recent = np.zeros((RECENT, NUM_PERM), dtype=np.uint32)  # earlier articles that copies are made of
    for i in range(n):
        sig = rng.integers(0, 2**32, size=NUM_PERM, dtype=np.uint32)
        is_copy = i >= 100 and i % 50 == 0
        if is_copy:
            source = int(rng.integers(max(0, i - RECENT + 1), i))
            sig = recent[source % RECENT].copy()
            changed = rng.choice(NUM_PERM, size=int(rng.integers(26, 45)), replace=False)
            sig[changed] = rng.integers(0, 2**32, size=len(changed), dtype=np.uint32)
        recent[i % RECENT] = sig
        fp = Fingerprint(f"h{i}", sig, 400)
        published = start_day + timedelta(minutes=i // 20)
        started = time.perf_counter()
        link = index.assign(f"https://site{i % 997}.example/a/{i}", fp, published, f"a{i}")
        index.add(f"a{i}", link.story_id, f"https://site{i % 997}.example/a/{i}", fp, published)
        total += time.perf_counter() - started
        window_n += 1
        if is_copy:
            copies += 1
            found += link.reason in ("near_duplicate", "contained")
        if i + 1 in CHECKPOINTS or i + 1 == n:
            elapsed = time.perf_counter() - window_start
            with tempfile.TemporaryDirectory() as tmp:
                started = time.perf_counter()
                index.save(Path(tmp))
                save_s = time.perf_counter() - started
                disk = (Path(tmp) / "story-index.npz").stat().st_size
                # Load in a fresh process, as the next ingest run would: a second copy in this
                # process would double the memory figure.
                load_s, load_rss = _load_elsewhere(Path(tmp))
            rows.append(
                {
                    "articles": i + 1,
                    "ms_per_article_in_window": round(1000 * elapsed / window_n, 4),
                    "index_mib": round(index.nbytes() / 2**20, 1),
                    "process_rss_mib": round(_rss_mib(), 1),
                    "rss_growth_mib": round(_rss_mib() - base_rss, 1),
                    "disk_mib": round(disk / 2**20, 1),
                    "save_s": round(save_s, 2),
                    "load_s": round(load_s, 2),
                    "load_peak_rss_mib": load_rss,
                }
            )
            window_start, window_n = time.perf_counter(), 0
    sample = "Russia has begun delivering S-400 air-defence systems to India despite the risk of US sanctions. " * 6
    started = time.perf_counter()
    for _ in range(200):
        fingerprint(sample)
    fingerprint_ms = 1000 * (time.perf_counter() - started) / 200
    return {
        "articles": n,
        "amortised_ms_per_article": round(1000 * total / n, 4),
        "planted_copies": copies,
        "copies_found": found,
        "copy_recall": round(found / copies, 4) if copies else None,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "fingerprint_ms_per_article": round(fingerprint_ms, 3),
        "growth": rows,
    }


def main(quick: bool = False, n: int | None = None) -> dict:
    """For benchmarks/run.py: one million articles, or 100,000 with `quick`."""
    return run(n or (100_000 if quick else 1_000_000))


def report(result: dict) -> list[str]:
    lines = [
        f"story index at scale: {result['articles']:,} simulated articles, one at a time",
        f"  amortised assign+add: {result['amortised_ms_per_article']:.3f} ms per article (target < 1 ms)",
        f"  planted syndicated copies found: {result['copies_found']}/{result['planted_copies']} "
        f"(recall {result['copy_recall']})",
        f"  peak RSS {result['peak_rss_mib']:.0f} MiB (target < 1.5 GiB); fingerprinting a real article "
        f"{result['fingerprint_ms_per_article']:.3f} ms",
        "  articles    ms/article  index MiB  RSS MiB  disk MiB  save s  load s  load RSS MiB",
    ]
    for row in result["growth"]:
        lines.append(
            f"  {row['articles']:>9,}  {row['ms_per_article_in_window']:>10.3f}  {row['index_mib']:>9.1f}"
            f"  {row['process_rss_mib']:>7.0f}  {row['disk_mib']:>8.1f}  {row['save_s']:>6.2f}  {row['load_s']:>6.2f}"
            f"  {row['load_peak_rss_mib']:>12.0f}"
        )
    return lines


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    result = run(parser.parse_args().n)
    print("\n".join(report(result)))
