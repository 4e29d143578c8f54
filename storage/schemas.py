"""Arrow schemas of the master dataset: the contract's tables plus Kafka lineage.

Trades and speed candles keep the Kafka coordinates they came from (topic, partition,
offset, message timestamp): the dedup rule needs the offset, and anyone can trace a row
back to its message. Invalid records keep their original bytes and the parser's reason.
"""

from __future__ import annotations

import pyarrow as pa

from candle_core.codec import CANDLE_SCHEMA, TRADE_SCHEMA

LINEAGE_FIELDS = [
    pa.field("kafka_topic", pa.string(), nullable=False),
    pa.field("kafka_partition", pa.int32(), nullable=False),
    pa.field("kafka_offset", pa.int64(), nullable=False),
    pa.field("kafka_timestamp_ms", pa.int64(), nullable=False),
]
LINEAGE_NAMES = [f.name for f in LINEAGE_FIELDS]

ARCHIVE_TRADE_SCHEMA = pa.schema([*TRADE_SCHEMA, *LINEAGE_FIELDS])
"""A valid trade in ``trades/``: :data:`~candle_core.codec.TRADE_SCHEMA` + lineage."""

SPEED_CANDLE_SCHEMA = pa.schema([*CANDLE_SCHEMA, *LINEAGE_FIELDS])
"""A speed-layer candle in ``candles/source=speed/``: ``CANDLE_SCHEMA`` + lineage."""

INVALID_SCHEMA = pa.schema([
    *LINEAGE_FIELDS,
    pa.field("key", pa.binary()),
    pa.field("value", pa.binary()),
    pa.field("reason", pa.string(), nullable=False),
    pa.field("detail", pa.string(), nullable=False),
])
"""A record that failed validation, in ``invalid/``: coordinates, bytes and the reason."""
