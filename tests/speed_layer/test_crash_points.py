"""Crash at any moment, as often as you like: the real processor path gives the same output.

The real :class:`SpeedLayer` (its loop, the native scanner, the Python path, the writer,
the changelog and the recovery) runs over an in-memory Kafka (``memory_kafka.py``) that
can kill it at any client call: in start-up, in the replay below ``processed``, between
records, inside a transaction, at its commit. Each example runs one stream twice: once
without a crash, once with up to eight, restarting after each. The committed candles,
late trades and dead letters must be identical, nothing twice, and the candles must equal
the contract's reference over the trades that were applied. Batches are cut at random and
interleave the partitions, and the layer commits after almost every batch, so commits
land inside the replay of a restart, before some partition has been read at all; the
changelog and the offsets are what a real commit writes.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, replace

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from candle_core.candle import Candle
from candle_core.codec import decode_candle
from candle_core.parsing import TradeParser
from candle_core.reference import candles_from_trades
from candle_core.side_outputs import HEADER_REASON, decode_late
from candle_core.trade import Trade
from kafka_ops.liveness import Heartbeat
from lambda_candles.settings import CandlesSettings, load_settings
from speed_layer.metrics import SpeedMetrics
from speed_layer.partition import PartitionRun
from speed_layer.processor import SpeedLayer, StopRules
from tests.speed_layer.memory_kafka import (
    Crash,
    FakeClock,
    MemoryKafka,
    Record,
    memory_clients,
)

S = 1_000_000
T0 = 1_767_225_600_000_000
PARTITIONS = 3
SYMBOLS = ("AAA", "BBB", "CCC", "DDD")


def speed_settings(revision_horizon_ms: int = 0) -> CandlesSettings:
    return load_settings(intervals=("1s", "10s", "1m"), allowed_lateness_ms=2_000,
                         dedup_horizon_ms=6_000, revision_horizon_ms=revision_horizon_ms,
                         idle_timeout_ms=3_600_000,
                         speed_commit_interval_ms=1, speed_backlog_commit_interval_ms=1,
                         speed_batch_size=64, kafka_bootstrap_servers="memory:0")


@st.composite
def streams(draw: st.DrawFn) -> list[tuple[int, bytes, int]]:
    """(partition, value, kafka timestamp ms) in arrival order: trades delayed 0-20 s
    (some beyond lateness, some beyond the dedup horizon), exact and conflicting re-sends
    (before and after their window closed), rejected records, orders, and trades in
    shapes the native scanner leaves to Python."""
    rnd = random.Random(draw(st.integers(0, 2**32)))
    count = draw(st.integers(20, 220))
    arrivals: list[tuple[int, int, int, bytes]] = []
    for trade_id in range(count):
        symbol = rnd.choice(SYMBOLS)
        partition = SYMBOLS.index(symbol) % PARTITIONS
        ts = T0 + rnd.randrange(40 * S)
        trade = Trade(symbol, trade_id, ts, rnd.randint(1, 10**9), rnd.randint(1, 10**6),
                      "x", rnd.choice(["buy", "sell"]))
        delay = rnd.choice([0, 0, 0, 0, 300_000, 1_500_000, 3 * S, 9 * S, 20 * S])
        value = orjson.dumps(trade.to_wire())
        if rnd.random() < 0.1:  # the same trade, not in the canonical shape: Python's path
            value = value.replace(b'"venue":"x"', b'"venue":"\\u0078"')
        arrivals.append((ts + delay, trade_id, partition, value))
        roll = rnd.random()
        if roll < 0.25:  # re-sent: the same, or with another price; soon or much later
            again = trade if roll < 0.18 else trade._replace(price=trade.price + 1)
            later = rnd.choice([100_000, 2_500_000, 5 * S, 12 * S])
            arrivals.append((ts + delay + later, trade_id, partition,
                             orjson.dumps(again.to_wire())))
        if rnd.random() < 0.05:
            arrivals.append((ts, -1, partition, b'{"symbol":"AAA","trade_id":' + b"[" * 80))
        if rnd.random() < 0.05:
            arrivals.append((ts, -1, partition, b'{"type":"quote","symbol":"AAA"}'))
    arrivals.sort(key=lambda a: (a[0], a[1]))
    return [(partition, value, arrival_us // 1000)
            for arrival_us, _, partition, value in arrivals]


@dataclass
class Outputs:
    candles: Counter[bytes]
    late: Counter[tuple[int, int]]
    dead: Counter[tuple[int, int, bytes]]
    calls: int
    crashes: int


def run(stream: list[tuple[int, bytes, int]], crash_at: set[int], seed: int,
        revision_horizon_ms: int = 0) -> Outputs:
    config = speed_settings(revision_horizon_ms)
    kafka = MemoryKafka(PARTITIONS, crash_at=crash_at)
    for partition, value, ts_ms in stream:
        kafka.append(config.topic_trades, partition, Record(b"k", value, ts_ms))
    rnd = random.Random(seed)
    crashes = 0
    for _ in range(len(crash_at) + 1):
        clients = memory_clients(kafka, config.topic_speed_state, rnd, max_batch=40)
        layer = SpeedLayer(config, clients, SpeedMetrics(CollectorRegistry()), Heartbeat(60.0),
                           StopRules(idle_exit_s=0.05), clock=FakeClock())
        try:
            layer.run()
            break
        except Crash:
            crashes += 1
    else:
        raise AssertionError("the last run crashed too")
    dead = Counter((int(dict(r.headers or [])["candles.source.partition"]),
                    int(dict(r.headers or [])["candles.source.offset"]),
                    dict(r.headers or [])[HEADER_REASON])
                   for r in kafka.values(config.topic_dlq))
    late = Counter((late.partition, late.offset) for late in
                   (decode_late(r.value or b"") for r in kafka.values(config.topic_late)))
    candles = Counter(r.value or b"" for r in kafka.values(config.topic_candles))
    return Outputs(candles, late, dead, kafka.calls, crashes)


def applied_reference(stream: list[tuple[int, bytes, int]], late: set[tuple[int, int]],
                      intervals: tuple[int, ...]) -> list[Candle]:
    """The reference over valid trades that were not late, in each partition's order. A
    re-send of a late trade is a duplicate of it (or a conflict): not applied either."""
    parser = TradeParser(speed_settings().max_future_skew_us)
    offsets: Counter[int] = Counter()
    trades, first_was_late = [], {}
    for partition, value, ts_ms in stream:
        offset = offsets[partition]
        offsets[partition] += 1
        result = parser.parse(value, ts_ms * 1000)
        if not isinstance(result, Trade):
            continue
        key = (result.symbol, result.trade_id)
        first_was_late.setdefault(key, (partition, offset) in late)
        if not first_was_late[key]:
            trades.append(result)
    return candles_from_trades(trades, intervals)


def assert_once(counts: Counter[object], what: str) -> None:
    twice = [key for key, n in counts.items() if n > 1]
    assert not twice, f"{what} committed more than once: {twice[:3]}"


def latest_revisions(values: Counter[bytes]) -> list[Candle]:
    """The latest revision of each candle, sorted by key, after checking that each candle's
    revisions are exactly 0, 1, ..., n: none skipped, none emitted twice."""
    by_key: dict[tuple[str, int, int], list[Candle]] = {}
    for value in values:
        candle = decode_candle(value)
        by_key.setdefault(candle.key, []).append(candle)
    for key, emitted in by_key.items():
        numbers = sorted(c.revision for c in emitted)
        assert numbers == list(range(len(numbers))), f"{key}: revisions {numbers}"
    return [max(by_key[key], key=lambda c: c.revision) for key in sorted(by_key)]


@pytest.mark.parametrize("revision_horizon_ms", [0, 4_000], ids=["no-revisions", "revisions"])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams(), st.lists(st.floats(0, 1.2), min_size=1, max_size=8), st.integers(0, 10**6))
def test_crashes_at_any_call_change_no_output(
    revision_horizon_ms: int, stream: list[tuple[int, bytes, int]], cuts: list[float],
    seed: int
) -> None:
    """With revisions on, trades up to 4 s late revise their candles (the stream delays
    some by 3 s beyond the 2 s lateness, and re-sends some 5 s later): the latest revision
    of each candle is the reference over every trade not in trades.late, and a crash
    anywhere changes no byte of the output, revision numbers included."""
    clean = run(stream, set(), seed, revision_horizon_ms)
    for outputs in (clean,):
        assert_once(outputs.candles, "a candle")
        assert_once(outputs.late, "a late trade")
        assert_once(outputs.dead, "a dead letter")
    intervals = speed_settings().intervals_us
    candles = latest_revisions(clean.candles)
    if not revision_horizon_ms:
        assert all(c.revision == 0 for c in candles)
    assert [replace(c, revision=0) for c in candles] == applied_reference(
        stream, set(clean.late), intervals)
    crash_at = {max(1, int(cut * clean.calls)) for cut in cuts}
    crashed = run(stream, crash_at, seed + 1, revision_horizon_ms)
    if min(crash_at) < clean.calls // 2:  # reached for sure: a restart redoes work
        assert crashed.crashes >= 1
    assert_once(crashed.candles, "a candle")
    assert_once(crashed.late, "a late trade")
    assert_once(crashed.dead, "a dead letter")
    assert crashed.candles == clean.candles
    assert crashed.late == clean.late
    assert crashed.dead == clean.dead


def test_revisions_survive_a_crash_at_every_call() -> None:
    """A fixed stream whose late trades revise 1 s candles and closed 10 s rollups, some
    twice, one a window no on-time trade reached: a crash at any single call leaves the
    output byte for byte as the clean run's, revision numbers included."""
    trades, arrivals = [], []
    for i in range(120):
        trade = Trade(SYMBOLS[i % 2], i, T0 + i * 200_000, 100 + i % 9, 1 + i % 5, "x", "buy")
        trades.append(trade)
        # every 7th trade arrives 3.5 s late: past the 2 s lateness, inside the 4 s horizon
        arrivals.append((trade.ts_us + (3_500_000 if i % 7 == 3 else 0), i, trade))
    ghost = Trade("CCC", 500, T0 + 5 * S + 1, 77, 1, "x", "buy")  # only ever late
    twice = [Trade("AAA", 600 + k, T0 + 19 * S + 300_000 + k, 90 + k, 2, "x", "buy")
             for k in range(2)]  # two late trades for one second, also in a closed rollup
    for trade in (ghost, *twice):
        arrivals.append((trade.ts_us + 3_600_000 + trade.trade_id, trade.trade_id, trade))
    arrivals.sort(key=lambda a: (a[0], a[1]))
    stream = [(0, orjson.dumps(trade.to_wire()), at // 1000) for at, _, trade in arrivals]
    clean = run(stream, set(), 1, revision_horizon_ms=4_000)
    candles = latest_revisions(clean.candles)
    assert max(c.revision for c in candles if c.interval_us == S) >= 2
    assert max(c.revision for c in candles if c.interval_us == 10 * S) >= 2
    assert not clean.late
    intervals = speed_settings().intervals_us
    assert [replace(c, revision=0) for c in candles] == candles_from_trades(
        [*trades, ghost, *twice], intervals)
    for cut in range(1, clean.calls, max(1, clean.calls // 60)):
        crashed = run(stream, {cut}, cut, revision_horizon_ms=4_000)
        assert crashed.candles == clean.candles, f"crash at call {cut}"


def test_the_property_catches_a_commit_that_skips_records_not_yet_replayed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The loss of issue 13, put back: committing the processed position while windows
    are still being rebuilt loses trades after a second crash, and the property sees it."""
    def processed_offset(run: PartitionRun) -> int | None:  # the old rule, for the test
        first = run.engine.table.first_offset()
        processed = run.cursor.processed
        return processed if first is None else first

    rnd = random.Random(4)
    # a fixed stream: two symbols per partition, ~600 trades, windows always open
    trades = [Trade(SYMBOLS[i % 4], i, T0 + i * 40_000, 100 + i % 9, 1 + i % 5, "x", "buy")
              for i in range(600)]
    stream_fixed = [(SYMBOLS.index(t.symbol) % PARTITIONS, orjson.dumps(t.to_wire()),
                     t.ts_us // 1000) for t in trades]
    clean = run(stream_fixed, set(), 1)
    lost = 0
    monkeypatch.setattr(PartitionRun, "commit_offset", processed_offset)
    for trial in range(30):
        cut = {rnd.randint(5, clean.calls), rnd.randint(5, clean.calls)}
        crashed = run(stream_fixed, cut, trial)
        lost += crashed.candles != clean.candles
    assert lost > 0, "the old commit rule should lose candles in some of these runs"
