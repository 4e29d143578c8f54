"""``--format csv``: any venue's trades CSV through ``--columns`` and ``--ts-unit``."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from candle_core.parsing import TradeParser
from candle_core.trade import Trade
from sources.exceptions import SourceFormatError, SourceOptionError
from sources.formats import FileFormat, open_records
from sources.formats.csv_columns import ColumnMap, parse_columns
from sources.formats.csv_times import TsUnit, to_epoch_us
from sources.formats.read_options import ReadOptions

FIXTURES = Path(__file__).parent.parent / "fixtures"
COINBASE = FIXTURES / "coinbase-BTC-USD-2024-08-09.csv"
KRAKEN = FIXTURES / "kraken-XBTUSD-2024-08-09.csv"
POLYGON = FIXTURES / "polygon-SPY-QQQ-2013-10-01.csv"
PARSER = TradeParser(max_future_skew_us=0)
T0_US = 1_723_161_600_000_000  # 2024-08-09T00:00:00Z


def _options(columns: str, unit: TsUnit, assign_ids: bool = False) -> ReadOptions:
    return ReadOptions(assign_ids, parse_columns(columns), unit)


def _trades(path: Path, symbol: str | None, options: ReadOptions) -> list[Trade]:
    trades = [PARSER.parse(r.value, kafka_ts_us=r.timestamp_us)
              for r in open_records(path, None, symbol, options)]
    assert all(isinstance(t, Trade) for t in trades), trades
    return trades  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("text", "unit", "ts_us"),
    [
        ("1723161600", TsUnit.S, T0_US),
        ("1723161600.1234", TsUnit.S, T0_US + 123_400),  # Kraken: decimal seconds, exactly
        ("1723161600123", TsUnit.MS, T0_US + 123_000),
        ("1723161600123.5", TsUnit.MS, T0_US + 123_500),
        ("1723161600123456", TsUnit.US, T0_US + 123_456),
        ("1723161600123456789", TsUnit.NS, T0_US + 123_456),  # below a µs: floor
        ("2024-08-09T00:00:00.123456Z", TsUnit.ISO, T0_US + 123_456),
        ("2024-08-09T02:00:00.123456+02:00", TsUnit.ISO, T0_US + 123_456),  # same instant
        ("2024-08-09 00:00:00.123456789+00:00", TsUnit.ISO, T0_US + 123_456),  # ns: floor
    ],
)
def test_time_units(text: str, unit: TsUnit, ts_us: int) -> None:
    assert to_epoch_us(text, unit) == ts_us


@pytest.mark.parametrize(
    ("text", "unit", "problem"),
    [
        ("2024-08-09T00:00:00", TsUnit.ISO, "no UTC offset"),  # the zone is never guessed
        ("09/08/2024 00:00", TsUnit.ISO, "not an ISO 8601"),
        ("soon", TsUnit.MS, "not a number of ms"),
        ("1723161600123", TsUnit.S, "is --ts-unit s right"),  # ms read as s: year 56000
        ("NaN", TsUnit.S, "not a finite number"),
    ],
)
def test_bad_times(text: str, unit: TsUnit, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        to_epoch_us(text, unit)


def test_coinbase_style_iso_times_with_offsets_and_ids() -> None:
    trades = _trades(COINBASE, "BTC-USD", _options(
        "trade_id=trade_id,ts=time,price=price,size=size", TsUnit.ISO))
    rows = [line.split(",") for line in COINBASE.read_text().splitlines()[1:]]
    assert len(trades) == len(rows) == 56
    assert [t.trade_id for t in trades] == [int(row[0]) for row in rows]
    assert trades[0] == Trade("BTC-USD", 680_000_000, T0_US + 19_055_000, 6_098_023_000_000,
                              603)  # written as 02:00:19.055+02:00
    assert all(t.side is None and t.venue is None for t in trades)  # side not mapped
    assert [t.ts_us for t in trades] == sorted(t.ts_us for t in trades)


def test_kraken_style_numbered_columns_without_header_or_ids() -> None:
    trades = _trades(KRAKEN, "XBTUSD", _options("ts=1,price=2,size=3", TsUnit.S, True))
    first = KRAKEN.read_text().splitlines()[0].split(",")
    assert len(trades) == 68  # no header: the first line is a trade
    assert trades[0].ts_us == int(Decimal(first[0]) * 10**6)
    assert trades[0].price == 6_095_020_000_000 and trades[0].size == 2_636


def test_polygon_style_nanoseconds_and_a_symbol_column() -> None:
    trades = _trades(POLYGON, None, _options(
        "symbol=ticker,ts=sip_timestamp,price=price,size=size", TsUnit.NS, True))
    rows = [line.split(",") for line in POLYGON.read_text().splitlines()[1:]]
    assert [t.symbol for t in trades] == [row[0] for row in rows]
    assert [t.ts_us for t in trades] == [int(row[1]) // 1_000 for row in rows]


def test_side_column_quotes_and_a_zipped_file(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "fills.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("fills.csv", 'id,when,px,qty,taker,pair\n'
                         '1,1723161600000,"60,000.5",1,BUY,BTC-USD\n'
                         '2,1723161600001,60000.5,2,s,BTC-USD\n3,1723161600002,60000.5,3,,ETH-USD\n')
    options = _options("symbol=pair,trade_id=id,ts=when,price=px,size=qty,side=taker",
                       TsUnit.MS)
    with pytest.raises(SourceFormatError, match=r"price '60,000\.5'") as error:
        list(open_records(path, FileFormat.CSV, None, options))  # a quoted field stays whole
    assert error.value.line == 2 and "fills.zip!fills.csv:2" in str(error.value)
    path2 = tmp_path / "fills.csv"
    path2.write_text('id,when,px,qty,taker,pair\n1,1723161600000,"60000.5",1,BUY,BTC-USD\n'
                     '2,1723161600001,60000.5,2,s,BTC-USD\n3,1723161600002,60000.5,3,,ETH-USD\n')
    trades = _trades(path2, None, options)
    assert [(t.symbol, t.trade_id, t.side) for t in trades] == [
        ("BTC-USD", 1, "buy"), ("BTC-USD", 2, "sell"), ("ETH-USD", 3, None)]


@pytest.mark.parametrize(
    ("row", "field", "problem"),
    [
        ("1,2024-08-09T00:00:00,60000,1,buy", "ts (column 'time')", "no UTC offset"),
        ("1,2024-08-09T00:00:00Z,abc,1,buy", "price 'abc'", "not a decimal"),
        ("1,2024-08-09T00:00:00Z,60000,0.000000001,buy", "size '0.000000001'", "decimal"),
        ("1,2024-08-09T00:00:00Z,60000,1,maybe", "side (column 'side') 'maybe'", "buy/b"),
        (",2024-08-09T00:00:00Z,60000,1,buy", "trade_id (column 'trade_id') ''",
         "missing_field"),
        ("x1,2024-08-09T00:00:00Z,60000,1,buy", "trade_id (column 'trade_id') 'x1'",
         "non-negative"),
        ("1,2024-08-09T00:00:00Z,60000", "size: column 4", "past the row's 3 fields"),
    ],
)
def test_bad_rows_name_the_file_the_line_and_the_field(tmp_path: Path, row: str, field: str,
                                                       problem: str) -> None:
    path = tmp_path / "trades.csv"
    path.write_text(f"trade_id,time,price,size,side\n1,2024-08-09T00:00:00Z,60000,1,buy\n{row}\n")
    options = _options("trade_id=trade_id,ts=time,price=price,size=size,side=side", TsUnit.ISO)
    with pytest.raises(SourceFormatError) as error:
        list(open_records(path, FileFormat.CSV, "BTC-USD", options))
    message = str(error.value)
    assert message.startswith(f"{path}:3: {field}") and problem in message
    assert error.value.line == 3


def test_bad_symbols_in_a_symbol_column(tmp_path: Path) -> None:
    path = tmp_path / "kraken.csv"
    path.write_text("pair,ts,price,size,id\nXBT/USD,1723161600,60000,1,1\n")
    with pytest.raises(SourceFormatError, match=r"symbol \(column 'pair'\) 'XBT/USD'.*--symbol"):
        list(open_records(path, None, None, _options(
            "symbol=pair,ts=ts,price=price,size=size,trade_id=id", TsUnit.S)))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("ts=1,price=2", "missing size"),
        ("ts=1,price=2,size=3,colour=4", "unknown field 'colour'"),
        ("ts=1,price=2,size=3,ts=4", "ts is given twice"),
        ("ts=1,price=2,size", "'size' is not FIELD=COLUMN"),
        ("ts=0,price=2,size=3", "start at 1"),
    ],
)
def test_bad_columns_option(text: str, problem: str) -> None:
    with pytest.raises(SourceOptionError, match=problem) as error:
        parse_columns(text)
    assert error.value.option == "--columns"


def test_columns_by_name_need_the_header(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b,c\n1723161600,1,1\n")
    with pytest.raises(SourceOptionError, match=r"price=px: no such column \(header"):
        list(open_records(path, None, "X", _options("ts=a,price=px,size=c", TsUnit.S, True)))


def test_column_map() -> None:
    columns = parse_columns(" ts = time , price=3,size=4 ")
    assert columns == ColumnMap(ts="time", price="3", size="4")
    assert not columns.by_number and columns.indices(["x", "time"]) == {
        "ts": 1, "price": 2, "size": 3}
