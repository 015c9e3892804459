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
    assert loaded.assign("https://x.example/1", probe, None, "n") == index.assign(
        "https://x.example/1", probe, None, "n"
    )
    assert loaded.assign("https://wire.example/patriots", probe, None, "n").matched_article_id == "a2"


# Written for these tests: a wire story, a shorter first take of it on another site with its own
# dateline and spelling, and an independent report of the same event quoting the same statement.
_WIRE_FULL = """HARBOURVILLE, Mar 3 (Northline Wire) - The defence ministry of Veldora signed a contract on Tuesday for
twelve coastal patrol boats from a shipyard in Ostmark, officials said, the largest naval order the
country has placed in a decade.

The boats will replace an ageing fleet that the navy has kept at sea well past its planned service
life, and the first two are due to be delivered within eighteen months of the signing.

"This order secures our coastline for a generation and keeps our sailors safe," the minister told
reporters at the shipyard gates after the ceremony.

The contract also covers training for crews and a maintenance programme that runs for ten years,
according to a ministry statement that did not give the full value of the deal.

Opposition lawmakers have questioned the cost of the purchase at a time of tight budgets, and a
parliamentary committee is expected to review the terms of the agreement next month.

The shipyard said it would hire several hundred workers to meet the schedule and that parts of the
hulls would be built by a partner yard on the other side of the border."""

_FIRST_TAKE = """The defense ministry of Veldora signed a contract on Tuesday for twelve coastal patrol boats from a
shipyard in Ostmark, officials said, the largest naval order the country has placed in a decade.

The boats will replace an ageing fleet that the navy has kept at sea well past its planned service
life, and the first two are due to be delivered within eighteen months of the signing.

"This order secures our coastline for a generation and keeps our sailors safe," the minister said."""

_INDEPENDENT = """Veldora is buying a dozen patrol vessels from Ostmark in a deal its government described as
overdue, with critics in the capital already asking how the treasury will pay for it.

"This order secures our coastline for a generation and keeps our sailors safe," the minister told
reporters at the shipyard gates after the ceremony.

Naval analysts said the ships would mostly guard fishing grounds and that the country still lacks the
larger vessels it would need to patrol its wider economic zone far from shore."""


def test_a_short_first_take_on_another_site_joins_the_full_wire_story():
    index = StoryIndex()
    when = datetime(2026, 3, 3)
    index.add("w1", "w1", "https://wire.example/boats", fingerprint(_WIRE_FULL), when)
    link = index.assign("https://portal.example/boats", fingerprint(_FIRST_TAKE), when, "p1")
    assert link.story_id == "w1" and link.reason in ("contained", "near_duplicate")


def test_an_independent_report_sharing_a_quoted_statement_stays_apart():
    index = StoryIndex()
    when = datetime(2026, 3, 3)
    index.add("w1", "w1", "https://wire.example/boats", fingerprint(_WIRE_FULL), when)
    assert index.assign("https://other.example/boats", fingerprint(_INDEPENDENT), when, "i1").reason == "new_story"


def test_quotes_credits_and_datelines_are_left_out_of_the_compared_words():
    from extractors.dedup import reported_shingles

    grams = set(reported_shingles(_WIRE_FULL + "\n\nCopyright 2026 Northline Wire. All rights reserved."))
    assert not any("coastline for a generation" in g for g in grams)
    assert not any("northline" in g or "rights reserved" in g for g in grams)
    assert "the defense ministry of veldora" in " | ".join(grams)  # spelling folded


def test_a_year_only_date_does_not_split_a_copy_from_its_story():
    index = StoryIndex()
    index.add("w1", "w1", "https://wire.example/boats", fingerprint(_WIRE_FULL), datetime(2026, 3, 3, 9, 30))
    guessed = datetime(2019, 1, 1)  # a date guessed from a year the page mentions
    assert index.assign("https://portal.example/b", fingerprint(_FIRST_TAKE), guessed, "p1").story_id == "w1"


def test_an_index_saved_in_an_older_format_loads_empty_so_it_is_rebuilt(tmp_path):
    import numpy as np

    np.savez(tmp_path / "story-index.npz", sigs=np.zeros((1, 128), dtype=np.uint16))
    assert len(StoryIndex.load(tmp_path)) == 0
