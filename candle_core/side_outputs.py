"""What the speed layer writes besides candles: late trades and dead letters (their wire format).

A dead letter keeps the original key and bytes untouched as its key and value; why and
where it came from travel as headers (the Kafka Connect DLQ convention), so a fixed record
can be re-produced as it was. A late trade is wrapped with how late it was.
"""

from __future__ import annotations

import msgspec

HEADER_REASON = "candles.reason"
HEADER_DETAIL = "candles.detail"
HEADER_TOPIC = "candles.source.topic"
HEADER_PARTITION = "candles.source.partition"
HEADER_OFFSET = "candles.source.offset"
HEADER_TIMESTAMP = "candles.source.timestamp_ms"


DLQ_HEADER_NAMES = (HEADER_REASON, HEADER_DETAIL, HEADER_TOPIC, HEADER_PARTITION,
                    HEADER_OFFSET, HEADER_TIMESTAMP)  # in this order; the native path too
MAX_DETAIL_BYTES = 1000


def dlq_headers(
    reason: str, detail: str, topic: str, partition: int, offset: int, timestamp_ms: int
) -> list[tuple[str, str | bytes | None]]:
    """Headers of a dead letter: the reason code, a readable detail and the coordinates."""
    return [
        (HEADER_REASON, reason.encode()),
        (HEADER_DETAIL, detail.encode()[:MAX_DETAIL_BYTES]),
        (HEADER_TOPIC, topic.encode()),
        (HEADER_PARTITION, str(partition).encode()),
        (HEADER_OFFSET, str(offset).encode()),
        (HEADER_TIMESTAMP, str(timestamp_ms).encode()),
    ]


Headers = list[tuple[str, str | bytes | None]] | dict[str, str | bytes | None] | None


def header(headers: Headers, name: str) -> str | None:
    """A header's value as text (the last one of that name), or None if absent."""
    found = None
    pairs = headers.items() if isinstance(headers, dict) else headers or []
    for key, value in pairs:
        if key == name:
            found = value.decode() if isinstance(value, bytes) else value
    return found


class LateTrade(msgspec.Struct):
    """The value of a ``trades.late`` message."""

    late_by_us: int
    watermark_us: int
    topic: str
    partition: int
    offset: int
    kafka_ts_ms: int
    trade: msgspec.Raw


_ENCODER = msgspec.json.Encoder()


def encode_late(late: LateTrade) -> bytes:
    return _ENCODER.encode(late)


def decode_late(raw: bytes) -> LateTrade:
    return msgspec.json.decode(raw, type=LateTrade)
