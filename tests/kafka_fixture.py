"""pytest plugin: one real Kafka broker per test session, and uniquely named topics on it.

Load with ``pytest_plugins = ["tests.kafka_fixture"]``. The broker is found in this order:

1. ``$KAFKA_BOOTSTRAP_SERVERS`` (an existing broker; nothing is started or stopped);
2. a testcontainers Kafka container, only if a Docker engine answers a ping;
3. :class:`kafka_ops.launcher.LocalKafka` — a real broker JVM from Maven Central jars, with
   its run dir under pytest's tmp dir and the jar cache shared across sessions
   (``$CANDLES_KAFKA_CACHE_DIR``, default ``~/.cache/lambda-candles/kafka``).

Whatever the source, the broker must allow transactions on one node (replication factor 1
for the internal topics) and does not auto-create topics: use ``kafka_topic_factory``.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field

import pytest
from confluent_kafka.admin import AdminClient, NewTopic

from kafka_ops.launcher import LocalKafka, LocalKafkaConfig
from kafka_ops.maven import default_cache_dir

log = logging.getLogger(__name__)

BOOTSTRAP_ENV = "KAFKA_BOOTSTRAP_SERVERS"
CONTAINER_IMAGE = "confluentinc/cp-kafka:7.9.0"
DOCKER_PING_TIMEOUT_S = 3
CONTAINER_START_TIMEOUT_S = 120
TOPIC_READY_TIMEOUT_S = 30
_TOPIC_NAME_UNSAFE = re.compile(r"[^a-zA-Z0-9._-]+")


# ---- finding a broker --------------------------------------------------------------------
def docker_engine_available(timeout_s: float = DOCKER_PING_TIMEOUT_S) -> bool:
    """True only if a Docker engine answers a ping within ``timeout_s``.

    The ping runs in a daemon thread so that no client setting (an ``ssh://`` DOCKER_HOST,
    a socket that accepts but never answers) can hang the session.
    """
    answered = threading.Event()

    def ping() -> None:
        try:
            import docker

            if docker.from_env(timeout=int(timeout_s) or 1).ping():
                answered.set()
        except Exception as exc:  # any failure just means "no usable engine"
            log.debug("no Docker engine: %s", exc)

    thread = threading.Thread(target=ping, name="docker-ping", daemon=True)
    thread.start()
    thread.join(timeout_s)
    return answered.is_set()


def _start_container(stack: ExitStack) -> str:
    try:
        from testcontainers.community.kafka import KafkaContainer
    except ImportError:  # older testcontainers
        from testcontainers.kafka import KafkaContainer

    container = (
        KafkaContainer(CONTAINER_IMAGE)
        .with_kraft()
        .with_env("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1")
        .with_env("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1")
        .with_env("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "false")
    )
    container.start(timeout=CONTAINER_START_TIMEOUT_S)
    stack.callback(container.stop)
    return str(container.get_bootstrap_server())


def _start_local(stack: ExitStack, tmp_path_factory: pytest.TempPathFactory) -> str:
    run_dir = tmp_path_factory.mktemp("local-kafka")
    kafka = LocalKafka(LocalKafkaConfig(run_dir=run_dir, cache_dir=default_cache_dir()))
    stack.callback(kafka.stop)
    return kafka.start()


def _start_broker(stack: ExitStack, tmp_path_factory: pytest.TempPathFactory) -> str:
    if docker_engine_available():
        try:
            return _start_container(stack)
        except Exception as exc:
            log.warning("Kafka container failed to start (%s); using a local broker", exc)
    return _start_local(stack, tmp_path_factory)


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``host:port`` of a real Kafka broker, shared by the whole session."""
    configured = os.environ.get(BOOTSTRAP_ENV, "").strip()
    if configured:
        yield configured
        return
    with ExitStack() as stack:
        bootstrap = _start_broker(stack, tmp_path_factory)
        log.info("session Kafka broker at %s", bootstrap)
        yield bootstrap


@pytest.fixture(scope="session")
def kafka_admin(kafka_bootstrap: str) -> AdminClient:
    return AdminClient({"bootstrap.servers": kafka_bootstrap})


# ---- topics ------------------------------------------------------------------------------
def unique_topic_name(prefix: str = "test") -> str:
    """``<prefix>-<12 hex>``, with the prefix reduced to Kafka's legal topic characters."""
    safe = _TOPIC_NAME_UNSAFE.sub("-", prefix).strip("-.")[:80] or "test"
    return f"{safe}-{uuid.uuid4().hex[:12]}"


def create_topic(
    admin: AdminClient,
    name: str,
    partitions: int = 1,
    config: dict[str, str] | None = None,
    timeout_s: int = TOPIC_READY_TIMEOUT_S,
) -> None:
    """Create ``name`` and return once every partition has a leader."""
    new_topic = NewTopic(name, num_partitions=partitions, replication_factor=1, config=config or {})
    futures = admin.create_topics([new_topic], operation_timeout=timeout_s)
    futures[name].result(timeout=timeout_s)
    wait_for_topic(admin, name, partitions, timeout_s)


def wait_for_topic(admin: AdminClient, name: str, partitions: int, timeout_s: int) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        topic = admin.list_topics(topic=name, timeout=timeout_s).topics.get(name)
        if topic is not None and topic.error is None and _all_led(topic.partitions, partitions):
            return
        time.sleep(0.1)
    raise TimeoutError(f"topic {name} did not get {partitions} led partitions in {timeout_s} s")


def _all_led(partitions: Mapping[int, object], expected: int) -> bool:
    leaders = [getattr(p, "leader", -1) for p in partitions.values()]
    return len(leaders) == expected and all(leader >= 0 for leader in leaders)


def delete_topics(admin: AdminClient, names: list[str], timeout_s: int = 10) -> None:
    """Best effort: a failed delete only leaves a uniquely named topic behind."""
    if not names:
        return
    for name, future in admin.delete_topics(names, operation_timeout=timeout_s).items():
        try:
            future.result(timeout=timeout_s)
        except Exception as exc:
            log.warning("could not delete test topic %s: %s", name, exc)


@dataclass
class TopicFactory:
    """Callable that creates a fresh, uniquely named topic and returns its name."""

    admin: AdminClient
    prefix: str = "test"
    created: list[str] = field(default_factory=list)

    def __call__(
        self,
        partitions: int = 1,
        *,
        prefix: str | None = None,
        config: dict[str, str] | None = None,
        timeout_s: int = TOPIC_READY_TIMEOUT_S,
    ) -> str:
        name = unique_topic_name(prefix or self.prefix)
        create_topic(self.admin, name, partitions, config, timeout_s)
        self.created.append(name)
        return name

    def delete_created(self) -> None:
        delete_topics(self.admin, self.created)
        self.created.clear()


@pytest.fixture
def kafka_topic_factory(
    kafka_admin: AdminClient, request: pytest.FixtureRequest
) -> Iterator[TopicFactory]:
    """``kafka_topic_factory(partitions=3) -> "test_x-1a2b3c..."``; topics deleted afterwards."""
    factory = TopicFactory(admin=kafka_admin, prefix=request.node.name)
    yield factory
    factory.delete_created()
