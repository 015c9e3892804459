"""Apply automations.yaml to the Prefect server in PREFECT_API_URL: one webhook notification
block, then each automation, replacing any earlier one of the same name, so re-running updates
rather than duplicates."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DEFAULT_FILE = Path(__file__).resolve().parent.parent / "automations.yaml"
BLOCK_NAME = "newsflow-alerts"
DEFAULT_USUAL_SECONDS = 300  # 3 × 5 min = 15 min when the warehouse has no run history yet


@dataclass(frozen=True)
class AppliedAutomation:
    name: str
    automation_id: str
    within_s: int | None


def api_url() -> str | None:
    """The Prefect server automations would be applied to (PREFECT_API_URL), if any."""
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value() or None


def stuck_after_seconds(run_durations_s: list[float]) -> int:
    """Three times the median of the recent runs' durations (or of the default)."""
    usual = statistics.median(run_durations_s) if run_durations_s else DEFAULT_USUAL_SECONDS
    return max(60, int(round(3 * usual)))


def render(text: str, block_id: str, within_s: int) -> list[dict[str, Any]]:
    filled = text.replace("NOTIFY_BLOCK", block_id).replace("USUAL_RUN_SECONDS_X3", str(within_s))
    document = yaml.safe_load(filled)
    return list(document["automations"])


async def apply(
    webhook_url: str, run_durations_s: list[float], path: Path = DEFAULT_FILE, allow_private_urls: bool = False
) -> list[AppliedAutomation]:
    from prefect.automations import AutomationCore
    from prefect.blocks.notifications import CustomWebhookNotificationBlock
    from prefect.client.orchestration import get_client

    block = CustomWebhookNotificationBlock(
        name="newsflow",
        url=webhook_url,
        json_data={"subject": "{{subject}}", "text": "{{body}}"},
        allow_private_urls=allow_private_urls,
    )
    block_id = await block.asave(BLOCK_NAME, overwrite=True)
    within_s = stuck_after_seconds(run_durations_s)
    applied = []
    async with get_client() as client:
        for spec in render(path.read_text(), str(block_id), within_s):
            for old in await client.read_automations_by_name(spec["name"]):
                await client.delete_automation(old.id)
            automation = AutomationCore.model_validate(spec)
            created = await client.create_automation(automation)
            applied.append(AppliedAutomation(spec["name"], str(created), spec["trigger"].get("within")))
    return applied
