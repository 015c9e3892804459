"""Sanction frames: who acts on which measure against whom, read from sentences written for these tests."""

from __future__ import annotations

import pytest

from extractors.sanction_frames import find_sanction_actions, read_sanctions
from extractors.tagging import Tagger


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return Tagger.default()


def _actions(tagger: Tagger, text: str):
    sentences = tagger._read_all(text)
    return find_sanction_actions(sentences, tagger.gaz, tagger._is_sanctions_sentence)


def _triples(actions):
    return {(a.action, a.sanctioning, a.target) for a in actions}


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Brussels froze the assets of two Belarusian banks on Monday.", ("imposed", "European Union", "Belarus")),
        (
            "Washington eased sanctions on Venezuela's oil sector for six months.",
            ("lifted", "United States", "Venezuela"),
        ),
        ("Ottawa warned that it could impose sanctions on Syrian officials.", ("threatened", "Canada", "Syria")),
        (
            "The Security Council renewed the arms embargo on Libya for another year.",
            ("extended", "United Nations", "Libya"),
        ),
        (
            "Prosecutors said the trader used front companies to evade US sanctions on Iran.",
            ("evaded", "United States", "Iran"),
        ),
        ("Tokyo added five Russian shipping firms to its sanctions list.", ("imposed", "Japan", "Russia")),
        ("Canberra imposed travel bans on six Myanmar generals.", ("imposed", "Australia", "Myanmar")),
    ],
)
def test_each_action_with_its_party_and_target(tagger, text, expected):
    assert expected in _triples(_actions(tagger, text))


def test_the_treasury_acts_for_the_united_states(tagger):
    actions = _actions(tagger, "The Treasury on Friday blacklisted three trading houses that ship Iranian crude.")
    assert {a.sanctioning for a in actions} == {"United States"}
    assert ("imposed", "United States", "Iran") in _triples(actions)


def test_enforcement_by_seizure(tagger):
    actions = _actions(
        tagger, "Dutch authorities enforced the EU's sanctions by seizing a yacht owned by a Russian tycoon."
    )
    assert {a.action for a in actions} == {"enforced"}
    assert "European Union" in {a.sanctioning for a in actions}


def test_the_council_is_the_eus_only_in_an_eu_story(tagger):
    eu_story = (
        "The European Union widened its measures over the crackdown. "
        "The Council adopted restrictive measures against nine Belarusian officials."
    )
    other = "The Council adopted restrictive measures against nine Belarusian officials."
    assert ("imposed", "European Union", "Belarus") in _triples(_actions(tagger, eu_story))
    assert not any(a.sanctioning for a in _actions(tagger, other))


def test_passive_with_agents_names_every_party(tagger):
    actions = _actions(tagger, "The sanctions on the bank were imposed by Washington, London and Brussels.")
    assert {a.sanctioning for a in actions} >= {"United States", "United Kingdom", "European Union"}


def test_a_sanctioned_company_is_an_organisation_target_and_its_country_a_target(tagger):
    actions = _actions(tagger, "Beijing said it would sanction Lockheed Martin over its arms sales to Taiwan.")
    kinds = {(a.target, a.target_kind) for a in actions if a.sanctioning == "China"}
    assert ("Lockheed Martin", "organization") in kinds
    assert ("United States", "country") in kinds


def test_evidence_is_the_sentence_of_the_action(tagger):
    text = "Officials met in Geneva. Brussels froze the assets of two Belarusian banks on Monday."
    actions = _actions(tagger, text)
    assert actions and all(
        a.evidence == "Brussels froze the assets of two Belarusian banks on Monday." for a in actions
    )


def test_one_action_per_action_party_and_target(tagger):
    text = (
        "Brussels froze the assets of two Belarusian banks. "
        "Brussels also froze the assets of a Belarusian potash exporter."
    )
    actions = _actions(tagger, text)
    keys = [(a.action, a.sanctioning, a.target) for a in actions]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize(
    "title,text",
    [
        (
            "War report",
            "Drones struck a power station overnight. Officials counted the damage. The country's economy "
            "has leaned on its neighbour because of Western sanctions.",
        ),
        ("Lawyers punished", "A judge sanctioned two lawyers in Texas for filing briefs with invented citations."),
        ("League fine", "The league sanctioned the club with a fine after fans threw flares at a match in Madrid."),
        ("Funds approved", "The state cabinet sanctioned Rs 300 crore for new hospitals in Kerala, India."),
        ("Regulator", "Ofcom fined the broadcaster under its code, a sanction the channel said it would fight."),
        ("Arms policy", "Tokyo eased its ban on arms sales last year, and its shipyards now court foreign navies."),
    ],
)
def test_no_frame_means_no_sanctions_tag(tagger, title, text):
    result = tagger.tag(title, text)
    assert "sanctions" not in {t.tag for t in result.tags}
    assert result.sanction_actions == []


def test_one_frame_deep_in_an_unrelated_story_is_background(tagger):
    filler = [
        "The missile defence battery will sit on a former golf course.",
        "Residents protested near the site for a third day.",
        "The defence ministry said the location was chosen for its height.",
        "Local officials asked for compensation for farmers.",
        "Police kept the two sides apart through the afternoon.",
        "Construction is due to begin next spring.",
    ]
    text = " ".join(filler + ["Last week the United States imposed sanctions on a North Korean minister."])
    frames = read_sanctions(tagger._read_all(text), tagger.gaz, tagger._is_sanctions_sentence)
    assert frames.sentences and not frames.central
    assert "sanctions" not in {t.tag for t in tagger.tag("Battery site chosen", text).tags}


def test_country_roles_are_exactly_the_frames_parties(tagger):
    result = tagger.tag(
        "Brussels freezes assets of Belarusian banks",
        "The European Union froze the assets of two Belarusian banks on Monday, and Washington said it would "
        "follow with sanctions of its own. Officials in Poland welcomed the step.",
    )
    roles = {(e.name, e.role) for e in result.entities if e.kind == "country" and e.role in ("sanctioning", "target")}
    from_frames = {(a.sanctioning, "sanctioning") for a in result.sanction_actions if a.sanctioning} | {
        (a.target, "target") for a in result.sanction_actions if a.target_kind == "country"
    }
    assert roles == from_frames
    assert ("European Union", "sanctioning") in roles and ("Belarus", "target") in roles
    assert ("Poland", "sanctioning") not in roles
