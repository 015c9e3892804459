"""Render the digest: one self-contained HTML page (inline CSS and SVG, no scripts, nothing
fetched when it opens) with new deals, sanction actions, a chart of deal values by supplier and
recipient over time, the most-copied stories and the feeds' health.

Everything shown comes from feeds and pages, so every string is escaped and only http(s) links
become anchors."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta

from warehouse.reports import DealRow, Digest

_DURATION = re.compile(r"^\s*(\d+)\s*([hdw])\s*$")
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str) -> timedelta:
    """`7d`, `48h`, `2w` → a timedelta; anything else is a clear error."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"--since {text!r}: give a number and a unit, e.g. 7d, 48h or 2w")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _link(url: str | None, text: str | None) -> str:
    label = _e(text or url or "")
    if url and url.lower().startswith(("http://", "https://")):
        return f'<a href="{_e(url)}" rel="noopener noreferrer">{label}</a>'
    return label


def format_usd(value: float | None) -> str:
    """ "$5.50 bn", "$322.1 m", "$740,000"; empty for no value."""
    if not value:
        return ""
    if value >= 1e9:
        return f"${value / 1e9:,.2f} bn"
    if value >= 1e6:
        return f"${value / 1e6:,.1f} m"
    return f"${value:,.0f}"


def _day(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d") if moment else ""


def _table(headers: list[str], rows: list[list[str]], empty: str) -> str:
    if not rows:
        return f'<p class="empty">{_e(empty)}</p>'
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def deal_value_chart(deals: list[DealRow], width: int = 860) -> str:
    """One row per supplier → recipient pair, a dot per deal at its date, its area by value."""
    points = [(d, d.published_at) for d in deals if d.value_usd and d.published_at]
    seen: dict[str, None] = {}
    for deal, _ in points:
        seen.setdefault(f"{deal.supplier or '?'} → {deal.recipient or '?'}", None)
    pairs = list(seen)
    if not pairs:
        return '<p class="empty">No deal with a stated value in this period.</p>'
    label_w, row_h, top, bottom = 220, 34, 20, 40
    height = top + row_h * len(pairs) + bottom
    first = min(t for _, t in points)
    last = max(t for _, t in points)
    span = max((last - first).total_seconds(), 86400.0)
    biggest = max(d.value_usd or 0 for d, _ in points)
    plot_w = width - label_w - 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="Deal values by supplier and recipient over time">'
    ]
    for i, pair in enumerate(pairs):
        y = top + row_h * i + row_h / 2
        parts.append(f'<text x="{label_w - 8}" y="{y + 4:.0f}" text-anchor="end" class="pair">{_e(pair)}</text>')
        parts.append(f'<line x1="{label_w}" x2="{width - 20}" y1="{y:.0f}" y2="{y:.0f}" class="grid"/>')
    seen_dots: set[tuple[str, str, float]] = set()
    for deal, moment in points:
        pair = f"{deal.supplier or '?'} → {deal.recipient or '?'}"
        key = (deal.story_id, pair, deal.value_usd or 0)
        if key in seen_dots:  # one dot per deal, not per system of the deal
            continue
        seen_dots.add(key)
        x = label_w + plot_w * (moment - first).total_seconds() / span
        y = top + row_h * pairs.index(pair) + row_h / 2
        r = 3 + 12 * ((deal.value_usd or 0) / biggest) ** 0.5
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" class="dot"><title>'
            f"{_e(pair)}: {_e(deal.system or '')} {_e(format_usd(deal.value_usd))} ({_e(_day(moment))})"
            f"</title></circle>"
        )
    axis_y = top + row_h * len(pairs) + 18
    parts.append(f'<text x="{label_w}" y="{axis_y}" class="axis">{_e(_day(first))}</text>')
    parts.append(f'<text x="{width - 20}" y="{axis_y}" text-anchor="end" class="axis">{_e(_day(last))}</text>')
    parts.append("</svg>")
    return "".join(parts)


