"""Input formats: each fixture parses into exact trades; bad input names file and line."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from candle_core.parsing import TradeParser
from candle_core.trade import Trade
from sources.chaos import ChaosRates
from sources.exceptions import SourceFormatError, SourceOptionError
from sources.formats import FileFormat, detect_format, open_records
from sources.labels import Label
from sources.records import Record, probe
from sources.simulator import SimulationConfig, simulate
from sources.writers import open_writer

FIXTURES = Path(__file__).parent.parent / "fixtures"
KIBOT = FIXTURES / "WDC_tickbidask.txt"
BINANCE_MS = FIXTURES / "BTCUSDT-trades-2024-01-01.csv"
BINANCE_US = FIXTURES / "ETHUSDT-trades-2025-03-01.csv"
PARSER = TradeParser(max_future_skew_us=0)
SEP_28_0930_EDT_US = 1_254_144_600_000_000  # 2009-09-28 13:30:00Z
DEC_01_0930_EST_US = 1_259_677_800_000_000  # 2009-12-01 14:30:00Z


def _trades(records: list[Record]) -> list[Trade]:
    trades = [PARSER.parse(r.value, kafka_ts_us=r.timestamp_us) for r in records]
    assert all(isinstance(t, Trade) for t in trades), trades
    return trades  # type: ignore[return-value]


def test_kibot_fixture_exact_trades_in_utc() -> None:
    records = list(open_records(KIBOT))
    trades = _trades(records)
    assert len(trades) == 12
    assert [t.trade_id for t in trades] == list(range(1, 13))  # line numbers
    assert {t.symbol for t in trades} == {"WDC"}  # from the file name
    assert trades[0] == Trade("WDC", 1, SEP_28_0930_EDT_US, 2_763_000_000, 2_100 * 10**8)
    # three trades in one second: +0, +1, +2 µs in line order; side from bid/ask
    assert [t.ts_us - SEP_28_0930_EDT_US for t in trades[:4]] == [0, 1, 2, 1_000_000]
    assert [t.side for t in trades[:3]] == [None, "buy", "sell"]
    assert trades[5].price == 2_764_500_000  # 27.645: a half-cent, exactly
    assert trades[8].ts_us == DEC_01_0930_EST_US  # winter: UTC-5, not UTC-4
    assert [r.timestamp_us for r in records] == [t.ts_us for t in trades]


def test_kibot_symbol_flag_wins_and_four_column_files(tmp_path: Path) -> None:
    path = tmp_path / "ticks.txt"
    path.write_text("01/04/2010,09:30:00,30.5,300\n01/04/2010,09:30:00,30.51,100\n")
    trades = _trades(list(open_records(path, FileFormat.KIBOT, "WDC")))
    assert [(t.symbol, t.price, t.size, t.side) for t in trades] == [
        ("WDC", 3_050_000_000, 300 * 10**8, None), ("WDC", 3_051_000_000, 100 * 10**8, None)]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("09/28/2009,09:30:00,27.63,27.62,27.64\n", "expected 4 or 6"),  # 5 fields
        ("2009-09-28,09:30:00,27.63,100\n", "bad date/time"),  # ISO date, not Kibot's
        ("09/28/2009,09:61:00,27.63,100\n", "bad date/time"),  # minute 61
        ("09/28/2009,09:30:00,-1,100\n", "price '-1'"),  # non-positive price
        ("09/28/2009,09:30:00,27.63,abc\n", "size 'abc'"),  # not a number
    ],
)
def test_kibot_bad_line_names_file_and_line(tmp_path: Path, line: str, problem: str) -> None:
    path = tmp_path / "WDC_tickbidask.txt"
    path.write_text("09/28/2009,09:30:00,27.63,27.62,27.64,2100\n" + line)
    with pytest.raises(SourceFormatError, match=problem) as error:
        list(open_records(path))
    assert error.value.line == 2 and str(path) in str(error.value)


def test_binance_ms_file_without_header() -> None:
    trades = _trades(list(open_records(BINANCE_MS, symbol="BTCUSDT")))
    assert len(trades) == 12
    assert trades[0] == Trade("BTCUSDT", 3_335_498_463, 1_704_067_200_014_000,
                              4_228_358_000_000, 172_000, "binance", "sell")
    assert trades[2].side == "buy"  # is_buyer_maker False: the taker bought
    assert trades[9].size == 120_540_000  # 1.20540000


def test_binance_us_file_with_header() -> None:
    trades = _trades(list(open_records(BINANCE_US, symbol="ETHUSDT")))
    assert len(trades) == 12  # header skipped
    assert trades[0].ts_us == 1_740_787_200_008_123  # microseconds kept as they are
    assert trades[0].price == 221_748_000_000 and trades[0].size == 4_510_000
    assert [t.trade_id for t in trades] == list(range(2_211_883_901, 2_211_883_913))


def test_binance_needs_a_symbol_when_the_name_gives_none(tmp_path: Path) -> None:
    unnamed = tmp_path / "trades.csv"
    shutil.copy(BINANCE_MS, unnamed)
    with pytest.raises(SourceOptionError, match="--symbol"):
        open_records(unnamed)
    assert {t.symbol for t in _trades(list(open_records(BINANCE_MS)))} == {"BTCUSDT"}


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("1,42283.58,0.1,4228.358,1704067200014\n", "expected 6 or 7"),
        ("1,42283.58,0.1,4228.358,17040672000x4,True,True\n", "must be a non-negative int"),
        ("1,42283.58,0.1,4228.358,1704067200014,maybe,True\n", "is_buyer_maker"),
        ("1,42283.580000001,0.1,4228.358,1704067200014,True,True\n", "price"),
    ],
)
def test_binance_bad_line(tmp_path: Path, line: str, problem: str) -> None:
    path = tmp_path / "x.csv"
    path.write_text("id,price,qty,quote_qty,time,is_buyer_maker,is_best_match\n" + line)
    with pytest.raises(SourceFormatError, match=problem) as error:
        list(open_records(path, symbol="BTCUSDT"))
    assert error.value.line == 2


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [(KIBOT, FileFormat.KIBOT), (BINANCE_MS, FileFormat.BINANCE),
     (BINANCE_US, FileFormat.BINANCE)],
)
def test_detect_by_content(tmp_path: Path, fixture: Path, expected: FileFormat) -> None:
    copy = tmp_path / (fixture.stem + ".dat")
    shutil.copy(fixture, copy)
    assert detect_format(copy) is expected


def test_detect_unknown_content(tmp_path: Path) -> None:
    path = tmp_path / "notes.dat"
    path.write_text("hello\n")
    with pytest.raises(SourceFormatError, match="--format"):
        detect_format(path)


def _simulated(tmp_path: Path, name: str) -> tuple[Path, list[Record], list[Label]]:
    config = SimulationConfig(trades=5_000, start_us=1_704_067_200_000_000,
                              chaos=ChaosRates(0.05, 0.02, 0.02, 0.02, 0.02, 0.02))
    path, records, labels = tmp_path / name, list[Record](), list[Label]()
    with open_writer(path) as writer:
        for batch in simulate(config):
            writer.write(batch)
            records.extend(batch.records())
            labels.extend(truth.label for truth in batch.truths())
    return path, records, labels


def test_project_parquet_round_trip_is_exact(tmp_path: Path) -> None:
    path, records, _ = _simulated(tmp_path, "sim.parquet")
    assert pq.read_schema(path).names == ["key", "value", "timestamp_us"]
    assert list(open_records(path)) == records


def test_project_ndjson_round_trip(tmp_path: Path) -> None:
    path, records, labels = _simulated(tmp_path, "sim.ndjson")
    read = list(open_records(path))
    assert [r.value for r in read] == [r.value for r in records]
    assert [r.key for r in read] == [r.key for r in records]
    for got, sent, label in zip(read, records, labels, strict=True):
        # NDJSON keeps only values: a value without a readable recv_ts/ts (truncated, not
        # an object) takes the previous record's stamp, and an exact duplicate (same bytes)
        # its original's recv_ts; every other record keeps its own stamp exactly
        if probe(got.value)[1] is None or label is Label.DUPLICATE:
            assert got.timestamp_us <= sent.timestamp_us
        else:
            assert got.timestamp_us == sent.timestamp_us


def test_ndjson_stamps_leading_unstamped_lines_with_the_first_stamp(tmp_path: Path) -> None:
    path = tmp_path / "x.ndjson"
    path.write_bytes(b'{"symbol":"AB\n[1]\r\n\n{"symbol":"A","ts":5}\n{"ts":-3}\n')
    assert list(open_records(path)) == [
        Record(b"", b'{"symbol":"AB', 5), Record(b"", b"[1]", 5),
        Record(b"A", b'{"symbol":"A","ts":5}', 5), Record(b"", b'{"ts":-3}', 5)]


def test_ndjson_without_any_stamp_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "x.ndjson"
    path.write_bytes(b"[1]\n")
    with pytest.raises(SourceFormatError, match="recv_ts or ts"):
        list(open_records(path))


def test_typed_trades_parquet(tmp_path: Path) -> None:
    path = tmp_path / "trades.parquet"
    when = datetime(2024, 1, 1, 0, 0, 1, 250, tzinfo=UTC)
    table = pa.table({
        "symbol": ["AAPL", "AAPL"], "trade_id": [1, 2],
        "ts": pa.array([when, when], pa.timestamp("us", tz="UTC")),
        "price": pa.array([Decimal("189.25"), Decimal("189.3")], pa.decimal128(12, 4)),
        "size": [0.1, 100.0], "side": ["buy", None],
    })
    pq.write_table(table, path)
    trades = _trades(list(open_records(path)))
    ts_us = 1_704_067_201_000_250
    assert trades == [Trade("AAPL", 1, ts_us, 18_925_000_000, 10_000_000, None, "buy"),
                      Trade("AAPL", 2, ts_us, 18_930_000_000, 10**10, None, None)]


def test_parquet_with_other_columns_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "other.parquet"
    pq.write_table(pa.table({"a": [1]}), path)
    with pytest.raises(SourceFormatError, match="neither"):
        list(open_records(path))
