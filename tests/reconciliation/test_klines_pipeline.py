"""Exchange tapes end to end on the real broker, then ``candles klines check``.

One run, every step the real command: ``candles replay`` of six tapes of five input kinds
(oldest first) -> ``candles speed`` -> ``candles archive`` -> ``candles batch`` for each
date -> ``candles reconcile`` (speed = batch) -> ``candles klines check`` against klines
built the way Binance builds them (the fixtures: see docs/sources.md).
"""

from __future__ import annotations

import json
import shutil
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from candle_core.codec import candles_from_table
from candle_core.parsing import TradeParser
from candle_core.reference import candles_from_trades
from candle_core.trade import Trade
from reconciliation.sources import read_candles
from sources.formats import open_records
from sources.formats.csv_columns import parse_columns
from sources.formats.csv_times import TsUnit
from sources.formats.read_options import ReadOptions
from storage.layout import BATCH_SOURCE
from storage.stores import open_store
from tests.pipeline import Pipeline
from tests.reconciliation.runs import make_pipeline

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

FIXTURES = Path(__file__).parent.parent / "fixtures"
BTC_KLINES = FIXTURES / "BTCUSDT-1m-2024-08-09.zip"
ETH_KLINES = FIXTURES / "ETHUSDT-1m-2024-08.zip"
PARSER = TradeParser(max_future_skew_us=0)
KRAKEN = "ts=1,price=2,size=3"
COINBASE = "trade_id=trade_id,ts=time,price=price,size=size"
# (fixture, replay flags, the same as read options, symbol), oldest first: with an hour of
# allowed lateness no trade of one tape is late behind the tape replayed before it
TAPES = [
    ("SPY-2013-10-01-noids.ndjson", ["--assign-ids"], ReadOptions(assign_ids=True), None),
    ("BTCUSDT-aggTrades-2024-08-09.zip", [], ReadOptions(), None),
    ("ETHUSDT-trades-2024-08.zip", [], ReadOptions(), None),
    ("kraken-XBTUSD-2024-08-09.csv", ["--format", "csv", "--columns", KRAKEN, "--ts-unit", "s",
                                      "--symbol", "XBTUSD", "--assign-ids"],
     ReadOptions(True, parse_columns(KRAKEN), TsUnit.S), "XBTUSD"),
    ("coinbase-BTC-USD-2024-08-09.csv", ["--columns", COINBASE, "--ts-unit", "iso", "--symbol",
                                         "BTC-USD"],
     ReadOptions(False, parse_columns(COINBASE), TsUnit.ISO), "BTC-USD"),
    ("XRPETH-aggTrades-2025-01-02.csv", [], ReadOptions(), None),
]
DATES = ["2013-10-01", "2024-08-09", "2025-01-02"]


def _tape_trades(fixture: str, options: ReadOptions, symbol: str | None) -> list[Trade]:
    trades = [PARSER.parse(r.value) for r in open_records(FIXTURES / fixture, None, symbol,
                                                          options)]
    assert all(isinstance(t, Trade) for t in trades)
    return trades  # type: ignore[return-value]


