"""Pure functions from bytes or text to typed records; no Prefect, no SQL."""
