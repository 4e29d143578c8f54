"""Read a whole topic back, as committed (for demos, verification and tests)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

from confluent_kafka import Consumer, KafkaError, Message, TopicPartition

from kafka_ops.clients import consumer_config
from kafka_ops.exceptions import KafkaOpsError
from kafka_ops.settings import KafkaSettings


def read_topic(settings: KafkaSettings, topic: str, timeout_s: float = 60.0
               ) -> Iterator[Message]:
    """Every committed message of ``topic`` from its start to its current end.

    Reads with ``read_committed``: a transaction still open or aborted is invisible, exactly
    as downstream consumers see it. Partitions are read concurrently; the order is per
    partition.
    """
    conf = consumer_config(settings, f"candles-reader-{uuid.uuid4().hex[:8]}", None,
                           **{"enable.partition.eof": True})
    consumer = Consumer(conf)
    try:
        metadata = consumer.list_topics(topic, timeout=10).topics[topic]
        partitions = [TopicPartition(topic, number, 0) for number in metadata.partitions]
        consumer.assign(partitions)
        pending = {tp.partition for tp in partitions}
        deadline = time.monotonic() + timeout_s
        while pending and time.monotonic() < deadline:
            for message in consumer.consume(10_000, timeout=0.5):
                error = message.error()
                if error is None:
                    yield message
                elif error.code() == KafkaError._PARTITION_EOF:
                    pending.discard(message.partition())
                else:
                    raise KafkaOpsError(f"reading {topic}: {error}")
        if pending:
            raise KafkaOpsError(f"{topic}: partitions {sorted(pending)} did not reach their end "
                                f"in {timeout_s:.0f} s")
    finally:
        consumer.close()
