"""Tests of kafka_ops: pure unit tests, then integration tests against a real local broker.

The integration tests start real broker JVMs (jars from Maven Central, cached) in tmp run
dirs and talk to them with confluent-kafka; nothing is mocked.
"""

from __future__ import annotations

import base64
import os
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

from candle_core.exceptions import ConfigError, TerminalError, TransientError
from kafka_ops.exceptions import (
    BrokerNotRunning,
    BrokerStartError,
    KafkaOpsError,
    MavenResolveError,
    ToolNotFoundError,
)
from kafka_ops.launcher import LocalKafka, LocalKafkaConfig
from kafka_ops.maven import (
    DEFAULT_KAFKA_VERSION,
    default_cache_dir,
    is_resolved,
    kafka_coordinates,
    render_pom,
    resolve_kafka,
    validate_version,
)
from kafka_ops.process import pick_free_ports, root_cause_line
from kafka_ops.properties import BrokerSettings, new_cluster_id, render_server_properties
from tests.kafka_fixture import TopicFactory, create_topic, unique_topic_name

MESSAGE_TIMEOUT_S = 30


# ---- unit tests (no broker) --------------------------------------------------------------
def _parse_properties(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    return {key: value for key, value in pairs}


def _settings(auto_create: bool = False) -> BrokerSettings:
    return BrokerSettings(
        host="127.0.0.1",
        port=19092,
        controller_port=19093,
        log_dir=Path("/tmp/run/data"),
        auto_create_topics=auto_create,
    )


def test_server_properties_single_node_kraft() -> None:
    props = _parse_properties(render_server_properties(_settings()))
    assert props["process.roles"] == "broker,controller"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:19093"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:19092"
    assert props["controller.listener.names"] == "CONTROLLER"
    assert props["log.dirs"] == "/tmp/run/data"
    assert props["auto.create.topics.enable"] == "false"


def test_server_properties_allow_transactions_on_one_node() -> None:
    props = _parse_properties(render_server_properties(_settings()))
    for key in (
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
        "transaction.state.log.min.isr",
        "num.partitions",
    ):
        assert props[key] == "1", key
    assert props["group.initial.rebalance.delay.ms"] == "0"


def test_server_properties_auto_create_switch() -> None:
    props = _parse_properties(render_server_properties(_settings(auto_create=True)))
    assert props["auto.create.topics.enable"] == "true"


def test_pick_free_ports_are_distinct_and_bindable() -> None:
    ports = pick_free_ports("127.0.0.1", 3)
    assert len(set(ports)) == 3
    for port in ports:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))


def test_cluster_id_is_kafka_uuid_format() -> None:
    for _ in range(200):
        cluster_id = new_cluster_id()
        assert len(cluster_id) == 22 and not cluster_id.startswith("-")
        assert len(base64.urlsafe_b64decode(cluster_id + "==")) == 16


def test_cluster_id_is_generated_once_per_run_dir(tmp_path: Path) -> None:
    first = LocalKafka(LocalKafkaConfig(run_dir=tmp_path)).cluster_id()
    assert LocalKafka(LocalKafkaConfig(run_dir=tmp_path)).cluster_id() == first


@pytest.mark.parametrize(
    ("port", "controller_port", "heap_mb"),
    [(70000, None, 512), (9092, 9092, 512), (None, -1, 512), (None, None, 64)],
)
def test_config_rejects_bad_values(
    tmp_path: Path, port: int | None, controller_port: int | None, heap_mb: int
) -> None:
    with pytest.raises(ConfigError):
        LocalKafkaConfig(
            run_dir=tmp_path, port=port, controller_port=controller_port, heap_mb=heap_mb
        )


def test_pom_names_broker_and_logging_backend() -> None:
    pom = render_pom("4.1.1")
    assert "<artifactId>kafka_2.13</artifactId>" in pom and "<version>4.1.1</version>" in pom
    assert "<artifactId>log4j-slf4j-impl</artifactId>" in pom
    assert kafka_coordinates("4.1.1") == "org.apache.kafka:kafka_2.13:4.1.1"


@pytest.mark.parametrize("version", ["../etc", "4.1", "latest", ""])
def test_version_must_be_a_release_number(version: str) -> None:
    with pytest.raises(ConfigError):
        validate_version(version)


def test_missing_mvn_is_a_terminal_error(tmp_path: Path) -> None:
    with pytest.raises(ToolNotFoundError) as caught:
        resolve_kafka("4.1.1", tmp_path, mvn="no-such-mvn-binary")
    assert isinstance(caught.value, TerminalError) and isinstance(caught.value, KafkaOpsError)
    assert "no-such-mvn-binary" in str(caught.value)


def test_resolved_cache_is_not_downloaded_again(tmp_path: Path) -> None:
    home = tmp_path / "4.1.1"
    home.mkdir()
    (home / ".complete").write_text("done\n")
    # mvn is never looked up once the marker exists, so a bogus mvn cannot fail the call
    jars = resolve_kafka("4.1.1", tmp_path, mvn="no-such-mvn-binary")
    assert jars.libs_dir == home / "libs" and is_resolved("4.1.1", tmp_path)


