"""The speed layer's settings (``candles speed``): see ``kafka_ops.settings``."""

from __future__ import annotations

import socket

from pydantic import Field

from kafka_ops.settings import KafkaSettings, StreamSettings


class SpeedSettings(KafkaSettings, StreamSettings):
    """What ``candles speed`` reads: Kafka, the event-time rules, and its own."""

    speed_group_id: str = Field(default="candles-speed",
                                description="Consumer group of the speed layer.")
    speed_instance_id: str = Field(
        default_factory=lambda: socket.gethostname(),
        description="Stable id of this speed-layer instance; its Kafka transactional.id is "
        "derived from it, so a restarted instance fences its killed predecessor. Default: "
        "the host name (the pod name in Kubernetes).",
    )
    speed_commit_interval_ms: int = Field(
        default=100, ge=1, le=60_000,
        description="How often the speed layer commits its Kafka transaction.",
    )
    speed_backlog_commit_interval_ms: int = Field(
        default=500, ge=1, le=60_000,
        description="How often the speed layer commits while it catches up on a backlog "
        "(its last consume() returned a full batch): fewer, larger transactions when the "
        "candles are behind anyway; at the head of the stream it commits every "
        "speed_commit_interval_ms. The larger of the two applies.",
    )
    speed_batch_size: int = Field(
        default=10_000, ge=1, le=1_000_000, description="Messages per consume() call."
    )
    live_max_hz: float = Field(
        default=4.0, gt=0, le=100, description="Max in-progress candle updates per second "
        "per partition on the live topic (with --live).",
    )
