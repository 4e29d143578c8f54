"""The speed layer's Kafka clients, built once per process from settings.

:class:`SpeedLayer` receives them instead of building them, so one bootstrap per command
decides how it talks to Kafka, and tests can drive the real processor with a consumer
and a producer of their own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import confluent_kafka.cimpl
from confluent_kafka import Consumer, Producer

from kafka_ops.clients import consumer_config, producer_config
from kafka_ops.fatal import FatalErrorWatch
from speed_layer._hotpath import Sink
from speed_layer.changelog import TRANSACTION_TIMEOUT_MS, PartitionState, restore
from speed_layer.settings import SpeedSettings

log = logging.getLogger(__name__)


@dataclass
class SpeedClients:
    """What the speed layer talks to Kafka with."""

    consumer: Any  # confluent_kafka.Consumer, or a test's stand-in
    producer: Any  # confluent_kafka.Producer (transactional), or a test's stand-in
    restore: Callable[[list[int]], dict[int, PartitionState]]  # the changelog reader
    fatal: FatalErrorWatch = field(default_factory=lambda: FatalErrorWatch("speed layer"))
    sink: Sink | None = None  # candles and dead letters produced natively (None: produce())


def build_clients(settings: SpeedSettings) -> SpeedClients:
    """A consumer in the speed group, a transactional producer and the changelog reader."""
    fatal = FatalErrorWatch("speed layer")
    membership: dict[str, Any] = {
        "error_cb": fatal,
        "partition.assignment.strategy": "range",
        # Static membership: a restarted instance takes its predecessor's place at once
        # instead of waiting out the session timeout of a killed member.
        "group.instance.id": f"candles-speed-{settings.speed_instance_id}",
        "session.timeout.ms": 10_000,
    }
    consumer = Consumer(consumer_config(settings, settings.speed_group_id, None, **membership))
    client_id = f"candles-speed-{settings.speed_instance_id}"
    transactional: dict[str, Any] = {
        "error_cb": fatal,
        "client.id": client_id,  # the Sink checks it finds this producer's handle
        "transactional.id": client_id,
        "transaction.timeout.ms": TRANSACTION_TIMEOUT_MS,
        # No callback for a message delivered, only for a failed one (which also fails the
        # transaction's commit). The delivered messages are still queued for a poll to
        # free them: TransactionWriter.release_delivered (docs/speed-layer.md).
        "delivery.report.only.error": True,
    }
    producer = Producer(producer_config(settings, None, **transactional))
    restore_conf = consumer_config(settings, "unused-restore-reader")

    def read_state(partitions: list[int]) -> dict[int, PartitionState]:
        return restore(restore_conf, settings.topic_speed_state, partitions)

    return SpeedClients(consumer, producer, read_state, fatal,
                        native_sink(producer, client_id, settings))


def native_sink(producer: Producer, client_id: str, settings: SpeedSettings) -> Sink | None:
    """A :class:`Sink` into the producer's own librdkafka handle, or None (with the reason
    logged) when this confluent-kafka build does not allow one: candles and dead letters
    then go through ``Producer.produce()``, slower and otherwise the same."""
    try:
        return Sink(producer, Producer, confluent_kafka.cimpl.__file__, client_id,
                    settings.topic_candles, settings.topic_dlq)
    except TypeError as exc:
        log.warning("candles and dead letters go through Producer.produce(): %s", exc)
        return None
