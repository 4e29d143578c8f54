"""The pipeline's topics as a real broker creates them: the configs the broker reports.

``candles`` is compacted and deleted both: one key per candle keeps its latest revision,
and a candle older than the retention still goes. The other topics only delete.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, ConfigResource

from kafka_ops.settings import KafkaSettings
from kafka_ops.topics import DAY_MS, TIMEOUT_S, create_topics, describe_topics, pipeline_topics
from tests.kafka_fixture import delete_topics, wait_for_topic

T = TypeVar("T")

# config key -> what the broker must report for the candles topic
CANDLES_CONFIG = {
    "cleanup.policy": "compact,delete",  # latest revision per key, and old candles expire
    "retention.ms": str(30 * DAY_MS),  # unchanged from the delete-only topic
    "min.compaction.lag.ms": str(DAY_MS),  # every revision stays a day for late readers
    "segment.ms": str(DAY_MS),  # compaction can start after a day, not the broker's 7
}


def settings_with_prefix(bootstrap: str) -> KafkaSettings:
    prefix = f"topics-{uuid.uuid4().hex[:10]}"
    return KafkaSettings(
        kafka_bootstrap_servers=bootstrap, trades_partitions=2,
        topic_trades=f"{prefix}.trades", topic_dlq=f"{prefix}.trades.dlq",
        topic_late=f"{prefix}.trades.late", topic_candles=f"{prefix}.candles",
        topic_live=f"{prefix}.candles.live", topic_speed_state=f"{prefix}.speed-state")


def when_led(call: Callable[[], T], timeout_s: float = TIMEOUT_S) -> T:
    """``call()``, again while a new partition's leader does not serve it yet (the
    metadata names a leader a moment before it answers offset requests)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return call()
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.NOT_LEADER_FOR_PARTITION \
                    or time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def broker_config(admin: AdminClient, topic: str) -> dict[str, str]:
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    entries = admin.describe_configs([resource])[resource].result(timeout=TIMEOUT_S)
    return {key: entry.value for key, entry in entries.items()}


def test_the_candles_spec_is_compacted_and_deleted() -> None:
    (candles,) = [spec for spec in pipeline_topics(KafkaSettings())
                  if spec.name == KafkaSettings().topic_candles]
    assert candles.config == CANDLES_CONFIG
    assert candles.partitions == KafkaSettings().trades_partitions


@pytest.fixture
def created(kafka_bootstrap: str, kafka_admin: AdminClient) -> Iterator[KafkaSettings]:
    """The pipeline's topics, created by ``create_topics`` under a unique prefix."""
    settings = settings_with_prefix(kafka_bootstrap)
    specs = pipeline_topics(settings)
    try:
        reports = create_topics(kafka_admin, specs, 1)
        assert [(r.name, r.status) for r in reports] == [(s.name, "created") for s in specs]
        for spec in specs:  # created is not yet in every broker's metadata
            wait_for_topic(kafka_admin, spec.name, spec.partitions, int(TIMEOUT_S))
        yield settings
    finally:
        delete_topics(kafka_admin, [spec.name for spec in specs])


@pytest.mark.kafka
def test_the_broker_keeps_the_candles_config(kafka_admin: AdminClient,
                                            created: KafkaSettings) -> None:
    config = broker_config(kafka_admin, created.topic_candles)
    assert {key: config[key] for key in CANDLES_CONFIG} == CANDLES_CONFIG
    # the topics that hold trades are still delete-only
    for topic in (created.topic_trades, created.topic_late, created.topic_dlq):
        assert broker_config(kafka_admin, topic)["cleanup.policy"] == "delete", topic


@pytest.mark.kafka
def test_describe_shows_the_policy_and_creating_again_changes_nothing(
        kafka_bootstrap: str, kafka_admin: AdminClient, created: KafkaSettings) -> None:
    conf: dict[str, object] = {"bootstrap.servers": kafka_bootstrap,
                               "group.id": f"describe-{uuid.uuid4().hex}"}
    reports = {r.name: r for r in when_led(
        lambda: describe_topics(kafka_admin, conf, [created.topic_candles]))}
    assert reports[created.topic_candles].detail == (
        f"cleanup.policy=compact,delete retention.ms={30 * DAY_MS}")
    again = create_topics(kafka_admin, pipeline_topics(created), 1)
    assert {r.status for r in again} == {"exists"}
    assert broker_config(kafka_admin, created.topic_candles)["cleanup.policy"] \
        == "compact,delete"
