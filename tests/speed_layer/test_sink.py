"""The native Sink writes candles and dead letters into the speed layer's own transactional
producer. On a real broker: what it writes is exactly what ``Producer.produce()`` writes
(partition, key, value, headers), it waits for room when the local queue is full, and it
is part of the transaction (an aborted one is never read). Anything but the configured
confluent Producer is refused, and the speed layer then uses ``Producer.produce()``."""

from __future__ import annotations

import base64
import os
import time
import uuid
from typing import Any

import confluent_kafka.cimpl
import pytest
from confluent_kafka import KafkaError, Message, Producer
from prometheus_client import CollectorRegistry

from candle_core.side_outputs import dlq_headers
from candle_core.trade import Trade
from kafka_ops.clients import producer_config
from kafka_ops.liveness import Heartbeat
from kafka_ops.reading import read_topic
from kafka_ops.topics import partition_size
from lambda_candles.settings import CandlesSettings, load_settings
from speed_layer._hotpath import Sink
from speed_layer.changelog import PartitionState
from speed_layer.clients import build_clients, native_sink
from speed_layer.engine import PartitionEngine
from speed_layer.exceptions import TransactionFailedError
from speed_layer.metrics import SpeedMetrics
from speed_layer.partition import PartitionRun
from speed_layer.processor import SpeedLayer
from speed_layer.writer import TransactionWriter
from tests.kafka_fixture import TopicFactory
from tests.speed_layer.test_hotpath import SKEW_US, chaotic_batch

CANDLES = 2_000
LETTERS = 500
SMALL_QUEUE = 50  # messages: far fewer than a transaction's, so the sink must wait for room


def candles() -> list[tuple[bytes, bytes]]:
    return [(f"S{i % 997}|1s|{1_767_225_600_000_000 + i}".encode(),
             b'{"symbol":"S%d","n":%d}' % (i % 997, i)) for i in range(CANDLES)]


def dead_letters() -> list[Any]:
    letters: list[Any] = []
    for i in range(LETTERS):
        headers: list[Any] = dlq_headers("future_timestamp", f"detail {i}", "trades", i % 8,
                                        i, 1_767_225_600_000 + i)
        if i % 50 == 0:  # every value type the scanner's or Python's headers may hold
            headers = [*headers, ("as-text", f"t{i}"), ("empty", None)]
        key = None if i % 7 == 0 else f"K{i}".encode()
        letters.append((b'{"ts":%d}' % i, key, headers))
    return letters


def settings_for(bootstrap: str, topics: TopicFactory) -> CandlesSettings:
    return load_settings(kafka_bootstrap_servers=bootstrap, topic_candles=topics(8),
                         topic_dlq=topics(8), speed_instance_id=uuid.uuid4().hex[:8])


def writer_for(settings: CandlesSettings, native: bool) -> TransactionWriter:
    client_id = f"candles-speed-{settings.speed_instance_id}"
    producer = Producer(producer_config(settings, None, **{
        "client.id": client_id, "transactional.id": client_id,
        "queue.buffering.max.messages": SMALL_QUEUE}))
    producer.init_transactions(30)
    sink = native_sink(producer, client_id, settings) if native else None
    assert (sink is not None) == native
    return TransactionWriter(producer, None,  # type: ignore[arg-type]  # no offsets sent
                             settings, SpeedMetrics(CollectorRegistry()), None, sink=sink)


def written(settings: CandlesSettings, topic: str) -> list[tuple[Any, ...]]:
    """(partition, key, value, headers) of each committed message, partition by partition
    in offset order (the reader interleaves partitions as they arrive); the partition of a
    message without a key is left out (None, first): the partitioner picks one at random."""
    messages = [(m.partition() if m.key() is not None else None, m.key(), m.value(),
                 m.headers()) for m in read_topic(settings, topic, 60)]
    return sorted(messages, key=lambda m: -1 if m[0] is None else m[0])  # stable


