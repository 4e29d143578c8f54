"""Settings: sources in priority order, clear errors naming the setting, masked secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from candle_core.exceptions import ConfigError
from lambda_candles.settings import (
    COMPONENTS,
    CandlesSettings,
    component_fields,
    load_settings,
    masked,
    setting_names,
)
from speed_layer.settings import SpeedSettings
from storage.warehouse.settings import WarehouseSettings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Run in an empty directory (no stray .env) with no CANDLES_* variables."""
    monkeypatch.chdir(tmp_path)
    for name in ("KAFKA_BOOTSTRAP_SERVERS", "CANDLES_KAFKA_BOOTSTRAP_SERVERS",
                 "CANDLES_INTERVALS", "CANDLES_ALLOWED_LATENESS_MS"):
        monkeypatch.delenv(name, raising=False)


def test_defaults() -> None:
    settings = load_settings()
    assert settings.intervals_us == (1_000_000, 10_000_000, 60_000_000, 300_000_000, 3_600_000_000)
    assert settings.allowed_lateness_us == 2_000_000


def test_flag_beats_env_beats_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("CANDLES_ALLOWED_LATENESS_MS=100\nCANDLES_TOPIC_TRADES=t1\n")
    assert load_settings().topic_trades == "t1"
    monkeypatch.setenv("CANDLES_TOPIC_TRADES", "t2")
    assert load_settings().topic_trades == "t2"
    assert load_settings(topic_trades="t3").topic_trades == "t3"
    assert load_settings(topic_trades=None).topic_trades == "t2"  # flag not given
    assert load_settings().allowed_lateness_ms == 100


def test_plain_kafka_bootstrap_variable_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "10.0.0.1:9092")
    assert load_settings().kafka_bootstrap_servers == "10.0.0.1:9092"


def test_intervals_from_a_comma_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANDLES_INTERVALS", "1s, 1m,15m")
    assert load_settings().intervals == ("1s", "1m", "15m")


@pytest.mark.parametrize(
    ("variable", "value", "allowed"),
    [
        ("CANDLES_ALLOWED_LATENESS_MS", "-1", "greater than or equal to 0"),
        ("CANDLES_TRADES_PARTITIONS", "many", "valid integer"),
        ("CANDLES_INTERVALS", "1s,90x", "unit ms|s|m|h|d"),
        ("CANDLES_INTERVALS", "1m,5m", "must include the 1s base interval"),
        ("CANDLES_LOG_FORMAT", "xml", "'json' or 'text'"),
    ],
)
def test_bad_value_names_setting_value_and_what_is_allowed(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, allowed: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.setting == variable
    assert value in str(caught.value)
    assert allowed in caught.value.allowed


def test_secrets_are_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANDLES_KAFKA_SASL_PASSWORD", "hunter2")
    shown = masked(load_settings())
    assert shown["CANDLES_KAFKA_SASL_PASSWORD"] == "**********"
    assert "hunter2" not in repr(shown)


def test_an_empty_variable_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    """Kubernetes Secrets often carry unused keys as empty strings."""
    monkeypatch.setenv("CANDLES_S3_ACCESS_KEY_ID", "")
    monkeypatch.setenv("CANDLES_METRICS_PORT", "")
    settings = load_settings()
    assert settings.s3_access_key_id is None and settings.metrics_port == 9108


def test_each_component_declares_its_own_and_the_application_combines_them() -> None:
    names = setting_names()
    assert len(names) == len(set(names))  # each setting declared by exactly one component
    assert set(names) == set(CandlesSettings.model_fields)
    assert all(issubclass(CandlesSettings, component) for component in COMPONENTS)
    assert "snowflake_account" in component_fields(WarehouseSettings)


def test_a_component_reads_only_its_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CANDLES_SPEED_BATCH_SIZE", "77")
    monkeypatch.setenv("CANDLES_SNOWFLAKE_PORT", "not a port")  # not the speed layer's
    speed = SpeedSettings()
    assert (speed.speed_batch_size, speed.topic_trades) == (77, "trades")
    assert not hasattr(speed, "snowflake_port") and not hasattr(speed, "archive_root")
