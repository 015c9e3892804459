"""Content identity: exact text hashes, MinHash near-duplicates, and the story index that assigns
each article to exactly one story with the reason it joined.

Real republished copies are truncated at different points, carry a short first take against the
full version, add or drop paragraphs and change spelling and datelines, so their 5-word-shingle
Jaccard runs as low as 0.13 while the shorter copy stays largely contained in the longer. Two
independent reports of one event share little text except the statements they both quote. So a
text is fingerprinted over its *reported* words (`extractors.reported_text`): credit and legal lines,
the dateline and quoted statements are left out, and spelling variants are folded.

The index holds one entry per stored article version: the low bits of its MinHash signature,
shingle count, site, publication day and story. Candidates come from banded LSH (64 bands of 2
rows, so copies with Jaccard as low as 0.15-0.2 are still found) kept in a sorted NumPy array,
with a small dict for recent inserts that is merged in batches, so a million articles fit in
well under 1.5 GiB and a lookup costs well under a millisecond.

All bands share one sorted uint32 table (keys salted by band number) so a lookup is one
vectorised binary search. A candidate joins a story, within `max_days` of publication, when:
- the estimated Jaccard of their shingles is at least `threshold` (`near_duplicate`), or
- the shorter text is at least `copy_containment` contained in the longer and they share at
  least `min_shared_shingles` shingles, on different sites (`contained`: a copy, an excerpt, a
  first take), or one text is `containment` contained in the other on the same site (an update).
A date of midnight on 1 January is a year-only guess (trafilatura's, from a year the text
mentions) and bounds nothing."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from rensa import RMinHash

from extractors.reported_text import BREAK, reported_words
from extractors.urls import domain_of
from newsflow.models import StoryLink, StoryReason

NUM_PERM = 128
BANDS, ROWS = 64, 2  # candidate probability 0.72 at Jaccard 0.14, 0.93 at 0.2, 0.99 at 0.27, 0.006 at 0.01
INDEX_FORMAT = 3  # saved indexes of another format are rebuilt from the warehouse
MIN_REPORTED_SHINGLES = 20  # a text mostly made of quotations is compared on all its words
SHINGLE = 5
SEED = 20261125
MERGE_EVERY = 20_000
_WORD = re.compile(r"\w+", re.U)
_EPOCH = datetime(1970, 1, 1)  # noqa: DTZ001 (the warehouse stores naive UTC)
_MIX = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5], dtype=np.uint64)


def words(text: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFKC", text).lower())


def text_hash(text: str) -> str:
    return hashlib.sha256(" ".join(words(text)).encode()).hexdigest()


def shingles(tokens: list[str], size: int = SHINGLE) -> list[str]:
    if len(tokens) < size:
        return [" ".join(tokens)] if tokens else []
    return [" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1)]


def reported_shingles(text: str) -> list[str]:
    """Shingles of the text's own reporting (see extractors.reported_text): none spans a
    quotation, a credit line or the dateline. A text that is mostly quotation falls back to
    all its words, so it still has enough shingles to be matched."""
    tokens = reported_words(text)
    grams = [g for g in shingles(tokens) if BREAK not in g]
    return grams if len(set(grams)) >= MIN_REPORTED_SHINGLES else shingles(words(text))


@dataclass(frozen=True)
class Fingerprint:
    """What the index needs to know about one text."""

    content_hash: str
    signature: np.ndarray  # NUM_PERM uint32
    n_shingles: int


def fingerprint(text: str) -> Fingerprint:
    grams = reported_shingles(text)
    minhash = RMinHash(num_perm=NUM_PERM, seed=SEED)
    minhash.update(grams)
    return Fingerprint(text_hash(text), np.asarray(minhash.digest(), dtype=np.uint32), len(set(grams)))


def signature_bytes(sig: np.ndarray) -> bytes:
    return np.asarray(sig, dtype=np.uint32).tobytes()


def article_id_for(canonical_url: str) -> str:
    return hashlib.sha256(canonical_url.encode()).hexdigest()[:20]


def _key64(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


def band_hashes(signatures: np.ndarray) -> np.ndarray:
    """(n, NUM_PERM) uint32 signatures to (n, BANDS) uint32 band keys."""
    rows = signatures.reshape(len(signatures), BANDS, ROWS).astype(np.uint64)
    # wraps modulo 2**64, which is what we want
    mixed: npt.NDArray[np.uint64] = (rows * _MIX[:ROWS]).sum(axis=2, dtype=np.uint64)
    return ((mixed ^ (mixed >> np.uint64(29))) >> np.uint64(32)).astype(np.uint32)


_BAND_SALT = (np.arange(BANDS, dtype=np.uint64) * np.uint64(0x9E3779B1) & np.uint64(0xFFFFFFFF)).astype(np.uint32)


def band_keys(signatures: np.ndarray) -> np.ndarray:
    """(n, NUM_PERM) signatures to (n, BANDS) uint32 keys salted by band number, so all bands
    share one sorted table. A rare clash between bands only adds a candidate that the signature
    comparison then rejects."""
    return band_hashes(signatures) ^ _BAND_SALT


def verify_bits(signature: np.ndarray) -> np.ndarray:
    """The low 8 bits of each MinHash value, to estimate Jaccard at an eighth of the full
    signature's memory (the twice-as-many LSH bands need the room). Two different values agree
    on their low 8 bits 1 time in 256; `_jaccard` takes that share of chance agreements out."""
    return (np.asarray(signature, dtype=np.uint32) & np.uint32(0xFF)).astype(np.uint8)


_CHANCE = 1.0 / 256


def _jaccard(agreeing: np.ndarray) -> np.ndarray:
    """Jaccard estimates from the number of agreeing 8-bit values, chance agreements removed."""
    return np.clip((agreeing / NUM_PERM - _CHANCE) / (1.0 - _CHANCE), 0.0, 1.0)


def site_key(canonical_url: str) -> int:
    """32 bits naming the article's site (extractors.urls.domain_of): copies come from other sites."""
    return _key64(domain_of(canonical_url)) & 0xFFFFFFFF


