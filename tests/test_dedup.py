from datetime import datetime

from extractors.dedup import StoryIndex, fingerprint

from newsweb import ARTICLES


def _text(key):
    return " ".join(ARTICLES[key]["paragraphs"])


def test_republished_copy_joins_its_original_and_an_unrelated_story_does_not():
    index = StoryIndex(threshold=0.5, max_days=7)
    when = datetime(2026, 11, 14)
    index.add("a1", "a1", "https://wire.example/a", fingerprint(_text("s400")), when)

    link = index.assign("https://portal.example/b", fingerprint(_text("s400_copy")), when, "b1")
    assert (link.story_id, link.matched_article_id) == ("a1", "a1")
    assert link.reason in ("near_duplicate", "contained") and link.similarity >= 0.5

    assert index.assign("https://wire.example/c", fingerprint(_text("howitzers")), when, "c1").reason == "new_story"


def test_exact_text_and_same_url_are_recognised_first():
    index = StoryIndex()
    text = _text("howitzers")
    index.add("a1", "s1", "https://wire.example/a", fingerprint(text), None)
    assert index.assign("https://wire.example/a", fingerprint(_text("s400")), None, "n").reason == "canonical_url"
    assert index.assign("https://other.example/a", fingerprint(text.upper()), None, "n").reason == "exact_hash"


def test_a_copy_a_year_later_is_a_new_story():
    index = StoryIndex(threshold=0.5, max_days=7)
    index.add("a1", "a1", "https://wire.example/a", fingerprint(_text("s400")), datetime(2025, 11, 14))
    link = index.assign("https://portal.example/b", fingerprint(_text("s400_copy")), datetime(2026, 11, 14), "b1")
    assert link.reason == "new_story"


def test_an_update_with_paragraphs_added_is_contained_in_its_story():
    index = StoryIndex(threshold=0.9, containment=0.8)
    original = _text("s400")
    index.add("a1", "a1", "https://wire.example/a", fingerprint(original), None)
    updated = original + " " + " ".join(ARTICLES["howitzers"]["paragraphs"] + ARTICLES["patriots"]["paragraphs"])
    link = index.assign("https://wire.example/a-update-1", fingerprint(updated), None, "u1")
    assert link.story_id == "a1" and link.reason == "contained"


def test_saved_index_answers_like_the_live_one_and_merging_keeps_entries(tmp_path):
    index = StoryIndex()
    for n, key in enumerate(["s400", "howitzers", "patriots", "club_sanction"]):
        index.add(f"a{n}", f"a{n}", f"https://wire.example/{key}", fingerprint(_text(key)), None)
    index.merge()
    index.add("a9", "a0", "https://portal.example/copy", fingerprint(_text("s400_copy")), None)
    index.save(tmp_path)

    loaded = StoryIndex.load(tmp_path)

    assert len(loaded) == 5 and loaded.article_at(4) == "a9"
    probe = fingerprint(_text("s400_copy") + " Provided by Northline Wire.")
    assert loaded.assign("https://x.example/1", probe, None, "n") == index.assign("https://x.example/1", probe, None, "n")
    assert loaded.assign("https://wire.example/patriots", probe, None, "n").matched_article_id == "a2"