def test_status_of_empty_run_dir(tmp_path: Path) -> None:
    kafka = LocalKafka(LocalKafkaConfig(run_dir=tmp_path))
    status = kafka.status()
    assert not status.running and status.pid is None and status.bootstrap is None
    assert kafka.stop() is False
    with pytest.raises(BrokerNotRunning) as caught:
        kafka.bootstrap()
    assert isinstance(caught.value, TransientError)


def test_stale_state_with_foreign_pid_is_not_running(tmp_path: Path) -> None:
    """A recycled pid (here: this pytest process) must never be taken for the broker."""
    kafka = LocalKafka(LocalKafkaConfig(run_dir=tmp_path))
    kafka.state_path.write_text(f'{{"pid": {os.getpid()}, "bootstrap": "127.0.0.1:1"}}')
    assert not kafka.status().running
    assert kafka.stop() is False  # and it did not signal us
    assert not kafka.state_path.exists()


def test_root_cause_prefers_last_caused_by(tmp_path: Path) -> None:
    log_file = tmp_path / "broker.log"
    log_file.write_text(
        "[t] INFO starting (kafka.Kafka)\n"
        "[t] ERROR Fatal error during broker startup (kafka.server.BrokerServer)\n"
        "Caused by: org.apache.kafka.common.KafkaException: Socket server failed to bind\n"
        "Caused by: java.net.BindException: Address already in use\n"
        "[t] INFO shutting down (kafka.server.ControllerServer)\n"
    )
    assert root_cause_line(log_file) == "Caused by: java.net.BindException: Address already in use"
    log_file.write_text("[t] INFO ok\n[t] ERROR first\n[t] ERROR second\n")
    assert root_cause_line(log_file) == "[t] ERROR first"


@pytest.mark.slow
def test_unknown_version_reports_mvn_output(tmp_path: Path) -> None:
    with pytest.raises(MavenResolveError) as caught:
        resolve_kafka("0.0.1", tmp_path)
    assert caught.value.output_tail
    assert "org.apache.kafka:kafka_2.13:0.0.1" in str(caught.value)
    assert not is_resolved("0.0.1", tmp_path)


# ---- integration: a real broker ----------------------------------------------------------
def _local_kafka(run_dir: Path) -> LocalKafka:
    return LocalKafka(LocalKafkaConfig(run_dir=run_dir, cache_dir=default_cache_dir()))


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKafka]:
    kafka = _local_kafka(tmp_path_factory.mktemp("broker"))
    kafka.start()
    yield kafka
    kafka.stop()


@pytest.fixture
def topic(broker: LocalKafka) -> Iterator[str]:
    factory = TopicFactory(admin=AdminClient({"bootstrap.servers": broker.bootstrap()}))
    yield factory(partitions=1)
    factory.delete_created()


def _producer(bootstrap: str, **extra: str) -> Producer:
    return Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, **extra})


def _consumer(bootstrap: str, isolation: str, group: str | None = None) -> Consumer:
    return Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group or f"g-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "isolation.level": isolation,
        }
    )


def _read_until(consumer: Consumer, topic: str, last_value: bytes) -> list[bytes]:
    """Values read from ``topic`` up to and including ``last_value``."""
    consumer.subscribe([topic])
    values: list[bytes] = []
    deadline = time.monotonic() + MESSAGE_TIMEOUT_S
    while time.monotonic() < deadline and last_value not in values:
        msg = consumer.poll(0.5)
        if msg is None:
            continue
        error = msg.error()
        if error is not None and error.code() == KafkaError._PARTITION_EOF:
            continue
        assert error is None, error
        value = msg.value()
        assert isinstance(value, bytes)
        values.append(value)
    assert last_value in values, f"did not see {last_value!r}, saw {values}"
    return values


