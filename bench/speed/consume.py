"""(a) A bare ``consume()`` loop with the speed layer's librdkafka settings, and the floors
(a') and (a''): the same loop producing what any design must produce, in transactions."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
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


def _transactional_loop(bootstrap: str, topic: str, group: str, expect: int,
                        write: Callable[[Any, list[Any]], None]) -> dict[str, Any]:
    """A bare ``consume()`` loop that hands each batch to ``write(producer, messages)``, in
    a transaction committed every 500 ms with the consumer offsets, as the speed layer
    does; returns the timer's result."""
    from confluent_kafka import Consumer, Producer, TopicPartition

    from kafka_ops.clients import consumer_config, producer_config
    from lambda_candles.settings import load_settings

    settings = load_settings(kafka_bootstrap_servers=bootstrap)
    consumer = Consumer(consumer_config(settings, group, bootstrap))
    producer = Producer(producer_config(settings, bootstrap,
                                        **{"transactional.id": f"{group}.floor"}))
    producer.init_transactions(30)
    producer.begin_transaction()
    consumer.subscribe([topic])
    timer, clock = BatchTimer(), time.perf_counter
    deadline, last_commit = time.monotonic() + CHILD_TIMEOUT_S, clock()
    while timer.total < expect and time.monotonic() < deadline:
        timer.called(clock())
        messages = consumer.consume(BATCH, timeout=1.0)
        write(producer, messages)
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
    return timer.result()


def _produce(producer: Any, topic: str, value: bytes | None, key: bytes | None,
             headers: list[tuple[str, str | bytes | None]] | None = None) -> None:
    while True:
        try:
            producer.produce(topic, value, key, headers=headers)
            return
        except BufferError:
            producer.poll(0.05)


def child_consume_produce(argv: list[str]) -> None:
    """(a') The floor of a flood of bad records: the transactional loop, producing
    ``share`` of what it reads to a dead-letter topic with six constant headers."""
    ns = child_parser("bootstrap", "topic", "group", "expect", "share", "dlq").parse_args(argv)
    from candle_core.side_outputs import DLQ_HEADER_NAMES

    headers: list[tuple[str, str | bytes | None]] = [(name, b"future_timestamp")
                                                     for name in DLQ_HEADER_NAMES]
    every = max(1, round(1 / (1 - float(ns.share)))) if float(ns.share) < 1 else 0
    seen = 0

    def write_back(producer: Any, messages: list[Any]) -> None:
        nonlocal seen
        for message in messages:
            seen += 1
            if every and seen % every == 0:
                continue  # the valid share: not written back
            _produce(producer, ns.dlq, message.value(), message.key(), headers)

    print(json.dumps(_transactional_loop(ns.bootstrap, ns.topic, ns.group, int(ns.expect),
                                         write_back)))


def child_consume_candles(argv: list[str]) -> None:
    """(a'') The floor of a market of many symbols: the transactional loop, producing
    ``per_message`` candle-sized messages for each message it reads (the reference's
    candles per trade), each with its own key. What any design built on this Kafka client
    pays before it does any windowing."""
    ns = child_parser("bootstrap", "topic", "group", "expect", "per_message", "candles",
                      "value").parse_args(argv)
    value, per_message = ns.value.encode(), float(ns.per_message)
    owed, made = 0.0, 0

    def write_candles(producer: Any, messages: list[Any]) -> None:
        nonlocal owed, made
        owed += per_message * len(messages)
        while owed >= 1:
            owed -= 1
            made += 1
            _produce(producer, ns.candles, value, b"S%d|1s|%d" % (made % 10_000, made))

    result = _transactional_loop(ns.bootstrap, ns.topic, ns.group, int(ns.expect),
                                 write_candles)
    print(json.dumps({**result, "produced": made}))


def measure_consume_candles(bench: Bench, run: int, result: Measured) -> None:
    """(a''): consume every trade and produce as many candle-sized messages as the
    reference has candles, spread evenly."""
    from candle_core.codec import encode_candle

    group = f"{bench.run_id}.candle-floor-{run}"
    settings = bench.settings(group)
    bench.create_topics(settings)
    expect = bench.info.get("messages", len(bench.trades))
    per_message = len(bench.reference) / max(1, expect)
    value = encode_candle(bench.reference[len(bench.reference) // 2]).decode()
    child = run_child([sys.executable, SCRIPT, "_consume-candles-child", "--bootstrap",
                       bench.bootstrap, "--topic", bench.trades_topic, "--group", group,
                       "--expect", str(expect), "--per-message", f"{per_message:.6f}",
                       "--candles", settings.topic_candles, "--value", value],
                      timeout_s=CHILD_TIMEOUT_S, cwd=REPO)
    timing = last_json(child, "consume + produce candles floor")
    result.add(timing["rate"], child, f"{timing['counted']:,} msgs in {timing['seconds']:.2f} s, "
               f"{timing['produced']:,} candle-sized messages produced ({per_message:.2f} a "
               "message)")


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
