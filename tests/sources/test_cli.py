"""``candles simulate`` and ``candles replay`` through click, without a broker."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

from candle_core.exceptions import TerminalError
from lambda_candles.commands.replay import pace_from, passes_from, replay
from lambda_candles.commands.simulate import parse_start_us, simulate
from sources.exceptions import SourceOptionError
from sources.pacing import Pace

FIXTURES = Path(__file__).parent.parent / "fixtures"
START = "2024-01-01T00:00:00Z"


def _run(command: object, args: list[str]) -> Result:
    result = CliRunner().invoke(command, args)  # type: ignore[arg-type]
    return result


def test_simulate_file_and_labels_are_reproducible(tmp_path: Path) -> None:
    outputs = []
    for name in ("a", "b"):
        out, labels = tmp_path / f"{name}.ndjson", tmp_path / f"{name}.labels.parquet"
        args = ["-n", "3000", "--start", START, "--seed", "5", "--chaos",
                "--malformed-rate", "0.05", "--out", str(out), "--labels", str(labels)]
        result = _run(simulate, args)
        assert result.exit_code == 0, result.output
        outputs.append((out.read_bytes(), pq.read_table(labels).to_pylist()))
    assert outputs[0] == outputs[1]
    lines, labels_rows = outputs[0]
    assert len(lines.splitlines()) == len(labels_rows)
    assert [row["offset"] for row in labels_rows] == list(range(len(labels_rows)))
    malformed = [row for row in labels_rows if row["label"] == "malformed"]
    assert 100 < len(malformed) < 200 and all(row["expected_reason"] for row in malformed)
    summary = _run(simulate, ["-n", "10", "--out", str(tmp_path / "c.ndjson")]).output
    assert "clean" in summary and "records/s" in summary


def test_simulate_parquet_message_format(tmp_path: Path) -> None:
    out = tmp_path / "sim.parquet"
    result = _run(simulate, ["-n", "500", "--start", START, "--out", str(out), "--quiet"])
    assert result.exit_code == 0 and result.output == ""
    table = pq.read_table(out)
    assert [(f.name, str(f.type)) for f in table.schema] == [
        ("key", "string"), ("value", "binary"), ("timestamp_us", "int64")]
    first = json.loads(table.column("value")[0].as_py())
    assert first["recv_ts"] == table.column("timestamp_us")[0].as_py()


@pytest.mark.parametrize(
    ("args", "option"),
    [
        ([], "--out/--to-kafka"),  # neither
        (["--out", "x.ndjson", "--to-kafka"], "--out/--to-kafka"),  # both
        (["--out", "x.csv"], "x.csv"),  # unknown output type
        (["--out", "x.ndjson", "--start", "yesterday"], "--start"),
        (["--out", "x.ndjson", "--late-rate", "0.7", "--future-rate", "0.7"],
         "--malformed/out-of-order/late/future-rate"),
    ],
)
def test_simulate_bad_flags_are_terminal_errors(
    tmp_path: Path, args: list[str], option: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = _run(simulate, ["-n", "10", *args])
    assert isinstance(result.exception, SourceOptionError), result.output
    assert isinstance(result.exception, TerminalError)
    assert result.exception.option == option


def test_simulate_rate_out_of_range_is_a_usage_error() -> None:
    result = _run(simulate, ["--out", "x.ndjson", "--late-rate", "2"])
    assert result.exit_code == 2 and "--late-rate" in result.output


def test_start_parsing() -> None:
    assert parse_start_us("2024-01-01T00:00:00Z") == 1_704_067_200_000_000
    assert parse_start_us("2024-01-01T01:00:00+01:00") == 1_704_067_200_000_000
    assert parse_start_us("2024-01-01 00:00:00.5") == 1_704_067_200_500_000  # naive = UTC
    assert parse_start_us(None) % 60_000_000 == 0


@pytest.mark.parametrize("command", [simulate, replay])
def test_help_shows_env_variables(command: object) -> None:
    output = " ".join(_run(command, ["--help"]).output.split())
    assert "[env: CANDLES_TOPIC_TRADES]" in output
    assert "[env: CANDLES_KAFKA_BOOTSTRAP_SERVERS]" in output


@pytest.mark.parametrize(
    ("flags", "pace"),
    [
        (("max", False, None, None), Pace()),
        (("max", True, None, None), Pace(speed=1.0)),
        (("max", False, 20.0, 500.0), Pace(speed=20.0, max_rate=500.0)),
        (("250", False, None, None), Pace(max_rate=250.0)),  # --rate N = --max-rate N
    ],
)
def test_pace_flags(flags: tuple[str, bool, float | None, float | None], pace: Pace) -> None:
    assert pace_from(*flags) == pace


@pytest.mark.parametrize(
    "flags",
    [("fast", False, None, None), ("0", False, None, None), ("10", False, None, 20.0),
     ("max", True, 3.0, None)],
)
def test_bad_pace_flags(flags: tuple[str, bool, float | None, float | None]) -> None:
    with pytest.raises(SourceOptionError):
        pace_from(*flags)


def test_passes() -> None:
    assert passes_from(False, None) == 1
    assert passes_from(True, None) is None
    assert passes_from(True, 3) == 3


def test_replay_binance_without_symbol_fails_before_any_broker_work(tmp_path: Path) -> None:
    unnamed = tmp_path / "trades.csv"  # not a published name: it gives no symbol
    unnamed.write_bytes((FIXTURES / "BTCUSDT-trades-2024-01-01.csv").read_bytes())
    result = _run(replay, [str(unnamed), "--bootstrap-servers", "127.0.0.1:1"])
    assert isinstance(result.exception, SourceOptionError)
    assert "--symbol" in str(result.exception)


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--format", "csv", "--ts-unit", "s"], "--columns"),  # csv without columns
        (["--columns", "ts=1,price=2,size=3", "--symbol", "X"], "--ts-unit"),  # csv: no unit
        (["--columns", "ts=1,price=2", "--ts-unit", "s"], "--columns"),  # size not mapped
        (["--columns", "ts=1,price=2,size=3", "--ts-unit", "s"], "--symbol"),  # no symbol
        (["--columns", "ts=1,price=2,size=3", "--ts-unit", "s", "--symbol", "X"],
         "--columns"),  # no trade_id and no --assign-ids
        (["--format", "binance", "--symbol", "X", "--assign-ids"], "--assign-ids"),
        (["--format", "binance", "--symbol", "X", "--ts-unit", "ms"], "--columns/--ts-unit"),
    ],
)
def test_replay_bad_reader_flags_fail_before_any_broker_work(
        tmp_path: Path, args: list[str], option: str) -> None:
    path = tmp_path / "ticks.csv"
    path.write_text("1723161600,60950.2,0.5\n")
    result = _run(replay, [str(path), *args, "--bootstrap-servers", "127.0.0.1:1"])
    assert isinstance(result.exception, SourceOptionError), result.output
    assert result.exception.option == option


def test_replay_help_lists_the_reader_flags() -> None:
    output = " ".join(_run(replay, ["--help"]).output.split())
    for flag in ("--assign-ids", "--columns", "--ts-unit", "csv", "binance"):
        assert flag in output
