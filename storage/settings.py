"""The archive's settings (``candles archive``, ``candles compact``, the store every job
opens) and where reconciliation reports go: see ``kafka_ops.settings``."""

from __future__ import annotations

import socket

from pydantic import Field, SecretStr

from kafka_ops.settings import ComponentSettings, KafkaSettings, StreamSettings


class ArchiveSettings(KafkaSettings, StreamSettings):
    """The master dataset: where it is (local or S3) and how ``candles archive`` writes it."""

    archive_root: str = Field(
        default="data/archive",
        description="Root of the master dataset: a local directory or s3://bucket/prefix.",
    )
    archive_group_id: str = Field(default="candles-archive",
                                  description="Consumer group of the archiver.")
    archive_instance_id: str = Field(
        default_factory=lambda: socket.gethostname(),
        description="Static group membership id of this archiver (Kafka group.instance.id): "
        "a restarted instance takes its partitions back at once, and fences a stale "
        "predecessor. Default: the host name (the pod name in Kubernetes).",
    )
    archive_chunk_offsets: int = Field(
        default=100_000, ge=1, le=100_000_000,
        description="Offsets per archive chunk: a file holds one aligned block of this many "
        "offsets of one partition, so at most this many rows (the size limit). File names "
        "derive from it: never change it for an existing archive.",
    )
    archive_flush_interval_ms: int = Field(
        default=60_000, ge=100, le=3_600_000,
        description="Also write the open (incomplete) chunks this often, so a quiet "
        "partition's trades reach the master dataset; their offsets commit once complete.",
    )
    archive_batch_size: int = Field(
        default=10_000, ge=1, le=1_000_000, description="Messages per consume() call of the "
        "archiver.",
    )
    compact_target_rows: int = Field(
        default=5_000_000, ge=1, le=1_000_000_000,
        description="Rows per file that `candles compact` aims for.",
    )
    s3_endpoint_url: str | None = Field(
        default=None, description="S3-compatible endpoint (e.g. http://127.0.0.1:9000); "
        "unset: AWS.",
    )
    s3_region: str = Field(default="us-east-1", description="S3 region.")
    s3_access_key_id: str | None = Field(default=None, description="S3 access key id.")
    s3_secret_access_key: SecretStr | None = Field(default=None,
                                                   description="S3 secret access key.")


class ReportSettings(ComponentSettings):
    """Where reconciliation reports go and where the batch jobs push their metrics."""

    reports_dir: str = Field(
        default="reports", description="Where reconciliation reports go "
        "(<dir>/reconcile/date=YYYY-MM-DD/...): a relative path is relative to the archive "
        "root (local or S3); an absolute path is a local directory, used as given.",
    )
    pushgateway_url: str | None = Field(
        default=None, description="Prometheus Pushgateway for the batch jobs' metrics "
        "(reconcile, load, nightly), e.g. http://pushgateway:9091; unset: no push.",
    )
