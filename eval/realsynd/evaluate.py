"""Score syndication dedup and credit on real republished wire copies:
`../shared/benchmarks/realsynd/clusters.json` (read at run time; the texts belong to their
publishers and are never copied here).

Usage: python eval/realsynd/evaluate.py [tune|score|all] [--ingest] [--errors] [--json]

The clusters are split once, by a hash of the cluster id ranked within each kind, into `tune`
(about 60%) and `score` (about 40%), so both parts hold copy clusters and independent pairs.
Look at `tune`'s errors freely; `score` prints totals only (`--errors` is refused for it).

Two modes, one page per article either way (each page its own site, titled, dated and
credited as the record says):
- fast (default): each page through the real extraction (with its attribution), fingerprint
  and StoryIndex code, loaded into a temporary warehouse and read back through the `articles`
  view;
- `--ingest`: each page served on its own loopback address (127.0.0.x) with an RSS feed, run
  through `newsflow ingest --allow-private-networks` into a temporary data dir, and scored
  through the SQL contract (`articles.story_id`, `syndicated_from`).

Measures, over pairs of articles within one part:
- pairwise precision and recall of copy pairs (two articles of one `copies` cluster);
- independent pairs merged (the two reports of an `independent` cluster in one story);
- credit: `syndicated_from` equals the record's `wire` (in its stored spelling, e.g. "AP" ->
  "Associated Press") for every article whose `wire` is set, that is not the wire's own page
  (the outlet's name is the wire's) and that can be credited at all: its own credit line names
  the wire, or another article of its cluster from the same wire names it or is the wire's own
  page (then the content match can credit it). Copies no page credits are counted apart;
- articles credited although they have no wire (or are the wire's own page);
- the Jaccard and the containment of the shorter text in the longer, on 5-word shingles, per
  pair kind: on all words, and on the reported words the index compares (quotations,
  credit lines and dateline left out)."""

from __future__ import annotations

import hashlib
import html
import itertools
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from extractors.attribution import canonical_source  # noqa: E402
from extractors.dedup import StoryIndex, article_id_for, fingerprint, reported_shingles, shingles, words  # noqa: E402

DEFAULT_SET = ROOT.parent / "shared" / "benchmarks" / "realsynd" / "clusters.json"
SCORE_SHARE = 0.4


@dataclass(frozen=True)
class RealArticle:
    id: str
    cluster: str
    kind: str  # copies | independent
    outlet: str
    site: str  # the outlet's own name, as its pages' og:site_name
    wire: str | None
    credit_line: str | None
    headline: str | None
    published: str | None
    text: str

    @property
    def own_wire_page(self) -> bool:
        return bool(self.wire) and canonical_source(self.site) == canonical_source(self.wire)


def split(clusters: list[dict]) -> dict[str, str]:
    """cluster id -> `tune` | `score`: within each kind, the clusters ranked by a hash of their
    id; the first 40% score. Fixed by the ids alone, so it never drifts."""
    parts = {}
    for kind in sorted({c["kind"] for c in clusters}):
        ranked = sorted(
            (c["cluster"] for c in clusters if c["kind"] == kind),
            key=lambda cid: hashlib.sha1(f"realsynd:{cid}".encode()).hexdigest(),
        )
        cut = round(len(ranked) * SCORE_SHARE)
        parts.update({cid: "score" if i < cut else "tune" for i, cid in enumerate(ranked)})
    return parts


def load(path: Path = DEFAULT_SET) -> tuple[list[RealArticle], dict[str, str]]:
    clusters = json.loads(path.read_text(encoding="utf-8"))
    articles = [
        RealArticle(
            a["id"],
            c["cluster"],
            c["kind"],
            a["outlet"],
            a["outlet"].split(" (")[0].strip(),
            a.get("wire"),
            a.get("credit_line"),
            a.get("headline"),
            a.get("published"),
            a["text"],
        )
        for c in clusters
        for a in c["articles"]
    ]
    return articles, split(clusters)


def _names_wire(line: str | None, wire: str) -> bool:
    """True when a credit line names the wire in any spelling ("WASHINGTON (AP)", "By X, Associated Press")."""
    if not line:
        return False
    target = canonical_source(wire)
    spans = re.findall(r"[A-Za-z][A-Za-z.'-]*(?:\s+[A-Z][A-Za-z.'-]*){0,3}", line)
    for span in spans:
        tokens = span.split()
        for i in range(len(tokens)):
            for j in range(i + 1, len(tokens) + 1):
                if canonical_source(" ".join(tokens[i:j])) == target:
                    return True
    return False


