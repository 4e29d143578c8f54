"""``candles batch`` for one date: master dataset -> exact candles of every interval.

Reads only the date's (and the asked symbols') files, applies the contract's dedup, folds
1 s candles with the streaming engine, rolls them up, and writes one file per interval and
symbol to ``candles/source=batch/interval=<label>/date=<date>/<SYMBOL>.parquet``.
Validation happened when the archive parsed each record (the master dataset holds valid
trades only); rows are never re-validated differently here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from batch_layer.candles import every_interval
from batch_layer.dedup import ROW_ID
from batch_layer.duplicates import find_duplicates
from batch_layer.exceptions import BatchIntervalError
from batch_layer.output import to_table
from batch_layer.source import date_files, parse_date, scan
from candle_core.settings import CandlesSettings
from candle_core.windows import BASE_INTERVAL_US, interval_label
from storage.exceptions import DatasetNotFoundError
from storage.layout import US_PER_DAY, candles_dir, trades_dir
from storage.parquet_io import encode
from storage.store import Store

BATCH_SOURCE = "batch"
Progress = Callable[[str], None]


@dataclass
class BatchSummary:
    """What one batch run read and wrote."""

    date: str
    symbols: list[str]
    trades_used: int = 0
    duplicates: int = 0
    conflicts: int = 0
    candles: dict[str, int] = field(default_factory=dict)
    files: int = 0
    seconds: float = 0.0


def check_intervals(intervals_us: tuple[int, ...]) -> None:
    for interval_us in intervals_us:
        if US_PER_DAY % interval_us:
            raise BatchIntervalError(interval_label(interval_us))


def candles_of_date(store: Store, settings: CandlesSettings, date: str,
                    symbols: list[str] | None = None, progress: Progress | None = None
                    ) -> tuple[dict[int, pl.DataFrame], BatchSummary]:
    """Every interval's candles for ``date`` (computed, not written)."""
    check_intervals(settings.intervals_us)
    files = date_files(store, parse_date(date).isoformat(), symbols)
    if not files.by_symbol:
        raise DatasetNotFoundError(f"{store.root_uri}/{trades_dir(date)}", "no trades for "
                                   f"symbols {symbols or 'any'}; check --date and the root")
    summary = BatchSummary(date, sorted(files.by_symbol))
    dedup = find_duplicates(store, files, settings.batch_dedup_bucket_rows, progress=progress)
    summary.duplicates, summary.conflicts = dedup.duplicates, dedup.conflicts
    trades = scan(store, files.uris)
    if dedup.losers.height:
        trades = trades.join(dedup.losers.lazy(), on=list(ROW_ID), how="anti")
    frames = every_interval(trades, settings.intervals_us)
    summary.trades_used = int(frames[BASE_INTERVAL_US]["trade_count"].sum())
    if progress is not None:
        progress(f"folded {summary.trades_used:,} trades into 1s candles")
    return frames, summary


def run_batch(store: Store, settings: CandlesSettings, date: str,
              symbols: list[str] | None = None, progress: Progress | None = None
              ) -> BatchSummary:
    """Compute and write every interval's candles for ``date``."""
    began = time.perf_counter()
    frames, summary = candles_of_date(store, settings, date, symbols, progress)
    for interval_us, frame in frames.items():
        label = interval_label(interval_us)
        summary.candles[label] = frame.height
        for part in frame.partition_by("symbol"):
            symbol = part["symbol"][0]
            store.write_bytes(f"{candles_dir(BATCH_SOURCE, label, date)}/{symbol}.parquet",
                              encode(to_table(part), sealed=True))
            summary.files += 1
    summary.seconds = time.perf_counter() - began
    return summary
