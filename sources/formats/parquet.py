"""Parquet inputs: the project's message format, or a plain typed table of trades.

* Messages (``writers.MESSAGE_SCHEMA``): ``key`` (string), ``value`` (binary or string),
  ``timestamp_us`` (int64); replayed exactly as stored.
* Trades: ``symbol``, ``trade_id``, ``ts``, ``price``, ``size`` (+ optional ``venue``,
  ``side``, ``recv_ts``). ``ts``/``recv_ts`` are int64 epoch µs or Arrow timestamps;
  ``price``/``size`` may be decimal, string, integer (whole units) or float (read by its
  shortest round-trip repr, so ``0.1`` stays ``0.1``). Rows become trade JSON like
  ``Trade.to_wire()``; a bad row stops the replay with its row number.
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

MESSAGE_COLUMNS = frozenset({"key", "value", "timestamp_us"})
TRADE_COLUMNS = frozenset({"symbol", "trade_id", "ts", "price", "size"})
BATCH_ROWS = 65_536
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def read_parquet(path: Path) -> Iterator[Record]:
    """The records of a messages or trades Parquet file, in row order."""
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise SourceFormatError(path, 0, f"not a readable Parquet file: {exc}") from None
    names = set(parquet.schema_arrow.names)
    if names >= MESSAGE_COLUMNS:
        return _messages(parquet)
    if names >= TRADE_COLUMNS:
        return _trades(parquet, path)
    raise SourceFormatError(path, 0, f"columns {sorted(names)} are neither the message format "
                            "(key, value, timestamp_us) nor trades (symbol, trade_id, ts, "
                            "price, size)")


def _messages(parquet: pq.ParquetFile) -> Iterator[Record]:
    for batch in parquet.iter_batches(BATCH_ROWS, columns=sorted(MESSAGE_COLUMNS)):
        keys, values, stamps = (batch.column(name).to_pylist()
                                for name in ("key", "value", "timestamp_us"))
        for key, value, stamp in zip(keys, values, stamps, strict=True):
            yield Record(_bytes(key), _bytes(value), int(stamp))


def _bytes(value: str | bytes | None) -> bytes:
    if value is None:
        return b""
    return value.encode() if isinstance(value, str) else value


def _trades(parquet: pq.ParquetFile, path: Path) -> Iterator[Record]:
    row = 0
    for batch in parquet.iter_batches(BATCH_ROWS):
        for values in batch.to_pylist():
            row += 1
            yield _trade_row(values, path, row)


def _trade_row(values: dict[str, Any], path: Path, row: int) -> Record:
    try:
        amounts = [exact_decimal_text(values[name]) for name in ("price", "size")]
        trade = Trade(str(values["symbol"]), int(values["trade_id"]), _us(values["ts"]),
                      fixed_amount(amounts[0], "price", path, row),
                      fixed_amount(amounts[1], "size", path, row),
                      values.get("venue"), values.get("side"))
    except (TypeError, ValueError) as exc:
        raise SourceFormatError(path, row, f"row {row}: {exc}") from None
    recv = values.get("recv_ts")
    return trade_record(trade, None if recv is None else _us(recv))


def _us(value: Any) -> int:
    """Epoch µs from an int or a (timezone-aware or UTC-naive) Arrow timestamp value."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, datetime):  # from an Arrow timestamp column; naive means UTC
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return (aware - EPOCH) // timedelta(microseconds=1)
    raise TypeError(f"{value!r} is not epoch microseconds or a timestamp")
