"""``candles profile``: data quality of one date of the master dataset, as plain numbers.

Per symbol, over the valid, deduplicated trades in event-time order:

- gaps: inter-trade gaps longer than each threshold (count, longest, time lost);
- outliers: trades whose price is more than ``outlier_pct`` % away from the rolling median
  of the previous ``outlier_window`` trades (fat fingers), with the worst examples;
- lateness: Kafka timestamp minus event time (quantiles, and how many exceed the
  allowed lateness, i.e. would be late for the speed layer);

and for the date: duplicates and conflicts (the dedup rule) and invalid records by reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from batch_layer.settings import BatchSettings
from batch_layer.source import date_files, parse_date
from batch_layer.symbol import deduplicated, symbol_files
from storage.exceptions import DatasetNotFoundError
from storage.layout import live_files, trades_dir
from storage.store import Store

QUANTILES = (0.5, 0.9, 0.99)
PROFILED = ("ts_us", "trade_id", "price", "kafka_timestamp_ms")


@dataclass(frozen=True)
class ProfileOptions:
    gap_thresholds_ms: tuple[int, ...] = (500, 5_000, 30_000)
    outlier_window: int = 101
    outlier_pct: float = 5.0
    worst: int = 5


def profile_date(store: Store, settings: BatchSettings, date: str,
                 symbols: list[str] | None = None, options: ProfileOptions | None = None
                 ) -> dict[str, Any]:
    """The profile of ``date`` as a JSON-ready dict."""
    options = options or ProfileOptions()
    date = parse_date(date).isoformat()
    files = date_files(store, date, symbols)
    if not files.by_symbol:
        raise DatasetNotFoundError(f"{store.root_uri}/{trades_dir(date)}",
                                   "no trades to profile; check --date and the root")
    report: dict[str, Any] = {"date": date, "duplicates": 0, "conflicts": 0,
                              "invalid": invalid_counts(store, date), "symbols": {}}
    for symbol_of_date in symbol_files(store, date, sorted(files.by_symbol)):
        batches = list(deduplicated(store, symbol_of_date, settings.batch_dedup_bucket_rows,
                                    PROFILED))
        conflicts = sum(int(b.dropped["conflict"].sum()) for b in batches)
        report["conflicts"] += conflicts
        report["duplicates"] += sum(b.dropped.height for b in batches) - conflicts
        frame = pl.concat([b.trades for b in batches]).sort("ts_us", "trade_id")
        report["symbols"][symbol_of_date.symbol] = {
            "trades": frame.height, "gaps": gaps(frame, options.gap_thresholds_ms),
            "outliers": outliers(frame, options),
            "lateness": lateness(frame, settings.allowed_lateness_us)}
    return report


def gaps(frame: pl.DataFrame, thresholds_ms: tuple[int, ...]) -> dict[str, Any]:
    gap_us = frame["ts_us"].diff().drop_nulls()
    found = {}
    for threshold in thresholds_ms:
        over = gap_us.filter(gap_us > threshold * 1_000)
        found[f"{threshold}ms"] = {"count": over.len(),
                                   "longest_ms": (over.max() or 0) // 1_000,  # type: ignore[operator]
                                   "total_ms": (over.sum() or 0) // 1_000}
    return found


def outliers(frame: pl.DataFrame, options: ProfileOptions) -> dict[str, Any]:
    median = pl.col("price").shift(1).rolling_median(options.outlier_window, min_samples=5)
    deviation = ((pl.col("price") - median).abs() * 100 / median).alias("deviation_pct")
    scored = frame.with_columns(median.alias("median"), deviation).filter(
        pl.col("deviation_pct") > options.outlier_pct)
    worst = scored.sort("deviation_pct", descending=True).head(options.worst)
    return {"count": scored.height,
            "worst": worst.select("ts_us", "trade_id", "price", "median",
                                  pl.col("deviation_pct").round(2)).to_dicts()}


def lateness(frame: pl.DataFrame, allowed_us: int) -> dict[str, Any]:
    late_us = frame["kafka_timestamp_ms"] * 1_000 - frame["ts_us"]
    result: dict[str, Any] = {f"p{round(q * 100)}_ms": (late_us.quantile(q) or 0) / 1_000
                              for q in QUANTILES}
    result["max_ms"] = (late_us.max() or 0) // 1_000  # type: ignore[operator]
    result["beyond_allowed"] = int((late_us > allowed_us).sum())
    return result


def invalid_counts(store: Store, date: str) -> dict[str, int]:
    """Invalid records archived for ``date`` (by Kafka timestamp), by reason."""
    uris = [store.uri(e.path) for topic in store.list_dirs("invalid")
            for e in live_files(store.list_files(f"invalid/{topic}/date={date}"))]
    if not uris:
        return {}
    counts = pl.scan_parquet(uris, storage_options=store.polars_options()).group_by(
        "reason").len().collect()
    return dict(sorted(zip(counts["reason"].to_list(), counts["len"].to_list(), strict=True)))
