"""What one chunk of messages becomes: files of valid rows and files of invalid records.

A chunk's rows are buffered as Python tuples while it fills, then turned into Arrow
tables, sorted, and cut into one :class:`FilePart` per directory and event-time hour.
Buffers hold at most one chunk (``archive_chunk_offsets`` messages) per partition.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from storage.layout import US_PER_HOUR, date_of, hour_of, invalid_dir
from storage.schemas import INVALID_SCHEMA
from storage.tables import constant_column, runs, with_group

MS_PER_HOUR = US_PER_HOUR // 1_000


@dataclass(frozen=True)
class FilePart:
    """The rows of one chunk that go to one directory and hour."""

    directory: str
    hour: int
    table: pa.Table


@dataclass(frozen=True)
class Message:
    """The parts of a Kafka message the archive keeps (``timestamp_ms`` -1: none)."""

    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...] = ()


InvalidRow = tuple[Message, str, str]  # message, reason, detail


def lineage(topic: str, partition: int, offsets: list[int], timestamps_ms: list[int]
            ) -> dict[str, pa.Array]:
    """The Kafka lineage columns for rows of one partition."""
    count = len(offsets)
    return {
        "kafka_topic": constant_column(topic, count, pa.string()),
        "kafka_partition": constant_column(partition, count, pa.int32()),
        "kafka_offset": pa.array(offsets, pa.int64()),
        "kafka_timestamp_ms": pa.array(timestamps_ms, pa.int64()),
    }


def invalid_parts(rows: list[InvalidRow], topic: str, partition: int) -> list[FilePart]:
    """Invalid records, by Kafka-timestamp date and hour, in offset order."""
    if not rows:
        return []
    messages = [row[0] for row in rows]
    offsets = [m.offset for m in messages]
    timestamps = [m.timestamp_ms for m in messages]
    columns = lineage(topic, partition, offsets, timestamps)
    columns |= {"key": pa.array([m.key for m in messages], pa.binary()),
                "value": pa.array([m.value for m in messages], pa.binary()),
                "reason": pa.array([row[1] for row in rows], pa.string()),
                "detail": pa.array([row[2] for row in rows], pa.string())}
    table = with_group(pa.table(columns, schema=INVALID_SCHEMA),
                       np.asarray(timestamps, dtype=np.int64) // MS_PER_HOUR)
    parts = []
    for run in runs(table, ["_group", "kafka_offset"], ["_group"]):
        ts_us = run["kafka_timestamp_ms"][0].as_py() * 1_000
        parts.append(FilePart(invalid_dir(topic, date_of(ts_us)), hour_of(ts_us), run))
    return parts
