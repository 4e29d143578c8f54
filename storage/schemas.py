"""Arrow schemas of the master dataset: the contract's tables plus Kafka lineage.

Trades and speed candles keep the Kafka coordinates they came from (topic, partition,
offset, message timestamp): the dedup rule needs the offset, and anyone can trace a row
back to its message. Invalid records keep their original bytes and the parser's reason.
"""

from __future__ import annotations

import pyarrow as pa

from candle_core.codec import CANDLE_SCHEMA, REVISION_FIELD, TRADE_SCHEMA

LINEAGE_FIELDS = [
    pa.field("kafka_topic", pa.string(), nullable=False),
    pa.field("kafka_partition", pa.int32(), nullable=False),
    pa.field("kafka_offset", pa.int64(), nullable=False),
    pa.field("kafka_timestamp_ms", pa.int64(), nullable=False),
]
LINEAGE_NAMES = [f.name for f in LINEAGE_FIELDS]

ARCHIVE_TRADE_SCHEMA = pa.schema([*TRADE_SCHEMA, *LINEAGE_FIELDS])
"""A valid trade in ``trades/``: :data:`~candle_core.codec.TRADE_SCHEMA` + lineage."""

REVISION = pa.field(REVISION_FIELD, pa.int64(), nullable=False)
"""Which emission of its candle a speed candle is (0: the first; docs/master-dataset.md)."""

SPEED_CANDLE_SCHEMA = pa.schema([*CANDLE_SCHEMA, REVISION, *LINEAGE_FIELDS])
"""A speed-layer candle in ``candles/source=speed/``: ``CANDLE_SCHEMA``, its revision and
lineage. Every revision is a row of its own; files written before revisions existed have
no ``revision`` column, and :mod:`storage.speed_candles` reads them as revision 0."""

INVALID_SCHEMA = pa.schema([
    *LINEAGE_FIELDS,
    pa.field("key", pa.binary()),
    pa.field("value", pa.binary()),
    pa.field("reason", pa.string(), nullable=False),
    pa.field("detail", pa.string(), nullable=False),
])
"""A record that failed validation, in ``invalid/``: coordinates, bytes and the reason."""

SOURCE_FIELDS = [
    pa.field("source_topic", pa.string()),
    pa.field("source_partition", pa.int32()),
    pa.field("source_offset", pa.int64()),
]

LATE_TRADE_SCHEMA = pa.schema([
    *TRADE_SCHEMA,
    pa.field("late_by_us", pa.int64(), nullable=False),
    pa.field("watermark_us", pa.int64(), nullable=False),
    *SOURCE_FIELDS,
    *LINEAGE_FIELDS,
])
"""A trade the speed layer routed to ``trades.late``, in ``late/``: the trade, how late it
was, where it came from in ``trades``, and where it sits in ``trades.late``."""

DEAD_LETTER_SCHEMA = pa.schema([
    *LINEAGE_FIELDS,
    pa.field("key", pa.binary()),
    pa.field("value", pa.binary()),
    pa.field("reason", pa.string(), nullable=False),
    pa.field("detail", pa.string(), nullable=False),
    *SOURCE_FIELDS,
    pa.field("symbol", pa.string()),
    pa.field("trade_id", pa.int64()),
    pa.field("ts_us", pa.int64()),
])
"""A record of ``trades.dlq``, in ``dlq/``: its original bytes, the speed layer's reason,
and (when the bytes say so) the trade's symbol, id and time, for drift attribution."""

DUPLICATE_TRADE_SCHEMA = pa.schema([
    *TRADE_SCHEMA,
    pa.field("kafka_partition", pa.int32(), nullable=False),
    pa.field("kafka_offset", pa.int64(), nullable=False),
    pa.field("conflict", pa.bool_(), nullable=False),
    pa.field("winner_kafka_partition", pa.int32(), nullable=False),
    pa.field("winner_kafka_offset", pa.int64(), nullable=False),
])
"""A trade of ``trades/`` the batch layer dropped, in ``duplicates/``: the trade, where it
sits in ``trades``, whether its content differs from the copy that counts (``conflict``),
and where that copy sits."""
