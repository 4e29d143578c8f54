"""The batch bars of one date (the truth) as the rows a load stages.

Read from ``candles/source=batch/interval=<label>/date=<D>/<SYMBOL>.parquet`` through the
archive store, conformed to :data:`candle_core.codec.CANDLE_SCHEMA` (exact ``decimal128``
prices, never floats), then given the columns of ``RAW.BARS_STAGE``: the run, the date and
the reconciliation verdict every loaded row carries.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

from candle_core.codec import CANDLE_SCHEMA
from storage.candle_files import conform
from storage.exceptions import DatasetNotFoundError
from storage.layout import BATCH_SOURCE, candles_dir, live_files
from storage.parquet_io import decode
from storage.store import Store

KEY = ("SYMBOL", "INTERVAL", "WINDOW_START_US")
BAR_COLUMNS = (*KEY, "BAR_DATE", "INTERVAL_US", "WINDOW_END_US", "OPEN", "HIGH", "LOW",
               "CLOSE", "VOLUME", "NOTIONAL", "VWAP", "TRADE_COUNT", "FIRST_TS_US",
               "LAST_TS_US", "FIRST_TRADE_ID", "LAST_TRADE_ID", "VERDICT", "RECONCILE_RUN_ID")
"""The columns of ``CORE.BARS`` a load writes (``LOAD_RUN_ID`` aside), in table order."""
STAGE_COLUMNS = ("LOAD_RUN_ID", "STAGED_US", *BAR_COLUMNS)


@dataclass(frozen=True)
class BatchBars:
    """Every bar of the asked intervals for one date, as ``CANDLE_SCHEMA`` rows."""

    date: str
    intervals: tuple[str, ...]
    table: pa.Table
    seconds: float

    @property
    def symbols(self) -> int:
        return len(self.table.column("symbol").unique())

    @property
    def keys(self) -> int:
        """Distinct ``(symbol, interval, window_start_us)``: the rows the warehouse gets."""
        return self.table.group_by(["symbol", "interval", "window_start_us"]).aggregate(
            []).num_rows


def read_batch_bars(store: Store, date: str, intervals: Sequence[str]) -> BatchBars:
    """The date's batch bars; :class:`DatasetNotFoundError` if an interval has none."""
    began = time.perf_counter()
    tables = []
    for label in intervals:
        directory = candles_dir(BATCH_SOURCE, label, date)
        files = live_files(store.list_files(directory))
        if not files:
            raise DatasetNotFoundError(
                f"{store.root_uri}/{directory}", f"no {label} batch bars: run `candles batch "
                f"--date {date}` first (with {label} in CANDLES_INTERVALS)")
        for entry in files:
            data = store.read_bytes(entry.path)
            if data is not None:
                tables.append(conform(decode(data)))
    table = pa.concat_tables(tables) if tables else CANDLE_SCHEMA.empty_table()
    return BatchBars(date, tuple(intervals), table, time.perf_counter() - began)


def stage_rows(bars: BatchBars, run_id: str, staged_us: int, verdict: str,
               reconcile_run_id: str | None) -> pa.Table:
    """``bars`` with the ``RAW.BARS_STAGE`` columns, in its column order."""
    source, rows = bars.table, bars.table.num_rows
    extra = {
        "LOAD_RUN_ID": pa.array([run_id] * rows, pa.string()),
        "STAGED_US": pa.array([staged_us] * rows, pa.int64()),
        "BAR_DATE": pa.array([dt.date.fromisoformat(bars.date)] * rows, pa.date32()),
        "VERDICT": pa.array([verdict] * rows, pa.string()),
        "RECONCILE_RUN_ID": pa.array([reconcile_run_id] * rows, pa.string()),
    }
    columns = [extra[name] if name in extra else source.column(name.lower())
               for name in STAGE_COLUMNS]
    return pa.table(columns, names=list(STAGE_COLUMNS))
