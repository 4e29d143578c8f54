"""The contract's candle arithmetic as Polars expressions (held to ``candle_core`` by a
parity test, bit for bit).

- window: ``ts_us - ts_us % interval_us`` (:func:`candle_core.windows.window_start`);
- open/close: the price of the trade with the smallest/largest ``(ts_us, trade_id)``,
  picked with ``min_by``/``max_by`` on a struct (compared field by field);
- volume and notional (``sum(price * size)``) as exact Int128 sums;
- VWAP: ``q, r = divmod(notional, volume); q + (2r >= volume)``
  (:func:`candle_core.fixed_point.round_half_up_div`);
- a larger interval is a rollup of 1 s candles that merges exactly like
  :func:`candle_core.candle.merge`.

No ``group_by_dynamic`` (DESIGN.md section 7): a plain ``group_by`` on the window column.
"""

from __future__ import annotations

import polars as pl

from candle_core.windows import BASE_INTERVAL_US

I128 = pl.Int128
FIRST_KEY = pl.struct("first_ts_us", "first_trade_id")
LAST_KEY = pl.struct("last_ts_us", "last_trade_id")
COLUMNS = ("symbol", "interval_us", "window_start_us", "window_end_us", "open", "high", "low",
           "close", "volume", "notional", "vwap", "trade_count", "first_ts_us", "last_ts_us",
           "first_trade_id", "last_trade_id")


def window(column: str, interval_us: int) -> pl.Expr:
    """Start of the epoch-aligned window holding ``column`` (floor, as in the contract)."""
    return pl.col(column) - pl.col(column) % interval_us


def vwap() -> pl.Expr:
    """Round-half-up ``notional / volume``, in exact Int128 arithmetic."""
    notional, volume = pl.col("notional"), pl.col("volume")
    quotient, remainder = notional // volume, notional % volume
    return (quotient + (remainder * pl.lit(2, I128) >= volume).cast(I128)).cast(pl.Int64)


def finish(frame: pl.LazyFrame, interval_us: int) -> pl.LazyFrame:
    """Add ``interval_us``, ``window_end_us`` and ``vwap``; order columns like a Candle."""
    return frame.with_columns(
        interval_us=pl.lit(interval_us, pl.Int64),
        window_end_us=pl.col("window_start_us") + interval_us,
        vwap=vwap(),
    ).select(COLUMNS)


def one_second(trades: pl.LazyFrame) -> pl.LazyFrame:
    """1 s candles from valid, deduplicated trades (fixed-point Int64 price and size)."""
    key = pl.struct("ts_us", "trade_id")
    price = pl.col("price")
    candles = trades.group_by("symbol", window_start_us=window("ts_us", BASE_INTERVAL_US)).agg(
        open=price.min_by(key), high=price.max(), low=price.min(), close=price.max_by(key),
        volume=pl.col("size").cast(I128).sum(),
        notional=(price.cast(I128) * pl.col("size").cast(I128)).sum(),
        trade_count=pl.len().cast(pl.Int64),
        first_ts_us=pl.col("ts_us").min(), last_ts_us=pl.col("ts_us").max(),
        first_trade_id=pl.col("trade_id").min_by(key),
        last_trade_id=pl.col("trade_id").max_by(key),
    )
    return finish(candles, BASE_INTERVAL_US)


def rollup(candles: pl.LazyFrame, interval_us: int) -> pl.LazyFrame:
    """Candles of ``interval_us`` (a multiple of the input's) merged from smaller ones."""
    rolled = candles.group_by("symbol", window_start_us=window("window_start_us", interval_us)
                              ).agg(
        open=pl.col("open").min_by(FIRST_KEY), high=pl.col("high").max(),
        low=pl.col("low").min(), close=pl.col("close").max_by(LAST_KEY),
        volume=pl.col("volume").sum(), notional=pl.col("notional").sum(),
        trade_count=pl.col("trade_count").sum(),
        first_ts_us=pl.col("first_ts_us").min(), last_ts_us=pl.col("last_ts_us").max(),
        first_trade_id=pl.col("first_trade_id").min_by(FIRST_KEY),
        last_trade_id=pl.col("last_trade_id").max_by(LAST_KEY),
    )
    return finish(rolled, interval_us)


def every_interval(trades: pl.LazyFrame, intervals_us: tuple[int, ...]
                   ) -> dict[int, pl.DataFrame]:
    """1 s candles with the streaming engine, then each larger interval rolled up from them."""
    base = one_second(trades).collect(engine="streaming")
    frames = {BASE_INTERVAL_US: base}
    for interval_us in intervals_us:
        if interval_us != BASE_INTERVAL_US:
            frames[interval_us] = rollup(base.lazy(), interval_us).collect()
    return frames
