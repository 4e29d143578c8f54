"""``candles batch`` for one date: master dataset -> exact candles of every interval.

Symbol by symbol (only the shard's, with ``--shard I/N``), batch by batch
(:mod:`batch_layer.symbol`): read once, drop duplicates, fold 1 s candles; then the
symbol's larger intervals are rolled up and everything is written, in the background
while the next symbol is computed (:mod:`batch_layer.writer`):

    candles/source=batch/interval=<label>/date=<date>/<SYMBOL>.parquet   one per interval
    duplicates/date=<date>/<SYMBOL>.parquet                              the dropped trades

Validation happened when the archive parsed each record (the master dataset holds valid
trades only); rows are never re-validated differently here.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import polars as pl

from batch_layer.candles import TRADE_COLUMNS, every_interval, merged, one_second
from batch_layer.exceptions import BatchIntervalError
from batch_layer.settings import BatchSettings
from batch_layer.shards import ALL, Shard
from batch_layer.source import date_symbols, parse_date
from batch_layer.summary import BatchSummary
from batch_layer.symbol import SymbolFiles, deduplicated, no_losers, symbol_files
from batch_layer.writer import SymbolCandles, SymbolWriter
from candle_core.windows import interval_label
from storage.exceptions import DatasetNotFoundError
from storage.layout import US_PER_DAY, trades_dir
from storage.store import Store

Progress = Callable[[str], None]


def check_intervals(intervals_us: tuple[int, ...]) -> None:
    for interval_us in intervals_us:
        if US_PER_DAY % interval_us:
            raise BatchIntervalError(interval_label(interval_us))


def run_batch(store: Store, settings: BatchSettings, date: str,
              symbols: list[str] | None = None, shard: Shard = ALL,
              progress: Progress | None = None) -> BatchSummary:
    """Compute and write every interval's candles of ``date`` for the shard's symbols."""
    began, cpu = time.perf_counter(), time.process_time()
    check_intervals(settings.intervals_us)
    date = parse_date(date).isoformat()
    chosen = _symbols(store, date, symbols)
    summary = BatchSummary(date, [s for s in chosen if shard.holds(s)], str(shard))
    with SymbolWriter(store, summary) as writer:
        for files in symbol_files(store, date, summary.symbols):
            writer.put(candles_of_symbol(store, settings, files, summary))
            if progress is not None:
                progress(f"{files.symbol}: {summary.trades_used:,} trades so far")
    summary.seconds, summary.cpu_seconds = time.perf_counter() - began, (
        time.process_time() - cpu)
    return summary


def _symbols(store: Store, date: str, symbols: list[str] | None) -> list[str]:
    present = date_symbols(store, date)
    chosen = present if symbols is None else [s for s in present if s in set(symbols)]
    if not chosen:
        raise DatasetNotFoundError(f"{store.root_uri}/{trades_dir(date)}", "no trades for "
                                   f"symbols {symbols or 'any'}; check --date and the root")
    return sorted(chosen)


def candles_of_symbol(store: Store, settings: BatchSettings, files: SymbolFiles,
                      summary: BatchSummary) -> SymbolCandles:
    """One symbol's candles (computed, not written); counts go to ``summary``."""
    parts, dropped = [], []
    batches = deduplicated(store, files, settings.batch_dedup_bucket_rows, TRADE_COLUMNS)
    while True:
        with summary.timing("read_dedup"):
            batch = next(batches, None)
        if batch is None:
            break
        with summary.timing("fold"):
            if batch.trades.height:
                parts.append(one_second(batch.trades))
        dropped.append(batch.dropped)
        summary.trades_used += batch.trades.height
        batch = None  # memory is one batch: let this one go before the next is read
    lost = pl.concat(dropped) if dropped else no_losers()
    summary.conflicts += int(lost["conflict"].sum())
    summary.duplicates += lost.height - int(lost["conflict"].sum())
    with summary.timing("fold"):
        frames = every_interval(merged(parts), settings.intervals_us, files.symbol) \
            if parts else {}
    return SymbolCandles(files.symbol, frames, lost)