def creditable(article: RealArticle, cluster: list[RealArticle]) -> bool:
    if not article.wire or article.own_wire_page:
        return False
    if _names_wire(article.credit_line, article.wire):
        return True
    return any(
        other.id != article.id
        and other.wire == article.wire
        and (other.own_wire_page or _names_wire(other.credit_line, other.wire))
        for other in cluster
    )


# -- pages -----------------------------------------------------------------------------------


def _in_text(piece: str, text: str) -> bool:
    squash = lambda s: re.sub(r"\W+", "", s.lower())  # noqa: E731
    return squash(piece) in squash(text)


def render_page(article: RealArticle, base: str) -> str:
    """A plain news page: the headline, the credit where the record says the page has one and
    the text does not already carry it, the paragraphs, and a little page chrome."""
    title = article.headline or " ".join(article.text.split()[:10])
    published = (
        f'<meta property="article:published_time" content="{article.published}T12:00:00Z">' if article.published else ""
    )
    byline = footer = ""
    for piece in (p.strip() for p in (article.credit_line or "").split(";")):
        if not piece or _in_text(piece, article.text):
            continue
        if piece.lower().startswith("by "):
            byline += f'<p class="byline">{html.escape(piece)}</p>'
        else:
            footer += f'<p class="credit">{html.escape(piece)}</p>'
    body = "".join(f"<p>{html.escape(p.strip())}</p>" for p in article.text.split("\n\n") if p.strip())
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{html.escape(title)} | {html.escape(article.site)}</title>
<meta property="og:title" content="{html.escape(title)}">
<meta property="og:site_name" content="{html.escape(article.site)}">{published}
<link rel="canonical" href="{base}/news/{article.id}.html">
</head><body><header><nav><a href="/">Home</a> <a href="/world">World</a> <a href="/politics">Politics</a></nav></header>
<main><article><h1>{html.escape(title)}</h1>{byline}{body}{footer}</article></main>
<footer><p>About {html.escape(article.site)}. Contact us. Privacy policy. Terms of use.</p></footer></body></html>"""


def render_feed(article: RealArticle, base: str) -> str:
    title = article.headline or " ".join(article.text.split()[:10])
    date = ""
    if article.published:
        date = f"<pubDate>{datetime.fromisoformat(article.published).strftime('%a, %d %b %Y 12:00:00 GMT')}</pubDate>"
    link = f"{base}/news/{article.id}.html"
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{html.escape(article.site)}</title>'
        f"<link>{base}/</link><description>news</description><item><title>{html.escape(title)}</title>"
        f"<link>{link}</link><guid>{link}</guid>{date}</item></channel></rss>"
    )


def _order(articles: list[RealArticle]) -> list[RealArticle]:
    return sorted(articles, key=lambda a: (a.published or "9999", a.id))


# -- the two modes ---------------------------------------------------------------------------


@dataclass
class Outcome:
    story: str
    syndicated_from: str | None
    reason: str | None
    similarity: float | None


def run_fast(articles: list[RealArticle]) -> dict[str, Outcome]:
    """Each page through the real extraction (text, site name, the credit it carries),
    fingerprint and story index code, in publication order; credit read back through the
    warehouse's `articles` view, which adds the content match."""
    from extractors.article import extract_article
    from newsflow.models import Failure, Page
    from warehouse.store import Warehouse

    index = StoryIndex()
    rows = []
    for article in _order(articles):
        base = f"http://{article.id}.realsynd.test"
        url = f"{base}/news/{article.id}.html"
        page = Page(article.id, url, url, (), 200, "text/html", render_page(article, base), datetime(2026, 1, 1))
        extracted = extract_article(page)
        if isinstance(extracted, Failure):
            continue
        fp = fingerprint(extracted.text)
        article_id = article_id_for(extracted.canonical_url)
        published = extracted.published_at
        link = index.assign(extracted.canonical_url, fp, published, article_id)
        seq = index.add(article_id, link.story_id, extracted.canonical_url, fp, published)
        rows.append(
            dict(
                article_id=article_id,
                url=url,
                canonical_url=extracted.canonical_url,
                source=extracted.source,
                title=extracted.title,
                published_at=published,
                fetched_at=page.fetched_at,
                text=extracted.text,
                content_hash=fp.content_hash,
                syndicated_from=extracted.syndicated_from,
                story_id=link.story_id,
                story_reason=link.reason,
                story_similarity=link.similarity,
                story_matched_article_id=link.matched_article_id,
                version=1,
                seq=seq,
            )
        )
    with tempfile.TemporaryDirectory() as tmp:
        warehouse = Warehouse(Path(tmp) / "lake")
        try:
            warehouse.commit_article_rows(rows, "realsynd")
            view = warehouse.con.execute(
                "SELECT url, story_id, syndicated_from, story_reason, story_similarity FROM articles"
            ).fetchall()
        finally:
            warehouse.close()
    return _by_article(view)


