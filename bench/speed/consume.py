"""(a) A bare ``consume()`` loop with the speed layer's librdkafka settings."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

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

    from kafka_ops.clients import consumer_config
    from lambda_candles.settings import load_settings

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


def child_consume_produce(argv: list[str]) -> None:
    """(a') The floor of a flood of bad records: a bare ``consume()`` loop that also
    produces ``share`` of what it reads to a dead-letter topic, with six constant headers,
    in a transaction committed every 500 ms, as the speed layer does."""
    ns = child_parser("bootstrap", "topic", "group", "expect", "share", "dlq").parse_args(argv)
    from confluent_kafka import Consumer, Producer, TopicPartition

    from candle_core.side_outputs import DLQ_HEADER_NAMES
    from kafka_ops.clients import consumer_config, producer_config
    from lambda_candles.settings import load_settings

    settings = load_settings(kafka_bootstrap_servers=ns.bootstrap)
    consumer = Consumer(consumer_config(settings, ns.group, ns.bootstrap))
    producer = Producer(producer_config(settings, ns.bootstrap,
                                        **{"transactional.id": f"{ns.group}.floor"}))
    producer.init_transactions(30)
    producer.begin_transaction()
    consumer.subscribe([ns.topic])
    headers: list[tuple[str, str | bytes | None]] = [(name, b"future_timestamp")
                                                     for name in DLQ_HEADER_NAMES]
    every = max(1, round(1 / (1 - float(ns.share)))) if float(ns.share) < 1 else 0
    timer, clock, expect = BatchTimer(), time.perf_counter, int(ns.expect)
    deadline, last_commit, seen = time.monotonic() + CHILD_TIMEOUT_S, clock(), 0
    while timer.total < expect and time.monotonic() < deadline:
        timer.called(clock())
        messages = consumer.consume(BATCH, timeout=1.0)
        for message in messages:
            seen += 1
            if every and seen % every == 0:
                continue  # the valid share: not written back
            while True:
                try:
                    producer.produce(ns.dlq, message.value(), message.key(), headers=headers)
                    break
                except BufferError:
                    producer.poll(0.05)
        if messages and clock() - last_commit >= 0.5:
            last: Any = messages[-1]  # a message without error: its coordinates are set
            offsets = [TopicPartition(last.topic(), last.partition(), last.offset() + 1)]
            producer.send_offsets_to_transaction(offsets, consumer.consumer_group_metadata())
            producer.commit_transaction()
            producer.begin_transaction()
            last_commit = clock()
        timer.returned(len(messages), clock())
    producer.commit_transaction()
    timer.called(clock())
    consumer.close()
    print(json.dumps(timer.result()))


def measure_consume_produce(bench: Bench, run: int, result: Measured) -> None:
    group = f"{bench.run_id}.floor-{run}"
    settings = bench.settings(group)
    bench.create_topics(settings)
    expect = bench.info.get("messages", len(bench.trades))
    share = bench.info.get("invalid", 0) / max(1, expect)
    child = run_child([sys.executable, SCRIPT, "_consume-produce-child", "--bootstrap",
                       bench.bootstrap, "--topic", bench.trades_topic, "--group", group,
                       "--expect", str(expect), "--share", f"{share:.6f}",
                       "--dlq", settings.topic_dlq], timeout_s=CHILD_TIMEOUT_S, cwd=REPO)
    timing = last_json(child, "consume + produce floor")
    result.add(timing["rate"], child, f"{timing['counted']:,} msgs in {timing['seconds']:.2f} s, "
               f"{share:.0%} of them written back with 6 headers")