def _day(when: datetime | None) -> int:
    if when is None or (when.month == 1 and when.day == 1 and not (when.hour or when.minute or when.second)):
        return -1  # unknown, or known only to the year
    return (when - _EPOCH).days


class _SortedKeys:
    """A multimap from integer keys to entry positions: a sorted base plus a dict of recent adds."""

    def __init__(self, dtype: type[np.uint32 | np.uint64]) -> None:
        self.dtype = dtype
        self.keys = np.empty(0, dtype=dtype)
        self.positions = np.empty(0, dtype=np.int32)
        self.recent: dict[int, list[int]] = {}
        self.recent_count = 0

    def add(self, key: int, position: int) -> None:
        self.recent.setdefault(int(key), []).append(position)
        self.recent_count += 1

    def bulk(self, keys: np.ndarray, positions: np.ndarray) -> None:
        order = np.argsort(keys, kind="stable")
        self.keys, self.positions = keys[order].astype(self.dtype), positions[order].astype(np.int32)

    def merge(self) -> None:
        """Fold the recent adds into the sorted base: sort the few, then insert them in one pass
        (no re-sort of the base, and one new array rather than several temporaries)."""
        if not self.recent_count:
            return
        add_keys = np.fromiter(
            (k for k, ps in self.recent.items() for _ in ps), dtype=self.dtype, count=self.recent_count
        )
        add_pos = np.fromiter((p for ps in self.recent.values() for p in ps), dtype=np.int32, count=self.recent_count)
        order = np.argsort(add_keys, kind="stable")
        add_keys, add_pos = add_keys[order], add_pos[order]
        where = np.searchsorted(self.keys, add_keys, side="right")
        self.keys = np.insert(self.keys, where, add_keys)
        self.positions = np.insert(self.positions, where, add_pos)
        self.recent, self.recent_count = {}, 0

    def get_many(self, keys: np.ndarray) -> list[int]:
        """Positions for all `keys` at once: one vectorised search instead of one per key."""
        found: list[int] = []
        size = len(self.keys)
        if size:
            # One binary search per key (each costs cache misses on a large table); equal keys
            # are rare, so walk forward from the first match instead of searching again.
            left = np.searchsorted(self.keys, keys, side="left")
            hit = left < size
            hit[hit] = self.keys[left[hit]] == keys[hit]
            for lo in left[hit].tolist():
                key = self.keys[lo]
                hi = lo + 1
                while hi < size and self.keys[hi] == key:
                    hi += 1
                found.extend(self.positions[lo:hi].tolist())
        if self.recent:
            for key in keys.tolist():
                found.extend(self.recent.get(key, ()))
        return found

    def get(self, key: int) -> list[int]:
        # The key goes in as the table's own dtype: a bare Python int makes NumPy convert the
        # whole table for the comparison (measured: ~0.4 ms a lookup at a million entries).
        return self.get_many(np.array([key], dtype=self.dtype))

    def nbytes(self) -> int:
        return self.keys.nbytes + self.positions.nbytes


