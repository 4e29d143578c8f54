"""Chunks of the speed layer's side outputs, kept for drift attribution.

``trades.late`` messages hold the late trade and how late it was; they go to
``late/date=<trade date>/``. ``trades.dlq`` messages hold a rejected record's original bytes
with the reason in headers; they go to ``dlq/date=<date>/``, where the date is the trade's
own when its bytes still name a time, else the message's. Either kind that cannot be read
is archived under ``invalid/`` with a reason: nothing is dropped.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec
import numpy as np
import pyarrow as pa

from candle_core.codec import trades_to_table
from candle_core.parsing import TradeParser
from candle_core.side_outputs import (
    HEADER_DETAIL,
    HEADER_OFFSET,
    HEADER_PARTITION,
    HEADER_REASON,
    HEADER_TOPIC,
    LateTrade,
    decode_late,
    header,
)
from candle_core.trade import Rejection, Trade
from storage.layout import US_PER_HOUR, date_of, dlq_dir, hour_of, late_dir
from storage.rows import FilePart, InvalidRow, Message, invalid_parts, lineage
from storage.schemas import DEAD_LETTER_SCHEMA, LATE_TRADE_SCHEMA
from storage.tables import runs

BAD_LATE = "bad_late_trade"
BAD_DEAD_LETTER = "bad_dead_letter"
HOUR_COLUMN = "_hour"


class LateRows:
    """The late trades of one chunk of one partition of ``trades.late``."""

    kind = "late"

    def __init__(self, parser: TradeParser) -> None:
        self.parser = parser
        self.valid: list[tuple[Trade, LateTrade, Message]] = []
        self.invalid: list[InvalidRow] = []

    def __len__(self) -> int:
        return len(self.valid) + len(self.invalid)

    def add(self, message: Message) -> None:
        try:
            late = decode_late(message.value or b"")
        except msgspec.DecodeError as exc:
            self.invalid.append((message, BAD_LATE, str(exc)))
            return
        trade = self.parser.parse(bytes(late.trade), late.kafka_ts_ms * 1_000)
        if isinstance(trade, Rejection):
            self.invalid.append((message, BAD_LATE, f"{trade.reason}: {trade.detail}"))
            return
        self.valid.append((trade, late, message))

    def counts(self) -> dict[str, int]:
        return {"late": len(self.valid), "invalid": len(self.invalid)}

    def parts(self, topic: str, partition: int) -> list[FilePart]:
        return [*self._valid_parts(topic, partition),
                *invalid_parts(self.invalid, topic, partition)]

    def _valid_parts(self, topic: str, partition: int) -> list[FilePart]:
        if not self.valid:
            return []
        table = trades_to_table(row[0] for row in self.valid)
        lates = [row[1] for row in self.valid]
        messages = [row[2] for row in self.valid]
        extra: dict[str, pa.Array] = {
            "late_by_us": pa.array([late.late_by_us for late in lates], pa.int64()),
            "watermark_us": pa.array([late.watermark_us for late in lates], pa.int64()),
            "source_topic": pa.array([late.topic for late in lates], pa.string()),
            "source_partition": pa.array([late.partition for late in lates], pa.int32()),
            "source_offset": pa.array([late.offset for late in lates], pa.int64()),
        }
        extra |= lineage(topic, partition, [m.offset for m in messages],
                         [m.timestamp_ms for m in messages])
        for name, column in extra.items():
            table = table.append_column(name, column)
        return by_hour(table.cast(LATE_TRADE_SCHEMA), table["ts_us"].to_numpy(), late_dir)


class DeadLetterRows:
    """The dead letters of one chunk of one partition of ``trades.dlq``."""

    kind = "dlq"

    def __init__(self) -> None:
        self.rows: list[tuple[Message, dict[str, object]]] = []
        self.invalid: list[InvalidRow] = []

    def __len__(self) -> int:
        return len(self.rows) + len(self.invalid)

    def add(self, message: Message) -> None:
        reason = header(list(message.headers), HEADER_REASON)
        if reason is None:
            self.invalid.append((message, BAD_DEAD_LETTER, f"no {HEADER_REASON} header"))
            return
        partition = header(list(message.headers), HEADER_PARTITION)
        offset = header(list(message.headers), HEADER_OFFSET)
        row: dict[str, object] = {
            "reason": reason,
            "detail": header(list(message.headers), HEADER_DETAIL) or "",
            "source_topic": header(list(message.headers), HEADER_TOPIC),
            "source_partition": int(partition) if partition and partition.isdigit() else None,
            "source_offset": int(offset) if offset and offset.isdigit() else None,
            **trade_coordinates(message.value),
        }
        self.rows.append((message, row))

    def counts(self) -> dict[str, int]:
        return {"dlq": len(self.rows), "invalid": len(self.invalid)}

    def parts(self, topic: str, partition: int) -> list[FilePart]:
        return [*self._valid_parts(topic, partition),
                *invalid_parts(self.invalid, topic, partition)]

    def _valid_parts(self, topic: str, partition: int) -> list[FilePart]:
        if not self.rows:
            return []
        messages = [row[0] for row in self.rows]
        columns = lineage(topic, partition, [m.offset for m in messages],
                          [m.timestamp_ms for m in messages])
        columns |= {"key": pa.array([m.key for m in messages], pa.binary()),
                    "value": pa.array([m.value for m in messages], pa.binary())}
        for field in DEAD_LETTER_SCHEMA:
            if field.name not in columns:
                columns[field.name] = pa.array([row[1][field.name] for row in self.rows],
                                               field.type)
        table = pa.table(columns).select(DEAD_LETTER_SCHEMA.names).cast(DEAD_LETTER_SCHEMA)
        when = [row["ts_us"] if row["ts_us"] is not None else m.timestamp_ms * 1_000
                for m, row in self.rows]
        return by_hour(table, np.asarray(when, dtype=np.int64), dlq_dir)


def by_hour(table: pa.Table, ts_us: np.ndarray, directory: Callable[[str], str]
            ) -> list[FilePart]:
    """Cut ``table`` into one part per hour of ``ts_us`` (one value per row), each in
    offset order, under ``directory(date)``."""
    hours = pa.array(np.asarray(ts_us, dtype=np.int64) // US_PER_HOUR, pa.int64())
    parts = []
    for run in runs(table.append_column(HOUR_COLUMN, hours), (HOUR_COLUMN, "kafka_offset"),
                    [HOUR_COLUMN]):
        first_us = run[HOUR_COLUMN][0].as_py() * US_PER_HOUR
        parts.append(FilePart(directory(date_of(first_us)), hour_of(first_us),
                              run.drop_columns([HOUR_COLUMN])))
    return parts


def trade_coordinates(value: bytes | None) -> dict[str, object]:
    """The symbol, trade id and time a rejected record's bytes still name (else None)."""
    found: dict[str, object] = {"symbol": None, "trade_id": None, "ts_us": None}
    try:
        wire = msgspec.json.decode(value or b"")
    except msgspec.DecodeError:
        return found
    if not isinstance(wire, dict):
        return found
    symbol, trade_id, ts = wire.get("symbol"), wire.get("trade_id"), wire.get("ts")
    if isinstance(symbol, str):
        found["symbol"] = symbol
    if _is_int64(trade_id):
        found["trade_id"] = trade_id
    if _is_int64(ts):
        found["ts_us"] = ts
    return found


def _is_int64(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and (
        -(2**63) <= value < 2**63)
