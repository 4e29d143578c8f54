"""`candles config` end to end, as a user runs it (a real subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def run_candles(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lambda_candles", *args],
        capture_output=True, text=True, env={**os.environ, **env}, cwd=cwd, timeout=60,
    )


def test_config_prints_effective_values_with_secrets_masked(tmp_path: Path) -> None:
    env = {"CANDLES_KAFKA_SASL_PASSWORD": "hunter2", "CANDLES_TRADES_PARTITIONS": "3"}
    result = run_candles("config", "--json", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["CANDLES_TRADES_PARTITIONS"] == 3
    assert shown["CANDLES_KAFKA_SASL_PASSWORD"] == "**********"
    assert "hunter2" not in result.stdout


def test_bad_setting_stops_at_start_with_a_clear_message(tmp_path: Path) -> None:
    result = run_candles("config", env={"CANDLES_IDLE_TIMEOUT_MS": "0"}, cwd=tmp_path)
    assert result.returncode == 2
    assert "CANDLES_IDLE_TIMEOUT_MS" in result.stderr and "'0'" in result.stderr
    assert "greater than or equal to 1" in result.stderr


def test_configuration_reference_is_up_to_date() -> None:
    """docs/configuration.md is what `candles config --reference` prints (regenerate it)."""
    from lambda_candles.commands.config import reference_markdown

    docs = Path(__file__).parents[2] / "docs" / "configuration.md"
    assert docs.read_text() == reference_markdown(), (
        "run: candles config --reference > docs/configuration.md")


def setting_names() -> list[str]:
    """Every variable, in the order `candles config` lists them (component by component)."""
    from lambda_candles.settings import env_name, setting_names

    return [env_name(field) for field in setting_names()]


def test_config_at_80_columns_shows_every_name_whole_and_values_under_them(
        tmp_path: Path) -> None:
    result = run_candles("config", env={"COLUMNS": "80", "CANDLES_TOPIC_LATE": "late.topic"},
                         cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    starts = [line.split()[0] for line in lines if line.startswith(" CANDLES_")]
    assert starts == setting_names()  # every name, whole, in order: none cut with "…"
    late = next(i for i, line in enumerate(lines) if line.startswith(" CANDLES_TOPIC_LATE "))
    assert lines[late + 1].split()[:2] == ["=", "late.topic"]
    assert "KAFKA_BOOTSTRAP_SERVERS." in result.stdout  # descriptions wrap, never cut


def test_config_on_a_wide_terminal_gives_the_value_a_column(tmp_path: Path) -> None:
    result = run_candles("config", env={"COLUMNS": "160"}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines()
               if line.startswith(" CANDLES_TOPIC_LATE "))
    assert row.split()[:3] == ["CANDLES_TOPIC_LATE", "trades.late", "Trades"]


def test_config_json_names_every_setting_for_scripts(tmp_path: Path) -> None:
    result = run_candles("config", "--json", env={"COLUMNS": "80"}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert list(shown) == setting_names()
    assert shown["CANDLES_TOPIC_LATE"] == "trades.late"
