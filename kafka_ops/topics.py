"""The topics the pipeline uses, created idempotently and described for humans.

Partition counts are never changed on an existing topic: adding partitions to ``trades``
would move symbols to other partitions and break per-partition ordering and watermarks.
A mismatch is reported, not "fixed".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from confluent_kafka import KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

from kafka_ops.settings import KafkaSettings

DAY_MS = 86_400_000
TIMEOUT_S = 30.0


@dataclass(frozen=True)
class TopicSpec:
    """A topic the pipeline needs, with why its retention is what it is."""

    name: str
    partitions: int
    config: dict[str, str] = field(default_factory=dict)
    purpose: str = ""


# A dead letter is its record plus headers: it must fit even when the record was as large
# as ``trades`` allows (the broker's default, about 1 MiB).
DLQ_MAX_MESSAGE_BYTES = 4 * 1024 * 1024

# ``candles`` holds one key per candle (``symbol|interval|window_start_us``) and a revised
# candle is emitted again under its key, so compaction keeps its latest revision, and
# ``delete`` still drops candles older than the retention. Compaction waits a day, so any
# consumer less than a day behind (the archiver re-reading an uncommitted chunk) sees every
# revision; daily segments let it start then (the active segment is never compacted, and
# the broker rolls one only every 7 days by default).
CANDLES_TOPIC_CONFIG = {
    "cleanup.policy": "compact,delete",
    "retention.ms": str(30 * DAY_MS),
    "min.compaction.lag.ms": str(DAY_MS),
    "segment.ms": str(DAY_MS),
}


def pipeline_topics(settings: KafkaSettings) -> list[TopicSpec]:
    """Every topic, partitioned like ``trades`` so a symbol stays on one partition number."""
    n = settings.trades_partitions
    return [
        TopicSpec(settings.topic_trades, n, {"retention.ms": str(settings.trades_retention_ms)},
                  "input trades, key = symbol"),
        TopicSpec(settings.topic_dlq, n, {"retention.ms": str(30 * DAY_MS),
                                          "max.message.bytes": str(DLQ_MAX_MESSAGE_BYTES)},
                  "invalid records with reason and coordinates"),
        TopicSpec(settings.topic_late, n, {"retention.ms": str(30 * DAY_MS)},
                  "trades later than the revision horizon (too late to revise a candle)"),
        TopicSpec(settings.topic_candles, n, dict(CANDLES_TOPIC_CONFIG),
                  "final candles and their revisions, written transactionally; key = "
                  "symbol|interval|window_start_us, compacted to the latest revision"),
        TopicSpec(settings.topic_live, n,
                  {"retention.ms": str(3_600_000), "cleanup.policy": "compact,delete"},
                  "in-progress candles for live charts"),
        TopicSpec(settings.topic_speed_state, n,
                  {"cleanup.policy": "compact", "min.compaction.lag.ms": "0"},
                  "speed layer open-window changelog (internal)"),
    ]


@dataclass(frozen=True)
class TopicReport:
    """What happened to / what is known about one topic."""

    name: str
    status: str
    partitions: int
    messages: int | None = None
    detail: str = ""


def create_topics(
    admin: AdminClient, specs: list[TopicSpec], replication_factor: int
) -> list[TopicReport]:
    """Create missing topics; report existing ones (and any partition-count mismatch)."""
    existing = admin.list_topics(timeout=TIMEOUT_S).topics
    reports: list[TopicReport] = []
    missing = [spec for spec in specs if spec.name not in existing]
    new_topics = [NewTopic(s.name, s.partitions, replication_factor, config=s.config)
                  for s in missing]
    futures = admin.create_topics(new_topics, operation_timeout=TIMEOUT_S) if missing else {}
    for spec in specs:
        if spec.name in futures:
            reports.append(_await_creation(spec, futures[spec.name]))
            continue
        actual = len(existing[spec.name].partitions)
        mismatch = "" if actual == spec.partitions else f"wanted {spec.partitions}, left as is"
        reports.append(TopicReport(spec.name, "exists", actual, detail=mismatch))
    return reports


def _await_creation(spec: TopicSpec, future: object) -> TopicReport:
    try:
        future.result()  # type: ignore[attr-defined]
    except KafkaException as exc:
        if "TOPIC_ALREADY_EXISTS" not in str(exc):  # a concurrent creator won the race
            raise
        return TopicReport(spec.name, "exists", spec.partitions)
    return TopicReport(spec.name, "created", spec.partitions, detail=spec.purpose)


def describe_topics(admin: AdminClient, consumer_conf: dict[str, object],
                    names: list[str]) -> list[TopicReport]:
    """Partitions, message counts (sum of high - low watermarks) and key configs."""
    from confluent_kafka import Consumer

    metadata = admin.list_topics(timeout=TIMEOUT_S).topics
    consumer = Consumer(consumer_conf)
    try:
        reports = []
        for name in names:
            if name not in metadata:
                reports.append(TopicReport(name, "missing", 0))
                continue
            partitions = sorted(metadata[name].partitions)
            messages = sum(partition_size(consumer, name, p) for p in partitions)
            reports.append(TopicReport(name, "exists", len(partitions), messages,
                                       _config_summary(admin, name)))
        return reports
    finally:
        consumer.close()


def partition_size(consumer: object, topic: str, partition: int) -> int:
    """Messages in one partition: its high watermark minus its low (transaction markers
    and aborted messages included: what the broker holds, not what a reader sees)."""
    low, high = consumer.get_watermark_offsets(  # type: ignore[attr-defined]
        TopicPartition(topic, partition), timeout=TIMEOUT_S
    )
    return int(high - low)


def _config_summary(admin: AdminClient, name: str) -> str:
    resource = ConfigResource(ConfigResource.Type.TOPIC, name)
    configs = admin.describe_configs([resource])[resource].result(timeout=TIMEOUT_S)
    keys = ("cleanup.policy", "retention.ms")
    return " ".join(f"{key}={configs[key].value}" for key in keys if key in configs)
