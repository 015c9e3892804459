"""Prefect flows: orchestration only; the logic lives in extractors/ and warehouse/."""
