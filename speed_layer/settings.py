"""The speed layer's settings (``candles speed``): see ``kafka_ops.settings``."""

from __future__ import annotations

import socket

from pydantic import Field, ValidationInfo, field_validator

from kafka_ops.settings import DEFAULT_DEDUP_MARGIN_MS, KafkaSettings, StreamSettings

DEFAULT_REVISION_HORIZON_MS = 10 * 60 * 1000


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
    speed_close_commit_spacing_ms: int = Field(
        default=20, ge=0, le=60_000,
        description="At the head of the stream, candles that windows just closed are "
        "committed at once, as long as the last commit is at least this long ago (else as "
        "soon as it is): they become visible a commit's duration after the trade that "
        "closed them, not up to speed_commit_interval_ms later. Set it to "
        "speed_commit_interval_ms or above to commit on the interval only.",
    )
    speed_batch_size: int = Field(
        default=10_000, ge=1, le=1_000_000, description="Messages per consume() call."
    )
    speed_memory_keep_mb: int = Field(
        default=64, ge=0, le=65_536,
        description="Freed memory the speed layer keeps for reuse instead of giving it back "
        "to the system: glibc's heap trim threshold, and at most this much of CPython's "
        "emptied arenas. Each batch frees and allocates again a few MiB; a page given "
        "back is zeroed again at its next first touch, which on a virtual machine with "
        "lazily backed memory costs 20-30 us (docs/benchmarks.md). 0: the allocators' own "
        "defaults.",
    )
    revision_horizon_ms: int = Field(
        default=DEFAULT_REVISION_HORIZON_MS, ge=0, le=86_400_000,
        description="How late a trade may be (how far the watermark is past the end of its "
        "1 s window) and still revise its candles: it updates its 1 s candle and every "
        "rolled-up candle holding it, which are emitted again on candles with a revision "
        "one higher. A later trade goes to trades.late. 0: no revisions (every late trade "
        "goes to trades.late). Must be shorter than the dedup horizon.",
    )
    live_max_hz: float = Field(
        default=4.0, gt=0, le=100, description="Max in-progress candle updates per second "
        "per partition on the live topic (with --live).",
    )

    @property
    def revision_horizon_us(self) -> int:
        """The revision horizon in microseconds (0: revisions off)."""
        return self.revision_horizon_ms * 1_000

    @field_validator("revision_horizon_ms")
    @classmethod
    def _inside_the_dedup_horizon(cls, value: int, info: ValidationInfo) -> int:
        dedup_ms = info.data.get("dedup_horizon_ms")
        if dedup_ms is None:
            dedup_ms = info.data.get("allowed_lateness_ms", 0) + DEFAULT_DEDUP_MARGIN_MS
        if value and value >= dedup_ms:
            raise ValueError(
                f"must be shorter than the dedup horizon ({dedup_ms} ms): a re-send inside "
                "the revision horizon must be recognised as a duplicate, not counted twice; "
                "raise CANDLES_DEDUP_HORIZON_MS, or set this to 0 (no revisions)")
        return value
