"""Event-time windowing for one input partition: the decisions, no Kafka I/O.

Windows are the contract's 1 s tumbling windows; larger intervals are exact rollups of
closed 1 s candles (:func:`candle_core.candle.merge`). The watermark is
``max event time seen - allowed_lateness`` and moves per record, so whether a trade is
late depends only on the partition's record order, never on how records were batched::

    event time  ───────────────────────────────────────────────▶
    windows     |  [10,11)  |  [11,12)  |  [12,13)  |
    trades            x   x      x           x (max_ts = 12.4)
    watermark   ───────────────▲ 12.4 - lateness(1.0) = 11.4
                [10,11) closed ┘ (end 11 <= 11.4); [11,12) and [12,13) still open

A trade whose 1 s window already closed is late. Duplicates are detected per window while
it is open and for the dedup horizon after it closed (the same ``(symbol, trade_id)`` with
the same content is dropped; other content is a conflict); the batch layer's horizon is
the whole date (see docs/speed-layer.md).

The 1 s windows, their dedup ids, the rollup partials and the event-time position live in
a native :class:`speed_layer._hotpath.WindowTable`, which the processor's batch scanner
folds into directly. A window closes in C, into its candle's key and JSON and into the
rollups, and the candle goes straight into the producer's :class:`~speed_layer._hotpath.Sink`,
so a closed candle costs no Python object; this class decides when to close, is the Python
path for every record the scanner hands back, and restores state. The Kafka bookkeeping
(offsets) is the partition's :class:`speed_layer._hotpath.Cursor`.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

from candle_core.candle import Candle, folded_candle
from candle_core.codec import native_candle_wire
from candle_core.trade import Trade
from candle_core.windows import BASE_INTERVAL_US, interval_label, window_end
from speed_layer._hotpath import CLOSE_DUE, WindowTable

if TYPE_CHECKING:
    from speed_layer._hotpath import Sink, WindowFold

NO_TIME = -(2**62)  # before any event time: the watermark of a partition that saw nothing
FAR_FUTURE = 2**62


class Outcome(Enum):
    """What happened to one valid trade."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"
    LATE = "late"
    REVISED = "revised"  # late, inside the revision horizon: its candles were emitted again


_OUTCOMES = (Outcome.APPLIED, Outcome.DUPLICATE, Outcome.CONFLICT, Outcome.LATE,
             Outcome.REVISED)


