"""Typed records that cross module boundaries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


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
    url: str
    stage: str
    error: str
    at: datetime
    entry_key: str | None = None
    retryable: bool = False


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
    reason: str
    similarity: float | None = None
    matched_article_id: str | None = None


@dataclass(frozen=True)
class SanctionAction:
    action: str          # imposed | threatened | extended | lifted | enforced | evaded
    sanctioning: str | None   # normalised country or bloc: "United States", "European Union"
    target: str | None        # country, organisation or person name
    target_kind: str | None   # country | organization | person
    regime: str | None        # e.g. "CAATSA", "OFAC SDN", "EU sanctions"
    evidence: str
