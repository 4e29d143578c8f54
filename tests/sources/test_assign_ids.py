"""``--assign-ids``: ids from the file's position, stable, in file order; without the flag
a missing id stays ``missing_field``."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from candle_core.parsing import TradeParser
from candle_core.reference import candles_from_trades
from candle_core.trade import Rejection, Trade
from sources.exceptions import SourceFormatError, SourceOptionError
from sources.formats import FileFormat, open_records
from sources.formats.csv_columns import parse_columns
from sources.formats.csv_times import TsUnit
from sources.formats.read_options import ReadOptions
from sources.trade_ids import LINE_SPAN, assigned_id, with_assigned_id

FIXTURES = Path(__file__).parent.parent / "fixtures"
SPY = FIXTURES / "SPY-2013-10-01-noids.ndjson"
POLYGON = FIXTURES / "polygon-SPY-QQQ-2013-10-01.csv"
ASSIGN = ReadOptions(assign_ids=True)
PARSER = TradeParser(max_future_skew_us=0)
OCT_01_2013_US = 1_380_585_600_000_000
HERE = Path("x.ndjson")


def _trades(records: list) -> list[Trade]:  # type: ignore[type-arg]
    trades = [PARSER.parse(r.value, kafka_ts_us=r.timestamp_us) for r in records]
    assert all(isinstance(t, Trade) for t in trades), trades
    return trades


@pytest.mark.parametrize(
    ("ts_us", "line", "expected"),
    [
        (OCT_01_2013_US, 42, 201_310_010_000_000_042),  # the documented example
        (OCT_01_2013_US - 1, 1, 201_309_300_000_000_001),  # a µs earlier: the day before
        (None, 7, 7),  # unreadable time: date 0
        (-5, 7, 7),  # negative time: date 0 (rejected downstream as bad_timestamp)
        (4_102_444_799_999_999, LINE_SPAN - 1, 20_991_231 * LINE_SPAN + LINE_SPAN - 1),
    ],
)
def test_the_id_rule(ts_us: int | None, line: int, expected: int) -> None:
    assert assigned_id(ts_us, line, HERE) == expected
    assert expected < 2**63


def test_more_lines_than_the_rule_holds_is_an_error() -> None:
    with pytest.raises(SourceFormatError, match="split the file"):
        assigned_id(OCT_01_2013_US, LINE_SPAN, HERE)


def test_ndjson_ids_keep_every_other_byte_and_the_file_order() -> None:
    plain = list(open_records(SPY))
    numbered = list(open_records(SPY, options=ASSIGN))
    assert numbered == list(open_records(SPY, options=ASSIGN))  # stable: same every run
    lines = SPY.read_text().splitlines()
    for number, (before, after) in enumerate(zip(plain, numbered, strict=True), 1):
        assert after.key == before.key and after.timestamp_us == before.timestamp_us
        trade_id = 20131001 * LINE_SPAN + number
        assert after.value == before.value[:-1] + f',"trade_id":{trade_id}}}'.encode()
        assert before.value == lines[number - 1].encode()
    trades = _trades(numbered)
    ties = [(a, b) for a, b in itertools.pairwise(trades) if a.ts_us == b.ts_us]
    assert ties and all(a.trade_id < b.trade_id for a, b in ties)  # equal ts: file order


def test_open_and_close_ties_follow_the_file_order() -> None:
    trades = _trades(list(open_records(SPY, options=ASSIGN)))
    decided_by_ties = 0
    for candle in candles_from_trades(trades, ["1s"]):
        inside = [t for t in trades if candle.window_start_us <= t.ts_us < candle.window_end_us]
        assert candle.open == inside[0].price and candle.close == inside[-1].price
        tied_prices = {t.price for t in inside if t.ts_us == inside[-1].ts_us}
        decided_by_ties += len(tied_prices) > 1  # the close is a tie broken by the id
    assert decided_by_ties > 0


def test_without_the_flag_a_missing_id_is_missing_field() -> None:
    verdicts = [PARSER.parse(r.value, kafka_ts_us=r.timestamp_us) for r in open_records(SPY)]
    assert {v.reason for v in verdicts if isinstance(v, Rejection)} == {"missing_field"}
    assert len(verdicts) == 42 and all(isinstance(v, Rejection) for v in verdicts)


def test_ndjson_records_that_cannot_take_an_id(tmp_path: Path) -> None:
    path = tmp_path / "x.ndjson"
    path.write_bytes(b'{"symbol":"A","ts":5,"price":"1","size":"1","trade_id":null}\n'
                     b'not json\n[1]\n{"symbol":"A","ts":"soon","price":"1","size":"1"}\n')
    values = [r.value for r in open_records(path, options=ASSIGN)]
    assert values == [b'{"symbol":"A","ts":5,"price":"1","size":"1","trade_id":19700101'
                      b'0000000001}', b"not json", b"[1]",
                      b'{"symbol":"A","ts":"soon","price":"1","size":"1","trade_id":4}']
    verdict = PARSER.parse(values[3], kafka_ts_us=5)
    assert isinstance(verdict, Rejection) and verdict.reason == "bad_type"  # its real fault


def test_every_byte_is_kept_and_repeated_keys_stay_repeated() -> None:
    spaced = b'{"type":"trade", "symbol":"A","price":1.10, "size":"1","ts":5 }  '
    assert with_assigned_id(spaced, 3, HERE) == (
        b'{"type":"trade", "symbol":"A","price":1.10, "size":"1","ts":5 ,"trade_id":'
        b'197001010000000003}  ')
    assert with_assigned_id(b"{}", 2, HERE) == b'{"trade_id":2}'  # no time: date 0
    twice = b'{"symbol":"A","ts":5,"price":"1","price":"2","size":"1"}'
    assert with_assigned_id(twice, 1, HERE) == twice[:-1] + b',"trade_id":197001010000000001}'
    null_twice = b'{"symbol":"A","ts":5,"price":"1","price":"2","size":"1","trade_id":null}'
    assert with_assigned_id(null_twice, 1, HERE) == null_twice  # left for the validator


def test_a_record_with_an_id_refuses_the_flag(tmp_path: Path) -> None:
    path = tmp_path / "x.ndjson"
    path.write_bytes(b'{"symbol":"A","ts":5,"price":"1","size":"1"}\n'
                     b'{"symbol":"A","ts":5,"price":"1","size":"1","trade_id":9}\n')
    with pytest.raises(SourceFormatError, match="has a trade_id already") as error:
        list(open_records(path, options=ASSIGN))
    assert error.value.line == 2
    with pytest.raises(SourceFormatError, match="has a trade_id already"):
        with_assigned_id(b'{"trade_id":0}', 1, HERE)


def _spy_table() -> pa.Table:
    rows = [json.loads(line) for line in SPY.read_text().splitlines()]
    return pa.table({"symbol": [r["symbol"] for r in rows], "ts": [r["ts"] for r in rows],
                     "price": [r["price"] for r in rows], "size": [r["size"] for r in rows],
                     "venue": [r["venue"] for r in rows]})


def test_parquet_trades_without_an_id_column(tmp_path: Path) -> None:
    path = tmp_path / "spy.parquet"
    pq.write_table(_spy_table(), path)
    from_parquet = _trades(list(open_records(path, options=ASSIGN)))
    assert from_parquet == _trades(list(open_records(SPY, options=ASSIGN)))  # row = line
    with pytest.raises(SourceFormatError, match="no trade_id column: pass --assign-ids"):
        list(open_records(path))


def test_parquet_null_ids_and_set_ids(tmp_path: Path) -> None:
    path = tmp_path / "spy.parquet"
    table = _spy_table()
    ids = pa.array([None] * (table.num_rows - 1) + [5], pa.int64())
    pq.write_table(table.append_column("trade_id", ids), path)
    with pytest.raises(SourceFormatError, match="missing_field") as error:
        list(open_records(path))
    assert error.value.line == 1
    with pytest.raises(SourceFormatError, match="trade_id 5 is set") as error:
        list(open_records(path, options=ASSIGN))
    assert error.value.line == table.num_rows


def test_parquet_messages_get_ids_in_their_values(tmp_path: Path) -> None:
    path = tmp_path / "messages.parquet"
    records = list(open_records(SPY))
    pq.write_table(pa.table({"key": [r.key.decode() for r in records],
                             "value": [r.value for r in records],
                             "timestamp_us": [r.timestamp_us for r in records]}), path)
    assert list(open_records(path, options=ASSIGN)) == list(open_records(SPY, options=ASSIGN))


def test_csv_ids_by_line_with_many_symbols() -> None:
    options = ReadOptions(True, parse_columns("symbol=ticker,ts=sip_timestamp,price=price,"
                                              "size=size"), TsUnit.NS)
    trades = _trades(list(open_records(POLYGON, options=options)))
    assert [t.trade_id % LINE_SPAN for t in trades] == list(range(2, 72))  # line 1: header
    assert {t.trade_id // LINE_SPAN for t in trades} == {20131001}
    assert {t.symbol for t in trades} == {"SPY", "QQQ"}


@pytest.mark.parametrize("file_format", [FileFormat.BINANCE, FileFormat.KIBOT])
def test_formats_with_ids_refuse_the_flag(file_format: FileFormat) -> None:
    with pytest.raises(SourceOptionError, match="--assign-ids"):
        open_records(SPY, file_format, "SPY", ASSIGN)
