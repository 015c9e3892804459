"""Typed records that cross module boundaries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, NamedTuple, get_args

# What became of a failed fetch or extraction, decided where the failure is created:
# - deferred: the host asked us to wait (429/Retry-After); not an attempt, so it costs no retry
# - retry: a transient failure (timeout, 5xx); tried again on a later run, up to max_fetch_attempts
# - skipped: deliberately not fetched (robots.txt, not HTML, an undecodable aggregator link); final
# - failed: a final failure (404, no article text)
FailureKind = Literal["deferred", "retry", "skipped", "failed"]
FAILURE_KINDS: tuple[FailureKind, ...] = get_args(FailureKind)
RETRYABLE_KINDS: frozenset[FailureKind] = frozenset({"deferred", "retry"})

# The outcome of one entry in a batch: stored, or one of the failure kinds.
Outcome = Literal["stored", "deferred", "retry", "skipped", "failed"]
FINAL_OUTCOMES: tuple[Outcome, ...] = ("stored", "skipped", "failed")

# Why an article joined its story (`articles.story_reason`).
StoryReason = Literal["new_story", "exact_hash", "near_duplicate", "contained", "canonical_url", "update"]


@dataclass(frozen=True)
class FeedSource:
    url: str
    name: str | None = None


@dataclass
class FeedState:
    """What the poller remembers about one feed between runs."""

    feed_url: str
    title: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    last_polled_at: datetime | None = None
    last_status: str | None = None
    error_count: int = 0
    last_error: str | None = None
    next_poll_at: datetime | None = None
    # Where the feed is fetched from, once a permanent redirect has been seen on two polls in a row.
    poll_url: str | None = None
    redirect_candidate: str | None = None  # a permanent redirect target seen once, not yet trusted
    poll_interval_s: int | None = None  # the interval learnt from the feed's publishing rate


@dataclass(frozen=True)
class FeedEntry:
    entry_key: str
    feed_url: str
    url: str
    guid: str | None
    title: str | None
    published_at: datetime | None
    updated_at: datetime | None = None  # the item's own "updated" stamp: a newer one means a re-fetch


@dataclass
class FeedPoll:
    """The outcome of polling one feed."""

    state: FeedState
    entries: list[FeedEntry] = field(default_factory=list)
    not_modified: bool = False
    bozo: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Page:
    """A fetched HTML page."""

    entry_key: str
    requested_url: str
    final_url: str
    redirects: tuple[str, ...]
    status: int
    content_type: str
    html: str
    fetched_at: datetime


@dataclass(frozen=True)
class Failure:
    """A feed or page that failed at one stage. `kind` says what happens next; give it where the
    failure is made. Without one, `retryable` picks `retry` or `failed`."""

    url: str
    stage: str
    error: str
    at: datetime
    entry_key: str | None = None
    retryable: bool = False
    kind: FailureKind | None = None

    def __post_init__(self) -> None:
        kind: FailureKind = self.kind or ("retry" if self.retryable else "failed")
        if kind not in FAILURE_KINDS:
            raise ValueError(f"unknown failure kind {kind!r}; expected one of {FAILURE_KINDS}")
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "retryable", kind in RETRYABLE_KINDS)

    @property
    def outcome(self) -> FailureKind:
        """The entry's outcome: the failure's kind (always set after construction)."""
        return self.kind or "failed"


@dataclass
class Article:
    """Text and metadata extracted from a page."""

    entry_key: str
    url: str
    canonical_url: str
    final_url: str
    source: str | None
    domain: str
    title: str | None
    author: str | None
    published_at: datetime | None
    fetched_at: datetime
    language: str | None
    text: str
    syndicated_from: str | None = None
    syndicated_link: str | None = None  # the original's URL, when the page gives it (MSN's sourceHref)
    feed_url: str | None = None
    redirects: tuple[str, ...] = ()

    @property
    def word_count(self) -> int:
        return len(self.text.split())


@dataclass(frozen=True)
class Tag:
    tag: str
    score: float
    evidence: str


@dataclass(frozen=True)
class Entity:
    kind: str
    name: str
    role: str | None = None
    value_usd: float | None = None
    mention: str | None = None
    category: str | None = None  # a weapon system's SIPRI-style category; an organisation's type
    in_deal: bool | None = None  # a weapon system named in the sentences that make the arms deal


@dataclass(frozen=True)
class StoryLink:
    """Why an article belongs to its story."""

    story_id: str
    reason: StoryReason
    similarity: float | None = None
    matched_article_id: str | None = None


@dataclass(frozen=True)
class DealSystem:
    """A weapon system named in a deal."""

    name: str
    category: str | None = None  # SIPRI-style category
    from_gazetteer: bool = True  # False: found by its shape (designator, "-class", calibre)


@dataclass(frozen=True)
class Deal:
    """One arms transaction reported in an article: what, how many, from whom, to whom, for how much."""

    systems: tuple[DealSystem, ...]
    supplier: tuple[str, ...]  # normalised country names; a state buying from its own industry
    recipient: tuple[str, ...]  # is in both
    status: str  # offered | approved | ordered | delivered | cancelled
    evidence: str
    quantity: int | None = None
    value_usd: float | None = None  # the deal's value
    amounts_usd: tuple[float, ...] = ()  # every amount its sentences state (phases, options, totals)


@dataclass(frozen=True)
class SanctionAction:
    action: str  # imposed | threatened | extended | lifted | enforced | evaded
    sanctioning: str | None  # normalised country or bloc: "United States", "European Union"
    target: str | None  # country, organisation or person name
    target_kind: str | None  # country | organization | person
    regime: str | None  # e.g. "CAATSA", "OFAC SDN", "EU sanctions"
    evidence: str


# -- records the warehouse takes and returns ---------------------------------------------------


@dataclass(frozen=True)
class PolledFeed:
    """A feed's state after a poll, with the name it was configured under."""

    state: FeedState
    name: str | None = None


