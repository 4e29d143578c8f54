"""A hostile backlog for the torture tests, with its expected outcome known by design.

The stream: symbols at price scales from 10^-4 to 10^5, trades arriving out of order
within 300 ms, exact re-sends soon, after their window closed and minutes later (inside
the dedup horizon: duplicates), conflicting re-sends (dead letters), trades 90 s late
(beyond the allowed lateness: ``trades.late``), and bad records. Each record's fate
follows from its construction, not from running any project code:

* a trade delayed 90 s arrives when its partition's watermark is ~88 s past it: late;
* a trade delayed at most 300 ms is inside the 2 s lateness: applied;
* the stream is dense on every partition, so those margins hold everywhere.

So the late set and the dead-letter set are fixed up front, and the candles must equal
the contract's reference over every trade except the late ones. With revisions on (the
default horizon, 10 minutes, is far beyond 90 s) the 90 s trades are not late: they revise
their candles, and the latest revision of every candle must equal the reference over every
trade, each revision emitted exactly once.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import orjson
from confluent_kafka import Producer

from candle_core.candle import Candle, latest_revisions
from candle_core.codec import decode_candle
from candle_core.reference import candles_from_trades
from candle_core.side_outputs import decode_late
from candle_core.trade import Trade
from tests.pipeline import Pipeline

S = 1_000_000
T0_US = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z
LATE_DELAY_US = 90 * S
SYMBOL_SCALES = {"BTCUSDT": 10**13, "ETHUSDT": 3 * 10**11, "SHIBUSDT": 2 * 10**3,
                 "AAPL": 2 * 10**10, "BRK.A": 7 * 10**13, "EURUSD": 10**8, "XRPETH": 10**5,
                 "NVDA": 10**10, "SOL-USD": 1.5 * 10**10, "SPY": 5 * 10**10,
                 "DOGE_USD": 10**7, "TSLA": 3 * 10**10}
BAD_VALUES = (b'{"symbol":"BTCUSDT","trade_id":', b"", b"\xff\xfe\x00", b"[1,2,3]",
              b'{"symbol":"BTCUSDT","ts":1767225600000000,"price":"1","size":"1"}',
              b'{"symbol":"btc","trade_id":1,"ts":1767225600000000,"price":"1","size":"1"}',
              b'{"symbol":"BTCUSDT","trade_id":1,"ts":1767225600000000,"price":"-1",'
              b'"size":"1"}')


@dataclass
class TortureStream:
    """Kafka records in arrival order, and what must come out."""

    records: list[tuple[bytes, bytes, int]] = field(default_factory=list)
    trades: list[Trade] = field(default_factory=list)  # every original trade
    late: set[tuple[str, int]] = field(default_factory=set)
    dead: Counter[bytes] = field(default_factory=Counter)  # values expected in the DLQ
    conflicts: Counter[bytes] = field(default_factory=Counter)  # valid, but re-sent wrong
    resent: int = 0

    @property
    def rejected(self) -> Counter[bytes]:
        """Values the contract's parser rejects (dead letters that are not conflicts)."""
        return self.dead - self.conflicts


