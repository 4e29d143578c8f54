"""The plain reference implementation that every layer is tested against.

Deliberately simple: no state machine, no watermarks, no rollups. Each interval is computed
directly from the trades, so "1 s rolled up to 1 m equals 1 m computed directly" is a real
check rather than a tautology.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from candle_core.candle import Candle, CandleBuilder
from candle_core.dedup import dedup
from candle_core.trade import Trade
from candle_core.windows import DEFAULT_INTERVALS, parse_interval, window_start


def candles_from_trades(
    trades: Iterable[Trade], intervals: Sequence[str | int] = DEFAULT_INTERVALS
) -> list[Candle]:
    """All candles for valid trades (given in offset order; duplicates are dropped by the
    contract's dedup rule), every interval, sorted by ``(symbol, interval_us, window_start_us)``.
    """
    kept, _, _ = dedup(list(trades))
    candles: list[Candle] = []
    for interval in intervals:
        interval_us = parse_interval(interval) if isinstance(interval, str) else interval
        builders: dict[tuple[str, int], CandleBuilder] = {}
        for trade in kept:
            start = window_start(trade.ts_us, interval_us)
            builder = builders.get((trade.symbol, start))
            if builder is None:
                builder = builders[(trade.symbol, start)] = CandleBuilder(
                    trade.symbol, interval_us, start
                )
            builder.add(trade.ts_us, trade.trade_id, trade.price, trade.size)
        candles.extend(builder.build() for builder in builders.values())
    candles.sort(key=lambda c: c.key)
    return candles
