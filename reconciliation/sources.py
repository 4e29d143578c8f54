"""What reconciliation reads from the master dataset for one date.

Speed candles (``candles/source=speed``, archived from the ``candles`` topic), batch
candles (``candles/source=batch``, written by ``candles batch``), and for attribution the
speed layer's side outputs (``late/``, ``dlq/``) and the trades the batch layer dropped
as duplicates (``duplicates/``, also written by ``candles batch``). Everything comes through
:func:`storage.layout.live_files`, so temp files and superseded chunks are never read.
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa

from candle_core.codec import CANDLE_SCHEMA
from storage.layout import (
    SPEED_SOURCE,
    candles_dir,
    dlq_dir,
    duplicates_dir,
    late_dir,
    live_files,
)
from storage.schemas import DEAD_LETTER_SCHEMA, DUPLICATE_TRADE_SCHEMA, LATE_TRADE_SCHEMA
from storage.speed_candles import read_speed_candles
from storage.store import Store


def file_uris(store: Store, directory: str) -> list[str]:
    return [store.uri(entry.path) for entry in live_files(store.list_files(directory))]


def read_candles(store: Store, source: str, interval: str, date: str) -> pl.DataFrame:
    """One side's candles of one interval and date (an empty frame when there are none).

    Speed candles come with every revision, its number and its Kafka position
    (:func:`storage.speed_candles.read_speed_candles`), so that the comparison can take
    the latest revision of each and still find an emission archived twice.
    """
    if source == SPEED_SOURCE:
        return read_speed_candles(store, interval, date)
    return read_directory(store, candles_dir(source, interval, date), CANDLE_SCHEMA,
                          CANDLE_SCHEMA.names)


def read_late(store: Store, date: str) -> pl.DataFrame:
    """The trades the speed layer routed to ``trades.late`` whose event time is on ``date``."""
    columns = ["symbol", "trade_id", "ts_us", "price", "size", "venue", "side",
               "late_by_us", "kafka_partition", "kafka_offset"]
    return read_directory(store, late_dir(date), LATE_TRADE_SCHEMA, columns)


def read_dead_letters(store: Store, date: str) -> pl.DataFrame:
    """``trades.dlq`` records of ``date`` that still name a symbol and a time."""
    frame = read_directory(store, dlq_dir(date), DEAD_LETTER_SCHEMA,
                           ["symbol", "trade_id", "ts_us", "reason"])
    return frame.filter(pl.col("symbol").is_not_null() & pl.col("ts_us").is_not_null())


def read_directory(store: Store, directory: str, schema: pa.Schema, columns: list[str]
                   ) -> pl.DataFrame:
    """``columns`` of the live files under ``directory``; with no files, a typed empty
    frame (of ``schema``), so joins and filters work the same either way."""
    uris = file_uris(store, directory)
    if not uris:
        return _empty(schema, columns)
    return pl.read_parquet(uris, columns=columns, storage_options=store.polars_options(),
                           hive_partitioning=False)


def _empty(schema: pa.Schema, columns: list[str]) -> pl.DataFrame:
    frame = pl.from_arrow(schema.empty_table().select(columns))
    assert isinstance(frame, pl.DataFrame)
    return frame


def read_duplicates(store: Store, date: str) -> pl.DataFrame:
    """The trades of ``date`` that ``candles batch`` dropped as duplicates (symbol, id,
    time), from its ``duplicates/`` output (empty when it dropped none)."""
    return read_directory(store, duplicates_dir(date), DUPLICATE_TRADE_SCHEMA,
                          ["symbol", "trade_id", "ts_us"])