_CSS = """
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;
color:#1d2430;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:2px solid #e3e7ee;
padding-bottom:.3rem}.meta{color:#5b6677}.cards{display:flex;gap:1rem;flex-wrap:wrap;margin:1rem 0}
.card{background:#f4f6fa;border-radius:8px;padding:.7rem 1rem;min-width:150px}.card b{display:block;font-size:1.5rem}
table{border-collapse:collapse;width:100%;font-size:.92rem}th,td{text-align:left;padding:.35rem .5rem;
border-bottom:1px solid #e3e7ee;vertical-align:top}th{background:#f4f6fa}.empty{color:#5b6677;font-style:italic}
.status{border-radius:4px;padding:0 .35rem;background:#e8eefc}.bad{color:#a11d1d}.ok{color:#1d7a3a}
svg .pair{font-size:12px;fill:#1d2430}svg .axis{font-size:11px;fill:#5b6677}svg .grid{stroke:#e3e7ee}
svg .dot{fill:#3a64c8;fill-opacity:.55;stroke:#22408a}
"""


def render_digest(digest: Digest) -> str:
    deals = digest.deals
    deal_rows = [
        [
            _e(_day(d.published_at)),
            _e(d.supplier),
            _e(d.recipient),
            _e(d.system),
            _e(d.category),
            _e(d.quantity),
            _e(format_usd(d.value_usd)),
            f'<span class="status">{_e(d.status)}</span>',
            _link(d.url, d.title),
        ]
        for d in deals
    ]
    sanction_rows = [
        [
            _e(_day(s.published_at)),
            _e(s.action),
            _e(s.sanctioning),
            _e(s.target),
            _e(s.target_kind),
            _e(s.regime),
            _link(s.url, s.title),
        ]
        for s in digest.sanction_actions
    ]
    story_rows = [
        [
            _e(s.n_articles),
            _link(s.original_url, s.title),
            _e(s.original_source),
            _e(", ".join(s.sources or [])),
            _e(", ".join(s.tags or [])),
            _e(_day(s.first_published_at)),
        ]
        for s in digest.top_stories
    ]
    feed_rows = []
    for f in digest.feeds:
        health = (
            f'<span class="bad">failing ({f.error_count} in a row)</span>'
            if f.error_count
            else '<span class="ok">ok</span>'
            if f.last_polled_at
            else "never polled"
        )
        feed_rows.append(
            [
                _e(f.title or f.feed_url),
                health,
                _e(_day(f.failing_since)),
                _e(f.last_polled_at.strftime("%Y-%m-%d %H:%M") if f.last_polled_at else ""),
                _e(f.last_error),
            ]
        )
    failing = sum(1 for f in digest.feeds if f.error_count)
    # A deal of three systems has three rows: count its value once.
    total_value = sum(value for _, value in {(d.story_id, d.value_usd) for d in deals if d.value_usd})
    cards = [
        ("articles", digest.articles_since),
        ("deals", len({(d.story_id, d.supplier, d.recipient) for d in deals})),
        ("reported value", format_usd(total_value) or "—"),
        ("sanction actions", len(digest.sanction_actions)),
        ("feeds failing", f"{failing} of {len(digest.feeds)}"),
    ]
    card_html = "".join(f'<div class="card">{_e(label)}<b>{_e(value)}</b></div>' for label, value in cards)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>newsflow digest since {_e(_day(digest.since))}</title><style>{_CSS}</style></head>
<body>
<h1>newsflow digest</h1>
<p class="meta">From {_e(digest.since.strftime("%Y-%m-%d %H:%M"))} to
{_e(digest.generated_at.strftime("%Y-%m-%d %H:%M"))} UTC.</p>
<div class="cards">{card_html}</div>
<h2>New arms deals</h2>
{
        _table(
            ["date", "supplier", "recipient", "system", "category", "qty", "value", "status", "story"],
            deal_rows,
            "No arms deal reported in this period.",
        )
    }
<h2>Deal values by supplier and recipient</h2>
{deal_value_chart(deals)}
<h2>New sanction actions</h2>
{
        _table(
            ["date", "action", "by", "target", "kind", "regime", "story"],
            sanction_rows,
            "No sanction action reported in this period.",
        )
    }
<h2>Most-copied stories</h2>
{
        _table(
            ["copies", "story", "original source", "outlets", "tags", "first published"],
            story_rows,
            "No story in this period.",
        )
    }
<h2>Feed health</h2>
{_table(["feed", "health", "failing since", "last poll", "last error"], feed_rows, "No feed configured.")}
</body></html>
"""
