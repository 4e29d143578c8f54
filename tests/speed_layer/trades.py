"""Deterministic trade streams for speed-layer integration tests (no chaos: see sources/)."""

from __future__ import annotations

import random

import orjson

from candle_core.trade import Trade

SYMBOLS = ("AAPL", "MSFT", "BTCUSDT", "ETHUSDT", "SHIBUSDT", "NVDA", "BRK.A", "EURUSD")
T0_US = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z


def clean_stream(count: int, seed: int = 7, span_s: int = 120,
                 start_us: int = T0_US) -> list[Trade]:
    """``count`` trades over ``span_s`` seconds for 8 symbols, in event-time order."""
    rnd = random.Random(seed)
    ids = dict.fromkeys(SYMBOLS, 0)
    prices = {s: rnd.randint(10**8, 10**13) for s in SYMBOLS}
    trades = []
    for ts_us in sorted(start_us + rnd.randrange(span_s * 1_000_000) for _ in range(count)):
        symbol = rnd.choice(SYMBOLS)
        ids[symbol] += 1
        prices[symbol] = max(1, prices[symbol] + rnd.randint(-1000, 1000))
        trades.append(Trade(symbol, ids[symbol], ts_us, prices[symbol],
                            rnd.randint(1, 10**10), "test", rnd.choice(["buy", "sell"])))
    return trades


def as_records(trades: list[Trade], delays_us: list[int] | None = None
               ) -> list[tuple[bytes, bytes, int]]:
    """Kafka records in arrival order: arrival = ts + delay; Kafka timestamp = arrival."""
    delays = delays_us or [0] * len(trades)
    arrivals = sorted(zip((t.ts_us + d for t, d in zip(trades, delays, strict=True)), trades,
                          strict=True), key=lambda pair: pair[0])
    return [(t.symbol.encode(), orjson.dumps(t.to_wire()), arrival // 1000)
            for arrival, t in arrivals]
