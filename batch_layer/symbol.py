"""One symbol's trades of a date, deduplicated batch by batch (:mod:`batch_layer.plan`).

Per batch (at most ``bucket_rows`` rows, so memory does not grow with the day):

1. read the columns asked for plus the key columns, once;
2. the copies of the batch's ids on the neighbouring dates (a conflicting copy can carry
   another event time): only neighbour files whose ids overlap the batch's are read, and
   only their rows with one of the batch's ids are kept;
3. the ids seen twice (:func:`batch_layer.dedup.repeated_positions`); their few rows get
   the remaining columns (venue, side, ...) and are judged;
4. the batch's trades without the losers, and the losers themselves, are yielded.

An *oversized* batch (overlapping id ranges that add up to more than ``bucket_rows``)
finds its repeated ids in hash buckets first, then reads its files in row-bounded groups.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from batch_layer.dedup import (
    CONTENT,
    ON_DATE,
    ROW,
    ROW_ID,
    duplicated_ids,
    judge,
    repeated_positions,
)
from batch_layer.plan import Batch, plan_batches
from batch_layer.source import date_files, read_columns, row_count, scan_columns, shift
from storage.store import Store

KEY_COLUMNS = ("trade_id", "ts_us", "price", "size", *ROW_ID)
DETAIL_COLUMNS = ("venue", "side")
COPY_COLUMNS = (*KEY_COLUMNS, *DETAIL_COLUMNS)
DROPPED_COLUMNS = ("trade_id", *CONTENT, *ROW_ID, "conflict", "winner_kafka_partition",
                   "winner_kafka_offset")


@dataclass(frozen=True)
class SymbolFiles:
    """One symbol's live files of the date, and of the dates either side."""

    symbol: str
    uris: list[str]
    neighbours: list[str]


@dataclass(frozen=True)
class DedupedBatch:
    """A batch's trades of the date without the losers, and the losers (columns
    :data:`DROPPED_COLUMNS`)."""

    trades: pl.DataFrame
    dropped: pl.DataFrame


def symbol_files(store: Store, date: str, symbols: list[str]) -> Iterator[SymbolFiles]:
    """Each symbol's files of ``date``, with its files of the dates either side."""
    own = date_files(store, date, symbols)
    near = [date_files(store, shift(date, days), symbols) for days in (-1, 1)]
    for symbol in sorted(own.by_symbol):
        neighbours = [uri for d in near for uri in d.by_symbol.get(symbol, [])]
        yield SymbolFiles(symbol, own.by_symbol[symbol], neighbours)


def deduplicated(store: Store, files: SymbolFiles, bucket_rows: int,
                 columns: Sequence[str]) -> Iterator[DedupedBatch]:
    """The symbol's trades of the date, deduplicated, as ``columns``, batch by batch."""
    for batch in plan_batches(store, files.uris, bucket_rows):
        if batch.oversized:
            yield from _bucketed(store, batch, files.neighbours, bucket_rows, columns)
        else:
            yield _in_memory(store, batch, files.neighbours, columns)


def _in_memory(store: Store, batch: Batch, neighbours: list[str], columns: Sequence[str]
               ) -> DedupedBatch:
    trades = read_columns(store, batch.uris, _union(KEY_COLUMNS, columns))
    ids = trades["trade_id"].to_numpy()
    near = _neighbour_copies(store, neighbours, ids)
    positions = repeated_positions(np.concatenate([ids, near["trade_id"].to_numpy()]))
    own = positions[positions < len(ids)]
    if not len(own):
        return DedupedBatch(trades.select(columns), no_losers())
    mine = trades.select(KEY_COLUMNS)[own].with_columns(pl.Series(ROW, own, pl.UInt32))
    details = _details(store, batch.uris, own)
    copies = pl.concat([mine.join(details, on=ROW).with_columns(pl.lit(True).alias(ON_DATE)),
                        near.with_columns(pl.lit(None, pl.UInt32).alias(ROW),
                                          pl.lit(False).alias(ON_DATE))], how="diagonal")
    losers = judge(copies).filter(pl.col(ON_DATE))
    keep = np.ones(len(ids), dtype=bool)
    keep[losers[ROW].to_numpy()] = False
    return DedupedBatch(trades.filter(pl.Series(keep)).select(columns),
                        losers.select(DROPPED_COLUMNS))


def _neighbour_copies(store: Store, uris: list[str], ids: np.ndarray) -> pl.DataFrame:
    """Rows of the neighbouring dates whose id is one of ``ids`` (files whose statistics
    put their ids outside ``ids``' range are skipped unread)."""
    if not uris or not len(ids):
        return pl.DataFrame(schema=_copy_schema())
    return scan_columns(store, uris, COPY_COLUMNS).filter(
        pl.col("trade_id").is_between(int(ids.min()), int(ids.max()))
    ).filter(pl.col("trade_id").is_in(pl.Series(ids).implode())).collect()


def _details(store: Store, uris: Sequence[str], positions: np.ndarray) -> pl.DataFrame:
    """The detail columns of the rows at ``positions`` of ``uris`` read in order."""
    wanted = pl.Series(positions, dtype=pl.UInt32).implode()
    return scan_columns(store, uris, DETAIL_COLUMNS).with_row_index(ROW).filter(
        pl.col(ROW).is_in(wanted)).collect()


def _bucketed(store: Store, batch: Batch, neighbours: list[str], bucket_rows: int,
              columns: Sequence[str]) -> Iterator[DedupedBatch]:
    own = scan_columns(store, batch.uris, COPY_COLUMNS).with_columns(pl.lit(True).alias(ON_DATE))
    every = own
    if neighbours:
        near = scan_columns(store, neighbours, COPY_COLUMNS)
        every = pl.concat([own, near.with_columns(pl.lit(False).alias(ON_DATE))])
    ids = duplicated_ids(every, batch.rows + row_count(store, neighbours), bucket_rows)
    copies = every.filter(pl.col("trade_id").is_in(ids.implode())).collect(engine="streaming")
    losers = judge(copies).filter(pl.col(ON_DATE))
    dropped = losers.select(DROPPED_COLUMNS)
    for uris in _row_bounded(store, batch.uris, bucket_rows):
        trades = read_columns(store, uris, _union(KEY_COLUMNS, columns))
        kept = trades.join(losers.select(ROW_ID), on=list(ROW_ID), how="anti")
        del trades
        yield DedupedBatch(kept.select(columns), dropped)
        del kept
        dropped = dropped.clear()


def _row_bounded(store: Store, uris: Sequence[str], bucket_rows: int) -> Iterator[list[str]]:
    group: list[str] = []
    rows = 0
    for uri in uris:
        size = row_count(store, [uri])
        if group and rows + size > bucket_rows:
            yield group
            group, rows = [], 0
        group.append(uri)
        rows += size
    if group:
        yield group


def _union(first: Sequence[str], second: Sequence[str]) -> list[str]:
    return list(dict.fromkeys([*first, *second]))


def _copy_schema() -> dict[str, pl.DataType]:
    return {"trade_id": pl.Int64(), "ts_us": pl.Int64(), "price": pl.Int64(),
            "size": pl.Int64(), "kafka_partition": pl.Int32(), "kafka_offset": pl.Int64(),
            "venue": pl.String(), "side": pl.String()}


def no_losers() -> pl.DataFrame:
    """An empty frame of dropped trades."""
    return pl.DataFrame(schema={**_copy_schema(), "conflict": pl.Boolean(),
                                "winner_kafka_partition": pl.Int32(),
                                "winner_kafka_offset": pl.Int64()}).select(DROPPED_COLUMNS)
