"""The batch layer's settings (``candles batch``): see ``kafka_ops.settings``."""

from __future__ import annotations

from pydantic import Field

from storage.settings import ArchiveSettings


class BatchSettings(ArchiveSettings):
    """What ``candles batch`` reads: the archive, the event-time rules, and its own."""

    batch_dedup_bucket_rows: int = Field(
        default=4_000_000, ge=1_000, le=1_000_000_000,
        description="The batch layer finds duplicate trade ids in buckets of about this many "
        "rows, so its memory does not grow with the day.",
    )
