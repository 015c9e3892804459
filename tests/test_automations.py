"""automations.yaml, applied by `newsflow automations apply` to a real Prefect server."""

from __future__ import annotations

import asyncio
import subprocess

from flows.automations import DEFAULT_FILE, render, stuck_after_seconds

from conftest import newsflow_bin


def test_stuck_threshold_is_three_times_the_median_run():
    assert stuck_after_seconds([10, 20, 600]) == 60  # never below a minute
    assert stuck_after_seconds([100, 120, 140]) == 360
    assert stuck_after_seconds([]) == 900  # 3 × 5 min with no history


def test_every_automation_in_the_file_is_valid_once_filled_in():
    from prefect.automations import Automation

    specs = render(DEFAULT_FILE.read_text(), "00000000-0000-0000-0000-000000000001", 600)
    automations = [Automation.model_validate(spec) for spec in specs]
    assert {a.trigger.posture.value for a in automations} == {"Reactive", "Proactive"}
    assert all(a.actions[0].type == "send-notification" for a in automations)


def _automations_named(prefix: str) -> list:
    from prefect.client.orchestration import get_client

    async def read() -> list:
        async with get_client() as client:
            return [a for a in await client.read_automations() if a.name.startswith(prefix)]

    return asyncio.run(read())


def test_apply_creates_them_on_the_server_and_reapplying_replaces_them(subprocess_env, tmp_path):
    command = [
        newsflow_bin(),
        "automations",
        "apply",
        "--webhook-url",
        "http://127.0.0.1:9/hook",
        "--allow-private-networks",
        "--data-dir",
        str(tmp_path / "none"),
    ]
    for _ in range(2):
        result = subprocess.run(command, env=subprocess_env, capture_output=True, text=True, timeout=180)
        assert result.returncode == 0, result.stderr
    assert "applied: newsflow ingest failed or crashed" in result.stdout
    assert "(after 900 s)" in result.stdout
    applied = _automations_named("newsflow ingest")
    assert sorted(a.name for a in applied) == [
        "newsflow ingest failed or crashed",
        "newsflow ingest running three times longer than usual",
    ]
    stuck = next(a for a in applied if "longer" in a.name)
    assert stuck.trigger.within.total_seconds() == 900
    assert set(stuck.trigger.expect) >= {"prefect.flow-run.Completed", "prefect.flow-run.Failed"}


def test_apply_without_a_server_says_how_to_get_one(tmp_path):
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect-home")
    result = subprocess.run(
        [newsflow_bin(), "automations", "apply", "--webhook-url", "https://hooks.test/x"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "PREFECT_API_URL is not set" in result.stderr
