"""Binance files as data.binance.vision publishes them: trades and aggTrades, csv or zip,
with or without a header, in ms or µs, the symbol from the published name."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from candle_core.parsing import TradeParser
from candle_core.trade import Trade
from sources.exceptions import SourceFormatError, SourceOptionError
from sources.formats import FileFormat, detect_format, open_records
from sources.formats.binance_names import BinanceName, parse_binance_name
from sources.records import Record

FIXTURES = Path(__file__).parent.parent / "fixtures"
AGG_ZIP = FIXTURES / "BTCUSDT-aggTrades-2024-08-09.zip"
TRADES_ZIP = FIXTURES / "ETHUSDT-trades-2024-08.zip"
AGG_US_HEADER = FIXTURES / "XRPETH-aggTrades-2025-01-02.csv"
PARSER = TradeParser(max_future_skew_us=0)
AGG_HEADER = ("agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,"
              "is_buyer_maker,is_best_match")


def _trades(records: list[Record]) -> list[Trade]:
    trades = [PARSER.parse(r.value, kafka_ts_us=r.timestamp_us) for r in records]
    assert all(isinstance(t, Trade) for t in trades), trades
    return trades  # type: ignore[return-value]


def _inner(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return archive.read(archive.namelist()[0]).decode().splitlines()


@pytest.mark.parametrize(
    ("name", "parsed"),
    [
        ("BTCUSDT-aggTrades-2024-08-09.zip", BinanceName("BTCUSDT", "aggTrades", "2024-08-09")),
        ("ETHUSDT-trades-2024-08.zip", BinanceName("ETHUSDT", "trades", "2024-08")),  # month
        ("BTCUSDT-1m-2024-08-09.csv", BinanceName("BTCUSDT", "1m", "2024-08-09")),  # klines
        ("btcusdt-trades-2024-08.zip", None),  # not the published (upper-case) name
        ("BTCUSDT-trades.zip", None),  # no period
        ("trades.csv", None),
    ],
)
def test_published_names(name: str, parsed: BinanceName | None) -> None:
    assert parse_binance_name(Path(name)) == parsed


def test_agg_trades_zip_is_read_from_the_zip_with_the_aggregate_ids() -> None:
    lines = _inner(AGG_ZIP)
    trades = _trades(list(open_records(AGG_ZIP)))
    assert len(trades) == len(lines) == 226 and {t.symbol for t in trades} == {"BTCUSDT"}
    first = lines[0].split(",")  # agg_trade_id,price,quantity,first,last,time,maker,best
    assert trades[0] == Trade("BTCUSDT", int(first[0]), int(first[5]) * 1_000,
                              6_099_001_000_000, 3_727_000, "binance", "buy")
    assert [t.trade_id for t in trades] == [int(line.split(",")[0]) for line in lines]
    assert [t.side for t in trades] == ["sell" if line.split(",")[6] == "True" else "buy"
                                        for line in lines]


def test_trades_zip_with_a_monthly_name() -> None:
    trades = _trades(list(open_records(TRADES_ZIP)))
    assert len(trades) == 280 and {t.symbol for t in trades} == {"ETHUSDT"}
    assert trades[0] == Trade("ETHUSDT", 1_520_000_000, 1_723_161_608_279_000, 262_138_000_000,
                              8_580_000, "binance", "sell")


def test_agg_trades_in_microseconds_with_a_header() -> None:
    trades = _trades(list(open_records(AGG_US_HEADER)))
    assert len(trades) == 17  # the header is not a trade
    assert trades[0].ts_us == 1_735_776_009_079_369  # µs kept as they are
    assert trades[0].price == 21_631 and trades[0].size == 3_972 * 10**8


def test_zip_csv_header_and_time_unit_variants_give_the_same_trades(tmp_path: Path) -> None:
    expected = _trades(list(open_records(AGG_ZIP)))
    lines = _inner(AGG_ZIP)
    plain = tmp_path / "BTCUSDT-aggTrades-2024-08-09.csv"
    plain.write_text("\n".join(lines) + "\n")
    headed = tmp_path / "headed.csv"
    headed.write_text(AGG_HEADER + "\r\n" + "\r\n".join(lines) + "\r\n")  # CRLF too
    micro = tmp_path / "micro.csv"
    micro.write_text("".join(_times_in_us(line, 5) + "\n" for line in lines))
    assert _trades(list(open_records(plain))) == expected
    for variant in (headed, micro):
        assert _trades(list(open_records(variant, symbol="BTCUSDT"))) == expected


def _times_in_us(line: str, column: int) -> str:
    fields = line.split(",")
    fields[column] += "000"
    return ",".join(fields)


@pytest.mark.parametrize(
    ("name", "text", "ids"),
    [
        # USD-M futures aggTrades: 7 columns (no is_best_match), told apart by the header
        ("futures.csv", "agg_trade_id,price,quantity,first_trade_id,last_trade_id,"
         "transact_time,is_buyer_maker\n5,2.5,1,10,12,1723161600000,true\n", [5]),
        # ... or, without a header, by the kind the published name states
        ("BTCUSDT-aggTrades-2021-01-01.csv", "5,2.5,1,10,12,1723161600000,true\n", [5]),
        # 7 columns, no header, no name: spot trades
        ("spot.csv", "7,2.5,1,2.5,1723161600000,true,true\n", [7]),
        # USD-M futures trades: 6 columns with a header
        ("fut-trades.csv", "id,price,qty,quote_qty,time,is_buyer_maker\n"
         "8,2.5,1,2.5,1723161600000,false\n", [8]),
    ],
)
def test_layout_by_header_name_and_count(tmp_path: Path, name: str, text: str,
                                         ids: list[int]) -> None:
    path = tmp_path / name
    path.write_text(text)
    trades = _trades(list(open_records(path, FileFormat.BINANCE, symbol="BTCUSDT")))
    assert [t.trade_id for t in trades] == ids
    assert trades[0].ts_us == 1_723_161_600_000_000 and trades[0].price == 250_000_000


def test_symbol_flag_wins_over_the_name() -> None:
    assert {t.symbol for t in _trades(list(open_records(AGG_ZIP, symbol="BTCFDUSD")))} == {
        "BTCFDUSD"}


@pytest.mark.parametrize(
    ("name", "text", "line", "problem"),
    [
        # an 8-column row in a file named trades
        ("ETHUSDT-trades-2024-08.csv", "1,2.5,1,2.5,1723161600000,true,true\n"
         "2,2.5,1,10,12,1723161600000,true,true\n", 2, "expected 6 or 7"),
        # a trades row read as aggTrades: quote_qty is no trade id
        ("BTCUSDT-aggTrades-2024-08-09.csv", "1,2.5,1,2.5,1723161600000,true,true\n", 1,
         "first_trade_id '2.5' must be a non-negative integer"),
        ("BTCUSDT-aggTrades-2024-08-09.csv", "1,2.5,1,2,2,1723161600000,yes,true\n", 1,
         "is_buyer_maker 'yes'"),
        ("BTCUSDT-aggTrades-2024-08-09.csv", "1,-2.5,1,2,2,1723161600000,true,true\n", 1,
         "price '-2.5'"),
        # a klines file passed to replay
        ("BTCUSDT-1m-2024-08-09.csv", "1723161600000,1,1,1,1,1,1723161659999,1,1,1,1,0\n", 1,
         "klines check"),
    ],
)
def test_bad_rows_name_the_file_and_line(tmp_path: Path, name: str, text: str, line: int,
                                         problem: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(SourceFormatError, match=problem) as error:
        list(open_records(path, FileFormat.BINANCE, symbol="BTCUSDT"))
    assert error.value.line == line and str(path) in str(error.value)


def test_a_bad_row_inside_a_zip_names_the_zip_and_its_file(tmp_path: Path) -> None:
    path = tmp_path / "BTCUSDT-aggTrades-2024-08-09.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("BTCUSDT-aggTrades-2024-08-09.csv",
                         "1,2.5,1,2,2,1723161600000,true,true\n2,2.5,x,3,3,1723161600000,"
                         "true,true\n")
    with pytest.raises(SourceFormatError, match="size 'x'") as error:
        list(open_records(path))
    assert str(error.value).startswith(f"{path}!BTCUSDT-aggTrades-2024-08-09.csv:2: ")


def test_a_zip_must_hold_one_file(tmp_path: Path) -> None:
    path = tmp_path / "BTCUSDT-aggTrades-2024-08-09.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.csv", "1\n")
        archive.writestr("b.csv", "2\n")
    with pytest.raises(SourceFormatError, match=r"exactly one file; this one holds a\.csv, b\.csv"):
        list(open_records(path))
    broken = tmp_path / "ETHUSDT-trades-2024-08.zip"
    broken.write_text("not a zip")
    with pytest.raises(SourceFormatError, match="cannot read"):
        list(open_records(broken))


@pytest.mark.parametrize("fixture", [AGG_ZIP, TRADES_ZIP, AGG_US_HEADER])
def test_detected_as_binance(tmp_path: Path, fixture: Path) -> None:
    assert detect_format(fixture) is FileFormat.BINANCE


def test_a_klines_name_gives_no_trades_symbol(tmp_path: Path) -> None:
    path = tmp_path / "BTCUSDT-1m-2024-08-09.csv"
    path.write_text("1,2.5,1,2.5,1723161600000,true,true\n")
    with pytest.raises(SourceOptionError, match="--symbol"):
        open_records(path, FileFormat.BINANCE)
