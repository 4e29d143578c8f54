"""Run the dedup rule (:mod:`batch_layer.dedup`) over a date and its neighbours."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from batch_layer.dedup import CONTENT, ROW_ID, DedupResult, duplicated_ids, judge, no_duplicates
from batch_layer.source import DateFiles, date_files, scan, shift
from storage.store import Store

COPY_COLUMNS = ("symbol", "trade_id", *CONTENT, *ROW_ID, "date")


def find_duplicates(store: Store, files: DateFiles, bucket_rows: int, horizon_days: int = 1,
                    progress: Callable[[str], None] | None = None) -> DedupResult:
    """Duplicates and conflicts among ``files`` and the same symbols' files within
    ``horizon_days`` dates either side; the losers returned belong to ``files.date``."""
    symbols = sorted(files.by_symbol)
    neighbours = [date_files(store, shift(files.date, days), symbols)
                  for days in range(-horizon_days, horizon_days + 1) if days]
    copies = []
    for symbol in symbols:
        uris = [uri for d in (files, *neighbours) for uri in d.by_symbol.get(symbol, [])]
        frame = scan(store, uris)
        rows = frame.select(pl.len()).collect().item()
        ids = duplicated_ids(frame, rows, bucket_rows)
        if progress is not None:
            progress(f"dedup {symbol}: {rows:,} rows, {len(ids):,} repeated ids")
        if len(ids):
            found = frame.filter(pl.col("trade_id").is_in(ids.implode())).select(COPY_COLUMNS)
            copies.append(found.collect(engine="streaming"))
    if not copies:
        return no_duplicates()
    return judge(pl.concat(copies), files.date)
