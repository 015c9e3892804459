"""feedparser's ~2,100 test feeds (read from ../shared at run time), each served on loopback and
polled through the real HTTP path: every file ends parsed, parsed with a warning, or failed with a
reason, and none crashes the poller. `benchmarks/feed_fixtures.py` prints the same counts."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.feed_fixtures import fixture_files, fixtures_dir, run_corpus  # noqa: E402


@pytest.fixture(scope="module")
def corpus():
    try:
        root = fixtures_dir()
    except SystemExit as exc:
        pytest.skip(str(exc))
    return root, run_corpus(root)


def test_every_fixture_is_accounted_for_and_none_crashes(corpus):
    root, report = corpus
    assert report.files == len(fixture_files(root)) > 2000
    assert report.outcomes["crashed"] == 0, report.crashed
    assert sum(report.outcomes.values()) == report.files
    assert set(report.outcomes) <= {"parsed", "bozo", "failed"}
    assert report.outcomes["parsed"] > report.files * 0.8


def test_every_failure_has_a_reason_a_person_can_read(corpus):
    _, report = corpus
    for name, reason in report.failed.items():
        assert "http://127.0.0.1:" in reason and "next try at" in reason, (name, reason)
    assert "illformed/rss_empty_document.xml" in report.failed
