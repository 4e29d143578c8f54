"""The contract's candle arithmetic as Polars expressions over one symbol's trades (held
to ``candle_core`` by a parity test, bit for bit).

- window: ``ts_us - ts_us % interval_us`` (:func:`candle_core.windows.window_start`);
- open/close: the price of the trade with the smallest/largest ``(ts_us, trade_id)``.
  Trades are put in that order first (usually they already are: the archive writes each
  file sorted, and a check costs one pass), so open and close are simply the first and
  last trade of each window, and the windows are contiguous runs;
- volume and notional (``sum(price * size)``) as exact Int128 sums;
- VWAP: ``q, r = divmod(notional, volume); q + (2r >= volume)``
  (:func:`candle_core.fixed_point.round_half_up_div`);
- a larger interval is a rollup of 1 s candles that merges exactly like
  :func:`candle_core.candle.merge`.

A *partial* frame holds ``window_start_us`` and the sums and extremes of a window
(:data:`PARTIAL`); :func:`finish` adds the symbol, the interval, the end and the VWAP.
No ``group_by_dynamic``: a plain ``group_by`` on the window column, whose defaults cannot
change under us.
"""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl

from candle_core.windows import BASE_INTERVAL_US, window_end, window_start

I128 = pl.Int128
FIRST_KEY = pl.struct("first_ts_us", "first_trade_id")
LAST_KEY = pl.struct("last_ts_us", "last_trade_id")
PARTIAL = ("window_start_us", "open", "high", "low", "close", "volume", "notional",
           "trade_count", "first_ts_us", "last_ts_us", "first_trade_id", "last_trade_id")
COLUMNS = ("symbol", "interval_us", "window_start_us", "window_end_us", "open", "high", "low",
           "close", "volume", "notional", "vwap", "trade_count", "first_ts_us", "last_ts_us",
           "first_trade_id", "last_trade_id")
TRADE_COLUMNS = ("trade_id", "ts_us", "price", "size")
FOLD_ROWS = 1 << 20


def window(column: str, interval_us: int) -> pl.Expr:
    """Start of the epoch-aligned window holding ``column`` (floor, as in the contract)."""
    return pl.col(column) - pl.col(column) % interval_us


def in_event_order(trades: pl.DataFrame) -> pl.DataFrame:
    """``trades`` sorted by ``(ts_us, trade_id)``; returned as is when already sorted."""
    ts, ids = trades["ts_us"].to_numpy(), trades["trade_id"].to_numpy()
    if not bool(np.all(ts[1:] >= ts[:-1])):
        return trades.sort("ts_us", "trade_id")
    tied = ts[1:] == ts[:-1]
    if tied.any() and not bool(np.all(ids[1:][tied] > ids[:-1][tied])):
        return trades.sort("ts_us", "trade_id")
    return trades


def one_second(trades: pl.DataFrame, fold_rows: int = FOLD_ROWS) -> pl.DataFrame:
    """Partial 1 s candles, by window, from deduplicated trades of one symbol.

    Folded in slices of about ``fold_rows`` trades cut at window starts (so no window is
    split): the exact Int128 arithmetic needs 16 bytes per trade and operand, and that
    memory should not grow with the batch.
    """
    ordered = in_event_order(trades.select(TRADE_COLUMNS))
    cuts = window_cuts(ordered["ts_us"].to_numpy(), fold_rows)
    parts = [fold(ordered.slice(begin, end - begin))
             for begin, end in itertools.pairwise(cuts)]
    return pl.concat(parts) if len(parts) != 1 else parts[0]


def window_cuts(ts_us: np.ndarray, rows: int) -> list[int]:
    """Row positions ``0 = c0 < c1 < ... = len`` about ``rows`` apart, each the first
    trade of a 1 s window (``ts_us`` ascending)."""
    cuts = [0]
    while len(ts_us) - cuts[-1] > rows:
        at = int(ts_us[cuts[-1] + rows])
        cut = int(np.searchsorted(ts_us, window_start(at, BASE_INTERVAL_US), side="left"))
        if cut <= cuts[-1]:  # one window holds more than ``rows`` trades
            cut = int(np.searchsorted(ts_us, window_end(at, BASE_INTERVAL_US)))
        cuts.append(cut)
    if cuts[-1] < len(ts_us) or len(cuts) == 1:
        cuts.append(len(ts_us))
    return cuts


