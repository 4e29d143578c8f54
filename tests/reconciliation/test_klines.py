"""``candles klines check`` without a broker: the klines reader, the comparison, the
check against batch candles in a local master dataset, and the command's output."""

from __future__ import annotations

import zipfile
from collections import defaultdict
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from candle_core.candle import Candle
from candle_core.codec import candles_to_table
from candle_core.fixed_point import to_fixed
from candle_core.parsing import TradeParser
from candle_core.reference import candles_from_trades
from candle_core.trade import Trade
from lambda_candles.commands.klines import klines
from lambda_candles.settings import load_settings
from reconciliation.klines.check import check_klines
from reconciliation.klines.compare import FieldDifference, compare_klines
from reconciliation.klines.exceptions import BatchCandlesMissingError, KlinesFileError
from reconciliation.klines.kline_file import read_klines
from reconciliation.klines.render import render_check
from sources.formats import open_records
from storage.stores import open_store

FIXTURES = Path(__file__).parent.parent / "fixtures"
AGG_ZIP = FIXTURES / "BTCUSDT-aggTrades-2024-08-09.zip"
BTC_KLINES = FIXTURES / "BTCUSDT-1m-2024-08-09.zip"
ETH_TRADES = FIXTURES / "ETHUSDT-trades-2024-08.zip"
ETH_KLINES = FIXTURES / "ETHUSDT-1m-2024-08.zip"
PARSER = TradeParser(max_future_skew_us=0)
MINUTE_US = 60_000_000
T0_US = 1_723_161_600_000_000
DATE = "2024-08-09"


def _rows(path: Path) -> list[list[str]]:
    with zipfile.ZipFile(path) as archive:
        text = archive.read(archive.namelist()[0]).decode()
    return [line.split(",") for line in text.splitlines()]


def _trades(path: Path) -> list[Trade]:
    trades = [PARSER.parse(r.value) for r in open_records(path)]
    assert all(isinstance(t, Trade) for t in trades)
    return trades  # type: ignore[return-value]


def _candles(path: Path) -> dict[int, Candle]:
    return {c.window_start_us: c for c in candles_from_trades(_trades(path), ["1m"])}


def _write(path: Path, rows: list[list[str]], header: bool = False) -> Path:
    lines = [",".join(row) for row in rows]
    if header:
        lines.insert(0, "open_time,open,high,low,close,volume,close_time,quote_volume,count,"
                     "taker_buy_volume,taker_buy_quote_volume,ignore")
    path.write_text("\n".join(lines) + "\n")
    return path