@pytest.mark.kafka
@pytest.mark.slow
class TestRunningBroker:
    def test_status_reports_running(self, broker: LocalKafka) -> None:
        status = broker.status()
        assert status.running and status.pid and status.version == DEFAULT_KAFKA_VERSION
        assert status.bootstrap == broker.bootstrap()
        assert status.bootstrap.startswith("127.0.0.1:")
        assert status.log_path.is_file()

    def test_second_start_returns_same_broker(self, broker: LocalKafka) -> None:
        again = _local_kafka(broker.run_dir)
        assert again.start() == broker.bootstrap()
        assert again.status().pid == broker.status().pid

    def test_produce_and_consume(self, broker: LocalKafka, topic: str) -> None:
        producer = _producer(broker.bootstrap())
        producer.produce(topic, key=b"k", value=b"hello")
        assert producer.flush(MESSAGE_TIMEOUT_S) == 0
        consumer = _consumer(broker.bootstrap(), "read_uncommitted")
        try:
            assert _read_until(consumer, topic, b"hello") == [b"hello"]
        finally:
            consumer.close()

    def test_aborted_transaction_is_invisible_to_read_committed(
        self, broker: LocalKafka, topic: str
    ) -> None:
        producer = _producer(broker.bootstrap(), **{"transactional.id": f"tx-{topic}"})
        producer.init_transactions(MESSAGE_TIMEOUT_S)
        producer.begin_transaction()
        producer.produce(topic, value=b"aborted")
        producer.flush(MESSAGE_TIMEOUT_S)
        producer.abort_transaction(MESSAGE_TIMEOUT_S)
        producer.begin_transaction()
        producer.produce(topic, value=b"committed")
        producer.commit_transaction(MESSAGE_TIMEOUT_S)

        committed = _consumer(broker.bootstrap(), "read_committed")
        uncommitted = _consumer(broker.bootstrap(), "read_uncommitted")
        try:
            assert _read_until(committed, topic, b"committed") == [b"committed"]
            # the aborted record really is in the log: only the isolation level hides it
            assert _read_until(uncommitted, topic, b"committed") == [b"aborted", b"committed"]
        finally:
            committed.close()
            uncommitted.close()

    def test_consume_transform_produce_commits_offsets_atomically(self, broker: LocalKafka) -> None:
        """The exactly-once loop the speed layer relies on: offsets commit with the output."""
        bootstrap = broker.bootstrap()
        admin = AdminClient({"bootstrap.servers": bootstrap})
        source, sink = unique_topic_name("eos-in"), unique_topic_name("eos-out")
        create_topic(admin, source)
        create_topic(admin, sink)
        plain = _producer(bootstrap)
        for value in (b"a", b"b", b"c"):
            plain.produce(source, value=value)
        assert plain.flush(MESSAGE_TIMEOUT_S) == 0

        group = f"eos-{uuid.uuid4().hex[:8]}"
        consumer = _consumer(bootstrap, "read_committed", group)
        producer = _producer(bootstrap, **{"transactional.id": f"tx-{group}"})
        producer.init_transactions(MESSAGE_TIMEOUT_S)
        try:
            inputs = _read_until(consumer, source, b"c")
            producer.begin_transaction()
            for value in inputs:
                producer.produce(sink, value=value.upper())
            producer.send_offsets_to_transaction(
                consumer.position(consumer.assignment()),
                consumer.consumer_group_metadata(),
                MESSAGE_TIMEOUT_S,
            )
            producer.commit_transaction(MESSAGE_TIMEOUT_S)
            [offset] = consumer.committed([TopicPartition(source, 0)], MESSAGE_TIMEOUT_S)
            assert offset.offset == 3
        finally:
            consumer.close()
        reader = _consumer(bootstrap, "read_committed")
        try:
            assert _read_until(reader, sink, b"C") == [b"A", b"B", b"C"]
        finally:
            reader.close()

    def test_topic_factory_creates_partitioned_topics(self, broker: LocalKafka) -> None:
        admin = AdminClient({"bootstrap.servers": broker.bootstrap()})
        factory = TopicFactory(admin=admin, prefix="test_topic_factory[x]")
        name = factory(partitions=3)
        assert name.startswith("test_topic_factory-x-")
        assert len(admin.list_topics(name, timeout=10).topics[name].partitions) == 3
        factory.delete_created()
        assert factory.created == []


@pytest.mark.kafka
@pytest.mark.slow
def test_lifecycle_stop_and_restart_keeps_data(tmp_path: Path) -> None:
    kafka = _local_kafka(tmp_path)
    try:
        bootstrap = kafka.start()
        pid = kafka.status().pid
        assert pid is not None
        admin = AdminClient({"bootstrap.servers": bootstrap})
        name = unique_topic_name("persisted")
        create_topic(admin, name, partitions=2)

        assert kafka.stop() is True
        status = kafka.status()
        assert not status.running and status.pid is None and status.bootstrap is None
        assert not kafka.pid_path.exists() and not kafka.state_path.exists()
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
        assert kafka.stop() is False

        cluster_id = kafka.cluster_id()
        restarted = kafka.start()  # new free ports, same formatted storage
        assert kafka.status().running and kafka.cluster_id() == cluster_id
        admin = AdminClient({"bootstrap.servers": restarted})
        assert name in admin.list_topics(timeout=10).topics
    finally:
        kafka.stop()


@pytest.mark.kafka
@pytest.mark.slow
def test_start_failure_reports_cause_and_cleans_up(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        kafka = LocalKafka(
            LocalKafkaConfig(run_dir=tmp_path, cache_dir=default_cache_dir(), port=port)
        )
        with pytest.raises(BrokerStartError) as caught:
            kafka.start()
    assert "Address already in use" in str(caught.value)
    assert caught.value.log_path == kafka.log_path and caught.value.log_tail
    assert not kafka.status().running and not kafka.pid_path.exists()
