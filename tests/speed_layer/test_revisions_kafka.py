"""Revisions on the real broker: late trades correct their candles, exactly.

Trades arrive 30 s, 90 s and 5 minutes late (long after their 1 s window and some of their
rollups closed) and revise their candles: the latest revision of every candle equals the
reference over every valid trade, each revision is emitted once and none is skipped. A
trade later than the horizon goes to ``trades.late`` and is in no candle; an exact re-send
of a revising trade is a duplicate, not a second revision.
"""

from __future__ import annotations

from collections import Counter

import orjson
import pytest

from candle_core.candle import Candle, latest_revisions
from candle_core.side_outputs import decode_late
from candle_core.trade import Trade
from candle_core.windows import parse_interval
from tests.pipeline import Pipeline
from tests.speed_layer.test_speed_kafka import (
    SPEED_ARGS,
    assert_exact,
    committed_candles,
    late_trade,
)
from tests.speed_layer.trades import as_records, clean_stream

pytestmark = pytest.mark.kafka

S = 1_000_000
HORIZON_MS = 6 * 60 * 1000  # 6 minutes: a 5 minute late trade revises, an 8 minute one not
DELAYS_S = (30, 90, 300)
PAST_HORIZON_S = 480


def test_trades_30s_90s_and_5min_late_revise_their_candles(kafka_bootstrap: str) -> None:
    pipeline = Pipeline(kafka_bootstrap, partitions=4,
                        extra_env={"CANDLES_REVISION_HORIZON_MS": str(HORIZON_MS)})
    pipeline.create_topics()
    trades = clean_stream(24_000, seed=31, span_s=900)  # 15 minutes, ~27 trades a second
    delays = [0] * len(trades)
    revising: dict[int, set[tuple[str, int]]] = {d: set() for d in DELAYS_S}
    past: set[tuple[str, int]] = set()
    for n, i in enumerate(range(400, len(trades) - 12_000, 53)):  # late ones end in time
        delay = (*DELAYS_S, PAST_HORIZON_S)[n % 4]
        delays[i] = delay * S
        key = (trades[i].symbol, trades[i].trade_id)
        (past if delay == PAST_HORIZON_S else revising[delay]).add(key)
    records = as_records(trades, delays)
    resent = next(t for t in trades if (t.symbol, t.trade_id) in revising[90])
    # an exact re-send of a revising trade, a minute after it arrived: a duplicate
    resend_at = resent.ts_us + 150 * S
    records.append((resent.symbol.encode(), orjson.dumps(resent.to_wire()), resend_at // 1000))
    records.sort(key=lambda r: r[2])
    pipeline.produce(records)
    result = pipeline.run(*SPEED_ARGS, timeout_s=600)
    assert result.returncode == 0, result.stderr[-3000:]

    committed = committed_candles(pipeline)
    valid = [t for t in trades if (t.symbol, t.trade_id) not in past]
    assert_exact(committed, valid, pipeline.settings.intervals_us)  # latest = reference
    late = {(t.symbol, t.trade_id) for t in (
        late_trade(decode_late(m.value() or b""))
        for m in pipeline.messages(pipeline.settings.topic_late))}
    assert late == past, "exactly the trades past the horizon are late"
    assert all(revising.values()) and past

    # every delay revised its 1 s candle and the rolled-up candles holding it
    latest = latest_revisions(committed)
    by_key = {(t.symbol, t.trade_id): t for t in trades}
    for delay, keys in revising.items():
        for key in sorted(keys):
            trade = by_key[key]
            second = latest[(trade.symbol, S, trade.ts_us - trade.ts_us % S)]
            assert second.revision >= 1 or _only_late(second, trades, delays), (delay, trade)
    by_interval = Counter(c.interval_us for c in committed if c.revision > 0)
    for label in ("1s", "10s", "1m", "5m"):
        assert by_interval[parse_interval(label)] > 0, f"no {label} candle was revised"
    assert ", 1 duplicates," in result.stdout


def _only_late(candle: Candle, trades: list[Trade], delays: list[int]) -> bool:
    """A second no on-time trade reached: its first emission came from a late trade."""
    start, symbol = candle.window_start_us, candle.symbol
    return all(d > 0 for t, d in zip(trades, delays, strict=True)
               if t.symbol == symbol and start <= t.ts_us < start + S)
