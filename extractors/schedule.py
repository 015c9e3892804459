"""When to poll a feed next: as often as it publishes, within configured bounds, never sooner
than the server asks (Retry-After, Cache-Control max-age, RSS <ttl>), with jitter so feeds on one
host spread out, and with a capped backoff on errors that never disables a feed for good."""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import datetime, timedelta

from newsflow.models import FeedState
from newsflow.settings import Settings

RECENT_ENTRIES = 20  # how many of the newest entries estimate the publishing rate


def is_due(state: FeedState | None, now: datetime) -> bool:
    """A feed never polled, or whose next poll time has come, is due."""
    return state is None or state.next_poll_at is None or state.next_poll_at <= now


def publishing_interval(published: Iterable[datetime | None], now: datetime) -> float | None:
    """Seconds between polls that keep up with the feed: half its mean gap between recent entries,
    stretched when it has gone quiet. None when fewer than two entries carry a date."""
    dates = sorted((min(d, now) for d in published if d is not None), reverse=True)[:RECENT_ENTRIES]
    if len(dates) < 2:
        return None
    mean_gap = (dates[0] - dates[-1]).total_seconds() / (len(dates) - 1)
    quiet_for = (now - dates[0]).total_seconds()
    return max(mean_gap, quiet_for / 2) / 2


def cache_max_age(cache_control: str | None) -> float | None:
    """max-age (or s-maxage) from a Cache-Control header, in seconds."""
    if not cache_control:
        return None
    best = None
    for part in cache_control.split(","):
        key, _, value = part.strip().partition("=")
        if key.strip().lower() in ("max-age", "s-maxage"):
            try:
                seconds = float(value.strip().strip('"'))
            except ValueError:
                continue
            if seconds >= 0:
                best = seconds if best is None else max(best, seconds)
    return best


def ttl_seconds(ttl: object) -> float | None:
    """RSS <ttl> is in minutes."""
    try:
        minutes = float(str(ttl).strip())
    except (TypeError, ValueError):
        return None
    return minutes * 60 if minutes > 0 else None


def _clamp(seconds: float, settings: Settings) -> float:
    return min(max(seconds, settings.poll_min_interval), settings.poll_max_interval)


def _jittered(seconds: float, settings: Settings, rng: random.Random | None) -> float:
    if settings.poll_jitter <= 0:
        return seconds
    spread = settings.poll_jitter * seconds
    return seconds + (rng or random).uniform(-spread, spread)


def learn_interval(
    state: FeedState, settings: Settings, now: datetime, published: Iterable[datetime | None], ttl: object = None
) -> int:
    """After a parsed poll: the feed's base interval from its publishing rate and <ttl>."""
    base = publishing_interval(published, now) or settings.poll_default_interval
    floor = ttl_seconds(ttl)
    if floor:
        base = max(base, floor)
    state.poll_interval_s = int(_clamp(base, settings))
    return state.poll_interval_s


def schedule_success(
    state: FeedState,
    settings: Settings,
    now: datetime,
    *,
    max_age: float | None = None,
    rng: random.Random | None = None,
) -> datetime:
    """Next poll after a successful one (parsed or not modified)."""
    base = state.poll_interval_s or settings.poll_default_interval
    interval = _jittered(_clamp(max(base, max_age or 0), settings), settings, rng)
    # Jitter never takes the interval below the server's max-age or the configured minimum.
    interval = max(interval, min(max_age or 0, settings.poll_max_interval), settings.poll_min_interval)
    state.next_poll_at = now + timedelta(seconds=interval)
    return state.next_poll_at


def error_backoff(error_count: int, settings: Settings) -> float:
    """Doubling from the minimum interval per consecutive error, capped at the maximum: a failing
    feed is retried at least once per `poll_max_interval`, forever."""
    exponent = min(max(error_count - 1, 0), 30)
    return float(min(settings.poll_min_interval * 2**exponent, settings.poll_max_interval))


def schedule_failure(
    state: FeedState,
    settings: Settings,
    now: datetime,
    *,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> datetime:
    """Next poll after a failed one: backoff, and never before the server's Retry-After."""
    interval = _jittered(error_backoff(state.error_count, settings), settings, rng)
    floor = min(retry_after or 0, settings.poll_max_interval)
    interval = max(interval, floor, settings.poll_min_interval * (1 - settings.poll_jitter))
    state.next_poll_at = now + timedelta(seconds=interval)
    return state.next_poll_at