def torture_stream(count: int, seed: int, span_s: int,
                   extra_bad: Iterable[bytes] = ()) -> TortureStream:
    """``count`` trades over ``span_s`` seconds with every fault above mixed in;
    ``extra_bad`` values (each bad for a known reason) are spread through it too."""
    rnd = random.Random(seed)
    out = TortureStream()
    prices = {s: int(scale) for s, scale in SYMBOL_SCALES.items()}
    ids = Counter[str]()
    arrivals: list[tuple[int, int, bytes, bytes]] = []  # (arrival, tiebreak, key, value)
    end_us = T0_US + span_s * S
    for ts in sorted(T0_US + rnd.randrange(span_s * S) for _ in range(count)):
        symbol = rnd.choice(list(SYMBOL_SCALES))
        ids[symbol] += 1
        step = max(1, prices[symbol] // 10_000)
        prices[symbol] = max(1, prices[symbol] + rnd.randint(-step, step))
        trade = Trade(symbol, ids[symbol], ts, prices[symbol], rnd.randint(1, 10**11),
                      rnd.choice(["XNAS", "binance", None]), rnd.choice(["buy", "sell", None]))
        out.trades.append(trade)
        value = orjson.dumps(trade.to_wire())
        key = symbol.encode()
        roll = rnd.random()
        if roll < 0.002 and T0_US + 120 * S < ts < end_us - 120 * S:
            out.late.add((symbol, trade.trade_id))
            arrivals.append((ts + LATE_DELAY_US, len(arrivals), key, value))
            continue
        delay = rnd.randrange(300_000) if roll < 0.3 else 0
        arrivals.append((ts + delay, len(arrivals), key, value))
        if roll > 0.995:  # an exact re-send: while open, after close, or minutes later
            out.resent += 1
            again = ts + delay + rnd.choice([50_000, 20 * S, 200 * S])
            arrivals.append((again, len(arrivals), key, value))
        elif roll > 0.9945:  # a conflicting re-send: a dead letter
            conflict = orjson.dumps(trade._replace(price=trade.price + 1).to_wire())
            out.dead[conflict] += 1
            out.conflicts[conflict] += 1
            arrivals.append((ts + delay + rnd.choice([50_000, 20 * S]), len(arrivals), key,
                             conflict))
        elif roll > 0.9915:
            bad = rnd.choice(BAD_VALUES)
            out.dead[bad] += 1
            arrivals.append((ts + delay, len(arrivals), key, bad))
    extra = list(extra_bad)
    for index, bad in enumerate(extra):
        arrival = T0_US + (index * span_s * S) // max(1, len(extra))
        out.dead[bad] += 1
        arrivals.append((arrival, len(arrivals), b"hostile", bad))
    arrivals.sort()
    out.records = [(key, value, arrival // 1000) for arrival, _, key, value in arrivals]
    return out


def produce(pipeline: Pipeline, records: list[tuple[bytes, bytes, int]]) -> None:
    """With librdkafka's own partitioner (not the project's murmur2), as a stranger would."""
    producer = Producer({"bootstrap.servers": pipeline.bootstrap, "enable.idempotence": True,
                         "linger.ms": 50, "batch.size": 1_000_000, "compression.type": "lz4",
                         "message.max.bytes": 8 * 1024 * 1024,
                         "queue.buffering.max.messages": 1_000_000})
    topic = pipeline.settings.topic_trades
    for key, value, timestamp_ms in records:
        while True:
            try:
                producer.produce(topic, value, key, timestamp=timestamp_ms)
                break
            except BufferError:
                producer.poll(0.1)
    assert producer.flush(120) == 0, "not every record was delivered"


@dataclass
class Verdict:
    """The committed outputs against what the stream says they must be."""

    missing: list[tuple[object, ...]]
    short: list[tuple[object, ...]]
    extra: list[tuple[object, ...]]
    twice: list[tuple[object, ...]]
    late_diff: tuple[int, int]  # (expected but absent, present but not expected)
    dead_diff: tuple[int, int]
    candles: int
    revised: int  # candles whose latest revision is > 0

    def assert_exact(self) -> None:
        assert not self.twice, f"{len(self.twice)} candles committed twice: {self.twice[:3]}"
        assert not self.missing, f"{len(self.missing)} candles missing: {self.missing[:5]}"
        assert not self.short, f"{len(self.short)} candles differ: {self.short[:3]}"
        assert not self.extra, f"{len(self.extra)} unexpected candles: {self.extra[:3]}"
        assert self.late_diff == (0, 0), f"trades.late (missing, extra): {self.late_diff}"
        assert self.dead_diff == (0, 0), f"trades.dlq (missing, extra): {self.dead_diff}"


def verdict(pipeline: Pipeline, stream: TortureStream) -> Verdict:
    """Read ``candles``, ``trades.late`` and ``trades.dlq`` with read_committed and compare."""
    config = pipeline.settings
    committed = [decode_candle(m.value() or b"")
                 for m in pipeline.messages(config.topic_candles, timeout_s=300)]
    revisions = Counter((*c.key, c.revision) for c in committed)
    twice: list[tuple[object, ...]] = [k for k, n in revisions.items() if n > 1]
    numbers: dict[tuple[object, ...], list[int]] = {}
    for candle in committed:
        numbers.setdefault(candle.key, []).append(candle.revision)
    twice += [(*k, "skipped", sorted(r)) for k, r in numbers.items()
              if sorted(set(r)) != list(range(max(r) + 1))]
    if config.revision_horizon_us:
        assert config.revision_horizon_us > LATE_DELAY_US, "a horizon the stream cannot judge"
        late_set: set[tuple[str, int]] = set()
    else:
        late_set = stream.late
    expected = {c.key: c for c in candles_from_trades(
        [t for t in stream.trades if (t.symbol, t.trade_id) not in late_set],
        config.intervals_us)}
    got: dict[tuple[object, ...], Candle] = {
        key: replace(candle, revision=0) for key, candle in latest_revisions(committed).items()}
    missing = [k for k in expected if k not in got]
    short = [k for k in expected if k in got and got[k] != expected[k]]
    extra = [k for k in got if k not in expected]
    late = Counter()
    for message in pipeline.messages(config.topic_late, timeout_s=120):
        wire = orjson.loads(bytes(decode_late(message.value() or b"").trade))
        late[(wire["symbol"], wire["trade_id"])] += 1
    dead = Counter(m.value() or b"" for m in pipeline.messages(config.topic_dlq,
                                                                 timeout_s=120))
    expected_late = Counter(dict.fromkeys(late_set, 1))
    return Verdict(missing, short, extra, twice,
                   (sum((expected_late - late).values()), sum((late - expected_late).values())),
                   (sum((stream.dead - dead).values()), sum((dead - stream.dead).values())),
                   len(committed), sum(1 for c in latest_revisions(committed).values()
                                       if c.revision > 0))
