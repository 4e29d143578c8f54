"""The dedup horizon on the real broker: re-sends after their window closed are duplicates.

Exact re-sends arrive 20 s, 90 s and 5 minutes after their trades, long after the 1 s
window closed (allowed lateness 2 s) but inside the default horizon (lateness + 10 min):
each is a counted duplicate, none goes to ``trades.late``. Conflicting re-sends after
close are dead letters. The state survives a SIGKILL between the originals and their
re-sends: the restarted layer still knows the ids it saw before the crash.
"""

from __future__ import annotations

import json
import random
import signal
import time
from pathlib import Path

import orjson
import pytest

from candle_core.trade import Trade
from tests.pipeline import Pipeline
from tests.speed_layer.torture import T0_US, TortureStream, produce, verdict

pytestmark = pytest.mark.kafka

S = 1_000_000


def resend_stream(seed: int) -> tuple[TortureStream, int]:
    """Trades over 8 minutes for 4 symbols, 3% re-sent exactly (20 s, 90 s or 300 s later),
    0.5% re-sent with another price 30 s later; returns the stream and the exact re-sends."""
    rnd = random.Random(seed)
    stream = TortureStream()
    arrivals: list[tuple[int, int, bytes, bytes]] = []
    resends = 0
    for trade_id in range(40_000):
        symbol = ("AAPL", "MSFT", "BTCUSDT", "SPY")[trade_id % 4]
        ts = T0_US + trade_id * 12_000  # 8 minutes, dense on every symbol
        trade = Trade(symbol, trade_id, ts, 10**10 + rnd.randrange(10**6), 10**8, "XNAS", "buy")
        stream.trades.append(trade)
        value = orjson.dumps(trade.to_wire())
        arrivals.append((ts, len(arrivals), symbol.encode(), value))
        roll = rnd.random()
        if roll < 0.03:
            resends += 1
            arrivals.append((ts + rnd.choice([20, 90, 300]) * S, len(arrivals),
                             symbol.encode(), value))
        elif roll < 0.035:
            conflict = orjson.dumps(trade._replace(price=trade.price + 1).to_wire())
            stream.dead[conflict] += 1
            stream.conflicts[conflict] += 1
            arrivals.append((ts + 30 * S, len(arrivals), symbol.encode(), conflict))
    arrivals.sort()
    stream.records = [(key, value, arrival // 1000) for arrival, _, key, value in arrivals]
    return stream, resends


@pytest.fixture
def pipeline(kafka_bootstrap: str) -> Pipeline:
    line = Pipeline(kafka_bootstrap, partitions=4)
    line.create_topics()
    return line


def test_re_sends_after_close_are_counted_duplicates_never_late(pipeline: Pipeline) -> None:
    stream, resends = resend_stream(seed=3)
    produce(pipeline, stream.records)
    result = pipeline.run("speed", "--exit-when-idle", "3", "--idle-timeout-ms", "1000",
                          "--summary-json")
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["duplicates"] == resends > 1000
    assert summary["late"] == 0
    assert summary["by_reason"] == {"conflicting_duplicate": sum(stream.conflicts.values())}
    verdict(pipeline, stream).assert_exact()


def test_the_horizon_survives_a_crash(pipeline: Pipeline, tmp_path: Path) -> None:
    """The first half arrives and is processed; the layer is killed; then come the rest,
    including re-sends of trades from before the crash: still duplicates."""
    stream, _ = resend_stream(seed=4)
    half = len(stream.records) // 2
    produce(pipeline, stream.records[:half])
    env = {"CANDLES_SPEED_INSTANCE_ID": "horizon"}
    log = tmp_path / "speed.log"
    process = pipeline.start("speed", "--idle-timeout-ms", "600000", env=env, log_path=log)
    time.sleep(12)  # the first half is processed and committed
    assert process.poll() is None, log.read_text()[-3000:]
    process.send_signal(signal.SIGKILL)
    process.wait()
    produce(pipeline, stream.records[half:])
    result = pipeline.run("speed", "--exit-when-idle", "3", "--idle-timeout-ms", "1000",
                          env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    verdict(pipeline, stream).assert_exact()  # trades.late empty: no re-send was late
