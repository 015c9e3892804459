"""The labelled syndication set, through the real extraction path: the issue's targets."""

from __future__ import annotations

from conftest import load_script

evaluate = load_script("eval/syndication/evaluate.py", "syndication_evaluate")


def test_syndicated_copies_join_their_story_and_independent_reports_stay_apart():
    report = evaluate.run()
    assert report["pages"] >= 200 and report["extraction_failures"] == 0
    assert report["pairs"]["precision"] >= 0.99
    assert report["pairs"]["recall"] >= 0.97
    assert report["independent_same_event_pairs"] >= 10 and report["independent_pairs_merged"] == 0
    assert report["attribution"]["accuracy"] >= 0.95
    assert report["attribution"]["originals_falsely_credited"] == 0
