"""Extract article text and metadata from a fetched page with trafilatura.

Extraction is CPU-bound (about 20 ms a page), so batches run in worker processes."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from typing import Any

import trafilatura
from trafilatura.settings import DEFAULT_CONFIG, Document
from trafilatura.utils import load_html

from extractors.aggregators import is_syndicated_page, msn_provider
from extractors.attribution import find_syndicated_from
from extractors.pagemeta import html_language, json_blobs, meta_tags, published_at
from extractors.trafilatura_meta import page_metadata
from extractors.urls import canonicalize_url, domain_of, same_site
from newsflow.models import Article, Failure, Page

MIN_WORDS = 30
_CHUNKS_PER_WORKER = 4
_MAX_FILE_SIZE = DEFAULT_CONFIG.getint("DEFAULT", "MAX_FILE_SIZE")  # what bare_extraction parses with
# trafilatura's time grows faster than linearly with the number of elements (40,000 tags take
# about 3 s, 1,000,000 over 4 minutes); the largest real news page in the AEB set has about 3,200.
# A page with more is hostile or broken markup: refused with a reason, not left to stall the batch.
MAX_TAGS = 15_000


def _date_only(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value[:10])
    except ValueError:
        return None


def _as_document(extracted: Document | dict[str, Any] | None) -> Document | None:
    """bare_extraction's result: a dict only under `as_dict=True`, which newsflow never passes."""
    if isinstance(extracted, dict):
        raise TypeError("trafilatura.bare_extraction returned a dict; newsflow expects a Document")
    return extracted


def _trafilatura_document(html: str, url: str) -> Document | None:
    """What `bare_extraction(with_metadata=True)` gives, for the fields newsflow stores: the page is
    parsed once, its metadata read by `page_metadata`, and the tree handed to bare_extraction,
    which extracts the text from its own copy."""
    tree = load_html(html, _MAX_FILE_SIZE)
    if tree is None:
        return None
    metadata = page_metadata(tree, url)
    document = _as_document(
        trafilatura.bare_extraction(
            tree, url=url, with_metadata=False, include_comments=False, include_tables=True, favor_precision=True
        )
    )
    if document is None or len((document.text or "").split()) < MIN_WORDS:
        # favor_precision now and then prunes a real article down to a stub (a teaser, a byline);
        # trafilatura's balanced setting then usually finds the body. Only short pages pay twice.
        balanced = _as_document(
            trafilatura.bare_extraction(tree, url=url, with_metadata=False, include_comments=False, include_tables=True)
        )
        if balanced is not None and len((balanced.text or "").split()) >= MIN_WORDS:
            document = balanced
    if document is None:
        return None
    metadata.text, metadata.raw_text = document.text, document.raw_text
    return metadata


def extract_article(page: Page, feed_published: datetime | None = None) -> Article | Failure:
    tags = page.html.count("<")
    if tags > MAX_TAGS:
        return Failure(
            page.requested_url,
            "extract",
            f"{page.final_url} has {tags} tags, more than the {MAX_TAGS} "
            f"newsflow extracts from (broken or hostile markup)",
            page.fetched_at,
            page.entry_key,
        )
    try:
        document = _trafilatura_document(page.html, page.final_url)
    except Exception as exc:  # trafilatura raises a variety of parser errors on hostile markup
        return Failure(
            page.requested_url,
            "extract",
            f"trafilatura failed on {page.final_url}: {exc}",
            page.fetched_at,
            page.entry_key,
        )
    text = (getattr(document, "text", None) or "").strip() if document is not None else ""
    if len(text.split()) < MIN_WORDS:
        return Failure(
            page.requested_url,
            "extract",
            f"no article text found on {page.final_url} ({len(text.split())} words)",
            page.fetched_at,
            page.entry_key,
        )
    meta = meta_tags(page.html)
    blobs = json_blobs(page.html)
    declared = getattr(document, "url", None)
    canonical = canonicalize_url(page.final_url)
    # Trust a canonical or og:url only when it stays on the same site: a copy pointing its
    # canonical at the wire's page is a claim, not an identity.
    if declared and declared.startswith(("http://", "https://")) and same_site(declared, page.final_url):
        canonical = canonicalize_url(declared)
    # og:site_name is the site's own claim; trafilatura may take the JSON-LD publisher, which on a
    # portal's copy names the wire it republished.
    source = meta.get("og:site_name") or getattr(document, "sitename", None) or domain_of(canonical)
    language = getattr(document, "language", None) or html_language(page.html)
    published = published_at(meta, blobs) or _date_only(getattr(document, "date", None)) or feed_published
    credited, link = _credited_source(page, text, blobs, source)
    return Article(
        entry_key=page.entry_key,
        url=canonicalize_url(page.requested_url),
        canonical_url=canonical,
        final_url=page.final_url,
        source=source,
        domain=domain_of(canonical),
        title=getattr(document, "title", None),
        author=getattr(document, "author", None),
        published_at=published,
        fetched_at=page.fetched_at,
        language=language,
        text=text,
        syndicated_from=credited,
        syndicated_link=link,
        redirects=page.redirects,
    )


def _credited_source(page: Page, text: str, blobs: list[object], source: str | None) -> tuple[str | None, str | None]:
    """(original source, original URL) that a republished page credits."""
    credited = find_syndicated_from(text, page.html, blobs, source)
    link = None
    if is_syndicated_page(page.final_url):
        # MSN-style pages (`/ar-<id>`) name their provider and its link in page JSON.
        provider = msn_provider(page.html)
        if provider and provider[0].lower() != (source or "").lower():
            credited = credited or provider[0]
            link = provider[1]
    return credited, link


def _extract_many(pages: list[tuple[Page, datetime | None]]) -> list[Article | Failure]:
    return [extract_article(page, published) for page, published in pages]


class ArticleExtractor:
    """A reusable process pool; pages go to workers in chunks to amortise pickling."""

    def __init__(self, workers: int | None = None):
        self.workers = max(1, workers or os.cpu_count() or 1)
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> ArticleExtractor:
        if self.workers > 1:
            # Not fork: the flow runs Prefect's threads, and forking a threaded process can deadlock.
            # A fork server that has imported trafilatura starts workers quickly and safely.
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["extractors.article"])
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)

    def extract(self, pages: list[tuple[Page, datetime | None]]) -> list[Article | Failure]:
        if self._pool is None or len(pages) < 4:
            return _extract_many(pages)
        # Several chunks per worker, not one: page costs vary tenfold, and with one chunk each the
        # worker that drew the cheap pages sits idle while the other finishes.
        size = max(1, -(-len(pages) // (self.workers * _CHUNKS_PER_WORKER)))
        chunks = [pages[i : i + size] for i in range(0, len(pages), size)]
        results: list[Article | Failure] = []
        for chunk_result in self._pool.map(_extract_many, chunks):
            results.extend(chunk_result)
        return results
