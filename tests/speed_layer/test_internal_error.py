"""A record whose handling raises does not stop the speed layer (or loop it through
crashes): it becomes a dead letter with reason internal_error and the exception in its
detail, it is counted in the metric the CandlesSpeedInternalError alert watches, and the
records after it are handled as usual. Driven through the real processor."""

from __future__ import annotations

import random

import orjson
from prometheus_client import CollectorRegistry

from candle_core.parsing import TradeParser
from candle_core.side_outputs import HEADER_DETAIL, HEADER_OFFSET, HEADER_REASON
from candle_core.trade import Rejection, Trade
from kafka_ops.liveness import Heartbeat
from lambda_candles.settings import load_settings
from speed_layer.metrics import SpeedMetrics
from speed_layer.processor import SpeedLayer, StopRules
from tests.speed_layer.memory_kafka import FakeClock, MemoryKafka, Record, memory_clients

T0 = 1_767_225_600_000_000
POISON = b'{"symbol":"AAA","trade_id":13,"ts":1767225600500000,"price":"1","size":"1",' \
         b'"venue":"\\u0078"}'  # valid, but outside the native shape: Python's path


class BuggyParser:
    """The contract's parser, with a bug that one value triggers."""

    def __init__(self) -> None:
        self.real = TradeParser(5_000_000)

    def parse(self, raw: bytes, kafka_ts_us: int | None = None) -> Trade | Rejection:
        if raw == POISON:
            raise ZeroDivisionError("a bug only this record meets")
        return self.real.parse(raw, kafka_ts_us)


def test_a_record_that_raises_is_dead_lettered_counted_and_the_loop_goes_on() -> None:
    config = load_settings(kafka_bootstrap_servers="memory:0", idle_timeout_ms=3_600_000)
    kafka = MemoryKafka(1)
    trades = [Trade("AAA", i, T0 + i * 1_000, 100, 1, "x", "buy") for i in range(200)]
    values = [orjson.dumps(t.to_wire()) for t in trades]
    values.insert(100, POISON)
    for value in values:
        kafka.append(config.topic_trades, 0, Record(b"AAA", value, T0 // 1000 + 10_000))
    registry = CollectorRegistry()
    layer = SpeedLayer(config, memory_clients(kafka, config.topic_speed_state,
                                              random.Random(1), 64),
                       SpeedMetrics(registry), Heartbeat(60.0), StopRules(idle_exit_s=0.05),
                       clock=FakeClock())
    layer.parser = BuggyParser()  # type: ignore[assignment]
    summary = layer.run()
    dead = kafka.values(config.topic_dlq)
    assert len(dead) == 1
    headers = dict(dead[0].headers or [])
    assert dead[0].value == POISON
    assert headers[HEADER_REASON] == b"internal_error"
    assert headers[HEADER_DETAIL] == b"ZeroDivisionError: a bug only this record meets"
    assert headers[HEADER_OFFSET] == b"100"
    assert summary.by_reason == {"internal_error": 1}
    assert summary.valid == 200
    assert registry.get_sample_value("candles_speed_dlq_total",
                                     {"reason": "internal_error"}) == 1
    assert kafka.committed[0] == len(values)  # handled: a restart does not meet it again
