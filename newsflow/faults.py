"""Fault points for crash tests: `NEWSFLOW_FAULT=stage:N` makes the process SIGKILL itself the N-th
time it reaches the point named `stage` (after-poll, fetch, extract, load, between-batches).

Read once at import; with the variable unset, `reached` is one comparison against None."""

from __future__ import annotations

import os
import signal
import threading

POINTS = ("after-poll", "fetch", "extract", "load", "between-batches")


def _parse(value: str | None) -> tuple[str, int] | None:
    if not value:
        return None
    stage, _, count = value.partition(":")
    if stage not in POINTS or not count.isdigit() or int(count) < 1:
        raise ValueError(f"NEWSFLOW_FAULT={value!r}: expected STAGE:N, STAGE one of {', '.join(POINTS)}, N >= 1")
    return stage, int(count)


_FAULT = _parse(os.environ.get("NEWSFLOW_FAULT"))
_seen = 0
_lock = threading.Lock()


def reached(point: str) -> None:
    """Count one arrival at `point`; the armed arrival kills this process (no cleanup, no flush)."""
    global _seen
    if _FAULT is None or _FAULT[0] != point:
        return
    with _lock:
        _seen += 1
        if _seen == _FAULT[1]:
            os.kill(os.getpid(), signal.SIGKILL)