class PartitionEngine:
    """Windows, watermark and rollups of one input partition."""

    def __init__(self, intervals_us: tuple[int, ...], allowed_lateness_us: int,
                 dedup_horizon_us: int = 0, revision_horizon_us: int = 0,
                 sink: Sink | None = None) -> None:
        """``sink``: where closed and revised candles are produced straight from C while
        none wait for Python; without one, every candle waits for :meth:`take_candles`."""
        if not intervals_us or intervals_us[0] != BASE_INTERVAL_US:
            raise ValueError("intervals must start with the 1 s base interval")
        self.larger_us = intervals_us[1:]
        self.table = WindowTable(
            BASE_INTERVAL_US, allowed_lateness_us, dedup_horizon_us,
            tuple((interval, interval_label(interval)) for interval in intervals_us),
            native_candle_wire(), revision_horizon_us)
        self.table.use_sink(sink)

    @property
    def max_ts_us(self) -> int:
        """The largest event time applied (``NO_TIME`` before the first trade)."""
        return self.table.max_ts_us

    @property
    def watermark_us(self) -> int:
        return self.table.watermark_us

    def late_by_us(self, ts_us: int) -> int:
        """How far the watermark is past the end of ``ts_us``'s 1 s window (<= 0: open)."""
        return self.watermark_us - window_end(ts_us, BASE_INTERVAL_US)

    def add(self, trade: Trade, offset: int) -> Outcome:
        """Apply one valid trade at ``offset``, emitting the candles of the windows it
        closes.

        A duplicate or conflict when its id is already in its window (open, or closed within
        the dedup horizon). When its 1 s window already closed: revised when it is late by
        no more than the revision horizon (its 1 s candle and the rolled-up candles holding
        it are emitted again, one revision higher), late otherwise. Only an applied trade
        whose event time is the largest yet moves the watermark; a late trade inside the
        dedup horizon is remembered, so that its re-send is a duplicate."""
        code = self.table.add(*trade, offset)
        if code & CLOSE_DUE:
            self.close_due()
        return _OUTCOMES[code & ~CLOSE_DUE]

    def replay(self, trade: Trade, offset: int) -> Outcome:
        """Re-apply a trade processed before a restart (below the restored ``processed``):
        it rebuilds its window and dedup ids, and never moves the restored watermark, so
        it closes nothing and emits nothing."""
        return _OUTCOMES[self.table.replay(*trade, offset) & ~CLOSE_DUE]

    def close_due(self) -> None:
        """Close what the current watermark has passed (the scanner stops for this)."""
        self.table.close(self.table.watermark_us)

    def advance_to(self, watermark_us: int) -> None:
        """Move the watermark forward (never back) and close what it passes."""
        if watermark_us <= self.table.watermark_us:
            return
        self.table.advance(watermark_us)
        self.close_due()

    def take_candles(self) -> tuple[list[tuple[bytes, bytes]], int]:
        """What closes and revisions emitted since the last call: the candles left for
        Python to produce, in order, each as its ``candles`` message's (key, JSON value)
        bytes (all of them without a sink; with one, those its queue refused and every
        one after them), and how many went straight into the sink."""
        return self.table.take_candles()

    def end_of_input_watermark_us(self) -> int:
        """The watermark that closes every window holding data, and no more: what the end
        of a bounded stream means. After it, trades for those windows are late (their
        candles, rollups included, were emitted); later windows are not."""
        if self.max_ts_us == NO_TIME:
            return self.watermark_us
        ends = (window_end(self.max_ts_us, interval)
                for interval in (BASE_INTERVAL_US, *self.larger_us))
        return max(self.watermark_us, *ends)

    def idle_watermark_us(self, idle_for_us: int, idle_timeout_us: int) -> int:
        """The watermark of a partition idle for ``idle_for_us`` of wall-clock time.

        At ``idle_timeout`` the last 1 s window closes; from then on the partition's event
        time follows the wall clock, so its larger windows close too (a quiet symbol's last
        candle is never held forever).
        """
        if idle_for_us < idle_timeout_us or self.max_ts_us == NO_TIME:
            return self.watermark_us
        last_end = window_end(self.max_ts_us, BASE_INTERVAL_US)
        return max(self.watermark_us, last_end + idle_for_us - idle_timeout_us)

    def open_candles(self) -> list[Candle]:
        """Current partial 1 s candles (for the live view)."""
        return [_candle(fold, BASE_INTERVAL_US) for fold in self.table.folds()]

    def rollup_candles(self) -> list[Candle]:
        """Current partial larger-interval candles (what a restart must restore)."""
        return [_candle(fold, interval) for interval, fold in self.table.rollup_folds()]

    def open_windows(self) -> int:
        return len(self.table)

    def dedup_ids(self) -> int:
        """Trade ids held for dedup, in open windows and in kept (closed) ones."""
        return self.table.seen_count()

    def rollup_partials(self) -> int:
        """Larger-interval candles in progress."""
        return self.table.rollup_count()

    def restore_position(self, max_ts_us: int, watermark_us: int) -> None:
        """Put back the event-time position read from the changelog."""
        self.table.restore_position(max_ts_us, watermark_us)


def _candle(fold: WindowFold, interval_us: int) -> Candle:
    return folded_candle(fold.symbol, interval_us, fold.window_start_us, fold.open,
                         fold.high, fold.low, fold.close, fold.volume, fold.notional,
                         fold.trade_count, fold.first_ts_us, fold.last_ts_us,
                         fold.first_trade_id, fold.last_trade_id)
