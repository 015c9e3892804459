"""Hostile content for the pure steps of the pipeline, shared by tests/test_fuzz.py (a few
examples, in CI) and benchmarks/fuzz.py (10,000 and more, outside it).

Each target takes what arrives from the network (bytes) or from a previous step (text), must
not raise, and must finish one input within STEP_LIMIT_S. Every regex the project owns is also
run alone against inputs shaped to make a backtracking engine blow up."""

from __future__ import annotations

import importlib
import re
import time
from collections.abc import Callable
from datetime import datetime
from functools import cache

STEP_LIMIT_S = 2.0
URL = "http://127.0.0.1:8/news/page.html"
MODULES = (
    "extractors.aggregators",
    "extractors.attribution",
    "extractors.dedup",
    "extractors.feeds",
    "extractors.fetch",
    "extractors.gazetteer",
    "extractors.money",
    "extractors.pagemeta",
    "extractors.robots",
    "extractors.roles",
    "extractors.tagging",
    "extractors.urls",
    "newsflow.feedlist",
)


class TooSlow(AssertionError):
    pass


def timed(name: str, step: Callable[[object], object], value: object, limit: float = STEP_LIMIT_S) -> float:
    started = time.perf_counter()
    step(value)
    elapsed = time.perf_counter() - started
    if elapsed > limit:
        shown = repr(value[:120] if isinstance(value, (str, bytes)) else value)
        raise TooSlow(
            f"{name} took {elapsed:.2f} s (limit {limit} s) on {len(value) if hasattr(value, '__len__') else '?'} "
            f"units starting {shown}"
        )
    return elapsed


# -- the steps -------------------------------------------------------------------------------------


def feed_step(body: bytes) -> None:
    from extractors.feeds import parse_feed_document

    try:
        parse_feed_document(body, URL, "application/rss+xml")
    except ValueError:
        pass  # "not a feed, because …" is the documented answer to garbage


def url_step(url: str) -> None:
    from extractors.urls import canonicalize_url, domain_of, same_site

    canonical = canonicalize_url(url)
    assert isinstance(canonical, str)
    domain_of(url)
    same_site(url, canonical)


def money_step(text: str) -> None:
    from extractors.money import find_money

    for money in find_money(text, datetime(2026, 6, 1)):
        assert money.value_usd is None or money.value_usd >= 0


@cache
def _tagger():
    from extractors.tagging import Tagger

    return Tagger.default()


def tagger_step(text: str) -> None:
    result = _tagger().tag(text[:200], text, datetime(2026, 6, 1))
    assert all(t.tag in ("arms_deal", "sanctions") for t in result.tags)


def html_step(body: bytes) -> None:
    from extractors.article import extract_article
    from extractors.fetch import decode_html
    from newsflow.models import Article, Failure, Page

    page = Page("fuzz", URL, URL, (), 200, "text/html", decode_html(body, None), datetime(2026, 6, 1))
    assert isinstance(extract_article(page, None), (Article, Failure))


STEPS: dict[str, Callable] = {
    "feed": feed_step,
    "url": url_step,
    "money": money_step,
    "tagger": tagger_step,
    "html": html_step,
}


# -- hand-made hostile cases ---------------------------------------------------------------------


