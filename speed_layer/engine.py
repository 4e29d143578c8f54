"""Event-time windowing for one input partition: pure logic, no Kafka, no clock.

Windows are the contract's 1 s tumbling windows; larger intervals are exact rollups of
closed 1 s candles (:func:`candle_core.candle.merge`). The watermark is
``max event time seen - allowed_lateness`` and moves per record, so whether a trade is
late depends only on the partition's record order, never on how records were batched::

    event time  ───────────────────────────────────────────────▶
    windows     |  [10,11)  |  [11,12)  |  [12,13)  |
    trades            x   x      x           x (max_ts = 12.4)
    watermark   ───────────────▲ 12.4 - lateness(1.0) = 11.4
                [10,11) closed ┘ (end 11 <= 11.4); [11,12) and [12,13) still open

A trade whose 1 s window already closed is late. Duplicates are detected per open window
(the same ``(symbol, trade_id)`` with the same content is dropped; other content is a
conflict); the batch layer's horizon is the whole date (see docs/speed-layer.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from candle_core.candle import Candle, CandleBuilder, merge, relabel
from candle_core.trade import Trade
from candle_core.windows import BASE_INTERVAL_US

NO_TIME = -(2**62)  # before any event time: the watermark of a partition that saw nothing
FAR_FUTURE = 2**62


class Outcome(Enum):
    """What happened to one valid trade."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"
    LATE = "late"


@dataclass(slots=True)
class OpenWindow:
    """A 1 s window that still accepts trades, and what recovery needs to rebuild it."""

    builder: CandleBuilder
    first_offset: int
    seen: dict[int, tuple[int, int, int, str | None, str | None]] = field(default_factory=dict)


@dataclass(slots=True)
class Closed:
    """What one watermark step closed: final candles, and rollup partials that changed."""

    candles: list[Candle] = field(default_factory=list)
    rollups_changed: set[tuple[int, str, int]] = field(default_factory=set)
    rollups_emitted: set[tuple[int, str, int]] = field(default_factory=set)

    def extend(self, other: Closed) -> None:
        self.candles.extend(other.candles)
        self.rollups_changed |= other.rollups_changed
        self.rollups_emitted |= other.rollups_emitted


