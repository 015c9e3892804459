"""The one clock: naive UTC datetimes, the form every timestamp in the lake is stored in.

One helper, so that the flow, the poller and the warehouse never compare times read from two
different clocks (an aware and a naive one, or local time and UTC)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Now, in UTC, without tzinfo (DuckDB `TIMESTAMP` columns hold naive UTC)."""
    return datetime.now(UTC).replace(tzinfo=None)
