"""The speed layer's metrics: series that must exist from the start, and ones that must go."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest

from candle_core.reasons import Reason
from speed_layer.metrics import SpeedMetrics


def samples(metrics: SpeedMetrics, name: str) -> list[str]:
    text = generate_latest(metrics.registry).decode()
    return [line for line in text.splitlines() if line.startswith(name)]


def test_every_dlq_reason_has_a_zero_series_from_the_start() -> None:
    metrics = SpeedMetrics(CollectorRegistry())
    lines = samples(metrics, "candles_speed_dlq_total")
    assert len(lines) == len(Reason) and all(line.endswith(" 0.0") for line in lines)


def test_a_revoked_partition_stops_reporting_lag() -> None:
    metrics = SpeedMetrics(CollectorRegistry())
    for partition in ("0", "1"):
        metrics.consumer_lag.labels(partition).set(7)
        metrics.watermark_lag.labels(partition).set(1.5)
    metrics.forget_partition(1)
    metrics.forget_partition(5)  # never reported: nothing to drop, no error
    assert samples(metrics, "candles_speed_consumer_lag_messages") == [
        'candles_speed_consumer_lag_messages{partition="0"} 7.0']
    assert samples(metrics, "candles_speed_watermark_lag_seconds") == [
        'candles_speed_watermark_lag_seconds{partition="0"} 1.5']
