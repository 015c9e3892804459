"""The deal gate: a small learned veto on deal frames (extractors/deal_gate.py).

Fixtures are written for these tests; no published article text is used."""

from __future__ import annotations

import json
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

from extractors import deal_gate, gazetteer
from extractors.tagging import VERSION, Tagger

ROOT = Path(__file__).resolve().parents[1]

# A plain order: buyer, seller, system, number and value in the lead.
DEAL = (
    "Poland signs contract for 96 Apache helicopters from the United States",
    "WARSAW — Poland signed a contract on Tuesday to buy 96 AH-64 Apache attack helicopters from the "
    "United States, the defence ministry said. The deal, worth about $12 billion, includes training and "
    "spare parts. Deliveries are due to begin in 2028.",
)
# A court story about a budget that mentions an old order in passing: the rules make a frame of
# the order, the gate reads the story as not reporting a transaction.
LOOKALIKE = (
    "Budget plans tested at trial as court weighs old tank order",
    "A court trial over the defence budget heard on Monday that the ministry would have to cut other "
    "plans. Poland ordered K2 tanks from South Korea in 2022, the court heard, though plans for more "
    "could be dropped. The judge adjourned the trial to next week.",
)


@pytest.fixture(scope="module")
def gaz():
    return gazetteer.load()


def _arms(tagger: Tagger, article: tuple[str, str]):
    result = tagger.tag(*article)
    roles = {e.role for e in result.entities if e.role in ("supplier", "recipient")}
    return "arms_deal" in {t.tag for t in result.tags}, result.deals, roles


def test_shipped_file_loads_small_and_matches_the_module_spec():
    path = deal_gate.WEIGHTS
    assert path.stat().st_size < 1024 * 1024
    spec = json.loads(path.read_text(encoding="utf-8"))
    assert spec["hashing"] == deal_gate.hashing_spec()
    gate = deal_gate.DealGate.load()
    assert gate.weights.shape == ((1 << spec["hashing"]["bits"]) + len(deal_gate.FRAME_FEATURES),)
    assert 0.0 < gate.threshold < 1.0
    assert np.count_nonzero(gate.weights) == len(spec["weights"])


def test_a_file_with_another_hashing_spec_is_refused(tmp_path):
    spec = json.loads(deal_gate.WEIGHTS.read_text(encoding="utf-8"))
    spec["hashing"]["ngrams"] = [1, 2, 3]
    other = tmp_path / "gate.json"
    other.write_text(json.dumps(spec))
    with pytest.raises(ValueError, match="feature spec"):
        deal_gate.DealGate.load(other)


def test_inference_is_deterministic(gaz):
    evidence = deal_gate.evidence_of(DEAL[0], [DEAL[1]], [])
    first = deal_gate.DealGate.load().probability(evidence)
    assert deal_gate.DealGate.load().probability(evidence) == first
    assert deal_gate.shipped().probability(evidence) == first
    assert np.array_equal(deal_gate.vectorize(evidence), deal_gate.vectorize(evidence))


def test_hashing_is_crc32_of_field_and_term():
    # Written out here independently of the module: a change of hashing must fail this test
    # (and needs a retrained file), not silently shift every bucket.
    counts = deal_gate.hashed_terms(deal_gate.evidence_of("Tanks sold", ["Tanks sold, 12 more."], []))
    mask = (1 << deal_gate.HASH_BITS) - 1
    expected: dict[int, float] = {}
    for term in (
        "h|tanks",
        "h|sold",
        "h|tanks sold",
        "e|tanks",
        "e|sold",
        "e|00",
        "e|more",
        "e|tanks sold",
        "e|sold 00",
        "e|00 more",
    ):
        bucket = zlib.crc32(term.encode()) & mask
        expected[bucket] = expected.get(bucket, 0.0) + 1.0
    assert counts == expected


def test_the_training_script_uses_the_modules_features():
    sys.path.insert(0, str(ROOT / "eval" / "realnews"))
    try:
        import train_deal_gate
    finally:
        sys.path.remove(str(ROOT / "eval" / "realnews"))
    assert train_deal_gate.deal_gate.vectorize is deal_gate.vectorize
    shipped = json.loads(deal_gate.WEIGHTS.read_text(encoding="utf-8"))
    assert shipped["training"]["seed"] == train_deal_gate.SEED


def test_a_clear_deal_passes(gaz):
    tagged, deals, roles = _arms(Tagger(gaz, deal_gate.shipped()), DEAL)
    assert tagged and deals
    assert roles == {"supplier", "recipient"}


def test_a_framed_lookalike_is_vetoed(gaz):
    tagged, deals, roles = _arms(Tagger(gaz), LOOKALIKE)
    assert tagged and deals, "the rules alone must make a frame of this fixture, or it tests nothing"
    tagged, deals, roles = _arms(Tagger(gaz, deal_gate.shipped()), LOOKALIKE)
    assert not tagged and not deals and not roles


def test_the_setting_turns_the_gate_off(monkeypatch):
    monkeypatch.setenv("NEWSFLOW_DEAL_GATE", "false")
    tagger = Tagger.default()
    assert tagger.gate is None and tagger.version != VERSION
    assert _arms(tagger, LOOKALIKE)[0]
    monkeypatch.setenv("NEWSFLOW_DEAL_GATE", "true")
    tagger = Tagger.default()
    assert tagger.gate is not None and tagger.version == VERSION
    assert not _arms(tagger, LOOKALIKE)[0]
