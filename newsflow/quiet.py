"""Keep the command line clean: Prefect's own INFO logs, telemetry and the ephemeral server's
shutdown noise are not for the analyst running `newsflow ingest`."""

from __future__ import annotations

import logging
import os
import sys
import threading


def configure_prefect_environment(verbose: bool = False) -> None:
    """Must run before `prefect` is imported."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO" if verbose else "CRITICAL")
    # A run's own INFO logs (feeds polled, pages per host, failures, stories, tags) always reach
    # the Prefect UI; the terminal shows them only with -v.
    os.environ.setdefault("PREFECT_LOGGING_LOGGERS_PREFECT_FLOW_RUNS_LEVEL", "INFO")
    os.environ.setdefault("PREFECT_LOGGING_LOGGERS_PREFECT_TASK_RUNS_LEVEL", "INFO")
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "INFO" if verbose else "CRITICAL")
    os.environ.setdefault("PREFECT_LOGGING_LOG_PRINTS", "false")
    # The temporary server's startup is slow on a busy machine; don't give up on it too early.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")


def silence_shutdown_noise() -> None:
    """After the work is done, exceptions from background threads racing interpreter shutdown
    (Prefect's log and event workers) are noise, not failures."""

    def hook(args: threading.ExceptHookArgs) -> None:
        if isinstance(args.exc_value, (RuntimeError, OSError, ValueError)):
            return
        if args.exc_value is not None:
            sys.__excepthook__(args.exc_type, args.exc_value, args.exc_traceback)

    threading.excepthook = hook
    for name in ("prefect", "prefect.server", "prefect.events", "prefect.logging", "uvicorn", "httpx"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