def test_the_sink_writes_what_produce_writes_and_only_when_committed(
        kafka_bootstrap: str, kafka_topic_factory: TopicFactory) -> None:
    outputs = []
    for native in (True, False):
        settings = settings_for(kafka_bootstrap, kafka_topic_factory)
        writer = writer_for(settings, native)
        writer.begin()
        assert writer.emit(candles()) == CANDLES
        writer.dead_letters(dead_letters())
        writer.commit({})  # and the next transaction is aborted: none of it may be read
        writer.emit([(key, b"aborted") for key, _ in candles()[:100]])
        writer.dead_letters([(b"aborted", key, h) for _, key, h in dead_letters()[:10]])
        writer.producer.abort_transaction(30)
        outputs.append((written(settings, settings.topic_candles),
                        written(settings, settings.topic_dlq)))
    (native_candles, native_dlq), (python_candles, python_dlq) = outputs
    assert len(native_candles) == CANDLES and len(native_dlq) == LETTERS
    assert sorted(native_candles) == sorted(python_candles)  # partition, key, value: same
    assert sorted(native_dlq, key=repr) == sorted(python_dlq, key=repr)
    # partition by partition, in the order produced
    expected = {key: value for key, value in candles()}
    assert all(expected[key] == value for _, key, value, _ in native_candles)
    by_partition: dict[int, list[bytes]] = {}
    for partition, key, _, _ in native_candles:
        by_partition.setdefault(partition, []).append(key)
    order = [key for key, _ in candles()]
    for keys in by_partition.values():
        assert keys == sorted(keys, key=order.index)
    assert len(by_partition) == 8


def test_the_speed_layers_clients_come_with_a_sink(kafka_bootstrap: str) -> None:
    settings = load_settings(kafka_bootstrap_servers=kafka_bootstrap,
                             speed_instance_id=uuid.uuid4().hex[:8])
    clients = build_clients(settings)
    try:
        assert isinstance(clients.sink, Sink)
    finally:
        clients.consumer.close()


def test_a_candle_the_broker_refuses_fails_the_commit_with_the_layers_own_producer(
        kafka_bootstrap: str, kafka_topic_factory: TopicFactory) -> None:
    """The speed layer's producer asks for no report of a delivered message
    (``delivery.report.only.error``): what makes a failed delivery fail the transaction is
    librdkafka's own bookkeeping, not a report the loop reads. With the clients
    ``build_clients`` makes, a candle the broker refuses (larger than the topic allows)
    fails ``commit``, and none of the transaction's candles can be read."""
    settings = load_settings(
        kafka_bootstrap_servers=kafka_bootstrap, speed_instance_id=uuid.uuid4().hex[:8],
        topic_candles=kafka_topic_factory(2, config={"max.message.bytes": "2000"}))
    clients = build_clients(settings)
    assert clients.sink is not None
    try:
        clients.producer.init_transactions(30)
        writer = TransactionWriter(clients.producer, clients.consumer, settings,
                                   SpeedMetrics(CollectorRegistry()), None, sink=clients.sink)
        writer.begin()
        fine = candles()[:100]
        pad = base64.b64encode(os.urandom(15_000))  # beyond 2,000 bytes even compressed
        refused = (b"S1|1s|1767225600000000", b'{"symbol":"S1","pad":"' + pad + b'"}')
        assert writer.emit([*fine, refused, *fine]) == 201
        writer.release_delivered()
        with pytest.raises(TransactionFailedError):
            writer.commit({}, begin_next=False)
        assert not writer.in_transaction
    finally:
        clients.consumer.close()
    assert written(settings, settings.topic_candles) == []


