"""The paced run's measurements: the ``read_committed`` reader child, the latency of each
candle, and the layer's own histograms from /metrics."""

from __future__ import annotations

import json
import signal
import time
import urllib.request
from typing import TYPE_CHECKING, Any

from bench.common import histogram_quantile
from bench.speed.shared import child_parser

if TYPE_CHECKING:
    from bench.speed.paced import Paced


def child_latency_reader(argv: list[str]) -> None:
    """Paced run: note when each candle becomes visible to a ``read_committed`` reader."""
    ns = child_parser("bootstrap", "topic", "group").parse_args(argv)
    import msgspec
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    from kafka_ops.clients import consumer_config
    from lambda_candles.settings import load_settings

    settings = load_settings(kafka_bootstrap_servers=ns.bootstrap)
    consumer = Consumer(consumer_config(settings, ns.group, ns.bootstrap,
                                        **{"fetch.wait.max.ms": 10}))
    numbers = consumer.list_topics(ns.topic, timeout=10).topics[ns.topic].partitions
    consumer.assign([TopicPartition(ns.topic, n, OFFSET_BEGINNING) for n in numbers])
    stopping: list[bool] = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    print("ready", flush=True)
    seen: list[tuple[str, int, int, float, float]] = []
    while not stopping:  # poll(), not consume(n): that waits for n messages or the timeout
        message = consumer.poll(0.05)
        now = time.time()
        if message is not None and message.error() is None:
            wire = msgspec.json.decode(message.value() or b"{}")
            produced_s = message.timestamp()[1] / 1000  # CreateTime: when the layer emitted it
            seen.append((wire["symbol"], wire["interval_us"], wire["window_start_us"],
                         produced_s, now))
    consumer.close()
    print(json.dumps(seen))


def score_latency(paced: Paced, seen: list[list[Any]], lateness_us: int, first_us: int,
                  last_us: int) -> None:
    """Latency of each 1 s candle closed by the watermark while trades flowed: when it was
    visible, minus its window end plus allowed lateness (the earliest it may close)."""
    got = 0
    for _symbol, interval_us, start_us, produced_s, visible_s in seen:
        due_us = start_us + interval_us + lateness_us
        if interval_us == 1_000_000 and start_us >= first_us - 1_000_000 and due_us <= last_us:
            paced.latencies_ms.append((visible_s - due_us / 1e6) * 1000)
            paced.emit_delays_ms.append((produced_s - due_us / 1e6) * 1000)
            got += 1
    paced.missing_candles = paced.expected_candles - got


def scrape_histogram(port: int, name: str) -> dict[str, Any]:
    """One histogram from the layer's /metrics, with interpolated p50/p99."""
    from prometheus_client.parser import text_string_to_metric_families

    url = f"http://127.0.0.1:{port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    buckets: list[tuple[float, float]] = []
    total = count = 0.0
    for family in text_string_to_metric_families(text):
        if family.name != name:
            continue
        for sample in family.samples:
            if sample.name.endswith("_bucket"):
                buckets.append((float(sample.labels["le"]), sample.value))
            elif sample.name.endswith("_sum"):
                total = sample.value
            elif sample.name.endswith("_count"):
                count = sample.value
    buckets.sort()
    return {"count": count, "mean_ms": 1000 * total / count if count else None,
            "p50_ms": 1000 * histogram_quantile(0.5, buckets),
            "p99_ms": 1000 * histogram_quantile(0.99, buckets), "buckets": buckets}
