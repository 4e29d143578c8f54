"""One assigned input partition: its engine, its offsets, and what awaits the next commit."""

from __future__ import annotations

from dataclasses import dataclass, field

from candle_core.candle import Candle
from candle_core.trade import Rejection, Trade
from speed_layer.changelog import PartitionState
from speed_layer.engine import Closed, PartitionEngine

RollupKey = tuple[int, str, int]  # (interval_us, symbol, window_start_us)


@dataclass
class PartitionRun:
    """Runtime state of one partition between two commits.

    ``processed`` (next offset to handle), ``replay_until`` and ``last_seen`` live in the
    engine's native table, where the batch scanner updates them without calling back.
    ``replay_until``: records below this offset were processed before a restart; they are
    re-read only to rebuild open windows and produce nothing (their outputs are committed).
    """

    engine: PartitionEngine
    rollups_changed: set[RollupKey] = field(default_factory=set)
    rollups_emitted: set[RollupKey] = field(default_factory=set)
    closed_at: list[float] = field(default_factory=list)
    closed: Closed = field(default_factory=Closed)  # filled by the engine, drained per batch

    @classmethod
    def restored(cls, engine: PartitionEngine, state: PartitionState, now: float) -> PartitionRun:
        """A partition as the changelog left it (or fresh, when it has no entry)."""
        for candle in state.rollups.values():
            engine.restore_rollup(candle)
        run = cls(engine)
        run.last_seen = now
        if state.position is not None:
            position = state.position
            engine.restore_position(position.max_ts_us, position.watermark_us)
            run.processed = run.replay_until = position.processed
        return run

    @property
    def processed(self) -> int | None:
        return self.engine.table.processed

    @processed.setter
    def processed(self, offset: int | None) -> None:
        self.engine.table.processed = offset

    @property
    def replay_until(self) -> int:
        return self.engine.table.replay_until

    @replay_until.setter
    def replay_until(self, offset: int) -> None:
        self.engine.table.replay_until = offset

    @property
    def last_seen(self) -> float:
        """Monotonic time of the last trade handled (not of orders or quotes)."""
        return self.engine.table.last_seen

    @last_seen.setter
    def last_seen(self, now: float) -> None:
        self.engine.table.last_seen = now

    def replay(self, result: Trade | Rejection, offset: int) -> None:
        """Re-apply an already-processed record to rebuild its window, if still open."""
        if isinstance(result, Trade):
            closed = Closed()
            self.engine.add(result, offset, closed)
            if closed.candles:  # cannot happen: replay never passes the restored max_ts
                raise AssertionError("replay closed a window; changelog and offsets disagree")

    def take_closed(self, now: float) -> list[Candle]:
        """Drain what the engine closed: return the candles to emit, and remember what the
        changelog must record at the next commit."""
        closed, self.closed = self.closed, Closed()
        self.rollups_changed |= closed.rollups_changed
        self.rollups_emitted |= closed.rollups_emitted
        self.closed_at.extend([now] * len(closed.candles))
        return closed.candles

    def flushed(self) -> bool:
        """No open window and no partial rollup: nothing is held back."""
        return not self.engine.open_windows() and not any(self.engine.rollups.values())

    def commit_offset(self) -> int | None:
        """The consumer offset to commit: where recovery must start re-reading."""
        if self.processed is None:
            return None
        return self.engine.low_water_offset(self.processed)
