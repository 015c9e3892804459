"""trafilatura's page metadata, only the fields newsflow stores.

`bare_extraction(with_metadata=True)` also extracts categories, tags and a licence, which newsflow
never reads and which cost about a tenth of the whole extraction (measured on the AEB pages).
This is trafilatura 2.3's `metadata.extract_metadata` step for step, without those three, run on
the tree newsflow parses once and then hands to `bare_extraction(with_metadata=False)`. The
answers are the same field for field (tests/test_article_meta.py compares them), and the
trafilatura pin in pyproject.toml keeps the steps in step."""

from __future__ import annotations

from courlan import extract_domain
from htmldate import find_date
from lxml.html import HtmlElement
from trafilatura.metadata import (
    META_URL,
    examine_meta,
    extract_author,
    extract_meta_json,
    extract_sitename,
    extract_title,
    extract_url,
)
from trafilatura.settings import Document, set_date_params


def page_metadata(tree: HtmlElement, url: str | None) -> Document:
    """Title, author, URL, host name, date, site name and description of a parsed page."""
    metadata = examine_meta(tree)
    if metadata.author and " " not in metadata.author:
        metadata.author = None
    try:
        metadata = extract_meta_json(tree, metadata)
    except Exception:  # trafilatura's own guard: bugs in its JSON-LD reader cost the JSON fields only
        pass
    if not metadata.title:
        metadata.title = extract_title(tree)
    if not metadata.author:
        metadata.author = extract_author(tree)
    if not metadata.url:
        metadata.url = extract_url(tree, url)
    if metadata.url:
        metadata.hostname = extract_domain(metadata.url, fast=True)
    # bare_extraction passes its options' date parameters: the extensive search, as trafilatura's
    # default config (EXTENSIVE_DATE_SEARCH = on) sets it.
    date_config = set_date_params(True)
    date_config["url"] = metadata.url
    metadata.date = find_date(tree, **date_config)
    if not metadata.sitename:
        metadata.sitename = extract_sitename(tree)
    if metadata.sitename:
        metadata.sitename = metadata.sitename.lstrip("@")
        if metadata.sitename and "." not in metadata.sitename and not metadata.sitename[0].isupper():
            metadata.sitename = metadata.sitename.title()
    elif metadata.url:
        match = META_URL.match(metadata.url)
        if match:
            metadata.sitename = match[1]
    metadata.filedate = date_config.get("max_date")
    metadata.clean_and_trim()
    return metadata
