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
