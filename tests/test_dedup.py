from datetime import datetime

from extractors.dedup import StoryIndex, signature, text_hash

from newsweb import ARTICLES


def _text(key):
    return " ".join(ARTICLES[key]["paragraphs"])


def test_republished_copy_joins_its_original_and_an_unrelated_story_does_not():
    index = StoryIndex(threshold=0.5, max_days=7)
    when = datetime(2026, 11, 14)
    original = _text("s400")
    index.add("a1", "a1", "https://wire.example/a", text_hash(original), signature(original), when)

    copy = _text("s400_copy")
    link = index.assign("https://portal.example/b", text_hash(copy), signature(copy), when, "b1")
    assert (link.story_id, link.reason) == ("a1", "near_duplicate") and link.similarity >= 0.5

    other = _text("howitzers")
    assert index.assign("https://wire.example/c", text_hash(other), signature(other), when, "c1").reason == "new_story"


def test_exact_text_and_same_url_are_recognised_first():
    index = StoryIndex()
    text = _text("howitzers")
    index.add("a1", "s1", "https://wire.example/a", text_hash(text), signature(text), None)
    assert index.assign("https://wire.example/a", "x", signature(text), None, "n").reason == "canonical_url"
    assert index.assign("https://other.example/a", text_hash(text.upper()), signature(text), None, "n").reason == "exact_hash"


def test_a_copy_a_year_later_is_a_new_story():
    index = StoryIndex(threshold=0.5, max_days=7)
    text = _text("s400")
    index.add("a1", "a1", "https://wire.example/a", text_hash(text), signature(text), datetime(2025, 11, 14))
    later = _text("s400_copy")
    link = index.assign("https://portal.example/b", text_hash(later), signature(later), datetime(2026, 11, 14), "b1")
    assert link.reason == "new_story"
