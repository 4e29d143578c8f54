"""The batch layer's settings (``candles batch``): see ``kafka_ops.settings``."""

from __future__ import annotations

from pydantic import Field

from storage.settings import ArchiveSettings


class BatchSettings(ArchiveSettings):
    """What ``candles batch`` reads: the archive, the event-time rules, and its own."""

    batch_dedup_bucket_rows: int = Field(
        default=4_000_000, ge=1_000, le=1_000_000_000,
        description="A symbol's day with more rows than this is deduplicated in batches of "
        "files whose trade-id ranges overlap, each about this many rows, so memory does not "
        "grow with the day; a smaller one in a single pass.",
    )
