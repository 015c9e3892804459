"""One settings object for the whole pipeline; every tunable lives here.

Values come from keyword arguments, then `NEWSFLOW_*` environment variables, then defaults.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIB = 1024 * 1024


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_", extra="ignore")

    data_dir: Path = Field(default=Path("data"), description="Where the warehouse lives.")
    catalog: str = Field(
        default="",
        description="DuckLake catalog, e.g. 'postgres:dbname=news host=db.internal user=newsflow' for many "
        "writers; empty means the SQLite file DATA_DIR/lake/catalog.sqlite (one writer at a time).",
    )
    data_path: str = Field(
        default="",
        description="Where the lake's Parquet files go: a directory or an s3://bucket/prefix/ URL. Empty means "
        "DATA_DIR/lake/data/. Every writer and reader of one catalog must use the same one.",
    )
    claim_ttl: int = Field(
        default=1800,
        description="Seconds a run's claim on pending entries holds (shared catalog only); a run killed "
        "mid-way leaves claims that expire after this.",
    )
    allow_private_networks: bool = Field(
        default=False,
        description="Fetch from loopback and private addresses. Off by default (SSRF guard).",
    )
    allowed_networks: list[str] = Field(
        default_factory=list,
        description='CIDR ranges fetched even though they are private, e.g. ["10.1.2.0/24"].',
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
    per_host_delay: float = 0.25  # seconds between request starts to one host
    feed_concurrency: int = 16
    obey_robots: bool = True  # robots.txt is obeyed for article pages (not for feeds you subscribed to)
    robots_timeout: float = 5.0
    max_robots_bytes: int = 512 * 1024

    # Feed scheduling, in seconds: adapt to how often a feed publishes, within these bounds.
    poll_min_interval: int = 5 * 60
    poll_max_interval: int = 24 * 3600
    poll_default_interval: int = 3600
    poll_jitter: float = 0.1  # +/- this share of the interval, so feeds on one host spread out

    # Work is committed in batches: a killed run loses at most the batches in flight, never data.
    batch_size: int = 64
    # Batches fetched or extracted ahead of the ordered load (newsflow/pipeline.py BatchStream); a
    # killed run loses at most these.
    stream_depth: int = 3
    extract_workers: int = 2
    # Where extraction runs: "process" (a local process pool of extract_workers) or "dask"
    # (prefect-dask's DaskTaskRunner on the cluster at dask_address, else a local cluster of
    # dask_workers workers, in processes unless dask_processes is false).
    task_runner: Literal["process", "dask"] = "process"
    dask_address: str = ""
    dask_workers: int = 2
    dask_processes: bool = True
    max_fetch_attempts: int = 3

    # Reliability: a second ingest on one data dir waits this long for the first; writes need this
    # much free disk, checked before a run starts (see README, "Reliability").
    run_lock_wait: float = 300.0
    min_free_disk_mb: int = 64

    # Tagging: a small learned check (extractors/deal_gate.py) may veto an article's deal frames;
    # false tags them with the rules alone.
    deal_gate: bool = True

    # Dedup.
    near_duplicate_threshold: float = 0.5
    near_duplicate_max_days: int = 7
    # A copy on another site joins when this share of the shorter text is in the longer one and
    # they share at least this many 5-word shingles (quotations left out; see extractors.dedup).
    copy_containment: float = 0.25
    min_shared_shingles: int = 20

    @field_validator("allowed_networks")
    @classmethod
    def _networks_are_cidrs(cls, value: list[str]) -> list[str]:
        import ipaddress

        for network in value:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError:
                raise ValueError(f"allowed_networks: {network!r} is not an address range like 10.1.2.0/24") from None
        return value

    def resolved_user_agent(self) -> str:
        return self.user_agent or f"newsflow/0.1 (+{self.contact_url})"

    @property
    def lake_dir(self) -> Path:
        return self.data_dir / "lake"
