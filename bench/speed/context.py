"""The context of one benchmark run: broker, run id, work dir, topics, settings, trades."""

from __future__ import annotations

import argparse
import os
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.common import load_average


class Bench:
    """Everything one benchmark run shares: broker, run id, work dir, the trades."""

    def __init__(self, args: argparse.Namespace, bootstrap: str, workdir: Path) -> None:
        from confluent_kafka.admin import AdminClient

        self.args, self.bootstrap, self.workdir = args, bootstrap, workdir
        self.run_id = f"bench-speed-{uuid.uuid4().hex[:8]}"
        self.trades_topic = f"{self.run_id}.trades"
        self.quix_topic = f"{self.run_id}.quix-trades"
        self.admin = AdminClient({"bootstrap.servers": bootstrap})
        self.trades: list[Any] = []
        self.reference: list[Any] = []
        self.delayed: set[tuple[str, int]] = set()  # (symbol, trade_id) produced late
        self.reference_off: list[Any] = []  # the reference without them (revisions off)
        self.loads: dict[str, float] = {}
        self.info: dict[str, Any] = {}

    def settings(self, prefix: str, trades_topic: str | None = None) -> Any:
        """Settings for one isolated set of output topics (and its own group/instance)."""
        from lambda_candles.settings import load_settings

        return load_settings(
            kafka_bootstrap_servers=self.bootstrap, topic_trades=trades_topic or self.trades_topic,
            topic_dlq=f"{prefix}.trades.dlq", topic_late=f"{prefix}.trades.late",
            topic_candles=f"{prefix}.candles", topic_live=f"{prefix}.candles.live",
            topic_speed_state=f"{prefix}.speed-state", trades_partitions=self.args.partitions,
            trades_retention_ms=-1, speed_group_id=f"{prefix}.speed", speed_instance_id=prefix,
            metrics_port=0, log_format="json",
        )

    def create_topics(self, settings: Any, extra: Sequence[str] = ()) -> None:
        from kafka_ops.topics import TopicSpec, create_topics, pipeline_topics

        specs = pipeline_topics(settings) + [
            TopicSpec(name, self.args.partitions, {"retention.ms": "-1"}) for name in extra]
        create_topics(self.admin, specs, 1)

    def child_env(self, settings: Any) -> dict[str, str]:
        from lambda_candles.settings import env_name

        names = ("kafka_bootstrap_servers", "topic_trades", "topic_dlq", "topic_late",
                 "topic_candles", "topic_live", "topic_speed_state", "trades_partitions",
                 "trades_retention_ms", "speed_group_id", "speed_instance_id", "metrics_port",
                 "log_format")
        return {**os.environ, **{env_name(n): str(getattr(settings, n)) for n in names}}

    def note_load(self, phase: str) -> None:
        self.loads[phase] = load_average()

    def cleanup(self) -> None:
        """Delete every topic of this run (ours, and Quix's internal ones)."""
        names = [t for t in self.admin.list_topics(timeout=30).topics if self.run_id in t]
        if names:
            for future in self.admin.delete_topics(names, operation_timeout=60).values():
                future.result()
