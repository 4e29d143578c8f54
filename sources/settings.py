"""The sources' settings (``candles ingest``, ``candles replay``): see
``kafka_ops.settings``."""

from __future__ import annotations

from kafka_ops.settings import KafkaSettings, StreamSettings


class IngestSettings(KafkaSettings, StreamSettings):
    """What a source producing to ``trades`` reads: Kafka and the future-skew rule."""
