"""Late trades (issue 15): hold a share of the trades back and produce them later in the
stream, then check (b)'s output with revisions on and off.

A held trade is produced once the stream has reached ``--late-delay-s`` of event time past
its own (its Kafka timestamp is that later arrival), so it arrives after its 1 s window
closed and inside the revision horizon::

    stream order   t  t+1  ...  t+29  t+30 [x: event time t]  t+31 ...
    revisions on   x folds into its closed window; its 1 s candle and every rollup holding
                   it are emitted again, revision + 1
    revisions off  x goes to trades.late; no candle holds it

Trades still held when the stream ends are never produced (they are in no reference).
"""

from __future__ import annotations

import random
from collections import Counter, deque
from dataclasses import replace
from typing import Any

from bench.speed.context import Bench


class Delayer:
    """Which trades are held back, and when each is due: FIFO by its release time."""

    def __init__(self, ratio: float, delay_s: float, seed: int) -> None:
        self.ratio, self.delay_us = ratio, round(delay_s * 1_000_000)
        self.rng = random.Random(f"late-{seed}")
        self.held: deque[tuple[int, Any]] = deque()  # (release at event time, record)

    def hold(self, record: Any, ts_us: int) -> bool:
        """Hold ``record`` (a trade at ``ts_us``) back, at random: True if it was."""
        if self.ratio and self.rng.random() < self.ratio:
            self.held.append((ts_us + self.delay_us, record))
            return True
        return False

    def due(self, now_us: int, arrival_us: int) -> list[Any]:
        """The held records the stream's event time ``now_us`` has reached, stamped with
        the arrival time ``arrival_us`` of the record they now follow."""
        out = []
        while self.held and self.held[0][0] <= now_us:
            out.append(self.held.popleft()[1]._replace(timestamp_us=arrival_us))
        return out


def reference_without_late(bench: Bench, intervals_us: tuple[int, ...]) -> list[Any]:
    """The candles of the trades not delayed: what revisions off must commit."""
    from candle_core.reference import candles_from_trades

    on_time = [t for t in bench.trades if (t.symbol, t.trade_id) not in bench.delayed]
    return candles_from_trades(on_time, intervals_us)


def check_revised(bench: Bench, candles: list[Any], summary: dict[str, Any]) -> list[str]:
    """Revisions on: each (key, revision) once, revisions 0..n of each key, the latest
    revision of every candle equal to the reference over all trades, every delayed trade
    counted as revising; a stream without delayed trades revises nothing."""
    from candle_core.candle import latest_revisions

    problems = []
    emitted = Counter((c.key, c.revision) for c in candles)
    if twice := sum(1 for n in emitted.values() if n > 1):
        problems.append(f"{twice} (candle, revision) pairs committed more than once")
    revisions: dict[Any, set[int]] = {}
    for key, revision in emitted:
        revisions.setdefault(key, set()).add(revision)
    if gaps := sum(1 for r in revisions.values() if r != set(range(max(r) + 1))):
        problems.append(f"{gaps} candles whose revisions are not 0..n")
    latest = latest_revisions(candles)
    if sorted((replace(c, revision=0) for c in latest.values()),
              key=lambda c: c.key) != bench.reference:
        problems.append(f"the latest revisions of {len(latest)} candles differ from the "
                        f"reference's {len(bench.reference)}")
    if summary.get("revising", 0) != len(bench.delayed) or summary.get("late", 0):
        problems.append(f"{summary.get('revising')} trades revised and {summary.get('late')} "
                        f"late, for {len(bench.delayed)} delayed ones")
    return problems


def check_unrevised(bench: Bench, settings: Any, candles: list[Any],
                    summary: dict[str, Any]) -> list[str]:
    """Revisions off: each key once, at revision 0, equal to the reference over the trades
    not delayed; trades.late holds exactly the delayed trades."""
    from candle_core.parsing import TradeParser
    from candle_core.side_outputs import decode_late
    from candle_core.trade import Trade
    from kafka_ops.reading import read_topic

    problems = []
    if twice := sum(1 for n in Counter(c.key for c in candles).values() if n > 1):
        problems.append(f"{twice} candles committed more than once")
    if any(c.revision for c in candles):
        problems.append("revisions emitted with revisions off")
    if sorted(candles, key=lambda c: c.key) != bench.reference_off:
        problems.append(f"{len(candles)} candles differ from the reference's "
                        f"{len(bench.reference_off)} (trades not delayed)")
    parser = TradeParser(settings.max_future_skew_us)
    late: Counter[tuple[str, int]] = Counter()
    for message in read_topic(settings, settings.topic_late, timeout_s=300):
        record = decode_late(message.value() or b"")
        trade = parser.parse(bytes(record.trade), None)
        if not isinstance(trade, Trade):
            raise SystemExit(f"trades.late holds a trade that does not parse: {trade}")
        late[(trade.symbol, trade.trade_id)] += 1
    if late != Counter(bench.delayed) or summary.get("late") != len(bench.delayed):
        problems.append(f"trades.late holds {sum(late.values())} records "
                        f"({len(late.keys() - bench.delayed)} not delayed), summary counts "
                        f"{summary.get('late')}, for {len(bench.delayed)} delayed trades")
    return problems
