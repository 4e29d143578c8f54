"""The record model shared by every source: one Kafka message to produce.

A :class:`Record` is ``(key, value, timestamp_us)``: key = symbol bytes (``b""`` when the
value has no readable symbol), value = the message bytes (a trade JSON object, or anything
at all for a malformed record), ``timestamp_us`` = the *arrival* time, which becomes the
Kafka message timestamp (CreateTime). Sources yield records in arrival order.

Kafka timestamps are milliseconds: :func:`kafka_timestamp_ms` rounds the arrival time
*up*, so an event is never ahead of its own message timestamp by the rounding alone.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import msgspec

from candle_core.parsing import MAX_TS_US
from candle_core.trade import Trade

US_PER_MS = 1_000


class Record(NamedTuple):
    """One message to produce: key, value and arrival time (µs since the Unix epoch)."""

    key: bytes
    value: bytes
    timestamp_us: int


def kafka_timestamp_ms(timestamp_us: int) -> int:
    """The Kafka message timestamp for an arrival time: rounded up to a whole ms."""
    return -(-timestamp_us // US_PER_MS)


class _Probe(msgspec.Struct):
    """The few fields a source needs to route and stamp a message; types checked later."""

    symbol: Any = None
    ts: Any = None
    recv_ts: Any = None


_PROBE = msgspec.json.Decoder(_Probe)


def probe(value: bytes) -> tuple[bytes, int | None]:
    """``(key, arrival_us)`` of a message value: key = its symbol if it is a string,
    arrival = ``recv_ts`` if a plausible epoch-µs int, else ``ts`` if one, else ``None``."""
    try:
        fields = _PROBE.decode(value)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return b"", None  # not a trade's shape (or nested too deep to probe): no key
    key = fields.symbol.encode() if isinstance(fields.symbol, str) else b""
    for stamp in (fields.recv_ts, fields.ts):
        if isinstance(stamp, int) and not isinstance(stamp, bool) and 0 <= stamp < MAX_TS_US:
            return key, stamp
    return key, None


_ENCODER = msgspec.json.Encoder()


def encode_wire(wire: dict[str, object]) -> bytes:
    """Compact JSON for a wire object (the same bytes whoever builds it)."""
    return _ENCODER.encode(wire)


def trade_record(trade: Trade, recv_ts_us: int | None = None) -> Record:
    """A valid trade as a record; arrival = ``recv_ts_us`` if given (then also on the
    wire as ``recv_ts``), else the event time."""
    wire = trade.to_wire()
    if recv_ts_us is not None:
        wire["recv_ts"] = recv_ts_us
    arrival_us = trade.ts_us if recv_ts_us is None else recv_ts_us
    return Record(trade.symbol.encode(), encode_wire(wire), arrival_us)