class PartitionEngine:
    """Open windows, watermark and rollups of one input partition."""

    def __init__(self, intervals_us: tuple[int, ...], allowed_lateness_us: int) -> None:
        if not intervals_us or intervals_us[0] != BASE_INTERVAL_US:
            raise ValueError("intervals must start with the 1 s base interval")
        self.larger_us = intervals_us[1:]
        self.lateness_us = allowed_lateness_us
        self.max_ts_us = NO_TIME
        self.watermark_us = NO_TIME
        self.windows: dict[tuple[str, int], OpenWindow] = {}
        # interval_us -> (symbol, window_start_us) -> partial candle of closed 1 s windows
        self.rollups: dict[int, dict[tuple[str, int], Candle]] = {i: {} for i in self.larger_us}
        self._next_close_us = FAR_FUTURE  # smallest end among open 1 s windows
        self._next_rollup_close_us = FAR_FUTURE  # smallest end among rollup partials

    def late_by_us(self, ts_us: int) -> int:
        """How far the watermark is past the end of ``ts_us``'s 1 s window (<= 0: open)."""
        return self.watermark_us - (ts_us - ts_us % BASE_INTERVAL_US + BASE_INTERVAL_US)

    def add(self, trade: Trade, offset: int, closed: Closed) -> Outcome:
        """Apply one valid trade at ``offset``; windows it closes are added to ``closed``."""
        ts_us = trade.ts_us
        start = ts_us - ts_us % BASE_INTERVAL_US
        if start + BASE_INTERVAL_US <= self.watermark_us:
            return Outcome.LATE
        window = self.windows.get((trade.symbol, start))
        if window is None:
            builder = CandleBuilder(trade.symbol, BASE_INTERVAL_US, start)
            window = self.windows[(trade.symbol, start)] = OpenWindow(builder, offset)
            if start + BASE_INTERVAL_US < self._next_close_us:
                self._next_close_us = start + BASE_INTERVAL_US
        content = trade[2:]  # (ts_us, price, size, venue, side): Trade.content(), inlined
        earlier = window.seen.get(trade.trade_id)
        if earlier is not None:
            return Outcome.DUPLICATE if earlier == content else Outcome.CONFLICT
        window.seen[trade.trade_id] = content
        window.builder.add(ts_us, trade.trade_id, trade.price, trade.size)
        if ts_us > self.max_ts_us:
            self.max_ts_us = ts_us
            self.advance_to(ts_us - self.lateness_us, closed)
        return Outcome.APPLIED

    def advance_to(self, watermark_us: int, closed: Closed) -> None:
        """Move the watermark forward (never back) and close what it passes."""
        if watermark_us <= self.watermark_us:
            return
        self.watermark_us = watermark_us
        if watermark_us >= self._next_close_us:
            closed.extend(self._close_one_second())
        if watermark_us >= self._next_rollup_close_us:
            closed.extend(self._close_rollups())

    def end_of_input_watermark_us(self) -> int:
        """The watermark that closes every window holding data, and no more: what the end
        of a bounded stream means. After it, trades for those windows are late (their
        candles, rollups included, were emitted); later windows are not."""
        if self.max_ts_us == NO_TIME:
            return self.watermark_us
        ts = self.max_ts_us
        ends = (ts - ts % interval + interval for interval in (BASE_INTERVAL_US, *self.larger_us))
        return max(self.watermark_us, *ends)

    def idle_watermark_us(self, idle_for_us: int, idle_timeout_us: int) -> int:
        """The watermark of a partition idle for ``idle_for_us`` of wall-clock time.

        At ``idle_timeout`` the last 1 s window closes; from then on the partition's event
        time follows the wall clock, so its larger windows close too (a quiet symbol's last
        candle is never held forever).
        """
        if idle_for_us < idle_timeout_us or self.max_ts_us == NO_TIME:
            return self.watermark_us
        last_end = self.max_ts_us - self.max_ts_us % BASE_INTERVAL_US + BASE_INTERVAL_US
        return max(self.watermark_us, last_end + idle_for_us - idle_timeout_us)

    def low_water_offset(self, processed_offset: int) -> int:
        """The first offset recovery must re-read: the oldest record of any open 1 s window."""
        offsets = [w.first_offset for w in self.windows.values()]
        return min(offsets, default=processed_offset)

    def open_candles(self) -> list[Candle]:
        """Current partial 1 s candles (for the live view)."""
        return [w.builder.build() for w in self.windows.values()]

    def _close_one_second(self) -> Closed:
        closed = Closed()
        keep: dict[tuple[str, int], OpenWindow] = {}
        next_close = FAR_FUTURE
        for key, window in sorted(self.windows.items(), key=lambda item: item[0][1]):
            end = key[1] + BASE_INTERVAL_US
            if end <= self.watermark_us:
                candle = window.builder.build()
                closed.candles.append(candle)
                self._fold_into_rollups(candle, closed)
            else:
                keep[key] = window
                next_close = min(next_close, end)
        self.windows = keep
        self._next_close_us = next_close
        return closed

    def _fold_into_rollups(self, candle: Candle, closed: Closed) -> None:
        for interval_us in self.larger_us:
            bigger = relabel(candle, interval_us)
            key = (candle.symbol, bigger.window_start_us)
            partial = self.rollups[interval_us].get(key)
            self.rollups[interval_us][key] = bigger if partial is None else merge(partial, bigger)
            closed.rollups_changed.add((interval_us, *key))
            self._next_rollup_close_us = min(self._next_rollup_close_us, bigger.window_end_us)

    def _close_rollups(self) -> Closed:
        closed = Closed()
        next_close = FAR_FUTURE
        for interval_us, partials in self.rollups.items():
            done = [key for key in partials if key[1] + interval_us <= self.watermark_us]
            for key in sorted(done, key=lambda k: k[1]):
                closed.candles.append(partials.pop(key))
                closed.rollups_emitted.add((interval_us, *key))
            for _, start in partials:
                next_close = min(next_close, start + interval_us)
        self._next_rollup_close_us = next_close
        return closed

    def restore_rollup(self, candle: Candle) -> None:
        """Put back a partial larger-interval candle read from the changelog."""
        self.rollups[candle.interval_us][(candle.symbol, candle.window_start_us)] = candle
        self._next_rollup_close_us = min(self._next_rollup_close_us, candle.window_end_us)

    def restore_position(self, max_ts_us: int, watermark_us: int) -> None:
        """Put back the event-time position read from the changelog."""
        self.max_ts_us, self.watermark_us = max_ts_us, watermark_us
