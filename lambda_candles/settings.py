"""The one typed settings object, read once at start.

Sources, highest priority first: CLI flags (passed as overrides), ``CANDLES_*`` environment
variables, a ``.env`` file in the working directory, the defaults. A bad value stops the
program at start with :class:`ConfigError` naming the setting, the value and what is
allowed. Secrets are ``SecretStr`` and never printed.

Each component declares its own settings in its layer (``kafka_ops.settings`` says how);
:class:`CandlesSettings` combines them, so every ``CANDLES_*`` variable is read here once.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError

from batch_layer.settings import BatchSettings
from candle_core.exceptions import ConfigError
from kafka_ops.settings import ENV_PREFIX, ComponentSettings, KafkaSettings, StreamSettings
from reconciliation.settings import ReconcileSettings
from serving.settings import ServeSettings
from sources.settings import IngestSettings
from speed_layer.settings import SpeedSettings
from storage.settings import ArchiveSettings, ReportSettings
from storage.warehouse.settings import WarehouseSettings


class ProcessSettings(ComponentSettings):
    """Every process's own: where it writes, how it logs, where it serves its metrics."""

    data_dir: Path = Field(default=Path("data"), description="Root of files the pipeline writes.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Log level."
    )
    log_format: Literal["json", "text"] = Field(default="text", description="Log line format.")
    metrics_port: int = Field(
        default=9108, ge=0, le=65535, description="Port of /metrics and /healthz (0: off)."
    )


class CandlesSettings(SpeedSettings, BatchSettings, ReconcileSettings, WarehouseSettings,
                      ServeSettings, IngestSettings, ProcessSettings):
    """Every setting of every lambda-candles process (each component's, combined)."""


COMPONENTS: tuple[type[ComponentSettings], ...] = (
    KafkaSettings, StreamSettings, SpeedSettings, ArchiveSettings, BatchSettings,
    ReconcileSettings, ReportSettings, WarehouseSettings, ProcessSettings,
)
"""The components that declare settings, in the order ``candles config`` and
docs/configuration.md list them (``ServeSettings`` and ``IngestSettings`` only combine)."""


def component_fields(component: type[ComponentSettings]) -> list[str]:
    """The settings ``component`` declares itself (not those it inherits)."""
    return [name for name in vars(component).get("__annotations__", {})
            if name in CandlesSettings.model_fields]


def setting_names() -> list[str]:
    """Every setting's field name, component by component."""
    return [name for component in COMPONENTS for name in component_fields(component)]


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
    for name in setting_names():
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            value = "**********"
        elif isinstance(value, Path | Decimal):
            value = str(value)
        elif isinstance(value, tuple):
            value = ",".join(value)
        shown[env_name(name)] = value
    return shown
