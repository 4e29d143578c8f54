"""Archived candles read back with pyarrow: ``candles/source=<source>/interval=<label>/
date=<D>/`` as one ``CANDLE_SCHEMA`` table (the serving layer and the warehouse load read
them this way; reconciliation scans them with Polars). Speed candles come as the latest
revision of each (:mod:`storage.speed_candles`)."""

from __future__ import annotations

import pyarrow as pa

from candle_core.codec import CANDLE_SCHEMA
from storage.layout import SPEED_SOURCE, candles_dir, live_files
from storage.parquet_io import decode
from storage.speed_candles import CANDLE_KEY, read_latest_speed_candles
from storage.store import Store


def read_candle_table(store: Store, source: str, interval: str, date: str) -> pa.Table:
    """The live files of one source, interval and date (an empty table when none); for
    the speed source, the latest revision of each candle, by key."""
    if source == SPEED_SOURCE:
        latest = read_latest_speed_candles(store, interval, date).candles
        return conform(latest.sort(list(CANDLE_KEY)).to_arrow())
    tables = []
    for entry in live_files(store.list_files(candles_dir(source, interval, date))):
        data = store.read_bytes(entry.path)
        if data is not None:
            tables.append(conform(decode(data)))
    return pa.concat_tables(tables) if tables else CANDLE_SCHEMA.empty_table()


def conform(table: pa.Table) -> pa.Table:
    """The table's candle columns with exactly ``CANDLE_SCHEMA`` (no lineage, no metadata)."""
    return table.select(CANDLE_SCHEMA.names).cast(CANDLE_SCHEMA).replace_schema_metadata(None)