def _by_article(view: list[tuple]) -> dict[str, Outcome]:
    outcomes = {}
    for url, story, synd, reason, similarity in view:
        found = re.search(r"/news/([\w-]+)\.html", url)
        if found:
            outcomes[found.group(1)] = Outcome(story, synd, reason, similarity)
    return outcomes


class _Site:
    """One article's site on its own loopback address: /feed.xml, /news/<id>.html, 404 elsewhere."""

    def __init__(self, article: RealArticle, host: str):
        site = self
        self.article, self.pages = article, {}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                body = site.pages.get(self.path.split("?")[0])
                if body is None:
                    self.send_error(404)
                    return
                kind = "application/rss+xml" if self.path.endswith(".xml") else "text/html; charset=utf-8"
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://{host}:{self.server.server_address[1]}"
        self.pages["/feed.xml"] = render_feed(article, self.base).encode()
        self.pages[f"/news/{article.id}.html"] = render_page(article, self.base).encode()
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def run_ingest(articles: list[RealArticle]) -> dict[str, Outcome]:
    """Every page on its own loopback site, through `newsflow ingest` and the SQL contract."""
    import yaml

    sites = [_Site(article, f"127.0.0.{10 + n}") for n, article in enumerate(_order(articles))]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            feeds = Path(tmp) / "feeds.yaml"
            feeds.write_text(
                yaml.safe_dump({"feeds": [{"url": s.base + "/feed.xml", "name": s.article.site} for s in sites]}),
                encoding="utf-8",
            )
            data_dir = Path(tmp) / "data"
            env = {**os.environ, "PREFECT_HOME": str(Path(tmp) / "prefect")}
            env.pop("PREFECT_API_URL", None)
            newsflow = Path(sys.executable).with_name("newsflow")
            subprocess.run(
                [
                    str(newsflow),
                    "ingest",
                    "--feeds",
                    str(feeds),
                    "--data-dir",
                    str(data_dir),
                    "--allow-private-networks",
                    "--all",
                ],
                check=True,
                env=env,
                stdout=subprocess.DEVNULL,
            )
            output = subprocess.run(
                [
                    str(newsflow),
                    "sql",
                    "--data-dir",
                    str(data_dir),
                    "--format",
                    "json",
                    "SELECT url, story_id, syndicated_from, story_reason, story_similarity FROM articles",
                ],
                check=True,
                env=env,
                capture_output=True,
                text=True,
            ).stdout
    finally:
        for site in sites:
            site.close()
    rows = json.loads(output)
    return _by_article(
        [(r["url"], r["story_id"], r["syndicated_from"], r["story_reason"], r["story_similarity"]) for r in rows]
    )


# -- scoring ---------------------------------------------------------------------------------


def _similarities(a: RealArticle, b: RealArticle) -> dict[str, float]:
    out = {}
    for name, grams in (
        ("all_words", lambda t: set(shingles(words(t)))),
        ("reported", lambda t: set(reported_shingles(t))),
    ):
        sa, sb = grams(a.text), grams(b.text)
        shared = len(sa & sb)
        out[f"jaccard_{name}"] = round(shared / max(1, len(sa | sb)), 3)
        out[f"containment_{name}"] = round(shared / max(1, min(len(sa), len(sb))), 3)
    return out


def _spread(values: list[float]) -> dict:
    if not values:
        return {}
    return {"min": min(values), "median": round(statistics.median(values), 3), "max": max(values), "n": len(values)}


