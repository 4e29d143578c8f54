"""A chunk of the ``trades`` topic: each message parsed by the contract's ``TradeParser``.

Non-trade messages (orders, quotes: :mod:`candle_core.message_kind`) are counted by type
and not kept. Valid trades keep their fixed-point price and size (as exact ``decimal128``) and their
Kafka lineage; records the parser rejects keep their bytes and the reason. Files are cut
per event-time date, symbol and hour, sorted by ``(symbol, ts_us, trade_id, offset)``.
"""

from __future__ import annotations

import logging

import numpy as np
import pyarrow as pa

from candle_core.codec import TRADE_SCHEMA
from candle_core.fixed_point import PRICE_DECIMALS, SIZE_DECIMALS
from candle_core.message_kind import TYPE_PREFIX, non_trade_kind
from candle_core.parsing import TradeParser
from candle_core.reasons import Reason
from candle_core.trade import Rejection, Trade
from storage.arrow_fixed import decimal_column
from storage.layout import US_PER_HOUR, date_of, hour_of, trades_dir
from storage.rows import FilePart, InvalidRow, Message, invalid_parts, lineage
from storage.schemas import ARCHIVE_TRADE_SCHEMA
from storage.tables import runs, with_group

SORT_KEYS = ("symbol", "_group", "ts_us", "trade_id", "kafka_offset")
MAX_DETAIL_CHARS = 500
log = logging.getLogger(__name__)


class TradeRows:
    """The trades of one chunk of one partition."""

    kind = "trades"

    def __init__(self, parser: TradeParser) -> None:
        self.parser = parser
        self.valid: list[tuple[Trade, Message]] = []
        self.invalid: list[InvalidRow] = []
        self.skipped: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self.valid) + len(self.invalid) + sum(self.skipped.values())

    def add(self, message: Message) -> None:
        value = message.value or b""
        if value.startswith(TYPE_PREFIX) and (kind := non_trade_kind(value)) is not None:
            self.skipped[kind] = self.skipped.get(kind, 0) + 1  # orders, quotes: not kept
            return
        kafka_ts_us = message.timestamp_ms * 1_000 if message.timestamp_ms >= 0 else None
        try:
            result: Trade | Rejection = self.parser.parse(value, kafka_ts_us)
        except Exception as exc:  # a bug: set the record aside, never crash-loop on it
            log.error("internal error parsing offset %d", message.offset, exc_info=exc)
            detail = f"{type(exc).__name__}: {exc}"[:MAX_DETAIL_CHARS]
            result = Rejection(Reason.INTERNAL_ERROR, detail)
        if isinstance(result, Rejection):
            self.invalid.append((message, result.reason, result.detail))
        else:
            self.valid.append((result, message))

    def counts(self) -> dict[str, int]:
        return {"trade": len(self.valid), "invalid": len(self.invalid),
                **{f"skipped_{kind}": count for kind, count in self.skipped.items()}}

    def parts(self, topic: str, partition: int) -> list[FilePart]:
        return [*self._valid_parts(topic, partition),
                *invalid_parts(self.invalid, topic, partition)]

    def _valid_parts(self, topic: str, partition: int) -> list[FilePart]:
        if not self.valid:
            return []
        table = trade_table(self.valid, topic, partition)
        ts_us = table["ts_us"].to_numpy()
        parts = []
        for run in runs(with_group(table, ts_us // US_PER_HOUR), SORT_KEYS,
                        ["symbol", "_group"]):
            first_ts = run["ts_us"][0].as_py()
            directory = trades_dir(date_of(first_ts), run["symbol"][0].as_py())
            parts.append(FilePart(directory, hour_of(first_ts), run))
        return parts


def trade_table(rows: list[tuple[Trade, Message]], topic: str, partition: int) -> pa.Table:
    """Valid trades with lineage as a table with :data:`ARCHIVE_TRADE_SCHEMA`."""
    trades = [row[0] for row in rows]
    symbol, trade_id, ts_us, price, size, venue, side = zip(*trades, strict=True)
    columns: dict[str, pa.Array] = {
        "symbol": pa.array(symbol, pa.string()),
        "trade_id": pa.array(trade_id, pa.int64()),
        "ts_us": pa.array(ts_us, pa.int64()),
        "price": decimal_column(np.asarray(price, dtype=np.int64),
                                TRADE_SCHEMA.field("price").type.precision, PRICE_DECIMALS),
        "size": decimal_column(np.asarray(size, dtype=np.int64),
                               TRADE_SCHEMA.field("size").type.precision, SIZE_DECIMALS),
        "venue": pa.array(venue, pa.string()),
        "side": pa.array(side, pa.string()),
    }
    messages = [row[1] for row in rows]
    columns |= lineage(topic, partition, [m.offset for m in messages],
                       [m.timestamp_ms for m in messages])
    return pa.table(columns, schema=ARCHIVE_TRADE_SCHEMA)