def test_release_delivered_lets_go_of_every_acknowledged_candle(
        kafka_bootstrap: str, kafka_topic_factory: TopicFactory) -> None:
    """librdkafka keeps a delivered message until a poll serves its delivery, even with
    ``delivery.report.only.error`` (docs/speed-layer.md): the loop's ``poll(0)`` after each
    batch is what lets a backlog's candles go before the commit. Through the layer's own
    producer and sink, once the broker holds all 2,000 candles of an open transaction,
    ``release_delivered`` leaves none of them in the producer."""
    settings = load_settings(
        kafka_bootstrap_servers=kafka_bootstrap, speed_instance_id=uuid.uuid4().hex[:8],
        topic_candles=kafka_topic_factory(2))
    clients = build_clients(settings)
    assert clients.sink is not None
    watcher = confluent_kafka.Consumer({"bootstrap.servers": kafka_bootstrap,
                                        "group.id": "unused", "isolation.level":
                                        "read_uncommitted"})
    try:
        clients.producer.init_transactions(30)
        writer = TransactionWriter(clients.producer, clients.consumer, settings,
                                   SpeedMetrics(CollectorRegistry()), None, sink=clients.sink)
        writer.begin()
        assert writer.emit(candles()) == CANDLES
        assert len(clients.producer) >= CANDLES

        def on_the_broker() -> int:
            return sum(partition_size(watcher, settings.topic_candles, p) for p in range(2))

        deadline = time.monotonic() + 30
        while on_the_broker() < CANDLES and time.monotonic() < deadline:
            time.sleep(0.05)
        assert on_the_broker() == CANDLES
        while len(clients.producer) > 0 and time.monotonic() < deadline:
            writer.release_delivered()  # the acknowledgements reach the client a bit later
            time.sleep(0.05)
        assert len(clients.producer) == 0, "delivered candles still held after a poll"
        clients.producer.abort_transaction(30)
    finally:
        watcher.close()
        clients.consumer.close()
    assert written(settings, settings.topic_candles) == []


def test_anything_but_the_configured_producer_is_refused() -> None:
    library = confluent_kafka.cimpl.__file__
    with pytest.raises(TypeError, match="not a confluent_kafka Producer"):
        Sink(object(), Producer, library, "candles-speed-0", "candles", "trades.dlq")
    other = Producer({"bootstrap.servers": "127.0.0.1:1", "client.id": "someone-else"})
    with pytest.raises(TypeError, match="named someone-else#producer-"):
        Sink(other, Producer, library, "candles-speed-0", "candles", "trades.dlq")
    settings = load_settings(kafka_bootstrap_servers="127.0.0.1:1")
    assert native_sink(other, "candles-speed-0", settings) is None  # produce() instead
    sink = Sink(other, Producer, library, "someone-else", "candles", "trades.dlq")
    with pytest.raises(TypeError, match="a candle is a"):
        sink.candles([(b"k",)], 0)  # type: ignore[list-item]
    with pytest.raises(TypeError, match="header"):
        sink.dead_letters([(b"v", None, [(1, b"x")])], 0)  # type: ignore[list-item]
    with pytest.raises(IndexError):
        sink.candles([], 1)
    assert sink.candles([], 0) == (0, 0)
    other.close()  # the handle is gone: refused with librdkafka's code, nothing touched
    assert sink.candles([(b"k", b"v")], 0) == (0, KafkaError._DESTROY)
    assert sink.dead_letters([(b"v", None, [])], 0) == (0, KafkaError._DESTROY)
    del sink  # and its topic handles are not released into the closed producer