class StoryIndex:
    """Every stored article version, for story assignment. Rebuilt or caught up from the
    warehouse at run start; saved under the data dir so a large index loads in seconds."""

    def __init__(
        self,
        threshold: float = 0.5,
        max_days: int = 7,
        containment: float = 0.8,
        min_jaccard_for_containment: float = 0.2,
        copy_containment: float = 0.25,
        min_shared_shingles: int = 20,
    ):
        self.threshold = threshold
        self.max_days = max_days
        self.containment = containment  # same site: an update with paragraphs added
        self.min_jaccard_for_containment = min_jaccard_for_containment
        self.copy_containment = copy_containment  # another site: a copy, an excerpt, a first take
        self.min_shared_shingles = min_shared_shingles  # so a short teaser cannot match by chance
        self._size = 0
        self._sigs = np.empty((0, NUM_PERM), dtype=np.uint8)
        self._shingles = np.empty(0, dtype=np.int32)
        self._sites = np.empty(0, dtype=np.uint32)
        self._days = np.empty(0, dtype=np.int32)
        self._story = np.empty(0, dtype=np.int32)
        self._article = np.empty(0, dtype="S20")
        self._story_names: list[str] = []
        self._story_lookup: dict[str, int] = {}
        self._bands = _SortedKeys(np.uint32)
        self._urls = _SortedKeys(np.uint64)
        self._hashes = _SortedKeys(np.uint64)

    def __len__(self) -> int:
        return self._size

    # -- building ------------------------------------------------------------------------------

    def _grow(self, needed: int) -> None:
        capacity = len(self._days)
        if needed <= capacity:
            return
        new = max(needed, int(capacity * 1.5) + 1024)

        def grown(array: np.ndarray) -> np.ndarray:
            out = np.zeros((new,) + array.shape[1:], dtype=array.dtype)
            out[: self._size] = array[: self._size]
            return out

        self._sigs, self._shingles, self._sites = grown(self._sigs), grown(self._shingles), grown(self._sites)
        self._days, self._story, self._article = grown(self._days), grown(self._story), grown(self._article)

    def _story_number(self, story_id: str) -> int:
        number = self._story_lookup.get(story_id)
        if number is None:
            number = self._story_lookup[story_id] = len(self._story_names)
            self._story_names.append(story_id)
        return number

    def add(
        self, article_id: str, story_id: str, canonical_url: str, fp: Fingerprint, published_at: datetime | None
    ) -> int:
        """Index one article version; returns its position (the warehouse's `seq`)."""
        position = self._size
        self._grow(position + 1)
        self._sigs[position] = verify_bits(fp.signature)
        self._shingles[position] = fp.n_shingles
        self._sites[position] = site_key(canonical_url)
        self._days[position] = _day(published_at)
        self._story[position] = self._story_number(story_id)
        self._article[position] = article_id.encode()
        self._size += 1
        for key in band_keys(fp.signature[None, :])[0].tolist():
            self._bands.add(key, position)
        self._urls.add(_key64(canonical_url), position)
        self._hashes.add(_key64(fp.content_hash), position)
        if self._urls.recent_count >= MERGE_EVERY:
            self.merge()
        return position

    def add_many(self, rows: list[tuple[str, str, str, str, bytes, int, datetime | None]]) -> None:
        """Bulk load (article_id, story_id, canonical_url, content_hash, signature, n_shingles,
        published_at) rows in `seq` order, with one sort per key instead of one insert per row."""
        if not rows:
            return
        start, count = self._size, len(rows)
        self._grow(start + count)
        sigs = np.frombuffer(b"".join(r[4] for r in rows), dtype=np.uint32).reshape(count, NUM_PERM)
        self._sigs[start : start + count] = verify_bits(sigs)
        self._shingles[start : start + count] = [r[5] or 0 for r in rows]
        self._sites[start : start + count] = [site_key(r[2]) for r in rows]
        self._days[start : start + count] = [_day(r[6]) for r in rows]
        self._story[start : start + count] = [self._story_number(r[1]) for r in rows]
        self._article[start : start + count] = [r[0].encode() for r in rows]
        self._size += count
        positions = np.arange(start, start + count, dtype=np.int32)
        self.merge()
        keys = band_keys(sigs)
        self._bands.bulk(
            np.concatenate([self._bands.keys, keys.ravel()]),
            np.concatenate([self._bands.positions, np.repeat(positions, BANDS)]),
        )
        for table, values in ((self._urls, [r[2] for r in rows]), (self._hashes, [r[3] for r in rows])):
            keys = np.fromiter((_key64(v) for v in values), dtype=np.uint64, count=count)
            table.bulk(np.concatenate([table.keys, keys]), np.concatenate([table.positions, positions]))

    def merge(self) -> None:
        for table in (self._bands, self._urls, self._hashes):
            table.merge()

    # -- lookup --------------------------------------------------------------------------------

    def _entry(self, position: int, reason: StoryReason, similarity: float | None) -> StoryLink:
        return StoryLink(self._story_names[self._story[position]], reason, similarity, self._article[position].decode())

    def assign(
        self, canonical_url: str, fp: Fingerprint, published_at: datetime | None, new_article_id: str
    ) -> StoryLink:
        """Decide the story of a new article version; does not add it."""
        same_url = self._urls.get(_key64(canonical_url))  # one key: a scalar search is cheapest
        if same_url:
            return self._entry(same_url[-1], "canonical_url", 1.0)
        same_text = self._hashes.get(_key64(fp.content_hash))
        if same_text:
            return self._entry(same_text[0], "exact_hash", 1.0)
        candidates = set(self._bands.get_many(band_keys(fp.signature[None, :])[0]))
        if not candidates:
            return StoryLink(new_article_id, "new_story", None, None)
        positions = np.fromiter(candidates, dtype=np.int64, count=len(candidates))
        day = _day(published_at)
        in_window = np.ones(len(positions), dtype=bool)
        if day >= 0:
            days = self._days[positions]
            # An anniversary rewrite a year later reuses background text but is a new story.
            in_window = (days < 0) | (np.abs(days - day) <= self.max_days)
        jaccard = _jaccard((self._sigs[positions] == verify_bits(fp.signature)).sum(axis=1))
        sizes = self._shingles[positions].astype(np.float64)
        shared = jaccard * (sizes + fp.n_shingles) / (1.0 + jaccard)
        smaller = np.maximum(1.0, np.minimum(sizes, fp.n_shingles))
        containment = shared / smaller
        same_site = self._sites[positions] == site_key(canonical_url)
        joins = in_window & (
            (jaccard >= self.threshold)
            | np.where(
                same_site,
                (containment >= self.containment) & (jaccard >= self.min_jaccard_for_containment),
                (containment >= self.copy_containment) & (shared >= self.min_shared_shingles),
            )
        )
        if not joins.any():
            return StoryLink(new_article_id, "new_story", None, None)
        best = int(np.argmax(np.where(joins, containment + jaccard, -1.0)))
        if jaccard[best] >= self.threshold:
            return self._entry(int(positions[best]), "near_duplicate", round(float(jaccard[best]), 4))
        return self._entry(int(positions[best]), "contained", round(float(min(1.0, containment[best])), 4))

    # -- persistence ---------------------------------------------------------------------------

    def nbytes(self) -> int:
        arrays = (self._sigs, self._shingles, self._sites, self._days, self._story, self._article)
        return sum(a.nbytes for a in arrays) + sum(t.nbytes() for t in (self._bands, self._urls, self._hashes))

    def save(self, directory: Path) -> None:
        """Write the index atomically; the warehouse stays the source of truth."""
        self.merge()
        directory.mkdir(parents=True, exist_ok=True)
        n = self._size
        payload = {
            "format": np.array(INDEX_FORMAT),
            "sites": self._sites[:n],
            "sigs": self._sigs[:n],
            "shingles": self._shingles[:n],
            "days": self._days[:n],
            "story": self._story[:n],
            "article": self._article[:n],
            "story_names": np.array(self._story_names, dtype="S20"),
            "url_keys": self._urls.keys,
            "url_pos": self._urls.positions,
            "hash_keys": self._hashes.keys,
            "hash_pos": self._hashes.positions,
        }
        payload["band_keys"], payload["band_pos"] = self._bands.keys, self._bands.positions
        temporary = directory / "story-index.tmp.npz"
        with temporary.open("wb") as handle:
            np.savez(handle, allow_pickle=True, **payload)  # the default, named so no payload key is taken for it
        temporary.replace(directory / "story-index.npz")

    @classmethod
    def load(cls, directory: Path, **options: Any) -> StoryIndex:  # options: those of __init__
        index = cls(**options)
        path = directory / "story-index.npz"
        if not path.exists():
            return index
        with np.load(path) as data:
            if "format" not in data or int(data["format"]) != INDEX_FORMAT:
                return index  # saved by another version: empty, so the caller rebuilds it from the warehouse
            index._sites = data["sites"]
            # Each array is read into memory once; no copies, so loading needs no more than the index.
            index._sigs, index._shingles, index._days = data["sigs"], data["shingles"], data["days"]
            index._story, index._article = data["story"], data["article"]
            index._size = len(index._days)
            index._story_names = [name.decode() for name in data["story_names"]]
            index._story_lookup = {name: i for i, name in enumerate(index._story_names)}
            index._urls.keys, index._urls.positions = data["url_keys"], data["url_pos"]
            index._hashes.keys, index._hashes.positions = data["hash_keys"], data["hash_pos"]
            index._bands.keys, index._bands.positions = data["band_keys"], data["band_pos"]
        return index

    def article_at(self, position: int) -> str | None:
        return self._article[position].decode() if 0 <= position < self._size else None
