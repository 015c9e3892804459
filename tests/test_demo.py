"""The bundled sample news web, ingested through the real flow, against its ground truth."""

from __future__ import annotations

import newsflow

from conftest import load_script

compare = load_script("eval/demo_check.py", "demo_check").compare


def test_sample_web_stories_attribution_and_tags(demo_warehouse):
    data_dir, totals, bases, _ = demo_warehouse

    assert totals["feeds_polled"] == 6 and totals["feeds_failed"] == 0
    assert totals["articles_stored"] == 46
    assert totals["failures"] == 2  # a PDF skipped as not HTML, and a 404
    con = newsflow.connect(data_dir)
    try:
        report = compare(con, bases)
        assert con.execute("SELECT count(*) FROM stories").fetchone()[0] == 36
    finally:
        con.close()
    assert report["missing"] == []
    assert report["pairs"]["fp"] == 0 and report["pairs"]["fn"] == 0, report["errors"]
    assert report["attribution"][0] == report["attribution"][1] == 10
    for tag, scores in report["tags"].items():
        assert scores["recall"] >= 0.85, (tag, scores, report["errors"])
        assert scores["precision"] >= 0.7, (tag, scores, report["errors"])
