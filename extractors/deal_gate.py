"""A small learned check on the deal frames: does an article with a frame really report an arms
transaction? The rules find frames; this linear model, trained on labelled real news
(eval/realnews/train_deal_gate.py, data card in extractors/data/deal_gate.md), vetoes the frames of
articles whose wording looks like a test, a war report, a tender or a budget rather than a deal.

Inference is numpy only: words are hashed into buckets here, by the same function the training
script uses, so nothing but the shipped weights (extractors/data/deal_gate.json) is needed."""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from newsflow.models import Deal

WEIGHTS = Path(__file__).resolve().parent / "data" / "deal_gate.json"
HASH_BITS = 14
# Frame features after the hashed words. None are used: the labelled data holds a single framed
# look-alike, so the gate is trained over every article with candidate sentences, where frame
# features would only say whether the rules found a frame (see extractors/data/deal_gate.md).
FRAME_FEATURES: tuple[str, ...] = ()
_WORD = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")


@dataclass(frozen=True)
class DealEvidence:
    """What the gate reads of one article: its headline, the deal frames' evidence sentences, the frames."""

    headline: str
    sentences: tuple[str, ...]
    deals: tuple[Deal, ...]


def _tokens(text: str) -> list[str]:
    # Digits become one shape so "$1.2 billion" and "$4 billion" read alike.
    return [re.sub(r"\d", "0", w) for w in _WORD.findall(text.lower())]


def _bucket(field: str, term: str, bits: int) -> int:
    return zlib.crc32(f"{field}|{term}".encode()) & ((1 << bits) - 1)


def hashed_terms(evidence: DealEvidence, bits: int = HASH_BITS) -> dict[int, float]:
    """Bucket -> count for word unigrams and bigrams, the headline's kept apart from the evidence's."""
    counts: dict[int, float] = {}
    for field, text in (("h", evidence.headline), ("e", " ".join(evidence.sentences))):
        words = _tokens(text)
        for term in words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]:
            index = _bucket(field, term, bits)
            counts[index] = counts.get(index, 0.0) + 1.0
    return counts


def frame_features(evidence: DealEvidence) -> list[float]:
    return []  # FRAME_FEATURES is empty; kept so the vector layout has one place to grow


def vectorize(evidence: DealEvidence, bits: int = HASH_BITS) -> np.ndarray:
    """The model's input: log-scaled, L2-normalised word buckets, then the frame features."""
    words = np.zeros(1 << bits)
    for index, count in hashed_terms(evidence, bits).items():
        words[index] = np.log1p(count)
    norm = np.linalg.norm(words)
    if norm:
        words /= norm
    return np.concatenate([words, np.asarray(frame_features(evidence))])


@dataclass(frozen=True)
class DealGate:
    weights: np.ndarray
    bias: float
    threshold: float
    bits: int = HASH_BITS

    @classmethod
    def load(cls, path: Path = WEIGHTS) -> DealGate:
        spec = json.loads(path.read_text(encoding="utf-8"))
        if spec["hashing"] != hashing_spec(spec["hashing"]["bits"]):
            raise ValueError(f"{path}: trained with another feature spec than extractors/deal_gate.py reads")
        bits = spec["hashing"]["bits"]
        weights = np.zeros((1 << bits) + len(FRAME_FEATURES))
        for index, value in spec["weights"].items():  # sparse: most buckets never saw a word
            weights[int(index)] = value
        return cls(weights, float(spec["bias"]), float(spec["threshold"]), bits)

    def probability(self, evidence: DealEvidence) -> float:
        return float(1.0 / (1.0 + np.exp(-(vectorize(evidence, self.bits) @ self.weights + self.bias))))

    def accepts(self, evidence: DealEvidence) -> bool:
        return self.probability(evidence) >= self.threshold


def hashing_spec(bits: int = HASH_BITS) -> dict[str, object]:
    """How words become features; stored with the weights so a mismatch fails loudly."""
    return {
        "bits": bits,
        "hash": "crc32('<field>|<term>') & (2**bits - 1)",
        "fields": ["h: headline", "e: evidence"],
        "tokens": _WORD.pattern,
        "digits": "0",
        "ngrams": [1, 2],
        "scale": "log1p count, L2 over words",
        "frame_features": list(FRAME_FEATURES),
    }


@lru_cache(maxsize=1)
def shipped() -> DealGate:
    return DealGate.load()


def evidence_of(headline: str, sentences: Sequence[str], deals: Sequence[Deal]) -> DealEvidence:
    return DealEvidence(headline or "", tuple(sentences), tuple(deals))
