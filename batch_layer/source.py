"""The master dataset of one date as a Polars lazy frame, with partition pruning.

Only the ``date=`` directory asked for (and, for dedup, its neighbours) is listed, and only
the ``symbol=`` directories asked for; files come through :func:`storage.layout.live_files`
(no temp files, no chunk files a compacted file supersedes). Hive columns are typed by an
explicit schema, never guessed from the values.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from batch_layer.exceptions import BadDateError
from storage.layout import live_files, trades_dir
from storage.store import Store

HIVE_SCHEMA = {"date": pl.Date, "symbol": pl.String}
SYMBOL_PREFIX = "symbol="


@dataclass(frozen=True)
class DateFiles:
    """The live trade files of one date, per symbol (URIs Polars can scan)."""

    date: str
    by_symbol: dict[str, list[str]]

    @property
    def uris(self) -> list[str]:
        return [uri for symbol in sorted(self.by_symbol) for uri in self.by_symbol[symbol]]


def parse_date(value: str) -> dt.date:
    """A ``YYYY-MM-DD`` string as a date (raises :class:`BadDateError`)."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadDateError(value) from None


def shift(date: str, days: int) -> str:
    return (parse_date(date) + dt.timedelta(days=days)).isoformat()


def date_files(store: Store, date: str, symbols: list[str] | None = None) -> DateFiles:
    """The live files of ``date``, pruned to ``symbols`` (all when None)."""
    present = [d.removeprefix(SYMBOL_PREFIX) for d in store.list_dirs(trades_dir(date))
               if d.startswith(SYMBOL_PREFIX)]
    wanted = present if symbols is None else [s for s in present if s in set(symbols)]
    by_symbol: dict[str, list[str]] = {}
    for symbol in wanted:
        files = live_files(store.list_files(trades_dir(date, symbol)))
        if files:
            by_symbol[symbol] = [store.uri(f.path) for f in files]
    return DateFiles(date, by_symbol)


def scan(store: Store, uris: list[str]) -> pl.LazyFrame:
    """Trades with fixed-point ``price``/``size`` as Int64, plus lineage and the date."""
    frame = pl.scan_parquet(uris, hive_partitioning=True, hive_schema=HIVE_SCHEMA,
                            storage_options=store.polars_options())
    return frame.with_columns(
        pl.col("price").to_physical().cast(pl.Int64),
        pl.col("size").to_physical().cast(pl.Int64),
    )
