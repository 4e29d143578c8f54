"""Settings shared by every process that touches the stream: the base class of every
component's settings, Kafka (the cluster, the topics, the local broker) and the stream's
event-time rules.

Each component declares the settings it reads in its own layer (``speed_layer.settings``,
``storage.settings``, ``batch_layer.settings``, ``reconciliation.settings``,
``storage.warehouse.settings``, ``serving.settings``, ``sources.settings``), and
``lambda_candles.settings.CandlesSettings`` combines them by inheritance into the one
object each process reads once at start. A function asks for the narrowest of these
types that has what it reads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from candle_core.exceptions import ContractError
from candle_core.windows import BASE_INTERVAL_US, DEFAULT_INTERVALS, parse_interval

ENV_PREFIX = "CANDLES_"
DEFAULT_CACHE_DIR = Path.home() / ".cache" / "lambda-candles"
DEFAULT_DEDUP_MARGIN_MS = 600_000  # the dedup horizon's default: lateness + 10 minutes


class ComponentSettings(BaseSettings):
    """How every component's settings are read: ``CANDLES_*`` variables, then ``.env``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", frozen=True, extra="ignore",
        env_ignore_empty=True,  # CANDLES_X= (e.g. an unused key in a k8s Secret) is unset
    )


class KafkaSettings(ComponentSettings):
    """The Kafka cluster, the pipeline's topics, and the local broker (``candles kafka``)."""

    kafka_bootstrap_servers: str | None = Field(
        default=None,
        validation_alias=AliasChoices("CANDLES_KAFKA_BOOTSTRAP_SERVERS", "KAFKA_BOOTSTRAP_SERVERS"),
        description="Kafka bootstrap servers (host:port,...). Unset: use the local broker "
        "started by `candles kafka start`. Also read from KAFKA_BOOTSTRAP_SERVERS.",
    )
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        default="PLAINTEXT", description="Kafka security.protocol."
    )
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = Field(
        default=None, description="Kafka SASL mechanism, when the protocol is SASL_*."
    )
    kafka_sasl_username: str | None = Field(default=None, description="Kafka SASL username.")
    kafka_sasl_password: SecretStr | None = Field(default=None, description="Kafka SASL password.")

    topic_trades: str = Field(default="trades", description="Input topic of trades.")
    topic_dlq: str = Field(default="trades.dlq", description="Dead-letter topic (bad records).")
    topic_late: str = Field(default="trades.late", description="Trades too late for their window.")
    topic_candles: str = Field(default="candles", description="Final candles (transactional).")
    topic_live: str = Field(default="candles.live", description="In-progress candles for charts.")
    topic_speed_state: str = Field(
        default="candles.speed-state",
        description="Compacted changelog of the speed layer's open windows (internal).",
    )
    trades_partitions: int = Field(
        default=8, ge=1, le=1024, description="Partitions of the trades topic when created."
    )
    trades_retention_ms: int = Field(
        default=7 * 86_400_000, ge=-1,
        description="retention.ms of the trades topic when created (-1: keep forever). "
        "Kafka deletes by message timestamp, so replays of old data need -1 or a long one.",
    )
    replication_factor: int = Field(
        default=1, ge=1, le=7, description="Replication factor of created topics."
    )

    kafka_version: str = Field(default="", description="Apache Kafka version for the local "
                               "broker (empty: the launcher's default).")
    kafka_cache_dir: Path = Field(
        default=DEFAULT_CACHE_DIR / "kafka", description="Where the broker jars are cached."
    )
    kafka_run_dir: Path = Field(
        default=Path(".candles") / "kafka", description="Local broker's data, logs and pid."
    )
    kafka_port: int = Field(
        default=0, ge=0, le=65535, description="Local broker port (0: pick a free one)."
    )


class StreamSettings(ComponentSettings):
    """The stream's event-time rules: intervals, lateness, idleness, dedup, future skew
    (the contract's parameters, the same for every layer)."""

    intervals: Annotated[tuple[str, ...], NoDecode] = Field(
        default=DEFAULT_INTERVALS,
        description="Candle intervals, comma-separated (e.g. 1s,10s,1m,5m,1h); must include "
        "1s, and each must be a whole number of seconds.",
    )
    allowed_lateness_ms: int = Field(
        default=2_000, ge=0, le=3_600_000, description="Watermark = max event time - this."
    )
    idle_timeout_ms: int = Field(
        default=5_000, ge=1, le=3_600_000,
        description="Close a partition's windows after this much wall-clock idleness.",
    )
    dedup_horizon_ms: int | None = Field(
        default=None, ge=0, le=86_400_000,
        description="How long after its 1 s window closed an exact re-send of a trade is "
        "still recognised as a duplicate (dropped and counted, never late) and a re-send "
        "with other content as a conflict (DLQ). Unset: the allowed lateness plus 10 "
        "minutes. 0: only while the window is open. The trades topic's retention must "
        "cover it (a restart re-reads this much of the stream).",
    )
    max_future_skew_ms: int = Field(
        default=5_000, ge=0, le=86_400_000,
        description="Reject trades whose event time is this far after the Kafka timestamp.",
    )

    @field_validator("intervals", mode="before")
    @classmethod
    def _split_intervals(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("intervals")
    @classmethod
    def _check_intervals(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        try:
            parsed = [parse_interval(label) for label in value]
        except ContractError as exc:
            raise ValueError(str(exc)) from None
        if BASE_INTERVAL_US not in parsed:
            raise ValueError("must include the 1s base interval")
        return value

    @property
    def intervals_us(self) -> tuple[int, ...]:
        """The configured intervals in microseconds, ascending."""
        return tuple(sorted({parse_interval(label) for label in self.intervals}))

    @property
    def allowed_lateness_us(self) -> int:
        """Allowed lateness in microseconds."""
        return self.allowed_lateness_ms * 1_000

    @property
    def dedup_horizon_us(self) -> int:
        """The dedup horizon in microseconds (default: allowed lateness + 10 minutes)."""
        if self.dedup_horizon_ms is None:
            return (self.allowed_lateness_ms + DEFAULT_DEDUP_MARGIN_MS) * 1_000
        return self.dedup_horizon_ms * 1_000

    @property
    def max_future_skew_us(self) -> int:
        """Maximum future skew in microseconds."""
        return self.max_future_skew_ms * 1_000

    @property
    def idle_timeout_us(self) -> int:
        """Idle timeout in microseconds."""
        return self.idle_timeout_ms * 1_000
