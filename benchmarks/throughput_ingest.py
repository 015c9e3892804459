"""`newsflow ingest` with a stage timer: the throughput benchmark runs this in a child process.

    .venv/bin/python benchmarks/throughput_ingest.py TIMINGS.json -- ingest --feeds F --data-dir D --allow-private-networks

It calls the same entry point as the `newsflow` command (`newsflow.cli.main`) with the given
arguments. For the length of the run the flow's stage functions are wrapped with timers (in this
process only; the flow's code is unchanged), and a timeline is written to TIMINGS.json:
interpreter start to imports done, the CLI call, the first and last moment the flow body touched
the warehouse (so Prefect's start-up and finish are the gaps around them), and seconds per stage."""

from __future__ import annotations

import json
import sys
import time

_T0 = time.perf_counter()

from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str]) -> int:
    out = Path(argv[0])
    cli_args = argv[argv.index("--") + 1 :]

    from newsflow import cli, run_mode

    if run_mode.configured_api_url():
        from newsflow.quiet import configure_prefect_environment

        configure_prefect_environment(False)
        import flows.ingest  # noqa: F401  (imports Prefect, trafilatura, DuckDB: timed as "imports")
    # With no Prefect server configured the run is plain Python and imports what it needs itself.

    marks = {"imports_done": time.perf_counter() - _T0}
    timer = FlowSpan().__enter__()
    try:
        marks["cli_start"] = time.perf_counter() - _T0
        code = cli.main(cli_args)
        marks["cli_end"] = time.perf_counter() - _T0
    finally:
        timer.__exit__(None, None, None)
    body = timer.span
    if body:
        marks["flow_body_start"], marks["flow_body_end"] = body[0] - _T0, body[1] - _T0
    out.write_text(
        json.dumps(
            {
                "exit_code": code,
                "marks_s": {k: round(v, 3) for k, v in marks.items()},
                "stages_s": {k: round(v, 3) for k, v in timer.seconds.items()},
                "calls": timer.calls,
            },
            indent=2,
        )
    )
    sys.stdout.flush()
    return code


def _flow_span_timer():
    from benchmarks.pipeline_speed import StageTimer

    class Span(StageTimer):
        """StageTimer that also keeps the first start and last end of any timed call (the flow
        body's extent: it opens the warehouse first and closes it last) and counts calls."""

        def __init__(self):
            super().__init__()
            self.span: list[float] = []
            self.calls: dict[str, int] = {}

        def _wrap(self, stage, fn):
            import functools
            import inspect

            inner = super()._wrap(stage, fn)
            span, calls = self.span, self.calls

            def note(start: float) -> None:
                if not span:
                    span.extend([start, start])
                span[1] = time.perf_counter()
                calls[stage] = calls.get(stage, 0) + 1

            if inspect.iscoroutinefunction(fn):

                @functools.wraps(fn)
                async def async_wrapper(*args, **kwargs):
                    start = time.perf_counter()
                    try:
                        return await inner(*args, **kwargs)
                    finally:
                        note(start)

                return async_wrapper

            @functools.wraps(fn)
            def wrapper(*args, **kwargs):
                start = time.perf_counter()
                try:
                    return inner(*args, **kwargs)
                finally:
                    note(start)

            return wrapper

    return Span


def FlowSpan():  # noqa: N802  (a class made on first use, after Prefect is configured)
    return _flow_span_timer()()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
