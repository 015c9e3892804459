"""newsflow parses a page once and reads trafilatura's metadata itself (extractors/trafilatura_meta.py),
skipping the fields it never stores. These tests hold it to trafilatura's own answers."""

from __future__ import annotations

from copy import deepcopy
from datetime import datetime
from pathlib import Path

import pytest
import trafilatura
from trafilatura.metadata import extract_metadata
from trafilatura.utils import load_html

from extractors.article import extract_article
from extractors.trafilatura_meta import page_metadata
from newsflow.models import Article, Page

DEMO_PAGES = sorted(
    p for p in (Path(__file__).resolve().parents[1] / "demo" / "web").rglob("*.html") if p.name != "index.html"
)
FIELDS = ("title", "author", "url", "hostname", "date", "sitename", "description")


def test_the_sample_web_has_pages_to_compare():
    assert len(DEMO_PAGES) >= 20


@pytest.mark.parametrize("path", DEMO_PAGES, ids=lambda p: p.name[:40])
def test_page_metadata_matches_trafilatura_field_for_field(path: Path):
    html = path.read_text(encoding="utf-8")
    url = f"http://127.0.0.1:8000/{path.name}"
    ours = page_metadata(load_html(html), url)
    theirs = extract_metadata(deepcopy(load_html(html)), url)
    assert {f: getattr(ours, f) for f in FIELDS} == {f: getattr(theirs, f) for f in FIELDS}


@pytest.mark.parametrize("path", DEMO_PAGES[:8], ids=lambda p: p.name[:40])
def test_extract_article_text_and_metadata_are_bare_extractions(path: Path):
    html = path.read_text(encoding="utf-8")
    url = f"http://127.0.0.1:8000/{path.name}"
    reference = trafilatura.bare_extraction(
        html, url=url, with_metadata=True, include_comments=False, include_tables=True, favor_precision=True
    )
    page = Page(
        entry_key="k",
        requested_url=url,
        final_url=url,
        redirects=(),
        status=200,
        content_type="text/html",
        html=html,
        fetched_at=datetime(2026, 1, 1),
    )
    article = extract_article(page)
    assert isinstance(article, Article)
    assert article.text == reference.text.strip()
    assert article.title == reference.title
    assert article.author == reference.author