@pytest.fixture(scope="module")
def lake(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[tuple[Pipeline, Path, dict[str, int]]]:
    root = tmp_path_factory.mktemp("tapes") / "lake"
    pipeline = make_pipeline(kafka_bootstrap, root)
    pipeline.extra_env["CANDLES_ALLOWED_LATENESS_MS"] = "3600000"
    pipeline.create_topics()
    for fixture, flags, _, _ in TAPES:
        done = pipeline.run("replay", str(FIXTURES / fixture), *flags, "--quiet")
        assert done.returncode == 0, f"replay {fixture}:\n{done.stderr}"
    for step in (("speed", "--exit-when-idle", "3", "--idle-timeout-ms", "1000"),
                 ("archive", "--until-idle", "3")):
        done = pipeline.run(*step)
        assert done.returncode == 0, f"{step[0]} failed:\n{done.stdout}\n{done.stderr}"
    used = {}
    for date in DATES:
        done = pipeline.run("batch", "--date", date, "--json")
        assert done.returncode == 0, f"batch {date}:\n{done.stderr}"
        used[date] = json.loads(done.stdout)["trades_used"]
    yield pipeline, root, used


def test_every_trade_of_every_tape_reaches_the_batch(
        lake: tuple[Pipeline, Path, dict[str, int]]) -> None:
    _, _, used = lake
    assert used == {"2013-10-01": 42, "2024-08-09": 226 + 280 + 68 + 56, "2025-01-02": 17}


def test_speed_equals_batch_on_every_date(lake: tuple[Pipeline, Path, dict[str, int]]) -> None:
    pipeline, _, _ = lake
    for date in DATES:
        done = pipeline.run("reconcile", "--date", date, "--json", "--fail-on-breach")
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        totals = report["totals"]
        assert report["verdict"] == "ok" and totals["compared"] == totals["exact"] > 0
        assert totals["missing_speed"] == totals["missing_batch"] == 0


@pytest.mark.parametrize(("fixture", "flags", "options", "symbol"), TAPES,
                         ids=[tape[0] for tape in TAPES])
def test_batch_candles_equal_the_reference_for_each_input_kind(
        lake: tuple[Pipeline, Path, dict[str, int]], fixture: str, flags: list[str],
        options: ReadOptions, symbol: str | None) -> None:
    pipeline, _, _ = lake
    trades = _tape_trades(fixture, options, symbol)
    store = open_store(pipeline.settings)
    for interval in ("1s", "1m"):
        expected = candles_from_trades(trades, [interval])
        got = []
        for date in DATES:
            frame = read_candles(store, BATCH_SOURCE, interval, date)
            got += [c for c in candles_from_table(frame.to_arrow())
                    if c.symbol == trades[0].symbol]
        assert sorted(got, key=lambda c: c.window_start_us) == expected


def _klines(pipeline: Pipeline, path: Path, *flags: str) -> tuple[int, str]:
    done = pipeline.run("klines", "check", str(path), *flags)
    print(f"$ candles klines check {path.name} {' '.join(flags)}\n{done.stdout}{done.stderr}")
    return done.returncode, done.stdout + done.stderr


def test_klines_of_a_trades_tape_match_with_counts(
        lake: tuple[Pipeline, Path, dict[str, int]]) -> None:
    status, output = _klines(lake[0], ETH_KLINES)
    assert status == 0, output
    assert "matched                       14" in output
    assert "zero volume, no candle         1" in output
    assert output.rstrip().endswith("OK: every kline with trades equals our candle")


def test_klines_of_an_agg_trades_tape_match_without_counts(
        lake: tuple[Pipeline, Path, dict[str, int]]) -> None:
    status, output = _klines(lake[0], BTC_KLINES, "--no-trade-count")
    assert status == 0, output
    assert "matched                       28" in output and "compared: open high low close " \
        "volume\n" in output
    status, output = _klines(lake[0], BTC_KLINES)
    assert status == 1 and "rerun with --no-trade-count" in output


def test_klines_check_catches_a_changed_close(
        lake: tuple[Pipeline, Path, dict[str, int]], tmp_path: Path) -> None:
    with zipfile.ZipFile(ETH_KLINES) as archive:
        rows = [line.split(",") for line in archive.read(archive.namelist()[0]).decode()
                .splitlines()]
    theirs = Decimal(rows[6][4]) + Decimal("0.01")
    rows[6][4] = f"{theirs:.8f}"
    changed = tmp_path / "ETHUSDT-1m-2024-08.csv"
    changed.write_text("".join(",".join(row) + "\n" for row in rows))
    status, output = _klines(lake[0], changed)
    assert status == 1
    assert "differing                      1" in output
    assert "line 7      2024-08-09T00:06:00Z  close" in output
    assert f"theirs {theirs.normalize():f}".rstrip() in " ".join(output.split())
    assert "FAIL: 1 window(s) differ" in output


def test_klines_check_refuses_a_bad_file(lake: tuple[Pipeline, Path, dict[str, int]],
                                         tmp_path: Path) -> None:
    bad = tmp_path / "ETHUSDT-1m-2024-08.zip"
    shutil.copy(ETH_KLINES, bad)
    with zipfile.ZipFile(bad, "a") as archive:
        archive.writestr("notes.txt", "second file")
    status, output = _klines(lake[0], bad)
    assert status == 2 and "exactly one file" in output
