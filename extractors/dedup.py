"""Content identity: exact text hashes and MinHash near-duplicates, and the story index that
assigns each article to exactly one story with the reason it joined."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from array import array
from dataclasses import dataclass
from datetime import datetime, timedelta

from rensa import RMinHash

from newsflow.models import StoryLink

NUM_PERM = 128
BANDS, ROWS = 32, 4  # candidate probability 0.99 at Jaccard 0.6, 0.87 at 0.5, ~0 at 0.05
SHINGLE = 5
SEED = 20261125
_WORD = re.compile(r"\w+", re.U)


def words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).lower()
    return _WORD.findall(text)


def text_hash(text: str) -> str:
    return hashlib.sha256(" ".join(words(text)).encode()).hexdigest()


def shingles(tokens: list[str], size: int = SHINGLE) -> list[str]:
    if len(tokens) < size:
        return [" ".join(tokens)] if tokens else []
    return [" ".join(tokens[i:i + size]) for i in range(len(tokens) - size + 1)]


def signature(text: str) -> array:
    minhash = RMinHash(num_perm=NUM_PERM, seed=SEED)
    minhash.update(shingles(words(text)))
    return array("I", minhash.digest())


def signature_bytes(sig: array) -> bytes:
    return sig.tobytes()


def signature_from_bytes(blob: bytes) -> array:
    sig = array("I")
    sig.frombytes(blob)
    return sig


def estimated_jaccard(a: array, b: array) -> float:
    return sum(1 for x, y in zip(a, b) if x == y) / NUM_PERM


def article_id_for(canonical_url: str) -> str:
    return hashlib.sha256(canonical_url.encode()).hexdigest()[:20]


@dataclass
class _Indexed:
    article_id: str
    story_id: str
    sig: array
    published_at: datetime | None


class StoryIndex:
    """In-memory index over every stored article, rebuilt from the warehouse at run start."""

    def __init__(self, threshold: float = 0.5, max_days: int = 7):
        self.threshold = threshold
        self.max_gap = timedelta(days=max_days)
        self._by_url: dict[str, tuple[str, str]] = {}
        self._by_hash: dict[str, tuple[str, str]] = {}
        self._bands: dict[tuple[int, bytes], list[int]] = {}
        self._items: list[_Indexed] = []

    def __len__(self) -> int:
        return len(self._items)

    def add(self, article_id: str, story_id: str, canonical_url: str, content_hash: str,
            sig: array, published_at: datetime | None) -> None:
        self._by_url.setdefault(canonical_url, (article_id, story_id))
        self._by_hash.setdefault(content_hash, (article_id, story_id))
        position = len(self._items)
        self._items.append(_Indexed(article_id, story_id, sig, published_at))
        for key in self._band_keys(sig):
            self._bands.setdefault(key, []).append(position)

    @staticmethod
    def _band_keys(sig: array):
        raw = sig.tobytes()
        width = ROWS * 4
        for band in range(BANDS):
            yield band, raw[band * width:(band + 1) * width]

    def assign(self, canonical_url: str, content_hash: str, sig: array,
               published_at: datetime | None, new_article_id: str) -> StoryLink:
        """Decide the story of a new article; does not add it."""
        if canonical_url in self._by_url:
            article_id, story_id = self._by_url[canonical_url]
            return StoryLink(story_id, "canonical_url", 1.0, article_id)
        if content_hash in self._by_hash:
            article_id, story_id = self._by_hash[content_hash]
            return StoryLink(story_id, "exact_hash", 1.0, article_id)
        best: tuple[float, _Indexed] | None = None
        seen: set[int] = set()
        for key in self._band_keys(sig):
            for position in self._bands.get(key, ()):
                if position in seen:
                    continue
                seen.add(position)
                item = self._items[position]
                if not self._close_in_time(published_at, item.published_at):
                    continue
                similarity = estimated_jaccard(sig, item.sig)
                if similarity >= self.threshold and (best is None or similarity > best[0]):
                    best = (similarity, item)
        if best is not None:
            return StoryLink(best[1].story_id, "near_duplicate", round(best[0], 4), best[1].article_id)
        return StoryLink(new_article_id, "new_story", None, None)

    def _close_in_time(self, a: datetime | None, b: datetime | None) -> bool:
        # An anniversary rewrite a year later reuses background text but is a new story.
        return a is None or b is None or abs(a - b) <= self.max_gap