def test_the_processor_writes_the_same_with_and_without_the_sink(
        kafka_bootstrap: str, kafka_topic_factory: TopicFactory) -> None:
    """The real ``SpeedLayer._process`` over a chaotic batch (late, duplicated, conflicting,
    malformed and future-stamped trades among orders and quotes), once with the Sink (the
    scanner's future-stamped dead letters and the closed candles go straight from C to
    the producer) and once through ``Producer.produce()``: the same messages, headers
    included, in the same order in each partition."""
    batch = [Message(topic=m.topic(), partition=0, offset=offset, value=m.value(),
                     key=None if offset % 5 == 0 else b"k%d" % (offset % 7),
                     timestamp=m.timestamp()) for offset, m in enumerate(chaotic_batch(3))]
    outputs = []
    for native in (True, False):
        config = load_settings(
            kafka_bootstrap_servers=kafka_bootstrap, intervals=("1s", "10s", "1m"),
            allowed_lateness_ms=2_000, max_future_skew_ms=SKEW_US // 1000,
            dedup_horizon_ms=0, revision_horizon_ms=0,  # late trades go to trades.late
            topic_candles=kafka_topic_factory(4), topic_dlq=kafka_topic_factory(4),
            topic_late=kafka_topic_factory(4), speed_instance_id=uuid.uuid4().hex[:8])
        clients = build_clients(config)
        assert clients.sink is not None
        if not native:
            clients.sink = None
        layer = SpeedLayer(config, clients, SpeedMetrics(CollectorRegistry()), Heartbeat(60.0))
        engine = PartitionEngine(config.intervals_us, config.allowed_lateness_us,
                                 config.dedup_horizon_us, config.revision_horizon_us,
                                 layer.writer.sink)
        layer.partitions[0] = PartitionRun.restored(engine, PartitionState(), 1.0)
        clients.producer.init_transactions(30)
        layer.writer.begin()
        layer._process(batch, 1.0)
        layer._flush_all()
        layer.writer.commit({}, begin_next=False)
        clients.consumer.close()
        outputs.append([written(config, topic) for topic in
                        (config.topic_candles, config.topic_dlq, config.topic_late)])
        if native:
            assert layer.summary.by_reason.get("future_timestamp", 0) > 0
    native_out, python_out = outputs
    for native_messages, python_messages in zip(native_out, python_out, strict=True):
        assert native_messages  # every topic got something
        keyed = [m for m in native_messages if m[1] is not None]
        assert keyed == [m for m in python_messages if m[1] is not None]
        assert sorted(native_messages, key=repr) == sorted(python_messages, key=repr)


def test_candles_the_full_queue_refuses_wait_for_python_in_order(
        kafka_bootstrap: str, kafka_topic_factory: TopicFactory) -> None:
    """A close emits far more candles than the producer's queue holds: the first go
    straight from C into the Sink, the one refused and every one after it wait, in order,
    for Python, which waits for room. What is committed is every candle once, partition by
    partition in the order of an engine without a sink."""
    trades = [Trade(f"S{i % 300}", i, 1_767_225_600_000_000 + i * 4_000, 10**8 + i, 10**6)
              for i in range(1_500)]

    def engine_for(sink: Sink | None) -> PartitionEngine:
        engine = PartitionEngine((1_000_000, 10_000_000), 2_000_000, sink=sink)
        for offset, trade in enumerate(trades):
            engine.add(trade, offset)
        engine.advance_to(2**62)
        return engine

    expected, produced = engine_for(None).take_candles()
    assert produced == 0 and len(expected) > 10 * SMALL_QUEUE
    settings = settings_for(kafka_bootstrap, kafka_topic_factory)
    writer = writer_for(settings, native=True)
    writer.begin()
    waiting, produced = engine_for(writer.sink).take_candles()
    assert produced >= SMALL_QUEUE and waiting and produced + len(waiting) == len(expected)
    assert waiting == expected[produced:]  # the refused one first, then all that followed
    assert writer.emit(waiting, produced) == len(expected)
    writer.commit({}, begin_next=False)
    committed = written(settings, settings.topic_candles)
    assert sorted(value for _, _, value, _ in committed) == sorted(v for _, v in expected)
    order = {key: n for n, (key, _) in enumerate(expected)}
    for partition in {p for p, _, _, _ in committed}:
        keys = [key for p, key, _, _ in committed if p == partition]
        assert keys == sorted(keys, key=order.__getitem__)
