"""The speed layer's metrics: series that must exist from the start, and ones that must go."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from candle_core.reasons import Reason
from speed_layer.metrics import SpeedMetrics, observe_many


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


def test_observe_many_equals_as_many_observes() -> None:
    one_by_one, at_once = SpeedMetrics(CollectorRegistry()), SpeedMetrics(CollectorRegistry())
    for amount, count in ((0.003, 4), (0.07, 1000), (0.07, 0), (0.5, 2), (99.0, 3)):
        for _ in range(count):
            one_by_one.close_to_commit.observe(amount)
        observe_many(at_once.close_to_commit, amount, count)
    name = "candles_speed_window_close_to_commit_seconds"

    def exposed(metrics: SpeedMetrics) -> tuple[list[str], float]:
        lines = [line for line in samples(metrics, name) if "_created" not in line]
        total = [float(line.split()[1]) for line in lines if line.startswith(f"{name}_sum")]
        return [line for line in lines if not line.startswith(f"{name}_sum")], total[0]

    (buckets, total), (buckets_at_once, total_at_once) = exposed(one_by_one), exposed(at_once)
    assert buckets == buckets_at_once  # every bucket and the count, exactly
    assert f"{name}_count 1009.0" in buckets
    assert total_at_once == pytest.approx(total, rel=1e-12)  # a product, not 1,009 additions
