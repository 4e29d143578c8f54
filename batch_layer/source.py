"""The master dataset of one date, read as Polars frames, with partition pruning.

Only the ``date=`` directory asked for (and, for dedup, its neighbours) is listed, and only
the ``symbol=`` directories asked for; files come through :func:`storage.layout.live_files`
(no temp files, no chunk files a compacted file supersedes). The Hive directories are not
read as columns: a file's rows carry their ``symbol``, and a caller knows its date.

Fixed-point ``price`` and ``size`` are read as their unscaled Int64 values: a
``decimal128`` column's physical value *is* the contract's fixed-point integer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from batch_layer.exceptions import BadDateError
from storage.layout import live_files, trades_dir
from storage.store import Store

SYMBOL_PREFIX = "symbol="
FIXED_POINT = (pl.col("price").to_physical().cast(pl.Int64),
               pl.col("size").to_physical().cast(pl.Int64))


@dataclass(frozen=True)
class DateFiles:
    """The live trade files of one date, per symbol (URIs Polars can scan)."""

    date: str
    by_symbol: dict[str, list[str]]


def parse_date(value: str) -> dt.date:
    """A ``YYYY-MM-DD`` string as a date (raises :class:`BadDateError`)."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadDateError(value) from None


def shift(date: str, days: int) -> str:
    return (parse_date(date) + dt.timedelta(days=days)).isoformat()


def date_symbols(store: Store, date: str) -> list[str]:
    """Every symbol with a directory under the date (listing only, no file read)."""
    return [d.removeprefix(SYMBOL_PREFIX) for d in store.list_dirs(trades_dir(date))
            if d.startswith(SYMBOL_PREFIX)]


def date_files(store: Store, date: str, symbols: list[str] | None = None) -> DateFiles:
    """The live files of ``date``, pruned to ``symbols`` (all when None)."""
    present = date_symbols(store, date)
    wanted = present if symbols is None else [s for s in present if s in set(symbols)]
    by_symbol: dict[str, list[str]] = {}
    for symbol in wanted:
        files = live_files(store.list_files(trades_dir(date, symbol)))
        if files:
            by_symbol[symbol] = [store.uri(f.path) for f in files]
    return DateFiles(date, by_symbol)


def scan_columns(store: Store, uris: Sequence[str], columns: Sequence[str]) -> pl.LazyFrame:
    """``columns`` of the files, without the Hive columns (``price``/``size`` as Int64)."""
    frame = pl.scan_parquet(list(uris), hive_partitioning=False,
                            storage_options=store.polars_options()).select(columns)
    fixed = [expr for expr in FIXED_POINT if expr.meta.output_name() in columns]
    return frame.with_columns(*fixed) if fixed else frame


def read_columns(store: Store, uris: Sequence[str], columns: Sequence[str]) -> pl.DataFrame:
    """:func:`scan_columns`, read now (files in parallel)."""
    return scan_columns(store, uris, columns).collect()


def row_count(store: Store, uris: Sequence[str]) -> int:
    """Rows in the files, from their footers."""
    if not uris:
        return 0
    return int(pl.scan_parquet(list(uris), storage_options=store.polars_options(),
                               hive_partitioning=False).select(pl.len()).collect().item())
