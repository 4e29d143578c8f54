"""(a) A bare ``consume()`` loop with the speed layer's librdkafka settings."""

from __future__ import annotations

import json
import sys
import time

from bench.common import run_child
from bench.speed.context import Bench
from bench.speed.shared import (
    BATCH,
    CHILD_TIMEOUT_S,
    REPO,
    SCRIPT,
    BatchTimer,
    Measured,
    child_parser,
    last_json,
)


def child_consume(argv: list[str]) -> None:
    """(a) A bare ``consume()`` loop over the whole topic with a fresh group."""
    ns = child_parser("bootstrap", "topic", "group", "expect").parse_args(argv)
    from confluent_kafka import Consumer

    from candle_core.settings import load_settings
    from kafka_ops.clients import consumer_config

    settings = load_settings(kafka_bootstrap_servers=ns.bootstrap)
    consumer = Consumer(consumer_config(settings, ns.group, ns.bootstrap))
    consumer.subscribe([ns.topic])
    timer, clock, expect = BatchTimer(), time.perf_counter, int(ns.expect)
    deadline = time.monotonic() + CHILD_TIMEOUT_S
    while timer.total < expect and time.monotonic() < deadline:
        timer.called(clock())
        messages = consumer.consume(BATCH, timeout=1.0)
        timer.returned(len(messages), clock())
    timer.called(clock())
    consumer.close()
    print(json.dumps(timer.result()))


def measure_consume(bench: Bench, run: int, result: Measured) -> None:
    group = f"{bench.run_id}.consume-{run}"
    expect = bench.info.get("messages", len(bench.trades))
    child = run_child([sys.executable, SCRIPT, "_consume-child", "--bootstrap", bench.bootstrap,
                       "--topic", bench.trades_topic, "--group", group,
                       "--expect", str(expect)], timeout_s=CHILD_TIMEOUT_S, cwd=REPO)
    timing = last_json(child, "bare consume")
    result.add(timing["rate"], child, f"{timing['counted']:,} msgs in {timing['seconds']:.2f} s")
