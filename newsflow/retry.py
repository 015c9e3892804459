"""The one retry helper: capped exponential back-off for transient failures.

Used for DuckLake catalog conflicts and locks (`warehouse/`), where a second writer or a
maintenance run can hold the SQLite catalog for a moment."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def backoff_delay(attempt: int, *, base: float = 0.05, cap: float = 2.0) -> float:
    """Seconds to wait before retry number `attempt` (0-based): base, doubling, at most `cap`."""
    return float(min(cap, base * 2**attempt))


def with_retry(
    action: Callable[[], T],
    *,
    transient: Callable[[Exception], bool],
    attempts: int = 8,
    base: float = 0.05,
    cap: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run `action`, retrying while it raises an exception `transient` accepts; the last
    attempt's exception, and any non-transient one, propagates unchanged."""
    for attempt in range(attempts):
        try:
            return action()
        except Exception as exc:
            if attempt == attempts - 1 or not transient(exc):
                raise
            sleep(backoff_delay(attempt, base=base, cap=cap))
    raise AssertionError("unreachable: attempts must be at least 1")