@dataclass(frozen=True)
class PollCommit:
    """What one committed poll added: new entries in total and per feed, counted by the
    warehouse itself (so no second clock is involved)."""

    new_entries: int
    new_by_feed: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ArticleVersion:
    """One stored version of an article (a row of `article_rows`)."""

    article_id: str
    url: str
    canonical_url: str
    final_url: str
    redirects: list[str]
    source: str | None
    domain: str
    title: str | None
    author: str | None
    published_at: datetime | None
    fetched_at: datetime
    language: str | None
    text: str
    word_count: int
    content_hash: str
    syndicated_from: str | None
    syndicated_link: str | None
    feed_url: str | None
    story_id: str
    story_reason: StoryReason
    story_similarity: float | None
    story_matched_article_id: str | None
    signature: bytes
    n_shingles: int
    version: int
    seq: int


@dataclass(frozen=True)
class ArticleTag:
    article_id: str
    tag: Tag
    tagger_version: str


@dataclass(frozen=True)
class ArticleEntity:
    article_id: str
    entity: Entity
    tagger_version: str


@dataclass(frozen=True)
class FetchOutcome:
    """The decision about one entry in a batch; an entry with a final outcome is not fetched again."""

    url: str
    entry_key: str | None
    outcome: Outcome
    detail: str
    decided_at: datetime


@dataclass(frozen=True)
class ArticleFrames:
    """The deal and sanction records the tagger found in one article."""

    article_id: str
    deals: list[Deal]
    sanction_actions: list[SanctionAction]
    tagger_version: str


@dataclass
class BatchResult:
    """Everything one batch commits in one transaction. New kinds of result (deal records,
    sanction actions) are new list fields with an empty default, so callers that do not produce
    them need no change."""

    articles: list[ArticleVersion] = field(default_factory=list)
    tags: list[ArticleTag] = field(default_factory=list)
    entities: list[ArticleEntity] = field(default_factory=list)
    outcomes: list[FetchOutcome] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    frames: list[ArticleFrames] = field(default_factory=list)


class VersionStamp(NamedTuple):
    """The newest stored version of an article."""

    version: int
    content_hash: str


class IndexedVersion(NamedTuple):
    """An article version as the story index needs it, in the order it was indexed."""

    article_id: str
    story_id: str
    canonical_url: str
    content_hash: str
    signature: bytes
    n_shingles: int
    published_at: datetime | None


class StoredText(NamedTuple):
    """An article's latest text, for re-tagging."""

    article_id: str
    title: str | None
    text: str | None
    published_at: datetime | None


@dataclass(frozen=True)
class WarehouseCounts:
    articles: int
    stories: int
    articles_tagged: int