# ---- the fixtures are built the way Binance builds klines ------------------------------
def test_the_kline_fixture_is_the_exchange_s_fold_of_the_agg_trades() -> None:
    """Independent of our candle code: bucket the aggregates by minute of their time (ms),
    open/close by aggregate id, volume summed, count = the trades each aggregate covers;
    a minute without trades repeats the previous close with zero volume."""
    buckets: dict[int, list[list[str]]] = defaultdict(list)
    for row in _rows(AGG_ZIP):
        buckets[int(row[5]) // 60_000 * 60_000].append(row)
    klines = _rows(BTC_KLINES)
    assert len(klines) == 30
    close = None
    for kline in klines:
        bucket = sorted(buckets.get(int(kline[0]), []), key=lambda row: int(row[0]))
        if not bucket:
            assert kline[1:5] == [close] * 4 and Decimal(kline[5]) == 0 and kline[8] == "0"
            continue
        prices = [Decimal(row[1]) for row in bucket]
        assert [Decimal(v) for v in kline[1:6]] == [
            prices[0], max(prices), min(prices), prices[-1],
            sum(Decimal(row[2]) for row in bucket)]
        assert int(kline[8]) == sum(int(row[4]) - int(row[3]) + 1 for row in bucket)
        assert int(kline[6]) == int(kline[0]) + 59_999
        close = kline[4]
    assert sum(1 for kline in klines if kline[8] == "0") == 2  # two minutes without trades


# ---- reading klines --------------------------------------------------------------------
def test_read_the_published_zip() -> None:
    file = read_klines(BTC_KLINES)
    assert (file.symbol, file.interval_us, len(file.klines)) == ("BTCUSDT", MINUTE_US, 30)
    first = _rows(BTC_KLINES)[0]
    assert file.klines[0].open_time_us == T0_US and file.klines[0].line == 1
    assert file.klines[0].close == to_fixed(Decimal(first[4]), 8)
    assert file.klines[0].trade_count == int(first[8])
    assert file.path == BTC_KLINES


def test_csv_header_and_microseconds_read_the_same(tmp_path: Path) -> None:
    expected = read_klines(BTC_KLINES).klines
    rows = _rows(BTC_KLINES)
    micro = [[str(int(r[0]) * 1000), *r[1:6], str(int(r[6]) * 1000 + 999), *r[7:]] for r in rows]
    for path in (_write(tmp_path / "BTCUSDT-1m-2024-08-09.csv", rows, header=True),
                 _write(tmp_path / "micro.csv", micro)):
        got = read_klines(path, "BTCUSDT", "1m").klines
        assert [k[:-1] for k in got] == [k[:-1] for k in expected]  # all but the line


@pytest.mark.parametrize(
    ("edit", "line", "problem"),
    [
        (lambda r: r[:11], 1, "expected Binance's 12 kline columns"),
        (lambda r: [r[0], *r[1:6], str(int(r[0]) + 3_599_999), *r[7:]], 1,
         "a 1h window, not 1m: pass --interval 1h"),
        (lambda r: [str(int(r[0]) + 1000), *r[1:6], str(int(r[6]) + 1000), *r[7:]], 1,
         "not on a 1m boundary"),
        (lambda r: [*r[:4], "-1", *r[5:]], 1, "close '-1'"),
        (lambda r: [*r[:8], "many", *r[9:]], 1, "count 'many'"),
    ],
)
def test_bad_klines_name_the_line(tmp_path: Path, edit: object, line: int,
                                  problem: str) -> None:
    rows = _rows(BTC_KLINES)[:3]
    rows[0] = edit(rows[0])  # type: ignore[operator]
    path = _write(tmp_path / "BTCUSDT-1m-2024-08-09.csv", rows)
    with pytest.raises(KlinesFileError, match=problem) as error:
        read_klines(path)
    assert error.value.line == line and str(path) in str(error.value)


def test_whole_file_problems(tmp_path: Path) -> None:
    rows = _rows(BTC_KLINES)
    with pytest.raises(KlinesFileError, match="second kline for the window of line 1"):
        read_klines(_write(tmp_path / "BTCUSDT-1m-2024-08-09.csv", [rows[0], rows[0]]))
    with pytest.raises(KlinesFileError, match="pass --symbol"):
        read_klines(_write(tmp_path / "klines.csv", rows))
    with pytest.raises(KlinesFileError, match="name says 1m klines, --interval says 5m"):
        read_klines(BTC_KLINES, interval="5m")
    with pytest.raises(KlinesFileError, match="holds no klines"):
        read_klines(_write(tmp_path / "BTCUSDT-1m-2024-08-10.csv", []))


# ---- comparing -------------------------------------------------------------------------
def test_candles_from_the_trades_equal_the_exchange_s_klines() -> None:
    result = compare_klines(read_klines(ETH_KLINES).klines, _candles(ETH_TRADES))
    assert result.ok and (result.matched, result.empty) == (14, 1)


def test_candles_from_agg_trades_match_on_prices_and_volume_not_counts() -> None:
    klines = read_klines(BTC_KLINES).klines
    candles = _candles(AGG_ZIP)
    without = compare_klines(klines, candles, compare_count=False)
    assert without.ok and (without.matched, without.empty) == (28, 2)
    assert without.compared_fields == ("open", "high", "low", "close", "volume")
    counted = compare_klines(klines, candles)
    assert len(counted.differing) > 0 and not counted.ok
    assert all([d.field for d in w.fields] == ["trade_count"] and d.ours < d.theirs
               for w in counted.differing for d in w.fields)


def test_a_changed_close_is_caught_field_by_field() -> None:
    klines = read_klines(ETH_KLINES).klines
    changed = [k._replace(close=k.close + 1) if n == 4 else k for n, k in enumerate(klines)]
    result = compare_klines(changed, _candles(ETH_TRADES))
    assert result.matched == 13 and len(result.differing) == 1
    window = result.differing[0]
    assert (window.window_start_us, window.line) == (T0_US + 4 * MINUTE_US, 5)
    assert window.fields == (FieldDifference("close", klines[4].close, klines[4].close + 1),)


def test_missing_on_either_side_and_zero_volume_with_a_candle() -> None:
    klines = read_klines(ETH_KLINES).klines
    candles = _candles(ETH_TRADES)
    empty_start = next(k.open_time_us for k in klines if k.volume == 0)
    extra = candles[T0_US]
    candles[empty_start] = _moved(extra, empty_start)
    del candles[T0_US + 2 * MINUTE_US]
    candles[T0_US + 60 * MINUTE_US] = _moved(extra, T0_US + 60 * MINUTE_US)  # past the span
    result = compare_klines(klines[:5] + klines[6:], candles)  # no kline for minute 5
    assert [k.open_time_us for k in result.missing_ours] == [T0_US + 2 * MINUTE_US]
    assert [c.window_start_us for c in result.missing_theirs] == [klines[5].open_time_us]
    assert [w.window_start_us for w in result.differing] == [empty_start]  # we traded, they not
    assert {d.field for d in result.differing[0].fields} >= {"volume", "trade_count"}
    assert result.empty == 0


def _moved(candle: Candle, start_us: int) -> Candle:
    return replace(candle, window_start_us=start_us, window_end_us=start_us + MINUTE_US)


# ---- against a master dataset ----------------------------------------------------------
def _lake(root: Path, *trade_files: Path, interval: str = "1m") -> None:
    for path in trade_files:
        candles = candles_from_trades(_trades(path), [interval])
        symbol = candles[0].symbol
        target = root / f"candles/source=batch/interval={interval}/date={DATE}/{symbol}.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(candles_to_table(candles), target)


def _check(root: Path, path: Path, count: bool = True) -> list[str]:
    settings = load_settings(archive_root=str(root))
    result = check_klines(open_store(settings), settings, path, None, None, count)
    return render_check(result)


def test_check_against_batch_candles(tmp_path: Path) -> None:
    _lake(tmp_path, ETH_TRADES, AGG_ZIP)
    lines = _check(tmp_path, ETH_KLINES)
    assert lines[-1] == "OK: every kline with trades equals our candle"
    assert "  matched                       14" in lines
    assert any(line.startswith("  zero volume, no candle         1") for line in lines)
    agg = _check(tmp_path, BTC_KLINES)
    assert agg[-1].startswith("FAIL: ") and any("--no-trade-count" in line for line in agg)
    assert _check(tmp_path, BTC_KLINES, count=False)[-1].startswith("OK")


def test_no_batch_run_is_an_error_that_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(BatchCandlesMissingError, match=f"candles batch --date {DATE}"):
        _check(tmp_path, ETH_KLINES)
    _lake(tmp_path, ETH_TRADES)  # the batch ran, but holds no BTCUSDT: every kline missing
    lines = _check(tmp_path, BTC_KLINES)
    assert any(line.startswith("  missing ours                  28") for line in lines)


def test_an_interval_the_batch_does_not_compute(tmp_path: Path) -> None:
    rows = [[str(T0_US // 1000), "1", "1", "1", "1", "1", str(T0_US // 1000 + 179_999), "1",
             "1", "1", "1", "0"]]
    path = _write(tmp_path / "BTCUSDT-3m-2024-08-09.csv", rows)
    with pytest.raises(KlinesFileError, match="3m is not one of the batch intervals"):
        _check(tmp_path, path)


def test_the_command_exit_codes_and_output(tmp_path: Path) -> None:
    _lake(tmp_path, ETH_TRADES)
    runner = CliRunner()
    ok = runner.invoke(klines, ["check", str(ETH_KLINES), "--root", str(tmp_path)])
    assert ok.exit_code == 0, ok.output
    assert "OK: every kline with trades equals our candle" in ok.output
    rows = _rows(ETH_KLINES)
    rows[4][4] = str(Decimal(rows[4][4]) + Decimal("0.01"))
    changed = _write(tmp_path / "ETHUSDT-1m-2024-08.csv", rows)
    bad = runner.invoke(klines, ["check", str(changed), "--root", str(tmp_path)])
    assert bad.exit_code == 1, bad.output
    assert "line 5      2024-08-09T00:04:00Z  close" in bad.output
    assert "FAIL: 1 window(s) differ" in bad.output
