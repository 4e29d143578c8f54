"""Trades as the batch layer sees them (a Polars frame with lineage), for pure tests."""

from __future__ import annotations

import polars as pl

from batch_layer.candles import every_interval
from batch_layer.dedup import ROW_ID, duplicated_ids, judge
from batch_layer.output import to_table
from candle_core.candle import Candle
from candle_core.codec import candles_from_table
from candle_core.trade import Trade

DATE = "2026-01-01"


def trade_frame(trades: list[Trade], date: str = DATE) -> pl.DataFrame:
    """Trades in offset order on partition 0, offsets 0..n-1."""
    return pl.DataFrame({
        "symbol": [t.symbol for t in trades], "trade_id": [t.trade_id for t in trades],
        "ts_us": [t.ts_us for t in trades], "price": [t.price for t in trades],
        "size": [t.size for t in trades], "venue": [t.venue for t in trades],
        "side": [t.side for t in trades],
        "kafka_partition": pl.Series([0] * len(trades), dtype=pl.Int32),
        "kafka_offset": list(range(len(trades))),
        "date": pl.Series([date] * len(trades)).str.to_date(),
    }, schema_overrides={"price": pl.Int64, "size": pl.Int64, "trade_id": pl.Int64,
                         "ts_us": pl.Int64, "venue": pl.String, "side": pl.String})


def batch_candles(frame: pl.DataFrame, intervals_us: tuple[int, ...]) -> list[Candle]:
    """The batch layer's candles for ``frame``: dedup, fold, roll up, encode, decode."""
    losers = pl.DataFrame(schema={"kafka_partition": pl.Int32, "kafka_offset": pl.Int64})
    candles: list[Candle] = []
    for symbol in frame["symbol"].unique().to_list():
        rows = frame.filter(pl.col("symbol") == symbol)
        ids = duplicated_ids(rows.lazy(), rows.height, bucket_rows=max(1, rows.height // 3))
        copies = rows.filter(pl.col("trade_id").is_in(ids.implode()))
        losers = pl.concat([losers, judge(copies, DATE).losers])
    kept = frame.lazy().join(losers.lazy(), on=list(ROW_ID), how="anti")
    for candle_frame in every_interval(kept, intervals_us).values():
        candles.extend(candles_from_table(to_table(candle_frame)))
    return sorted(candles, key=lambda c: c.key)
