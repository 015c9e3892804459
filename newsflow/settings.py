"""One settings object for the whole pipeline; every tunable lives here.

Values come from keyword arguments, then `NEWSFLOW_*` environment variables, then defaults.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

MIB = 1024 * 1024


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_", extra="ignore")

    data_dir: Path = Field(default=Path("data"), description="Where the warehouse lives.")
    allow_private_networks: bool = Field(
        default=False,
        description="Fetch from loopback and private addresses. Off by default (SSRF guard).",
    )
    contact_url: str = "https://github.com/newsflow/newsflow"
    user_agent: str = ""

    # Time limits, in seconds.
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    total_timeout: float = 30.0

    # Size limits, enforced while streaming and on decompressed bytes.
    max_feed_bytes: int = 15 * MIB
    max_page_bytes: int = 15 * MIB
    max_redirects: int = 5

    # Politeness and fan-out.
    max_connections: int = 16
    per_host_connections: int = 2
    feed_concurrency: int = 16

    # Work is committed in batches: a killed run loses at most one batch of work, never data.
    batch_size: int = 64
    extract_workers: int = 2
    max_fetch_attempts: int = 3

    # Dedup.
    near_duplicate_threshold: float = 0.5
    near_duplicate_max_days: int = 7

    def resolved_user_agent(self) -> str:
        return self.user_agent or f"newsflow/0.1 (+{self.contact_url})"

    @property
    def lake_dir(self) -> Path:
        return self.data_dir / "lake"
