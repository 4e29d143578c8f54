"""The archiver's Prometheus metrics, on a registry the caller owns.

Labels stay bounded: ``kind`` (trade, candle, invalid), ``state`` (sealed, partial) and
``partition`` (the topics' partition count).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class ArchiveMetrics:
    """Every metric ``candles archive`` exposes on ``/metrics``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.consumed = Counter("candles_archive_messages_consumed",
                                "Messages read from the archived topics.", registry=registry)
        self.rows = Counter("candles_archive_rows_committed",
                            "Rows in chunks whose offsets were committed, by kind.",
                            ["kind"], registry=registry)
        self.files = Counter("candles_archive_files_written",
                             "Files renamed into place (sealed or partial chunks).",
                             ["state"], registry=registry)
        self.bytes = Counter("candles_archive_bytes_written", "Bytes of files written.",
                             registry=registry)
        self.chunks = Counter("candles_archive_chunks_committed",
                              "Chunks sealed, written and committed.", registry=registry)
        self.commit_lag = Gauge("candles_archive_commit_lag_offsets",
                                "Offsets consumed but not yet committed (the open chunk).",
                                ["topic", "partition"], registry=registry)
        self.last_commit = Gauge("candles_archive_last_commit_timestamp_seconds",
                                 "Unix time of the last offset commit.", registry=registry)
