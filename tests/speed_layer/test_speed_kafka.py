"""The speed layer end to end on the real broker: committed candles equal the reference."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest

from candle_core.candle import Candle, latest_revisions
from candle_core.codec import decode_candle
from candle_core.reference import candles_from_trades
from candle_core.side_outputs import decode_late
from candle_core.trade import Trade
from tests.pipeline import Pipeline
from tests.speed_layer.trades import as_records, clean_stream

pytestmark = pytest.mark.kafka

SPEED_ARGS = ("speed", "--exit-when-idle", "3", "--idle-timeout-ms", "1000")


def committed_candles(pipeline: Pipeline) -> list[Candle]:
    values = [m.value() for m in pipeline.messages(pipeline.settings.topic_candles)]
    return [decode_candle(v) for v in values if v is not None]


def assert_exact(candles: list[Candle], trades: list[Trade], intervals: tuple[int, ...]) -> None:
    """Each candle's revisions are 0, 1, ..., n, each emitted once, and the latest revision
    of every candle is the reference over ``trades``."""
    revisions: dict[tuple[str, int, int], list[int]] = {}
    for candle in candles:
        revisions.setdefault(candle.key, []).append(candle.revision)
    wrong = {k: r for k, r in revisions.items() if sorted(r) != list(range(len(r)))}
    assert not wrong, f"a revision emitted twice or skipped: {list(wrong.items())[:3]}"
    latest = latest_revisions(candles)
    assert [replace(latest[key], revision=0) for key in sorted(latest)] == \
        candles_from_trades(trades, intervals)


@pytest.fixture
def pipeline(kafka_bootstrap: str) -> Pipeline:
    line = Pipeline(kafka_bootstrap, partitions=4)
    line.create_topics()
    return line


def test_clean_stream_equals_reference_every_interval(pipeline: Pipeline) -> None:
    trades = clean_stream(20_000, span_s=400)
    pipeline.produce(as_records(trades))
    result = pipeline.run(*SPEED_ARGS)
    assert result.returncode == 0, result.stderr[-3000:]
    assert_exact(committed_candles(pipeline), trades, pipeline.settings.intervals_us)


def test_out_of_order_within_lateness_and_late_beyond_it(kafka_bootstrap: str) -> None:
    """Revisions off (CANDLES_REVISION_HORIZON_MS=0): every trade for a closed window is
    late. tests/speed_layer/test_revisions_kafka.py has the same with revisions on."""
    pipeline = Pipeline(kafka_bootstrap, partitions=4,
                        extra_env={"CANDLES_REVISION_HORIZON_MS": "0"})
    pipeline.create_topics()
    trades = clean_stream(6_000, seed=11, span_s=200)
    lateness_us = pipeline.settings.allowed_lateness_us
    delays = [0] * len(trades)
    late_ids = set()
    for i in range(0, len(trades), 97):
        delays[i] = lateness_us - 300_000  # out of order, inside lateness: applied
    for i in range(50, len(trades) - 200, 211):
        delays[i] = lateness_us + 4_000_000  # beyond lateness + a full window: late
        late_ids.add((trades[i].symbol, trades[i].trade_id))
    pipeline.produce(as_records(trades, delays))
    result = pipeline.run(*SPEED_ARGS)
    assert result.returncode == 0, result.stderr[-3000:]
    on_time = [t for t in trades if (t.symbol, t.trade_id) not in late_ids]
    assert_exact(committed_candles(pipeline), on_time, pipeline.settings.intervals_us)
    late = [decode_late(m.value() or b"") for m in pipeline.messages(pipeline.settings.topic_late)]
    assert {(lt.trade_id, lt.symbol) for lt in map(late_trade, late)} == {
        (i, s) for s, i in late_ids}
    assert all(lt.late_by_us > 0 for lt in late)


def late_trade(late: object) -> Trade:
    import orjson

    wire = orjson.loads(bytes(late.trade))  # type: ignore[attr-defined]
    return Trade(wire["symbol"], wire["trade_id"], wire["ts"], 0, 0)


def test_an_idle_partitions_last_window_closes_after_idle_timeout(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    """A quiet symbol's last 1 s candle comes out while the process keeps running."""
    trades = clean_stream(500, seed=2, span_s=20)
    pipeline.produce(as_records(trades))
    last = max(trades, key=lambda t: t.ts_us)
    last_key = (last.symbol, 1_000_000, last.ts_us - last.ts_us % 1_000_000)
    process = pipeline.start("speed", "--idle-timeout-ms", "1500", "--max-runtime", "60",
                             log_path=tmp_path / "speed.log")
    try:
        deadline = time.monotonic() + 45
        keys: set[tuple[str, int, int]] = set()
        while last_key not in keys and time.monotonic() < deadline:
            time.sleep(1)
            keys = {c.key for c in committed_candles(pipeline)}
        assert last_key in keys, (tmp_path / "speed.log").read_text()[-2000:]
        assert process.poll() is None  # still running: closed by idleness, not by exit
    finally:
        process.terminate()
        process.wait(timeout=30)
