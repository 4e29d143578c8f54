"""One assigned input partition: its engine, its cursor, and what awaits the next commit."""

from __future__ import annotations

from dataclasses import dataclass, field

from candle_core.trade import Rejection, Trade
from speed_layer._hotpath import Cursor
from speed_layer.changelog import PartitionState, StateLog
from speed_layer.engine import PartitionEngine


@dataclass
class PartitionRun:
    """Runtime state of one partition between two commits.

    The :class:`Cursor` holds the Kafka bookkeeping, where the native scanner updates it
    without calling back: ``position`` (the next offset to read), ``replay_until`` (records
    below it were processed before a restart: re-read only to rebuild windows, producing
    nothing) and ``last_seen``.
    """

    engine: PartitionEngine
    cursor: Cursor
    state_log: StateLog = field(default_factory=StateLog)
    closed_at: list[tuple[float, int]] = field(default_factory=list)  # (when, how many)

    @classmethod
    def restored(cls, engine: PartitionEngine, state: PartitionState, now: float,
                 committed: int | None = None) -> PartitionRun:
        """A partition as the changelog left it (or fresh, when it has no entry).

        Reading starts at the committed offset: the changelog records it with each commit
        (``low_water``); ``committed`` is the consumer group's, for state written before
        it did."""
        for c in state.legacy.values():  # the previous format's partials
            engine.table.put_partial(c.interval_us, c.symbol, c.window_start_us, c.open,
                                     c.high, c.low, c.close, c.volume, c.notional,
                                     c.trade_count, c.first_ts_us, c.last_ts_us,
                                     c.first_trade_id, c.last_trade_id)
        rewrite = engine.table.restore_rollups([state.records[n] for n in sorted(state.records)])
        cursor = Cursor(engine.table)
        cursor.last_seen = now
        position = state.position
        if position is not None:
            engine.restore_position(position.max_ts_us, position.watermark_us)
            cursor.replay_until = position.processed
            start = position.low_water if position.low_water is not None else committed
            cursor.position = start
        return cls(engine, cursor, StateLog.restored(state, rewrite=rewrite))

    @property
    def processed(self) -> int | None:
        """The offset up to which this partition's outputs are produced."""
        return self.cursor.processed

    @property
    def position(self) -> int | None:
        """The next offset to read (None: no record read and none committed yet)."""
        return self.cursor.position

    @property
    def last_seen(self) -> float:
        """Monotonic time of the last trade processed (not of orders or quotes)."""
        return self.cursor.last_seen

    def handled(self, offset: int, now: float | None = None) -> None:
        """The record at ``offset`` was handled (processed, or replayed when below
        ``replay_until``); ``now`` when it was a trade processed now."""
        self.cursor.position = offset + 1
        if now is not None:
            self.cursor.last_seen = now

    def replaying(self, offset: int) -> bool:
        """Was the record at ``offset`` processed before the restart?"""
        replay_until = self.cursor.replay_until
        return replay_until is not None and offset < replay_until

    def replay(self, result: Trade | Rejection, offset: int) -> None:
        """Re-apply an already-processed record to rebuild its window, if still held."""
        if isinstance(result, Trade):
            self.engine.replay(result, offset)

    def take_closed(self, now: float) -> tuple[list[tuple[bytes, bytes]], int]:
        """Drain what the engine emitted: the candles left to produce, as (key, value), and
        how many it produced itself (:meth:`PartitionEngine.take_candles`)."""
        candles, produced = self.engine.take_candles()
        if candles or produced:
            self.closed_at.append((now, len(candles) + produced))
        return candles, produced

    def flushed(self) -> bool:
        """No open window and no partial rollup: nothing is held back."""
        return not self.engine.open_windows() and not self.engine.rollup_partials()

    def commit_offset(self) -> int | None:
        """The consumer offset to commit: where a restart must start re-reading, i.e. the
        oldest record of any window still held, or the read position if that is earlier
        (during a replay, records not yet re-read). None while the position is unknown."""
        return self.cursor.commit_offset()