@cache
def big_cases(size: int = 10_000_000) -> dict[str, tuple[str, bytes | str]]:
    """(step, input) for the named extremes: deep nesting, many tags, huge single lines, bad bytes."""
    line = ("weapons deal worth $5bn sanctions on Russia S-400 " * (size // 50 + 1))[:size]
    return {
        "html: 100,000 nested tags": (
            "html",
            ("<html><body>" + "<div>" * 100_000 + "deep text " * 50 + "</div>" * 100_000 + "</body></html>").encode(),
        ),
        "html: 100,000 unclosed nested tags": ("html", ("<div><span>" * 50_000 + "x").encode()),
        "html: 1,000,000 sibling tags": ("html", b"<b>x</b>" * 500_000),
        "html: 10 MB single line of text": ("html", b"<html><body><p>" + line.encode() + b"</p></body></html>"),
        "html: 10 MB of one letter": ("html", b"<p>" + b"a" * size),
        "html: invalid UTF-8 and NUL bytes": ("html", b"<html>\xff\xfe\x00<p>\x80\x81 caf\xe9 \x00\x00" * 2000),
        "html: charset naming a non-text codec": ("html", b"<meta charset=base64><p>\xff text</p>" * 50),
        "html: charset naming rot13": ("html", b"<meta charset='rot13'><p>\xff text</p>" * 50),
        "html: 1 MB attribute": ("html", b'<meta content="' + b"x" * 1_000_000),
        "html: JSON-LD bomb": ("html", b'<script type="application/ld+json">' + b"[" * 100_000 + b"</script>"),
        # feedparser is linear but slow, about 25 µs an element (it parses twice, strict then loose):
        # 50,000 elements is over three times a 1,000-item news feed, and about 1.2 s.
        "feed: 50,000 nested elements": ("feed", b"<rss><channel>" + b"<item>" * 50_000),
        "feed: 10 MB single line": ("feed", b"<rss><channel><item><title>" + line.encode() + b"</title></item>"),
        "feed: invalid UTF-8 and NUL bytes": (
            "feed",
            b"<?xml version='1.0' encoding='utf-8'?><rss>\x00\xff\xfe"
            + b"<item><link>http://127.0.0.1/\x00\xc3</link></item>" * 1000,
        ),
        "feed: entity expansion": (
            "feed",
            b"<?xml version='1.0'?><!DOCTYPE r [<!ENTITY a 'aaaaaaaaaa'>"
            b"<!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'><!ENTITY c '&b;&b;&b;&b;"
            b"&b;&b;&b;&b;&b;&b;'><!ENTITY d '&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;'>]>"
            b"<rss><channel><title>&d;&d;&d;&d;</title></channel></rss>",
        ),
        "feed: JSON feed bomb": ("feed", b'{"version": "https://jsonfeed.org/version/1", "items": ' + b"[" * 100_000),
        "url: 1 MB URL": ("url", "http://127.0.0.1/" + "a/" * 500_000 + "?utm_source=" + "x" * 1000),
        "url: 100,000 query parameters": ("url", "http://127.0.0.1/?" + "&".join(f"p{n}=v" for n in range(100_000))),
        "url: NUL and invalid surrogates": ("url", "http://127.0.0.1:99999999/\x00\ud800%zz[::1]"),
        # find_money is called per sentence of at most MAX_TAGGED_CHARS; 1 MB is ten times that.
        "money: 1 MB single line": ("money", line[:1_000_000]),
        "money: a million digits": ("money", "$" + "9" * 1_000_000 + " billion"),
        "money: digits and separators": ("money", "1," * 500_000),
        "tagger: 10 MB single line": ("tagger", line),
        "tagger: NUL bytes and lone surrogates": ("tagger", "\x00\ud800 sanctions \x00" * 100_000),
    }


def pathological_strings(size: int) -> list[str]:
    """Shapes that make a backtracking regex engine go quadratic or exponential: long runs of
    one class, alternations of two classes, and runs of each pattern's own leading text."""
    runs = [
        "a",
        "A",
        " ",
        "0",
        "9,",
        ",",
        ".",
        "-",
        "'",
        '"',
        "\\",
        "<",
        ">",
        "=",
        "/",
        "\n",
        "\t",
        "Aa ",
        "A ",
        ", A",
        " and A",
        "a.",
        "1.",
        "$1",
        "€",
        "<a ",
        "<meta ",
        'href="',
        '"provider":{',
        '"name":"\\',
        "By A ",
        "Source: ",
        "© ",
        "a-",
        "_",
        "ar-",
        "\u00e9",
        "\u0000",
        "%",
        "&",
        "?",
        "#",
    ]
    cases = [(piece * (size // len(piece) + 1))[:size] for piece in runs]
    cases += [(piece * (size // len(piece) + 1))[: size - 1] + "!" for piece in ("a", " ", "A a", "1,", "<a")]
    return cases


def project_regexes() -> dict[str, re.Pattern]:
    """Every compiled regex at the top level of the project's extractor modules, and the ones
    those modules build on first use (the money pattern, the folded cue patterns)."""
    found: dict[str, re.Pattern] = {}
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name, value in vars(module).items():
            if isinstance(value, re.Pattern):
                found[f"{module_name}.{name}"] = value
    from extractors import money

    found["extractors.money._compiled()"] = money._compiled()
    return found


def search_step(pattern: re.Pattern) -> Callable[[str], object]:
    def step(text: str) -> object:
        subject: str | bytes = text.encode("utf-8", "surrogatepass") if isinstance(pattern.pattern, bytes) else text
        return list(pattern.finditer(subject))[:1]

    return step
