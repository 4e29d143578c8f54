"""The one typed settings object, read once at start.

Sources, highest priority first: CLI flags (passed as overrides), ``CANDLES_*`` environment
variables, a ``.env`` file in the working directory, the defaults below. A bad value stops
the program at start with :class:`ConfigError` naming the setting, the value and what is
allowed. Secrets are ``SecretStr`` and never printed.
"""

from __future__ import annotations

import socket
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from candle_core.exceptions import ConfigError, ContractError
from candle_core.windows import BASE_INTERVAL_US, DEFAULT_INTERVALS, parse_interval

ENV_PREFIX = "CANDLES_"
DEFAULT_CACHE_DIR = Path.home() / ".cache" / "lambda-candles"
DEFAULT_DEDUP_MARGIN_MS = 600_000  # the dedup horizon's default: lateness + 10 minutes


class CandlesSettings(BaseSettings):
    """Every setting of every lambda-candles process."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", frozen=True, extra="ignore",
        env_ignore_empty=True,  # CANDLES_X= (e.g. an unused key in a k8s Secret) is unset
    )

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
    batch_dedup_bucket_rows: int = Field(
        default=4_000_000, ge=1_000, le=1_000_000_000,
        description="The batch layer finds duplicate trade ids in buckets of about this many "
        "rows, so its memory does not grow with the day.",
    )
    s3_endpoint_url: str | None = Field(
        default=None, description="S3-compatible endpoint (e.g. http://127.0.0.1:9000); "
        "unset: AWS.",
    )
    s3_region: str = Field(default="us-east-1", description="S3 region.")
    s3_access_key_id: str | None = Field(default=None, description="S3 access key id.")
    s3_secret_access_key: SecretStr | None = Field(default=None,
                                                   description="S3 secret access key.")

    drift_threshold: Decimal = Field(
        default=Decimal("0.005"), gt=0, lt=1,
        description="A reconciled range is in breach when a candle's drift exceeds this "
        "fraction (0.005 = 0.5%).",
    )
    reports_dir: str = Field(
        default="reports", description="Where reconciliation reports go "
        "(<dir>/reconcile/date=YYYY-MM-DD/...): a relative path is relative to the archive "
        "root (local or S3); an absolute path is a local directory, used as given.",
    )
    pushgateway_url: str | None = Field(
        default=None, description="Prometheus Pushgateway for the batch jobs' metrics "
        "(reconcile, load, nightly), e.g. http://pushgateway:9091; unset: no push.",
    )

    warehouse: Literal["auto", "duckdb", "snowflake"] = Field(
        default="auto", description="Where verified bars are loaded; auto: Snowflake when "
        "CANDLES_SNOWFLAKE_ACCOUNT is set, else the local DuckDB file.",
    )
    warehouse_duckdb_path: Path = Field(
        default=Path("data") / "warehouse.duckdb",
        description="The local DuckDB warehouse file (no Snowflake account configured).",
    )
    snowflake_account: str | None = Field(default=None, description="Snowflake account "
                                          "identifier (orgname-account); unset: DuckDB.")
    snowflake_user: str | None = Field(default=None, description="Snowflake user.")
    snowflake_password: SecretStr | None = Field(
        default=None, description="Snowflake password (or use a key pair).")
    snowflake_private_key_file: Path | None = Field(
        default=None, description="PEM private key file for key-pair (JWT) auth.")
    snowflake_private_key: SecretStr | None = Field(
        default=None, description="PEM private key text for key-pair auth (instead of a file).")
    snowflake_private_key_passphrase: SecretStr | None = Field(
        default=None, description="Passphrase of an encrypted private key.")
    snowflake_role: str = Field(default="CANDLES_LOADER", description="Snowflake role.")
    snowflake_warehouse: str = Field(default="CANDLES_XS",
                                     description="Snowflake virtual warehouse.")
    snowflake_database: str = Field(default="CANDLES", description="Snowflake database.")
    snowflake_host: str | None = Field(
        default=None, description="Snowflake host override (tests: a local fakesnow server).")
    snowflake_port: int | None = Field(default=None, ge=1, le=65535,
                                       description="Snowflake port override.")
    snowflake_protocol: Literal["https", "http"] = Field(
        default="https", description="Snowflake protocol (http only for a local test server).")

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

    data_dir: Path = Field(default=Path("data"), description="Root of files the pipeline writes.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Log level."
    )
    log_format: Literal["json", "text"] = Field(default="text", description="Log line format.")
    metrics_port: int = Field(
        default=9108, ge=0, le=65535, description="Port of /metrics and /healthz (0: off)."
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


def env_name(field: str) -> str:
    """The environment variable that sets ``field``."""
    return f"{ENV_PREFIX}{field.upper()}"


def load_settings(**overrides: Any) -> CandlesSettings:
    """Build the settings; ``overrides`` (CLI flags) win, ``None`` means "not given".

    Raises :class:`ConfigError` for the first bad value, naming its environment variable.
    """
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return CandlesSettings(**given)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "?"
        allowed = error["msg"].removeprefix("Value error, ")
        raise ConfigError(env_name(field), error.get("input"), allowed) from None


def masked(settings: CandlesSettings) -> dict[str, object]:
    """Every effective setting by environment variable name, secrets shown as ``**********``."""
    shown: dict[str, object] = {}
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            value = "**********"
        elif isinstance(value, Path | Decimal):
            value = str(value)
        elif isinstance(value, tuple):
            value = ",".join(value)
        shown[env_name(name)] = value
    return shown
