"""Candles on the wire (JSON, for Kafka) and in tables (Arrow, for Parquet and warehouses).

Prices, volume and notional travel as exact decimal strings in JSON and as Arrow
``decimal128`` columns in tables: self-describing, exact, and readable by any tool. The
Arrow schema here is the one every layer writes and reads; nothing else defines it.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import msgspec
import pyarrow as pa

from candle_core.candle import Candle
from candle_core.fixed_point import (
    NOTIONAL_DECIMALS,
    PRICE_DECIMALS,
    SIZE_DECIMALS,
    format_fixed,
    from_fixed,
    to_fixed,
)
from candle_core.trade import Trade
from candle_core.windows import interval_label

PRICE_FIELDS = ("open", "high", "low", "close", "vwap")
INT_FIELDS = (
    "interval_us", "window_start_us", "window_end_us", "trade_count",
    "first_ts_us", "last_ts_us", "first_trade_id", "last_trade_id",
)
DECIMALS = {**dict.fromkeys(PRICE_FIELDS, PRICE_DECIMALS),
            "volume": SIZE_DECIMALS, "notional": NOTIONAL_DECIMALS}

CANDLE_SCHEMA = pa.schema(
    [
        pa.field("symbol", pa.string(), nullable=False),
        pa.field("interval", pa.string(), nullable=False),
        pa.field("interval_us", pa.int64(), nullable=False),
        pa.field("window_start_us", pa.int64(), nullable=False),
        pa.field("window_end_us", pa.int64(), nullable=False),
        *(pa.field(name, pa.decimal128(18, PRICE_DECIMALS), nullable=False)
          for name in ("open", "high", "low", "close")),
        pa.field("volume", pa.decimal128(38, SIZE_DECIMALS), nullable=False),
        pa.field("notional", pa.decimal128(38, NOTIONAL_DECIMALS), nullable=False),
        pa.field("vwap", pa.decimal128(18, PRICE_DECIMALS), nullable=False),
        pa.field("trade_count", pa.int64(), nullable=False),
        pa.field("first_ts_us", pa.int64(), nullable=False),
        pa.field("last_ts_us", pa.int64(), nullable=False),
        pa.field("first_trade_id", pa.int64(), nullable=False),
        pa.field("last_trade_id", pa.int64(), nullable=False),
    ]
)


REVISION_FIELD = "revision"
"""The wire's last field, present only on a revised candle (revision > 0): a record without
it is revision 0, so first emissions, batch candles and records written before revisions
existed read the same."""
CANDLE_KEY_SEPARATOR = "|"


def candle_to_wire(candle: Candle) -> dict[str, Any]:
    """The JSON object for a candle: decimal strings for prices, volume and notional."""
    wire: dict[str, Any] = {"symbol": candle.symbol, "interval": interval_label(candle.interval_us)}
    for name in CANDLE_SCHEMA.names[2:]:
        value = getattr(candle, name)
        wire[name] = format_fixed(value, DECIMALS[name]) if name in DECIMALS else value
    if candle.revision:
        wire[REVISION_FIELD] = candle.revision
    return wire


def candle_message_key(symbol: str, interval_us: int, window_start_us: int) -> bytes:
    """The Kafka key of a candle on ``candles``: one key per candle, so that the compacted
    topic keeps the latest revision of each (``BTCUSDT|1s|1767225600000000``)."""
    return CANDLE_KEY_SEPARATOR.join(
        (symbol, interval_label(interval_us), str(window_start_us))).encode()


_ENCODER = msgspec.json.Encoder()


def encode_candle(candle: Candle) -> bytes:
    """A candle as compact JSON bytes (the value of a ``candles`` message)."""
    return _ENCODER.encode(candle_to_wire(candle))


def native_candle_wire() -> list[tuple[str, str | int]]:
    """The layout :func:`encode_candle` writes, for the speed layer's native encoder
    (speed_layer/native/candle.c): each field in wire order with ``"str"``, ``"int"``, or
    the decimal places of its exact decimal string; then the revision field (written only
    when > 0) and the separator of :func:`candle_message_key`."""
    return [("symbol", "str"), ("interval", "str"),
            *((name, DECIMALS.get(name, "int")) for name in CANDLE_SCHEMA.names[2:]),
            (REVISION_FIELD, "revision"), (CANDLE_KEY_SEPARATOR, "key_separator")]


def candle_from_wire(wire: dict[str, Any]) -> Candle:
    """Inverse of :func:`candle_to_wire` (exact)."""
    values = {name: wire[name] for name in INT_FIELDS}
    for name, places in DECIMALS.items():
        values[name] = to_fixed(Decimal(wire[name]), places)
    return Candle(symbol=wire["symbol"], revision=wire.get(REVISION_FIELD, 0), **values)


def decode_candle(raw: bytes) -> Candle:
    """Inverse of :func:`encode_candle`."""
    return candle_from_wire(msgspec.json.decode(raw))


def candles_to_table(candles: Iterable[Candle]) -> pa.Table:
    """Candles as an Arrow table with :data:`CANDLE_SCHEMA`."""
    rows = list(candles)
    columns: dict[str, list[Any]] = {name: [] for name in CANDLE_SCHEMA.names}
    for candle in rows:
        columns["symbol"].append(candle.symbol)
        columns["interval"].append(interval_label(candle.interval_us))
        for name in CANDLE_SCHEMA.names[2:]:
            value = getattr(candle, name)
            columns[name].append(from_fixed(value, DECIMALS[name]) if name in DECIMALS
                                 else value)
    return pa.table(columns, schema=CANDLE_SCHEMA)


def candles_from_table(table: pa.Table) -> list[Candle]:
    """Candles from an Arrow table with :data:`CANDLE_SCHEMA` columns (extra columns ignored)."""
    candles = []
    for row in table.select(CANDLE_SCHEMA.names).to_pylist():
        values = {name: row[name] for name in INT_FIELDS}
        values.update({name: to_fixed(row[name], places) for name, places in DECIMALS.items()})
        candles.append(Candle(symbol=row["symbol"], **values))
    return candles


TRADE_SCHEMA = pa.schema(
    [
        pa.field("symbol", pa.string(), nullable=False),
        pa.field("trade_id", pa.int64(), nullable=False),
        pa.field("ts_us", pa.int64(), nullable=False),
        pa.field("price", pa.decimal128(18, PRICE_DECIMALS), nullable=False),
        pa.field("size", pa.decimal128(38, SIZE_DECIMALS), nullable=False),
        pa.field("venue", pa.string()),
        pa.field("side", pa.string()),
    ]
)
"""Columns of a valid trade in tables (the master dataset adds Kafka lineage beside them)."""


def trades_to_table(trades: Iterable[Trade]) -> pa.Table:
    """Valid trades as an Arrow table with :data:`TRADE_SCHEMA`."""
    rows = list(trades)
    return pa.table(
        {
            "symbol": [t.symbol for t in rows],
            "trade_id": [t.trade_id for t in rows],
            "ts_us": [t.ts_us for t in rows],
            "price": [from_fixed(t.price, PRICE_DECIMALS) for t in rows],
            "size": [from_fixed(t.size, SIZE_DECIMALS) for t in rows],
            "venue": [t.venue for t in rows],
            "side": [t.side for t in rows],
        },
        schema=TRADE_SCHEMA,
    )


def trades_from_table(table: pa.Table) -> list[Trade]:
    """Trades from a table with :data:`TRADE_SCHEMA` columns, in row order."""
    return [
        Trade(
            row["symbol"], row["trade_id"], row["ts_us"],
            to_fixed(row["price"], PRICE_DECIMALS), to_fixed(row["size"], SIZE_DECIMALS),
            row["venue"], row["side"],
        )
        for row in table.select(TRADE_SCHEMA.names).to_pylist()
    ]
