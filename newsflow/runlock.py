"""One ingest at a time per data directory: an OS file lock (flock) on `<data_dir>/ingest.lock`.

A second run started while one is going waits for it (up to `run_lock_wait` seconds) and then
finds the feeds already polled and the pages already stored, so it repeats none of the work; if
the wait runs out it stops with a clear message. The kernel drops the lock when its holder
exits, even by SIGKILL, so a crashed run never leaves a stale lock. Readers take no lock."""

from __future__ import annotations

import fcntl
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_NAME = "ingest.lock"
_POLL_S = 0.2

# The lock is re-entrant within one process (the CLI takes it, then the flow it starts takes it
# again): flock on a second open file of the same path would wait for ourselves forever.
_held: dict[str, int] = {}
_guard = threading.Lock()


class RunLockTimeout(Exception):
    pass


def _holder(lock_path: Path) -> str:
    try:
        text = lock_path.read_text(encoding="utf-8").strip()
    except OSError:
        text = ""
    return f" (pid {text})" if text.isdigit() else ""


def _say(message: str) -> None:
    print(f"newsflow: {message}", file=sys.stderr, flush=True)


@contextmanager
def run_lock(
    data_dir: Path | str, wait_s: float | None = None, on_wait: Callable[[str], None] = _say
) -> Iterator[None]:
    """Hold the data directory's ingest lock for the body; wait up to `wait_s` seconds for it."""
    from newsflow.settings import Settings
    from warehouse.storage import check_writable

    settings = Settings()
    wait_s = settings.run_lock_wait if wait_s is None else wait_s
    data_dir = Path(data_dir)
    check_writable(data_dir, settings.min_free_disk_mb)  # a read-only or full disk is named before we wait
    lock_path = data_dir / LOCK_NAME
    key = str(lock_path.resolve())
    with _guard:
        if key in _held:
            _held[key] += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            with _guard:
                _held[key] -= 1
        return

    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(fd, lock_path, wait_s, on_wait)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        with _guard:
            _held[key] = 1
        try:
            yield
        finally:
            with _guard:
                _held.pop(key, None)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _acquire(fd: int, lock_path: Path, wait_s: float, on_wait: Callable[[str], None]) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return
    except BlockingIOError:
        pass
    data_dir = lock_path.parent
    on_wait(
        f"another ingest{_holder(lock_path)} is running on {data_dir}; waiting up to {wait_s:g} s for it "
        f"to finish (NEWSFLOW_RUN_LOCK_WAIT)"
    )
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            on_wait("the other ingest finished; this run now polls only what it left to do")
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise RunLockTimeout(
                    f"another ingest{_holder(lock_path)} is still running on {data_dir} after {wait_s:g} s; "
                    f"nothing was done by this run. Run again when it has finished, or raise "
                    f"NEWSFLOW_RUN_LOCK_WAIT"
                ) from None
            time.sleep(_POLL_S)
