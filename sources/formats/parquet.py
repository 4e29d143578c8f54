"""Parquet inputs: the project's message format, or a plain typed table of trades.

* Messages (``writers.MESSAGE_SCHEMA``): ``key`` (string), ``value`` (binary or string),
  ``timestamp_us`` (int64); replayed exactly as stored.
* Trades: ``symbol``, ``trade_id``, ``ts``, ``price``, ``size`` (+ optional ``venue``,
  ``side``, ``recv_ts``). ``ts``/``recv_ts`` are int64 epoch µs or Arrow timestamps;
  ``price``/``size`` may be decimal, string, integer (whole units) or float (read by its
  shortest round-trip repr, so ``0.1`` stays ``0.1``). Rows become trade JSON like
  ``Trade.to_wire()``; a bad row stops the replay with its row number.

With ``assign_ids`` a trade without an id (no ``trade_id`` column, or a null one) gets
one from its row (``sources.trade_ids``), and so does a message value without one.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from candle_core.trade import Trade
from sources.exceptions import SourceFormatError
from sources.formats.common import exact_decimal_text, fixed_amount
from sources.records import Record, trade_record
from sources.trade_ids import assigned_id, with_assigned_id

MESSAGE_COLUMNS = frozenset({"key", "value", "timestamp_us"})
TRADE_COLUMNS = frozenset({"symbol", "trade_id", "ts", "price", "size"})
NO_ID_COLUMNS = TRADE_COLUMNS - {"trade_id"}
BATCH_ROWS = 65_536
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def read_parquet(path: Path, assign_ids: bool = False) -> Iterator[Record]:
    """The records of a messages or trades Parquet file, in row order."""
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise SourceFormatError(path, 0, f"not a readable Parquet file: {exc}") from None
    names = set(parquet.schema_arrow.names)
    if names >= MESSAGE_COLUMNS:
        return _messages(parquet, path, assign_ids)
    if names >= TRADE_COLUMNS or (assign_ids and names >= NO_ID_COLUMNS):
        return _trades(parquet, path, assign_ids)
    if names >= NO_ID_COLUMNS:
        raise SourceFormatError(path, 0, "no trade_id column: pass --assign-ids to number the "
                                "trades by row (see docs/sources.md)")
    raise SourceFormatError(path, 0, f"columns {sorted(names)} are neither the message format "
                            "(key, value, timestamp_us) nor trades (symbol, trade_id, ts, "
                            "price, size)")


def _messages(parquet: pq.ParquetFile, path: Path, assign_ids: bool) -> Iterator[Record]:
    row = 0
    for batch in parquet.iter_batches(BATCH_ROWS, columns=sorted(MESSAGE_COLUMNS)):
        keys, values, stamps = (batch.column(name).to_pylist()
                                for name in ("key", "value", "timestamp_us"))
        for key, value, stamp in zip(keys, values, stamps, strict=True):
            row += 1
            message = _bytes(value)
            if assign_ids:
                message = with_assigned_id(message, row, path)
            yield Record(_bytes(key), message, int(stamp))


def _bytes(value: str | bytes | None) -> bytes:
    if value is None:
        return b""
    return value.encode() if isinstance(value, str) else value


def _trades(parquet: pq.ParquetFile, path: Path, assign_ids: bool) -> Iterator[Record]:
    row = 0
    for batch in parquet.iter_batches(BATCH_ROWS):
        for values in batch.to_pylist():
            row += 1
            yield _trade_row(values, path, row, assign_ids)


def _trade_row(values: dict[str, Any], path: Path, row: int, assign_ids: bool) -> Record:
    try:
        amounts = [exact_decimal_text(values[name]) for name in ("price", "size")]
        ts_us = _us(values["ts"])
        trade = Trade(str(values["symbol"]), _trade_id(values.get("trade_id"), ts_us, path, row,
                                                       assign_ids), ts_us,
                      fixed_amount(amounts[0], "price", path, row),
                      fixed_amount(amounts[1], "size", path, row),
                      values.get("venue"), values.get("side"))
    except (TypeError, ValueError) as exc:
        raise SourceFormatError(path, row, f"row {row}: {exc}") from None
    recv = values.get("recv_ts")
    return trade_record(trade, None if recv is None else _us(recv))


def _trade_id(value: Any, ts_us: int, path: Path, row: int, assign_ids: bool) -> int:
    """The row's id; assigned by position with ``assign_ids`` (then it must be null)."""
    if assign_ids:
        if value is not None:
            raise SourceFormatError(path, row, f"row {row}: trade_id {value!r} is set; "
                                    "--assign-ids is for tapes without ids: drop the flag")
        return assigned_id(ts_us, row, path)
    if value is None:
        raise SourceFormatError(path, row, f"row {row}: trade_id is missing (missing_field);"
                                " pass --assign-ids to number the trades by row")
    return int(value)


def _us(value: Any) -> int:
    """Epoch µs from an int or a (timezone-aware or UTC-naive) Arrow timestamp value."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, datetime):  # from an Arrow timestamp column; naive means UTC
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return (aware - EPOCH) // timedelta(microseconds=1)
    raise TypeError(f"{value!r} is not epoch microseconds or a timestamp")