def score(
    articles: list[RealArticle],
    parts: dict[str, str],
    outcomes: dict[str, Outcome],
    part: str,
    show_errors: bool = False,
) -> dict:
    chosen = [a for a in articles if part == "all" or parts[a.cluster] == part]
    by_cluster: dict[str, list[RealArticle]] = {}
    for article in articles:
        by_cluster.setdefault(article.cluster, []).append(article)
    missing = [a.id for a in chosen if a.id not in outcomes]
    found = [a for a in chosen if a.id in outcomes]
    tp = fp = fn = 0
    independent = independent_merged = 0
    kinds: dict[str, list[dict]] = {"copy pairs": [], "independent pairs": []}
    errors = []
    for a, b in itertools.combinations(found, 2):
        truth = a.cluster == b.cluster and a.kind == "copies"
        merged = outcomes[a.id].story == outcomes[b.id].story
        tp += truth and merged
        fp += merged and not truth
        fn += truth and not merged
        if a.cluster == b.cluster and a.kind == "independent":
            independent += 1
            independent_merged += merged
        if a.cluster == b.cluster:
            kinds["copy pairs" if truth else "independent pairs"].append(_similarities(a, b))
        if truth != merged:
            sims = _similarities(a, b)
            what = "missed copy pair" if truth else "merged, not copies"
            errors.append(
                f"{what}: {a.id} / {b.id} ({a.outlet} / {b.outlet}) "
                f"J={sims['jaccard_reported']} C={sims['containment_reported']} "
                f"reasons={outcomes[a.id].reason}/{outcomes[b.id].reason}"
            )
    credit_total = credit_right = uncreditable = uncreditable_right = wrongly_credited = 0
    for article in found:
        got = outcomes[article.id].syndicated_from
        if article.wire and not article.own_wire_page:
            if not creditable(article, by_cluster[article.cluster]):
                # Counted apart, but still scored: an outside measure counts every copy.
                uncreditable += 1
                uncreditable_right += got == canonical_source(article.wire)
                continue
            credit_total += 1
            expected = canonical_source(article.wire)
            credit_right += got == expected
            if got != expected:
                errors.append(f"credit {article.id} ({article.outlet}): {got!r} != {expected!r}")
        elif got is not None:
            wrongly_credited += 1
            errors.append(f"credited without a wire {article.id} ({article.outlet}, wire {article.wire}): {got!r}")
    reasons: dict[str, int] = {}
    for article in found:
        reason = outcomes[article.id].reason or "none"
        reasons[reason] = reasons.get(reason, 0) + 1
    report = {
        "part": part,
        "clusters": len({a.cluster for a in chosen}),
        "articles": len(chosen),
        "missing": len(missing),
        "pairs": {
            "copy_pairs": tp + fn,
            "tp": tp,
            "fp": fp,
            "fn": fn,
            "precision": round(tp / (tp + fp), 4) if tp + fp else 1.0,
            "recall": round(tp / (tp + fn), 4) if tp + fn else 1.0,
        },
        "independent_pairs": independent,
        "independent_pairs_merged": independent_merged,
        "credit": {
            "copies": credit_total,
            "right": credit_right,
            "accuracy": round(credit_right / credit_total, 4) if credit_total else 1.0,
            "uncreditable_copies": uncreditable,
            "credited_without_wire": wrongly_credited,
            "accuracy_all_copies": round((credit_right + uncreditable_right) / (credit_total + uncreditable), 4)
            if credit_total + uncreditable
            else 1.0,
        },
        "reasons": reasons,
        "similarity": {
            kind: {
                measure: _spread([p[measure] for p in pairs])
                for measure in (
                    "jaccard_all_words",
                    "containment_all_words",
                    "jaccard_reported",
                    "containment_reported",
                )
            }
            for kind, pairs in kinds.items()
            if pairs
        },
    }
    if show_errors:
        report["errors"] = errors + [f"missing: {m}" for m in missing]
    return report


def run(part: str = "all", ingest: bool = False, show_errors: bool = False, path: Path = DEFAULT_SET) -> dict:
    if show_errors and part != "tune":
        raise SystemExit("errors are shown for `tune` only: `score` is held out, look at its totals")
    articles, parts = load(path)
    outcomes = run_ingest(articles) if ingest else run_fast(articles)
    return score(articles, parts, outcomes, part, show_errors)


def main() -> None:
    args = sys.argv[1:]
    part = next((a for a in args if a in ("tune", "score", "all")), "all")
    report = run(part, "--ingest" in args, "--errors" in args)
    errors = report.pop("errors", [])
    if "--json" in args:
        print(json.dumps(report))
        return
    print(json.dumps(report, indent=2))
    for line in errors:
        print("  ", line)


if __name__ == "__main__":
    main()
