"""`newsflow digest`: one self-contained HTML page from the warehouse, safe to open offline."""

from __future__ import annotations

import re
import subprocess
from datetime import datetime, timedelta

import pytest

from newsflow.digest import deal_value_chart, parse_since, render_digest
from warehouse.reports import DealRow, Digest, FeedHealthRow, StoryRow

from conftest import newsflow_bin


def test_since_takes_hours_days_and_weeks_and_refuses_the_rest():
    assert parse_since("48h") == timedelta(hours=48)
    assert parse_since("7d") == timedelta(days=7)
    assert parse_since("2w") == timedelta(weeks=2)
    with pytest.raises(ValueError, match="e.g. 7d"):
        parse_since("seven days")


def _deal(story: str, supplier: str, recipient: str, value: float | None, day: int) -> DealRow:
    return DealRow(
        story_id=story,
        published_at=datetime(2026, 11, day),
        supplier=supplier,
        recipient=recipient,
        system="K9",
        category="artillery",
        quantity=12,
        value_usd=value,
        status="ordered",
        title=f"{supplier} sells to {recipient}",
        url=f"https://news.test/{story}",
    )


def test_feed_content_is_escaped_and_only_web_links_become_anchors():
    hostile = StoryRow(
        story_id="s1",
        title='<script>alert("x")</script>',
        original_source="Wire & Co",
        original_url="javascript:alert(1)",
        first_published_at=None,
        n_articles=3,
        sources=["<b>a</b>"],
        tags=["arms_deal"],
    )
    feed = FeedHealthRow(
        feed_url="https://feeds.test/rss",
        title=None,
        last_status="error",
        error_count=4,
        last_error="<img src=x onerror=alert(1)>",
        last_polled_at=datetime(2026, 11, 30),
        failing_since=datetime(2026, 11, 28),
    )
    page = render_digest(
        Digest(
            since=datetime(2026, 11, 1),
            generated_at=datetime(2026, 12, 1),
            deals=[],
            sanction_actions=[],
            top_stories=[hostile],
            feeds=[feed],
            articles_since=3,
        )
    )
    assert "<script" not in page and "<img" not in page and "<b>a</b>" not in page
    assert "&lt;script&gt;" in page
    assert 'href="javascript' not in page
    assert "failing (4 in a row)" in page and "2026-11-28" in page


def test_chart_has_a_row_per_pair_and_a_dot_per_deal_sized_by_value():
    deals = [
        _deal("a", "South Korea", "Poland", 2.6e9, 3),
        _deal("a", "South Korea", "Poland", 2.6e9, 3),
        _deal("b", "Russia", "India", 5.5e9, 20),
        _deal("c", "France", "India", None, 21),
    ]
    svg = deal_value_chart(deals)
    assert svg.count("<circle") == 2  # one per deal with a value; a deal's systems share it
    assert "South Korea → Poland" in svg and "Russia → India" in svg and "France" not in svg
    radii = [float(r) for r in re.findall(r'r="([\d.]+)"', svg)]
    assert radii[1] > radii[0]  # the larger deal has the larger dot


def test_digest_of_the_sample_web_is_one_offline_page(demo_warehouse, tmp_path):
    data_dir, *_ = demo_warehouse
    out = tmp_path / "digest.html"
    result = subprocess.run(
        [newsflow_bin(), "digest", "--data-dir", str(data_dir), "--since", "100000d", "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    page = out.read_text(encoding="utf-8")
    assert "Russia begins S-400 deliveries to India" in page
    assert "Most-copied stories" in page and "Feed health" in page
    # Self-contained: no script, no stylesheet or image fetched from anywhere.
    assert "<script" not in page
    assert not re.search(r"<(link|img|iframe)\b", page)
    assert "default-src 'none'" in page


def test_digest_refuses_a_bad_window(tmp_path):
    result = subprocess.run(
        [newsflow_bin(), "digest", "--data-dir", str(tmp_path), "--since", "soon"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "e.g. 7d" in result.stderr
