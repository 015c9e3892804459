#!/usr/bin/env python3
"""Build the labelled syndication evaluation set.

Reads the hand-written material next to this file:

  stories.yaml      original stories, their same-URL updates, new-URL updates
                    and their republished copies (with edits)
  independent.yaml  independent same-event pairs and anniversary/follow-up pieces
  templates/*.html  page templates (string.Template, ${placeholder} syntax)

and writes (deterministically, no randomness):

  out/pages/<outlet>/<url path>.html
  out/labels.jsonl   one JSON object per page

Usage:  python eval/syndication/build.py [--out DIR]

Python 3.11, stdlib + PyYAML only.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import re
import shutil
import string
import sys
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent

# ---------------------------------------------------------------------------
# Outlets. Every outlet is fictional and lives on the reserved .example TLD.
# "template" names a file in templates/. Several outlets may share a template
# but then differ in their chrome settings (nav, tagline, colours...).
# ---------------------------------------------------------------------------
OUTLETS: dict[str, dict] = {
    "northline-wire": dict(
        name="Northline Wire",
        template="wire.html",
        kind="wire",
        host="https://www.northline-wire.example",
        url="/world/{y}/{m}/{d}/{slug}-{hex6}/",
        reporters=[
            "Anneke Holt",
            "Ravi Subramanyam",
            "Tomasz Wierzba",
            "Lucia Ferreyra",
            "Daniel Okafor",
            "Mirela Stan",
        ],
        date_fmt="%B %d, %Y %I:%M %p UTC",
        title_fmt="{headline} | Northline Wire",
        self_jsonld=True,
        chrome=dict(
            accent="#c8102e",
            tagline="Facts first, since 1958",
            nav=["World", "Business", "Markets", "Defence", "Energy", "Legal", "Tech"],
            legal="Northline Wire Ltd",
        ),
        item_fmt='<li class="ml-item"><a href="{href}">{title}</a></li>',
    ),
    "capital-newswire": dict(
        name="Capital Newswire",
        template="wire.html",
        kind="wire",
        host="https://www.capitalnewswire.example",
        url="/article/{slug}-idCN{num8}",
        reporters=["Harriet Vale", "Oluwaseun Adeyemi", "Marcus Lindqvist", "Priya Ramaswamy", "Joao Bettencourt"],
        date_fmt="%d %b %Y, %H:%M GMT",
        title_fmt="{headline} - Capital Newswire",
        self_jsonld=True,
        chrome=dict(
            accent="#0a3d62",
            tagline="The capitals, covered",
            nav=["Top News", "Diplomacy", "Security", "Sanctions", "Economy", "Commodities"],
            legal="Capital Newswire Group",
        ),
        item_fmt='<li class="ml-item"><a href="{href}">{title}</a></li>',
    ),
    "atlas-press": dict(
        name="Atlas Press Agency",
        template="agency.html",
        kind="wire",
        host="https://www.atlaspress.example",
        url="/en/news/{y}{m}{d}/{slug}",
        reporters=["Katarina Mehl", "Samir Haddad", "Beatriz Olmo", "Ilya Novakovic", "Grace Mwangi"],
        date_fmt="%Y-%m-%d %H:%M UTC",
        title_fmt="{headline} :: Atlas Press Agency",
        self_jsonld=False,
        chrome=dict(),
        item_fmt='<li><a class="apa-rel" href="{href}">{title}</a></li>',
    ),
    "meridian-herald": dict(
        name="The Meridian Herald",
        template="newspaper.html",
        kind="paper",
        host="https://www.meridianherald.example",
        url="/world/{y}/{mon}/{d}/{slug}",
        reporters=["Eleanor Pryce", "Conor Mulcahy", "Anjali Desai", "Felix Brandt"],
        date_fmt="%a %d %b %Y %H.%M GMT",
        title_fmt="{headline} | World news | The Meridian Herald",
        self_jsonld=True,
        chrome=dict(),
        copy_byline="Herald staff",
        item_fmt='<li class="mh-popular__item"><a href="{href}">{title}</a></li>',
    ),
    "ordnance-notes": dict(
        name="Ordnance Notes",
        template="defence_blog.html",
        kind="blog",
        host="https://ordnancenotes.example",
        url="/{y}/{m}/{slug}/",
        reporters=["M. Castellane", "Jonah Petrakis", "Ruth Abernethy"],
        date_fmt="%B %d, %Y",
        title_fmt="{headline} \u2013 Ordnance Notes",
        self_jsonld=False,
        chrome=dict(),
        copy_byline="Ordnance Notes staff",
        item_fmt='<li class="widget-post"><a href="{href}" rel="bookmark">{title}</a></li>',
    ),
    "tallyhall-markets": dict(
        name="Tallyhall Markets",
        template="business.html",
        kind="business",
        host="https://www.tallyhallmarkets.example",
        url="/markets/defence/{slug}-{num6}",
        reporters=["Simone Achterberg", "Kwame Boateng", "Lena Vasquez"],
        date_fmt="%b %d, %Y %H:%M ET",
        title_fmt="{headline} | Tallyhall Markets",
        self_jsonld=True,
        chrome=dict(),
        copy_byline="Tallyhall Markets desk",
        item_fmt='<li class="tm-list__row"><a href="{href}">{title}</a></li>',
    ),
    "horizon-start": dict(
        name="Horizon Start",
        template="msn_portal.html",
        kind="portal",
        host="https://www.horizonstart.example",
        url="/en-us/news/world/ar-AA{aa}",
        reporters=[],
        date_fmt="%m/%d/%Y",
        title_fmt="{headline}",
        self_jsonld=True,
        chrome=dict(),
        copy_byline="Story by {author}",
        item_fmt='<div class="hs-card"><a class="hs-card__link" href="{href}"><span class="hs-card__title">{title}</span></a></div>',
    ),
    "zephyr-news": dict(
        name="Zephyr News",
        template="yahoo_portal.html",
        kind="portal",
        host="https://news.zephyr.example",
        url="/{slug}-{num9}.html",
        reporters=[],
        date_fmt="%a, %B %d, %Y at %I:%M %p",
        title_fmt="{headline}",
        self_jsonld=False,
        chrome=dict(),
        copy_byline="{author}",
        item_fmt='<li class="zn-stream__item"><a href="{href}"><h3>{title}</h3></a></li>',
    ),
    "dunmore-courier": dict(
        name="The Dunmore Courier",
        template="regional.html",
        kind="regional",
        host="https://www.dunmorecourier.example",
        url="/news/world/{slug}/article_{uuid}.html",
        reporters=["Bridget Tolan"],
        date_fmt="%b %d, %Y",
        title_fmt="{headline} | World | dunmorecourier.example",
        self_jsonld=False,
        chrome=dict(town="Dunmore", weather="9°C Showers", edition="Dunmore & Lakes edition", color="#1d4e2c"),
        copy_byline="Courier staff",
        item_fmt='<li class="tn-headline"><a href="{href}">{title}</a></li>',
    ),
    "riverbend-gazette": dict(
        name="Riverbend Gazette",
        template="regional.html",
        kind="regional",
        host="https://www.riverbendgazette.example",
        url="/news/nation-world/{slug}/article_{uuid}.html",
        reporters=["Walt Kiernan"],
        date_fmt="%b %d, %Y",
        title_fmt="{headline} | Nation & World | riverbendgazette.example",
        self_jsonld=False,
        chrome=dict(town="Riverbend", weather="21°C Sunny", edition="Valley edition", color="#6b2d0f"),
        copy_byline="Gazette news desk",
        item_fmt='<li class="tn-headline"><a href="{href}">{title}</a></li>',
    ),
}

# How the article container of each template is recognised by the self-check
# (attribute, value). Each template marks its body differently on purpose.
BODY_MARKERS = {
    "wire.html": ("class", "story-body__text"),
    "agency.html": ("id", "apa-article-text"),
    "newspaper.html": ("itemprop", "articleBody"),
    "defence_blog.html": ("class", "entry-content"),
    "business.html": ("class", "tm-article__body"),
    "msn_portal.html": ("id", "hs-article-content"),
    "yahoo_portal.html": ("class", "zn-story-body"),
    "regional.html": ("id", "article-body"),
}

# Paragraph markup inside each template's article container.
PARA_FMT = {
    "wire.html": '<p class="story-body__para" data-testid="paragraph-{i}">{text}</p>',
    "agency.html": "<p>{text}</p>",
    "newspaper.html": '<p class="mh-p">{text}</p>',
    "defence_blog.html": "<p>{text}</p>",
    "business.html": '<p class="tm-p">{text}</p>',
    "msn_portal.html": "<p>{text}</p>",
    "yahoo_portal.html": '<p class="zn-p">{text}</p>',
    "regional.html": "<p>{text}</p>",
}

EDIT_NAMES = {
    "drop_dateline",
    "trim_last_paragraph",
    "trim_last_two",
    "copy_edit",
    "provided_by_line",
    "copyright_line",
    "via_line",
    "json_provider",
    "jsonld_publisher",
    "insert_chrome_in_body",
    "update",
}

MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]


class BuildError(Exception):
    pass


# ---------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------
def h(s: str) -> str:
    return hashlib.sha1(s.encode("utf-8")).hexdigest()


def esc(s: str) -> str:
    return html.escape(s, quote=False)


def attr(s: str) -> str:
    return html.escape(s, quote=True)


def words(text: str) -> int:
    return len(text.split())


def slugify(text: str, max_words: int = 9) -> str:
    t = text.lower().replace("'", "").replace("\u2019", "")
    t = re.sub(r"[^a-z0-9]+", "-", t).strip("-")
    return "-".join(t.split("-")[:max_words])


def parse_dt(s) -> datetime:
    if isinstance(s, datetime):
        dt = s
    else:
        dt = datetime.fromisoformat(str(s).replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def json_script(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=False).replace("</", "<\\/")


def make_url(outlet_key: str, headline: str, dt: datetime, seed: str) -> str:
    o = OUTLETS[outlet_key]
    d = h(seed)
    num = int(d[:15], 16)
    b36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    aa, n = "", num
    for _ in range(7):
        aa += b36[n % 36]
        n //= 36
    path = o["url"].format(
        y=f"{dt.year:04d}",
        m=f"{dt.month:02d}",
        d=f"{dt.day:02d}",
        mon=MONTHS[dt.month - 1],
        slug=slugify(headline),
        hex6=d[:6],
        num6=str(num % 10**6).zfill(6),
        num8=str(num % 10**8).zfill(8),
        num9=str(num % 10**9).zfill(9),
        aa=aa,
        uuid=f"{d[:8]}-{d[8:12]}-{d[12:16]}-{d[16:20]}-{d[20:32]}",
    )
    return o["host"] + path


def url_to_relpath(outlet_key: str, url: str, version: int = 1) -> str:
    path = url.split("://", 1)[1].split("/", 1)[1]
    if path.endswith("/") or path == "":
        path += "index"
    if path.endswith(".html"):
        path = path[: -len(".html")]
    if version > 1:
        path += f".v{version}"
    return f"pages/{outlet_key}/{path}.html"


def source_outlet(name: str) -> str:
    for k, o in OUTLETS.items():
        if o["name"] == name:
            return k
    raise BuildError(f"unknown source outlet name: {name!r}")


def pick_reporter(outlet_key: str, key: str) -> str:
    pool = OUTLETS[outlet_key]["reporters"]
    return pool[int(h("rep:" + key)[:8], 16) % len(pool)]


def apply_replacements(paras: list[str], pairs, where: str) -> list[str]:
    out = list(paras)
    for pair in pairs or []:
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2):
            raise BuildError(f"{where}: replacement must be [old, new], got {pair!r}")
        old, new = str(pair[0]), str(pair[1])
        if not any(old in p for p in out):
            raise BuildError(f"{where}: replacement text not found: {old!r}")
        out = [p.replace(old, new) for p in out]
    return out


# ---------------------------------------------------------------------------
# Article model -> page spec
# ---------------------------------------------------------------------------
class Page:
    """Everything needed to render one HTML page and write its label."""

    def __init__(self, **kw):
        self.__dict__.update(kw)


def dateline_prefix(outlet_key: str, dateline: str | None, source_name: str) -> str:
    if not dateline:
        return ""
    kind = OUTLETS[outlet_key]["kind"]
    if kind == "wire":
        return f"{dateline} ({source_name}) - "
    return f"{dateline.split(',')[0]} \u2014 "


def normalise_edits(raw, where):
    """Return list of (name, arg) tuples."""
    out = []
    for e in raw or []:
        if isinstance(e, str):
            name, arg = e, None
        elif isinstance(e, dict) and len(e) == 1:
            name, arg = next(iter(e.items()))
        else:
            raise BuildError(f"{where}: bad edit {e!r}")
        if name not in EDIT_NAMES:
            raise BuildError(f"{where}: unknown edit {name!r}")
        out.append((name, arg))
    return out


def check_text_bounds(where: str, paras: list[str], lo_p=5, hi_p=9, lo_w=200, hi_w=500):
    n = sum(words(p) for p in paras)
    if not (lo_p <= len(paras) <= hi_p):
        raise BuildError(f"{where}: {len(paras)} paragraphs (want {lo_p}-{hi_p})")
    if not (lo_w <= n <= hi_w):
        raise BuildError(f"{where}: {n} words (want {lo_w}-{hi_w})")


class Builder:
    def __init__(self, out_dir: Path):
        self.out_dir = out_dir
        self.pages: list[Page] = []
        self.stats: dict[str, int] = {}
        self.templates: dict[str, string.Template] = {}
        self.all_headlines: list[tuple[str, str]] = []  # (story_key, headline)

    # -- loading ----------------------------------------------------------
    def load(self):
        with open(HERE / "stories.yaml", encoding="utf-8") as f:
            self.stories = yaml.safe_load(f)["stories"]
        with open(HERE / "independent.yaml", encoding="utf-8") as f:
            ind = yaml.safe_load(f)
        self.pairs = ind["pairs"]
        self.anniversaries = ind["anniversaries"]
        for t in sorted((HERE / "templates").glob("*.html")):
            self.templates[t.name] = string.Template(t.read_text(encoding="utf-8"))
        for s in self.stories:
            self.all_headlines.append((s["key"], s["headline"]))
        for p in self.pairs:
            for side in (p["a"], p["b"]):
                self.all_headlines.append((side["key"], side["headline"]))
        for a in self.anniversaries:
            self.all_headlines.append((a["key"], a["headline"]))

    # -- validation of hand-written material --------------------------------
    def validate(self):
        keys = set()
        dist = {0: 0, 1: 0, 2: 0, 3: 0}
        for s in self.stories:
            k = s["key"]
            if k in keys:
                raise BuildError(f"duplicate key {k}")
            keys.add(k)
            for fld in ("source", "published", "headline", "paragraphs"):
                if fld not in s:
                    raise BuildError(f"{k}: missing {fld}")
            source_outlet(s["source"])
            check_text_bounds(k, s["paragraphs"])
            copies = s.get("copies") or []
            if len(copies) > 3:
                raise BuildError(f"{k}: more than 3 copies")
            dist[len(copies)] += 1
            seen_outlets = {source_outlet(s["source"])}
            for i, c in enumerate(copies):
                where = f"{k} copy[{i}]"
                if c["outlet"] not in OUTLETS:
                    raise BuildError(f"{where}: unknown outlet {c['outlet']}")
                if c["outlet"] in seen_outlets:
                    raise BuildError(f"{where}: outlet {c['outlet']} repeated / same as source")
                seen_outlets.add(c["outlet"])
                if c["headline"].strip() == s["headline"].strip():
                    raise BuildError(f"{where}: headline not reworded")
                normalise_edits(c.get("edits"), where)
        self.stats["copy_distribution"] = dist
        for p in self.pairs:
            a, b = p["a"], p["b"]
            for side in (a, b):
                if side["key"] in keys:
                    raise BuildError(f"duplicate key {side['key']}")
                keys.add(side["key"])
                check_text_bounds(side["key"], side["paragraphs"], lo_w=150)
            if a["source"] == b["source"]:
                raise BuildError(f"pair {p['id']}: same source on both sides")
            q = p.get("shared_quote")
            if q:
                if words(q) > 15:
                    raise BuildError(f"pair {p['id']}: shared quote longer than 15 words")
                for side in (a, b):
                    if q not in " ".join(side["paragraphs"]):
                        raise BuildError(f"pair {p['id']}: quote missing in {side['key']}")
        for an in self.anniversaries:
            if an["key"] in keys:
                raise BuildError(f"duplicate key {an['key']}")
            keys.add(an["key"])
            check_text_bounds(an["key"], an["paragraphs"], lo_w=150)
            about = next((s for s in self.stories if s["key"] == an["about"]), None)
            if about is None:
                raise BuildError(f"{an['key']}: about unknown story {an['about']}")
            reused = an.get("reused_sentences") or []
            if not 1 <= len(reused) <= 2:
                raise BuildError(f"{an['key']}: reuse 1-2 sentences")
            for sent in reused:
                if sent not in " ".join(about["paragraphs"]) or sent not in " ".join(an["paragraphs"]):
                    raise BuildError(f"{an['key']}: reused sentence not in both texts: {sent[:50]}")

    # -- page construction --------------------------------------------------
    def add_page(self, **kw) -> Page:
        p = Page(**kw)
        self.pages.append(p)
        return p

    def original_pages(self, s: dict, kind: str = "original", related_to=None) -> Page:
        key = s["key"]
        src = s["source"]
        ok = source_outlet(src)
        dt = parse_dt(s["published"])
        url = make_url(ok, s["headline"], dt, f"{key}@{ok}")
        author = s.get("byline") or pick_reporter(ok, key)
        paras = list(s["paragraphs"])
        base = self.add_page(
            page_id=f"{key}@{ok}",
            outlet=ok,
            url=url,
            story_key=key,
            original_source=src,
            is_original=True,
            syndicated_from=None,
            published=dt,
            modified=None,
            version_of=None,
            kind=kind,
            headline=s["headline"],
            author=author,
            dateline=s.get("dateline"),
            dateline_source=src,
            paras=paras,
            drop_dateline=False,
            flags=set(),
            chrome_inserts=[],
            edits=[],
            related_to=related_to,
            version=1,
            source_url=url,
        )
        # same-URL updates (new versions of the same article)
        prev = base
        cur_paras, cur_head = paras, s["headline"]
        for n, u in enumerate(s.get("updates") or [], start=2):
            where = f"{key} update v{n}"
            cur_paras = apply_replacements(cur_paras, u.get("replace"), where)
            if u.get("added_paragraph"):
                cur_paras = cur_paras + [u["added_paragraph"].strip()]
            cur_head = u.get("headline", cur_head)
            udt = parse_dt(u["published"])
            if udt <= prev.published and prev.modified is None or (prev.modified and udt <= prev.modified):
                raise BuildError(f"{where}: update must be later than previous version")
            prev = self.add_page(
                page_id=f"{key}@{ok}#v{n}",
                outlet=ok,
                url=url,
                story_key=key,
                original_source=src,
                is_original=True,
                syndicated_from=None,
                published=dt,
                modified=udt,
                version_of=prev.page_id,
                kind="update_same_url",
                headline=cur_head,
                author=author,
                dateline=s.get("dateline"),
                dateline_source=src,
                paras=cur_paras,
                drop_dateline=False,
                flags=set(),
                chrome_inserts=[],
                edits=[],
                related_to=None,
                version=n,
                source_url=url,
            )
            self.stats["same_url_updates"] = self.stats.get("same_url_updates", 0) + 1
        # new-URL updates by the same wire ("UPDATE 1-...")
        for n, u in enumerate(s.get("new_url_updates") or [], start=1):
            where = f"{key} new_url_update {n}"
            np_ = apply_replacements(paras, u.get("replace"), where)
            if u.get("new_lead"):
                np_ = [u["new_lead"].strip()] + np_[1:]
            add = [a.strip() for a in u.get("added_paragraphs") or []]
            pos = u.get("insert_after")
            if pos is None:
                np_ = np_ + add
            else:
                np_ = np_[: pos + 1] + add + np_[pos + 1 :]
            udt = parse_dt(u["published"])
            uurl = make_url(ok, u["headline"], udt, f"{key}@{ok}~u{n}")
            self.add_page(
                page_id=f"{key}@{ok}~u{n}",
                outlet=ok,
                url=uurl,
                story_key=key,
                original_source=src,
                is_original=True,
                syndicated_from=None,
                published=udt,
                modified=None,
                version_of=None,
                kind="update_new_url",
                headline=u["headline"],
                author=u.get("byline", author),
                dateline=u.get("dateline", s.get("dateline")),
                dateline_source=src,
                paras=np_,
                drop_dateline=False,
                flags=set(),
                chrome_inserts=[],
                edits=[],
                related_to=None,
                version=1,
                source_url=uurl,
            )
            self.stats["new_url_updates"] = self.stats.get("new_url_updates", 0) + 1
        # copies
        for i, c in enumerate(s.get("copies") or []):
            self.copy_page(s, base, c, i)
        return base

    def copy_page(self, s: dict, base: Page, c: dict, idx: int):
        key = s["key"]
        ok = c["outlet"]
        where = f"{key} copy[{idx}] ({ok})"
        edits = normalise_edits(c.get("edits"), where)
        dt = base.published + timedelta(hours=float(c["published"]))
        url = make_url(ok, c["headline"], dt, f"{key}@{ok}")
        paras = list(base.paras)
        flags: set[str] = set()
        inserts: list[dict] = []
        names = [n for n, _ in edits]
        # canonical order: update -> copy_edit -> trims -> dateline -> body chrome
        for name, arg in edits:
            if name == "update":
                if not isinstance(arg, dict) or not arg.get("added_paragraph"):
                    raise BuildError(f"{where}: update needs added_paragraph")
                if s.get("updates") and dt <= parse_dt(s["updates"][0]["published"]):
                    raise BuildError(f"{where}: copy carries the update but predates it")
                paras = apply_replacements(paras, arg.get("replace"), where + " update")
                paras = paras + [arg["added_paragraph"].strip()]
        for name, arg in edits:
            if name == "copy_edit":
                paras = apply_replacements(paras, arg, where + " copy_edit")
        for name, _arg in edits:
            if name == "trim_last_paragraph":
                paras = paras[:-1]
            elif name == "trim_last_two":
                paras = paras[:-2]
        for name, arg in edits:
            if name in (
                "provided_by_line",
                "copyright_line",
                "via_line",
                "json_provider",
                "jsonld_publisher",
                "drop_dateline",
            ):
                flags.add(name)
            elif name == "insert_chrome_in_body":
                items = arg if isinstance(arg, list) else [arg]
                for it in items:
                    if it is None:
                        inserts += [dict(after=1, kind="ad"), dict(after=3, kind="read_more")]
                    elif isinstance(it, dict):
                        inserts.append(
                            dict(
                                after=int(it.get("after", 1)),
                                kind=it.get("kind", "text" if "text" in it else "ad"),
                                text=it.get("text"),
                            )
                        )
                    else:
                        raise BuildError(f"{where}: bad insert_chrome_in_body arg {it!r}")
        o = OUTLETS[ok]
        author = c.get("byline")
        author_name = author
        if author is None:
            fmt = o.get("copy_byline", "{author}")
            author = fmt.format(author=base.author)
            author_name = base.author if "{author}" in fmt else author
        self.add_page(
            page_id=f"{key}@{ok}",
            outlet=ok,
            url=url,
            story_key=key,
            original_source=base.original_source,
            is_original=False,
            syndicated_from=base.original_source,
            published=dt,
            modified=None,
            version_of=None,
            kind="copy",
            headline=c["headline"],
            author=author,
            author_name=author_name,
            dateline=base.dateline,
            dateline_source=base.original_source,
            paras=paras,
            drop_dateline="drop_dateline" in flags,
            flags=flags,
            chrome_inserts=inserts,
            edits=names,
            related_to=None,
            version=1,
            source_url=base.url,
        )
        self.stats["copies"] = self.stats.get("copies", 0) + 1

    def build_pages(self):
        for s in self.stories:
            self.original_pages(s)
        for p in self.pairs:
            a, b = p["a"], p["b"]
            self.original_pages(a, kind="independent", related_to=b["key"])
            self.original_pages(b, kind="independent", related_to=a["key"])
        for an in self.anniversaries:
            self.original_pages(an, kind="anniversary", related_to=an["about"])
        ids = [p.page_id for p in self.pages]
        if len(ids) != len(set(ids)):
            raise BuildError("duplicate page ids")
        for p in self.pages:
            p.relpath = url_to_relpath(p.outlet, p.url, p.version)
        paths = [p.relpath for p in self.pages]
        if len(paths) != len(set(paths)):
            raise BuildError("duplicate page paths")
        # URLs must be unique except for same-URL versions
        by_url: dict[str, list[Page]] = {}
        for p in self.pages:
            by_url.setdefault(p.url, []).append(p)
        for u, ps in by_url.items():
            if len({p.story_key for p in ps}) != 1 or len({p.outlet for p in ps}) != 1:
                raise BuildError(f"URL collision: {u}")

    # -- rendering ------------------------------------------------------------
    def related_items(self, page: Page, n: int, salt: str) -> list[tuple[str, str]]:
        others = [(k, hl) for k, hl in self.all_headlines if k != page.story_key]
        start = int(h(salt + page.page_id)[:8], 16)
        step = 7 if len(others) % 7 else 11
        out, seen = [], set()
        i = start
        while len(out) < n:
            k, hl = others[i % len(others)]
            if k not in seen:
                seen.add(k)
                href = OUTLETS[page.outlet]["host"] + "/" + slugify(hl, 6)
                out.append((hl, href))
            i += step
        return out

    def body_paragraphs(self, page: Page) -> list[str]:
        paras = list(page.paras)
        if not page.drop_dateline:
            paras[0] = (
                dateline_prefix(
                    page.outlet if page.is_original else source_outlet(page.original_source),
                    page.dateline,
                    page.dateline_source,
                )
                + paras[0]
            )
        return paras

    def render(self, page: Page) -> str:
        o = OUTLETS[page.outlet]
        paras = self.body_paragraphs(page)
        # body html with inserted chrome (leaked into the article container)
        parts = []
        inserts = sorted(page.chrome_inserts, key=lambda d: d["after"])
        ritems = self.related_items(page, 3, "readmore:")
        r_i = 0
        pfmt = PARA_FMT[o["template"]]

        def para(inner_html: str, _i: int) -> str:
            return pfmt.format(i=len(parts), text=inner_html)

        for i, ptxt in enumerate(paras):
            parts.append(para(esc(ptxt), i))
            for ins in inserts:
                if ins["after"] == i and i < len(paras) - 1:
                    # leaked chrome uses the same paragraph markup as the story text
                    if ins["kind"] == "ad":
                        parts.append(para("Advertisement", i))
                    elif ins["kind"] == "read_more":
                        t, href = ritems[r_i % len(ritems)]
                        r_i += 1
                        parts.append(para(f'<strong>Read more:</strong> <a href="{attr(href)}">{esc(t)}</a>', i))
                    else:
                        parts.append(para(esc(ins["text"]), i))
        body_html = "\n        ".join(parts)

        src = page.original_source
        provided_by = ""
        footer_attr = []
        if "provided_by_line" in page.flags:
            provided_by = f'<div class="provider-line">Provided by {esc(src)}</div>'
        if "via_line" in page.flags:
            footer_attr.append(f'<p class="via-line">per {esc(src)} via {esc(o["name"])}</p>')
        if "copyright_line" in page.flags:
            footer_attr.append(f'<p class="copyright-line">\u00a9 {page.published.year} {esc(src)}</p>')

        published_iso = iso(page.published)
        modified_iso = iso(page.modified) if page.modified else published_iso
        head_extra = []
        if "jsonld_publisher" in page.flags:
            ld = {
                "@context": "https://schema.org",
                "@type": "NewsArticle",
                "headline": page.headline,
                "datePublished": published_iso,
                "dateModified": modified_iso,
                "author": {"@type": "Person", "name": getattr(page, "author_name", page.author)},
                "publisher": {"@type": "Organization", "name": src},
                "mainEntityOfPage": page.url,
            }
            head_extra.append(f'<script type="application/ld+json">{json_script(ld)}</script>')
        elif o["self_jsonld"]:
            ld = {
                "@context": "https://schema.org",
                "@type": "NewsArticle",
                "headline": page.headline,
                "datePublished": published_iso,
                "dateModified": modified_iso,
                "author": [{"@type": "Person", "name": getattr(page, "author_name", page.author)}],
                "publisher": {"@type": "Organization", "name": o["name"], "url": o["host"] + "/"},
                "url": page.url,
            }
            head_extra.append(f'<script type="application/ld+json">{json_script(ld)}</script>')
        body_end = ""
        if "json_provider" in page.flags:
            data = {"provider": {"name": src}, "sourceHref": page.source_url}
            body_end = f'<script id="article-data" type="application/json">{json_script(data)}</script>'

        date_display = page.published.strftime(o["date_fmt"])
        updated_display = ""
        if page.modified:
            updated_display = "Updated " + page.modified.strftime(o["date_fmt"])
        side = self.related_items(page, 5, "side:")
        more = self.related_items(page, 4, "more:")
        fmt = o["item_fmt"]
        sidebar_items = "\n          ".join(fmt.format(href=attr(hr), title=esc(t)) for t, hr in side)
        more_items = "\n          ".join(fmt.format(href=attr(hr), title=esc(t)) for t, hr in more)
        description = paras[0] if len(paras[0]) <= 200 else paras[0][:197].rsplit(" ", 1)[0] + "..."
        chrome = dict(o.get("chrome") or {})
        nav = chrome.pop("nav", [])
        nav_html = "".join(f'<li><a href="{attr(o["host"])}/{slugify(x)}">{esc(x)}</a></li>' for x in nav)
        values = dict(
            title=esc(o["title_fmt"].format(headline=page.headline)),
            og_title=attr(page.headline),
            headline=esc(page.headline),
            site_name=attr(o["name"]),
            site_name_text=esc(o["name"]),
            url=attr(page.url),
            canonical=attr(page.url),
            host=attr(o["host"]),
            published_iso=published_iso,
            modified_iso=modified_iso,
            date_display=esc(date_display),
            updated_display=esc(updated_display),
            author=esc(page.author),
            author_attr=attr(getattr(page, "author_name", page.author)),
            description=attr(description),
            body=body_html,
            provided_by=provided_by,
            attribution_footer="\n        ".join(footer_attr),
            head_extra="\n  ".join(head_extra),
            body_end=body_end,
            sidebar_items=sidebar_items,
            more_items=more_items,
            nav=nav_html,
            year=str(page.published.year),
            page_hash=h(page.page_id)[:10],
            **{k: esc(str(v)) for k, v in chrome.items()},
        )
        tpl = self.templates[o["template"]]
        try:
            return tpl.substitute(values)
        except (KeyError, ValueError) as e:
            raise BuildError(f"template {o['template']} for {page.page_id}: {e!r}") from e

    # -- output -------------------------------------------------------------
    def write(self):
        if self.out_dir.exists():
            shutil.rmtree(self.out_dir)
        (self.out_dir / "pages").mkdir(parents=True)
        with open(self.out_dir / "labels.jsonl", "w", encoding="utf-8", newline="\n") as lf:
            for p in self.pages:
                html_text = self.render(p)
                fp = self.out_dir / p.relpath
                fp.parent.mkdir(parents=True, exist_ok=True)
                fp.write_text(html_text, encoding="utf-8", newline="\n")
                label = {
                    "page_id": p.page_id,
                    "path": p.relpath,
                    "url": p.url,
                    "outlet": p.outlet,
                    "story_key": p.story_key,
                    "original_source": p.original_source,
                    "is_original": p.is_original,
                    "syndicated_from": p.syndicated_from,
                    "published": iso(p.modified or p.published),
                    "version_of": p.version_of,
                    "kind": p.kind,
                    "related_to": p.related_to,
                    "headline": p.headline,
                    "edits": p.edits,
                }
                lf.write(json.dumps(label, ensure_ascii=False) + "\n")

    # -- self check of the written output -----------------------------------
    def check_output(self):
        labels = [json.loads(l) for l in (self.out_dir / "labels.jsonl").read_text(encoding="utf-8").splitlines()]
        assert len(labels) == len(self.pages)
        by_id = {l["page_id"]: l for l in labels}
        for l, p in zip(labels, self.pages, strict=False):
            fp = self.out_dir / l["path"]
            text = fp.read_text(encoding="utf-8")
            chk = _PageCheck(BODY_MARKERS[OUTLETS[l["outlet"]]["template"]])
            chk.feed(text)
            chk.close()
            miss = chk.missing()
            if miss:
                raise BuildError(f"{l['page_id']}: page lacks {miss}")
            if chk.canonical != l["url"] or chk.og_url != l["url"]:
                raise BuildError(f"{l['page_id']}: canonical/og:url mismatch")
            if chk.og_site_name != OUTLETS[l["outlet"]]["name"]:
                raise BuildError(f"{l['page_id']}: og:site_name mismatch")
            body = " ".join(chk.body_text.split())
            for para in p.paras:
                probe = " ".join(para.split())[-60:]
                if probe not in body:
                    raise BuildError(f"{l['page_id']}: paragraph text not in article container: {probe!r}")
            # label consistency
            if l["is_original"]:
                assert l["syndicated_from"] is None, l
            else:
                assert l["syndicated_from"] == l["original_source"], l
                assert l["outlet"] != source_outlet(l["original_source"]), l
            if l["version_of"]:
                prev = by_id[l["version_of"]]
                assert prev["url"] == l["url"] and prev["story_key"] == l["story_key"], l
                assert prev["published"] < l["published"], l
        return labels


class _PageCheck(HTMLParser):
    """Collect the bits every template must emit."""

    def __init__(self, marker):
        super().__init__(convert_charrefs=True)
        self.marker = marker
        self.html_lang = None
        self.title = ""
        self._in_title = False
        self.og_title = self.og_site_name = self.og_url = None
        self.canonical = None
        self.published_time = None
        self.author_meta = None
        self.depth_body = 0
        self.body_text = ""
        self._stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.html_lang = a.get("lang")
        elif tag == "title":
            self._in_title = True
        elif tag == "meta":
            prop = a.get("property") or a.get("name")
            if prop == "og:title":
                self.og_title = a.get("content")
            elif prop == "og:site_name":
                self.og_site_name = a.get("content")
            elif prop == "og:url":
                self.og_url = a.get("content")
            elif prop == "article:published_time":
                self.published_time = a.get("content")
            elif prop == "author":
                self.author_meta = a.get("content")
        elif tag == "link" and a.get("rel") == "canonical":
            self.canonical = a.get("href")
        if tag in ("meta", "link", "img", "br", "hr", "input"):
            return
        mk, mv = self.marker
        if not self.depth_body and (a.get(mk) == mv or (mk == "class" and mv in (a.get("class") or "").split())):
            self.depth_body = 1
        elif self.depth_body:
            self.depth_body += 1

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        elif self.depth_body and tag not in ("meta", "link", "img", "br", "hr", "input"):
            self.depth_body -= 1

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        if self.depth_body:
            self.body_text += data + " "

    def missing(self):
        m = []
        if self.html_lang != "en":
            m.append("html lang=en")
        for name in ("title", "og_title", "og_site_name", "og_url", "canonical", "published_time", "author_meta"):
            if not getattr(self, name):
                m.append(name)
        if not self.body_text.strip():
            m.append("article body container")
        return m


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(HERE / "out"), help="output directory (default: eval/syndication/out)")
    args = ap.parse_args(argv)
    b = Builder(Path(args.out))
    try:
        b.load()
        b.validate()
        b.build_pages()
        b.write()
        labels = b.check_output()
    except BuildError as e:
        print(f"build failed: {e}", file=sys.stderr)
        return 1
    kinds: dict[str, int] = {}
    for l in labels:
        kinds[l["kind"]] = kinds.get(l["kind"], 0) + 1
    dist = b.stats["copy_distribution"]
    stories_with_updates = sum(1 for s in b.stories if s.get("updates"))
    stories_with_new_url = sum(1 for s in b.stories if s.get("new_url_updates"))
    n_story_keys = len({l["story_key"] for l in labels})
    print(
        f"stories.yaml stories: {len(b.stories)} "
        f"(copies per story: 0->{dist[0]}, 1->{dist[1]}, 2->{dist[2]}, 3->{dist[3]})"
    )
    print(f"stories with same-URL updates: {stories_with_updates}; with new-URL updates: {stories_with_new_url}")
    print(f"independent pairs: {len(b.pairs)}; anniversary pieces: {len(b.anniversaries)}")
    print(f"pages: {len(labels)}  distinct story keys: {n_story_keys}  outlets: {len({l['outlet'] for l in labels})}")
    print("pages by kind: " + ", ".join(f"{k}={v}" for k, v in sorted(kinds.items())))
    print(f"templates: {len(b.templates)}  labels: {b.out_dir / 'labels.jsonl'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
