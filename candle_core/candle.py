"""Candle arithmetic: fold trades into a candle, merge candles, roll them up.

Every field is an exact integer. Open and close belong to the trades with the smallest and
largest ``(ts_us, trade_id)``, so a candle does not depend on the order trades arrived in,
and merging is associative and commutative. VWAP is ``notional / volume`` rounded half up
to the price scale (:func:`candle_core.fixed_point.round_half_up_div`), computed from the
exact sums at the end, never accumulated.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from candle_core.fixed_point import round_half_up_div
from candle_core.windows import window_start


@dataclass(frozen=True, slots=True)
class Candle:
    """One OHLCV bar for ``[window_start_us, window_end_us)``.

    Prices (``open``, ``high``, ``low``, ``close``, ``vwap``) are fixed-point at the price
    scale, ``volume`` at the size scale, ``notional`` (sum of price * size) at both scales.
    ``revision`` counts the speed layer's emissions of the same candle: 0 is the first, and
    each late trade inside the revision horizon emits the candle again, one higher
    (docs/contract.md, "Revisions"). Batch candles are revision 0.
    """

    symbol: str
    interval_us: int
    window_start_us: int
    window_end_us: int
    open: int
    high: int
    low: int
    close: int
    volume: int
    notional: int
    vwap: int
    trade_count: int
    first_ts_us: int
    last_ts_us: int
    first_trade_id: int
    last_trade_id: int
    revision: int = 0

    @property
    def key(self) -> tuple[str, int, int]:
        """The identity of a candle: ``(symbol, interval_us, window_start_us)``."""
        return (self.symbol, self.interval_us, self.window_start_us)


def latest_revisions(candles: Iterable[Candle]) -> dict[tuple[str, int, int], Candle]:
    """The latest revision of each candle, by key: what a consumer of ``candles`` keeps
    (a revision replaces every lower one of the same key, whatever order they came in)."""
    latest: dict[tuple[str, int, int], Candle] = {}
    for candle in candles:
        held = latest.get(candle.key)
        if held is None or candle.revision > held.revision:
            latest[candle.key] = candle
    return latest


def vwap_of(notional: int, volume: int) -> int:
    """Volume-weighted average price at the price scale: the contract's one rounding.

    ``notional`` is at price+size scale and ``volume`` at size scale, so their quotient is
    already at the price scale.
    """
    return round_half_up_div(notional, volume)


class CandleBuilder:
    """A mutable candle for one window, folded one trade at a time in Python.

    ``add`` is the fold. The reference implementation (``candle_core.reference``) and
    reconciliation's replay of late trades use it; the speed layer's open windows are not
    these objects but entries of its native table (``speed_layer/native/``), which folds the
    same fields by the same rules and is held to the reference by property tests.
    """

    __slots__ = (
        "close",
        "first_trade_id",
        "first_ts_us",
        "high",
        "interval_us",
        "last_trade_id",
        "last_ts_us",
        "low",
        "notional",
        "open",
        "symbol",
        "trade_count",
        "volume",
        "window_start_us",
    )

    def __init__(self, symbol: str, interval_us: int, window_start_us: int) -> None:
        self.symbol = symbol
        self.interval_us = interval_us
        self.window_start_us = window_start_us
        self.trade_count = 0
        self.open = self.high = self.low = self.close = 0
        self.volume = self.notional = 0
        self.first_ts_us = self.last_ts_us = 0
        self.first_trade_id = self.last_trade_id = 0

    def add(self, ts_us: int, trade_id: int, price: int, size: int) -> None:
        """Fold one trade in. The caller guarantees it belongs to this window."""
        if self.trade_count == 0:
            self.open = self.high = self.low = self.close = price
            self.first_ts_us = self.last_ts_us = ts_us
            self.first_trade_id = self.last_trade_id = trade_id
        else:
            if price > self.high:
                self.high = price
            elif price < self.low:
                self.low = price
            if (ts_us, trade_id) < (self.first_ts_us, self.first_trade_id):
                self.open, self.first_ts_us, self.first_trade_id = price, ts_us, trade_id
            if (ts_us, trade_id) > (self.last_ts_us, self.last_trade_id):
                self.close, self.last_ts_us, self.last_trade_id = price, ts_us, trade_id
        self.trade_count += 1
        self.volume += size
        self.notional += price * size

    def build(self) -> Candle:
        """The finished candle. Needs at least one trade: candles exist only where trades do."""
        if self.trade_count == 0:
            raise ValueError("a candle needs at least one trade")
        return folded_candle(
            self.symbol,
            self.interval_us,
            self.window_start_us,
            self.open,
            self.high,
            self.low,
            self.close,
            self.volume,
            self.notional,
            self.trade_count,
            self.first_ts_us,
            self.last_ts_us,
            self.first_trade_id,
            self.last_trade_id,
        )


def folded_candle(
    symbol: str,
    interval_us: int,
    window_start_us: int,
    open_: int,
    high: int,
    low: int,
    close: int,
    volume: int,
    notional: int,
    trade_count: int,
    first_ts_us: int,
    last_ts_us: int,
    first_trade_id: int,
    last_trade_id: int,
) -> Candle:
    """The candle of a finished fold (:class:`CandleBuilder`'s fields, or the speed layer's
    native fold, which hands over the same fields in this order): the window end and VWAP
    are derived here, in one place."""
    return Candle(
        symbol,
        interval_us,
        window_start_us,
        window_start_us + interval_us,
        open_,
        high,
        low,
        close,
        volume,
        notional,
        vwap_of(notional, volume),
        trade_count,
        first_ts_us,
        last_ts_us,
        first_trade_id,
        last_trade_id,
    )


def merge(a: Candle, b: Candle) -> Candle:
    """Combine two candles of the same symbol over disjoint trade sets into one.

    The result's window is ``a``'s: :func:`rollup` re-labels before merging. Associative
    and commutative (property-tested), which is what makes rollups exact.
    """
    first = a if (a.first_ts_us, a.first_trade_id) <= (b.first_ts_us, b.first_trade_id) else b
    last = a if (a.last_ts_us, a.last_trade_id) >= (b.last_ts_us, b.last_trade_id) else b
    volume = a.volume + b.volume
    notional = a.notional + b.notional
    return Candle(
        a.symbol,
        a.interval_us,
        a.window_start_us,
        a.window_end_us,
        first.open,
        max(a.high, b.high),
        min(a.low, b.low),
        last.close,
        volume,
        notional,
        vwap_of(notional, volume),
        a.trade_count + b.trade_count,
        first.first_ts_us,
        last.last_ts_us,
        first.first_trade_id,
        last.last_trade_id,
    )


def relabel(candle: Candle, interval_us: int) -> Candle:
    """The same trades seen as a candle of the larger ``interval_us`` window holding them."""
    start = window_start(candle.window_start_us, interval_us)
    return Candle(
        candle.symbol,
        interval_us,
        start,
        start + interval_us,
        candle.open,
        candle.high,
        candle.low,
        candle.close,
        candle.volume,
        candle.notional,
        candle.vwap,
        candle.trade_count,
        candle.first_ts_us,
        candle.last_ts_us,
        candle.first_trade_id,
        candle.last_trade_id,
    )


def rollup(candles: Iterable[Candle], interval_us: int) -> list[Candle]:
    """Roll smaller candles (e.g. 1 s) up to ``interval_us``, exactly.

    ``interval_us`` must be a whole multiple of every input's interval, so each input lies
    in exactly one output window. Output is sorted by ``(symbol, window_start_us)``.
    """
    merged: dict[tuple[str, int], Candle] = {}
    for candle in candles:
        if interval_us % candle.interval_us:
            raise ValueError(f"{interval_us} us is not a multiple of {candle.interval_us} us")
        bigger = relabel(candle, interval_us)
        key = (bigger.symbol, bigger.window_start_us)
        existing = merged.get(key)
        merged[key] = bigger if existing is None else merge(existing, bigger)
    return [merged[key] for key in sorted(merged)]
