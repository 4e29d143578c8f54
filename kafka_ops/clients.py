"""librdkafka configuration for every client the project creates, built from settings.

One place decides the bootstrap servers, security, partitioner and the throughput knobs
measured on these machines (docs/benchmarks.md), so no layer repeats them.
"""

from __future__ import annotations

from typing import Any

from kafka_ops.exceptions import BrokerNotConfiguredError
from kafka_ops.settings import KafkaSettings

# Java's partitioner, so a key lands on the same partition whoever produced it.
PARTITIONER = "murmur2_random"
# A record at the broker's largest message size (Kafka's default is 1,048,588 bytes)
# still leaves as a dead letter, with its headers added: the client must allow more.
MAX_REQUEST_BYTES = 8 * 1024 * 1024


def resolve_bootstrap(settings: KafkaSettings) -> str:
    """The bootstrap servers: the configured ones, else the running local broker's."""
    if settings.kafka_bootstrap_servers:
        return settings.kafka_bootstrap_servers
    from kafka_ops.launcher import LocalKafka  # local import: only needed without config

    status = LocalKafka(local_kafka_config(settings)).status()
    if status.running and status.bootstrap:
        return status.bootstrap
    raise BrokerNotConfiguredError()


def local_kafka_config(settings: KafkaSettings) -> Any:
    """The launcher config for the local development broker."""
    from kafka_ops.launcher import LocalKafkaConfig

    fields: dict[str, Any] = {
        "cache_dir": settings.kafka_cache_dir,
        "run_dir": settings.kafka_run_dir,
        "port": settings.kafka_port,
    }
    if settings.kafka_version:
        fields["version"] = settings.kafka_version
    return LocalKafkaConfig(**fields)


def common_config(settings: KafkaSettings, bootstrap: str | None = None) -> dict[str, Any]:
    """Connection and security settings shared by producers, consumers and admin clients."""
    config: dict[str, Any] = {
        "bootstrap.servers": bootstrap or resolve_bootstrap(settings),
        "security.protocol": settings.kafka_security_protocol,
    }
    if settings.kafka_sasl_mechanism:
        config["sasl.mechanism"] = settings.kafka_sasl_mechanism
    if settings.kafka_sasl_username:
        config["sasl.username"] = settings.kafka_sasl_username
    if settings.kafka_sasl_password:
        config["sasl.password"] = settings.kafka_sasl_password.get_secret_value()
    return config


def producer_config(
    settings: KafkaSettings, bootstrap: str | None = None, **overrides: Any
) -> dict[str, Any]:
    """An idempotent, batching producer: retries never duplicate or reorder a partition."""
    config = common_config(settings, bootstrap)
    config.update(
        {
            "enable.idempotence": True,
            "acks": "all",
            "partitioner": PARTITIONER,
            "linger.ms": 20,
            "batch.size": 1_000_000,
            "compression.type": "lz4",
            "queue.buffering.max.messages": 1_000_000,
            "queue.buffering.max.kbytes": 1_048_576,
            "message.max.bytes": MAX_REQUEST_BYTES,
        }
    )
    config.update(overrides)
    return config


def consumer_config(
    settings: KafkaSettings, group_id: str, bootstrap: str | None = None, **overrides: Any
) -> dict[str, Any]:
    """A read_committed consumer that commits only what the caller says is done."""
    config = common_config(settings, bootstrap)
    config.update(
        {
            "group.id": group_id,
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest",
            "fetch.queue.backoff.ms": 1,  # the default consumed at 0.2M/s here, 1 ms at 0.86M/s
            "queued.min.messages": 200_000,
        }
    )
    config.update(overrides)
    return config