def fold(ordered: pl.DataFrame) -> pl.DataFrame:
    """Partial 1 s candles of trades in event order."""
    price, size = pl.col("price"), pl.col("size")
    start = window("ts_us", BASE_INTERVAL_US).set_sorted().alias("window_start_us")
    return ordered.group_by(start, maintain_order=True).agg(
        open=price.first(), high=price.max(), low=price.min(), close=price.last(),
        volume=volume(ordered), notional=(price.cast(I128) * size.cast(I128)).sum(),
        trade_count=pl.len().cast(pl.Int64),
        first_ts_us=pl.col("ts_us").first(), last_ts_us=pl.col("ts_us").last(),
        first_trade_id=pl.col("trade_id").first(), last_trade_id=pl.col("trade_id").last(),
    )


def volume(trades: pl.DataFrame) -> pl.Expr:
    """The exact sum of ``size``: in Int64 when no sum of these rows can overflow it
    (sizes are positive; half the memory of Int128 for every row), else in Int128."""
    largest = trades["size"].max()
    if isinstance(largest, int) and largest * trades.height < 2**63:
        return pl.col("size").sum().cast(I128)
    return pl.col("size").cast(I128).sum()


def merged(parts: list[pl.DataFrame]) -> pl.DataFrame:
    """Partial 1 s candles of several batches as one frame, by window: windows that two
    batches share (a window's trades in files of two batches) are merged."""
    frame = pl.concat(parts) if len(parts) > 1 else parts[0]
    starts = frame["window_start_us"].to_numpy()
    if bool(np.all(starts[1:] > starts[:-1])):
        return frame
    return rollup(frame, BASE_INTERVAL_US, ordered=False)


def rollup(partial: pl.DataFrame, interval_us: int, ordered: bool = True) -> pl.DataFrame:
    """Partial candles of ``interval_us`` (a multiple of the input's) merged from smaller
    ones. ``ordered``: the input's windows are distinct and ascending, so a larger
    window's first and last pieces are its first and last rows."""
    start = window("window_start_us", interval_us)
    if ordered:
        first_of, last_of = (lambda c: pl.col(c).first()), (lambda c: pl.col(c).last())
        grouped = partial.group_by(start.set_sorted(), maintain_order=True)
    else:
        first_of, last_of = (lambda c: pl.col(c).min_by(FIRST_KEY)), (
            lambda c: pl.col(c).max_by(LAST_KEY))
        grouped = partial.sort("window_start_us").group_by(start, maintain_order=True)
    return grouped.agg(
        open=first_of("open"), high=pl.col("high").max(), low=pl.col("low").min(),
        close=last_of("close"), volume=pl.col("volume").sum(),
        notional=pl.col("notional").sum(), trade_count=pl.col("trade_count").sum(),
        first_ts_us=pl.col("first_ts_us").min(), last_ts_us=pl.col("last_ts_us").max(),
        first_trade_id=first_of("first_trade_id"), last_trade_id=last_of("last_trade_id"),
    )


def vwap() -> pl.Expr:
    """Round-half-up ``notional / volume``, in exact Int128 arithmetic."""
    notional, volume = pl.col("notional"), pl.col("volume")
    quotient, remainder = notional // volume, notional % volume
    return (quotient + (remainder * pl.lit(2, I128) >= volume).cast(I128)).cast(pl.Int64)


def finish(partial: pl.DataFrame, interval_us: int, symbol: str) -> pl.DataFrame:
    """Complete candles (columns :data:`COLUMNS`) from a partial frame."""
    return partial.with_columns(
        symbol=pl.lit(symbol, pl.String), interval_us=pl.lit(interval_us, pl.Int64),
        window_end_us=pl.col("window_start_us") + interval_us, vwap=vwap(),
    ).select(COLUMNS)


def every_interval(base: pl.DataFrame, intervals_us: tuple[int, ...], symbol: str
                   ) -> dict[int, pl.DataFrame]:
    """Each interval's candles of one symbol from its (merged) partial 1 s candles."""
    return {interval_us: finish(base if interval_us == BASE_INTERVAL_US
                                else rollup(base, interval_us), interval_us, symbol)
            for interval_us in intervals_us}
