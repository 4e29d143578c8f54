"""The Kafka side of every source: an idempotent producer with explicit timestamps.

Retries inside librdkafka never duplicate or reorder a partition (``enable.idempotence``
from ``kafka_ops.clients.producer_config``). Each message's timestamp is the record's
arrival time in ms (``records.kafka_timestamp_ms``). A full local queue is waited out
(poll, retry), never dropped; delivery errors are counted, and the first is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from confluent_kafka import KafkaError, Message, Producer

from sources.records import Record, kafka_timestamp_ms

POLL_EVERY = 1_000
QUEUE_FULL_WAIT_S = 0.05


def produce_waiting(producer: Producer, queued: int, topic: str, value: bytes | None,
                    key: bytes | None, **kwargs: Any) -> None:
    """``producer.produce``, waiting (not failing) while the local queue is full, and
    serving delivery callbacks every :data:`POLL_EVERY` messages (``queued`` counts them)."""
    while True:
        try:
            producer.produce(topic, value, key, **kwargs)
            break
        except BufferError:
            producer.poll(QUEUE_FULL_WAIT_S)
    if queued % POLL_EVERY == 0:
        producer.poll(0)


class Sink(Protocol):
    """Where records go: Kafka in production, a list in pure-logic tests."""

    def send(self, record: Record) -> None: ...


@dataclass
class DeliveryCount:
    """Acknowledged and failed messages so far, and the first error seen."""

    delivered: int = 0
    failed: int = 0
    first_error: str = ""


class KafkaSink:
    """Produces records to one topic (key, value, timestamp = arrival ms)."""

    def __init__(self, config: dict[str, Any], topic: str) -> None:
        self.topic = topic
        self.counts = DeliveryCount()
        self.queued = 0
        self._producer = Producer(config)

    def send(self, record: Record) -> None:
        """Queue one message; waits while librdkafka's local queue is full."""
        self.queued += 1
        produce_waiting(self._producer, self.queued, self.topic, record.value, record.key,
                        timestamp=kafka_timestamp_ms(record.timestamp_us),
                        on_delivery=self._delivered)

    def flush(self, timeout_s: float = 60.0) -> int:
        """Wait for every queued message to be acknowledged; returns how many are left."""
        return int(self._producer.flush(timeout_s))

    def _delivered(self, error: KafkaError | None, _message: Message) -> None:
        if error is None:
            self.counts.delivered += 1
            return
        self.counts.failed += 1
        if not self.counts.first_error:
            self.counts.first_error = str(error)
