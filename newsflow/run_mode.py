"""How `newsflow ingest` runs: as plain Python, or as the Prefect flow when a Prefect server is
configured and answers.

A run never starts a temporary Prefect server (that was most of a no-op run's time). With no
`PREFECT_API_URL` (environment or the active Prefect profile) the run is plain Python and is
recorded in the warehouse only. With one that answers its health check, the run is the `ingest`
flow and shows in the UI. With one that does not answer, or that goes away mid-run, the data
still lands: the run (or the rest of it) goes plain, and one line says what was not reported."""

from __future__ import annotations

import logging
import os
import sys
import tomllib
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from newsflow.pipeline import Extractor
    from newsflow.settings import Settings

HEALTH_TIMEOUT_S = 2.0

log = logging.getLogger("newsflow.ingest")


def configured_api_url() -> str | None:
    """PREFECT_API_URL from the environment, else from the active Prefect profile; read without
    importing Prefect, which costs seconds."""
    if "PREFECT_API_URL" in os.environ:
        return os.environ["PREFECT_API_URL"] or None
    home = Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect")
    try:
        profiles = tomllib.loads((home / "profiles.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    active = os.environ.get("PREFECT_PROFILE") or profiles.get("active", "ephemeral")
    value = profiles.get("profiles", {}).get(active, {}).get("PREFECT_API_URL")
    return str(value) if value else None


def api_answers(url: str, timeout: float = HEALTH_TIMEOUT_S) -> bool:
    """The Prefect API's health endpoint answers within `timeout` seconds."""
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/health", timeout=timeout) as response:
            return bool(200 <= response.status < 300)
    except (OSError, urllib.error.URLError, ValueError):
        return False


@dataclass(frozen=True)
class IngestRequest:
    feeds_file: Path | None
    data_dir: Path
    allow_private: bool
    verbose: bool
    poll_all: bool = False
    obey_robots: bool | None = None


def run_plain(request: IngestRequest, extractor_factory: ExtractorFactory) -> dict[str, int]:
    """The run as plain Python: no Prefect import, no server; the digest page is rewritten when
    the run stored something."""
    from newsflow.clock import utcnow
    from newsflow.feedlist import FeedList, read_feed_list
    from newsflow.pipeline import run_ingest
    from newsflow.run_report import TerminalProgress
    from newsflow.settings import Settings

    if request.verbose:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    overrides: dict[str, object] = {"data_dir": request.data_dir, "allow_private_networks": request.allow_private}
    if request.obey_robots is not None:
        overrides["obey_robots"] = request.obey_robots
    settings = Settings(**overrides)  # type: ignore[arg-type]
    feed_list = read_feed_list(request.feeds_file) if request.feeds_file else FeedList()
    result = run_ingest(
        settings,
        feed_list.sources,
        rejected=feed_list.rejected,
        poll_all=request.poll_all,
        logger=log,
        progress=TerminalProgress(),
        extractor_factory=extractor_factory,
    )
    if result.totals.get("articles_stored"):
        from newsflow.run_report import build_run_report

        try:
            started = result.started_at or utcnow()
            build_run_report(
                settings.lake_dir, result.run_id, started, result.totals, settings.data_dir / "digest.html"
            )
        except Exception as exc:  # the data has landed; a digest that cannot be written must not fail the run
            log.warning("digest not written: %s: %s", type(exc).__name__, exc)
    return result.totals


Runner = Callable[[IngestRequest], dict[str, int]]
ExtractorFactory = Callable[["Settings"], "Extractor"]


def run(
    request: IngestRequest, say: Callable[[str], None], run_flow: Runner, extractor_factory: ExtractorFactory
) -> dict[str, int]:
    """Run the ingest in the mode the configuration asks for: `run_flow` (the CLI's, which starts
    the Prefect flow) or plain with `extractor_factory`; `say` prints the one line about a Prefect
    server that could not be reached."""
    url = configured_api_url()
    if url is None:
        return run_plain(request, extractor_factory)
    if not api_answers(url):
        say(f"Prefect API at {url} did not answer; this run is not reported to it (data is stored as usual)")
        # The flow must not try the dead server either.
        return run_plain(request, extractor_factory)
    try:
        return run_flow(request)
    except Exception:
        if api_answers(url):
            raise  # a real failure of the run, not of the server
        # The server went away mid-run: what was committed stays; the rest is pending and the
        # plain run finishes it.
        say(
            f"Prefect API at {url} went away mid-run; what the run had committed is kept, the rest "
            "is finished without Prefect, not reported to it, and the summary below counts only that rest"
        )
        return run_plain(request, extractor_factory)
