"""Helpers for integration tests that run the real commands against the real broker.

A :class:`Pipeline` is one isolated set of topics (a unique prefix) and the environment
that points every ``candles`` subprocess at it, so tests never see each other's data.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from confluent_kafka import Message, Producer
from confluent_kafka.admin import AdminClient

from kafka_ops.reading import read_topic
from kafka_ops.topics import create_topics, pipeline_topics
from lambda_candles.settings import CandlesSettings, load_settings

Record = tuple[bytes, bytes | None, int]  # key, value, timestamp in ms


@dataclass
class Pipeline:
    """An isolated set of pipeline topics on the test broker."""

    bootstrap: str
    partitions: int = 4
    prefix: str = field(default_factory=lambda: f"t{uuid.uuid4().hex[:10]}")
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        names = {"TRADES": "trades", "DLQ": "trades.dlq", "LATE": "trades.late",
                 "CANDLES": "candles", "LIVE": "candles.live", "SPEED_STATE": "speed-state"}
        env = {f"CANDLES_TOPIC_{k}": f"{self.prefix}.{v}" for k, v in names.items()}
        env.update({
            "CANDLES_KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "CANDLES_TRADES_PARTITIONS": str(self.partitions),
            "CANDLES_TRADES_RETENTION_MS": "-1",  # test data carries old timestamps
            "CANDLES_SPEED_GROUP_ID": f"{self.prefix}-speed",
            "CANDLES_METRICS_PORT": "0",
            "CANDLES_LOG_FORMAT": "json",
        })
        env.update(self.extra_env)
        return env

    @property
    def settings(self) -> CandlesSettings:
        saved = dict(os.environ)
        os.environ.update(self.env)
        try:
            return load_settings()
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def create_topics(self) -> None:
        settings = self.settings
        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        create_topics(admin, pipeline_topics(settings), 1)

    def produce(self, records: Iterable[Record], topic: str | None = None) -> int:
        """Produce ``(key, value, timestamp_ms)`` records with an idempotent producer."""
        producer = Producer({"bootstrap.servers": self.bootstrap, "enable.idempotence": True,
                             "linger.ms": 20, "partitioner": "murmur2_random"})
        count = 0
        topic = topic or self.settings.topic_trades
        for key, value, timestamp_ms in records:
            while True:
                try:
                    producer.produce(topic, value, key, timestamp=timestamp_ms)
                    break
                except BufferError:
                    producer.poll(0.1)
            count += 1
        assert producer.flush(60) == 0, "not every record was delivered"
        return count

    @staticmethod
    def candles_command(*args: str) -> list[str]:
        return [sys.executable, "-m", "lambda_candles", *args]

    def start(self, *args: str, env: dict[str, str] | None = None,
              log_path: Path | None = None) -> subprocess.Popen[bytes]:
        """Start ``candles ARGS`` in the background, pointed at this pipeline."""
        out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
        return subprocess.Popen(self.candles_command(*args), stdout=out, stderr=out,
                                env={**os.environ, **self.env, **(env or {})})

    def run(self, *args: str, env: dict[str, str] | None = None,
            timeout_s: float = 300) -> subprocess.CompletedProcess[str]:
        """Run ``candles ARGS`` to completion."""
        return subprocess.run(self.candles_command(*args), capture_output=True, text=True,
                              env={**os.environ, **self.env, **(env or {})}, timeout=timeout_s)

    def messages(self, topic: str, timeout_s: float = 60) -> Iterator[Message]:
        """Every committed message of ``topic`` (read_committed), partition by partition."""
        return read_topic(self.settings, topic, timeout_s)
