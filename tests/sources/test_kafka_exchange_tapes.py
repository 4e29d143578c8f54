"""Every exchange-tape input kind through ``candles replay`` into a real Kafka broker.

Each case replays a fixture with the real command, reads the topic back and checks it
message by message against what the reader yields: the same bytes, key = symbol, Kafka
timestamp = event time, and the contract's verdicts. Tapes numbered with --assign-ids are
replayed twice: the second pass repeats the first byte for byte, so the contract's dedup
keeps one copy of each trade (the replay is idempotent).
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from candle_core.dedup import dedup
from candle_core.trade import Rejection, Trade
from sources.formats import open_records
from sources.formats.csv_columns import parse_columns
from sources.formats.csv_times import TsUnit
from sources.formats.read_options import ReadOptions
from sources.records import kafka_timestamp_ms
from tests.kafka_fixture import TopicFactory
from tests.sources.test_kafka_sources import PARSER, _kafka_us, _replay, _value, consume_all

pytestmark = pytest.mark.kafka

FIXTURES = Path(__file__).parent.parent / "fixtures"
SPY = FIXTURES / "SPY-2013-10-01-noids.ndjson"
POLYGON_COLUMNS = "symbol=ticker,ts=sip_timestamp,price=price,size=size"
COINBASE_COLUMNS = "trade_id=trade_id,ts=time,price=price,size=size"
ASSIGN = ReadOptions(assign_ids=True)

# (fixture, replay flags, the same as read options, symbol, trades in the file)
CASES = {
    "binance aggTrades zip, ms, no header": (
        "BTCUSDT-aggTrades-2024-08-09.zip", [], ReadOptions(), None, 226),
    "binance trades zip, monthly name": (
        "ETHUSDT-trades-2024-08.zip", [], ReadOptions(), None, 280),
    "binance aggTrades csv, µs, header": (
        "XRPETH-aggTrades-2025-01-02.csv", [], ReadOptions(), None, 17),
    "binance trades csv, µs, header": (
        "ETHUSDT-trades-2025-03-01.csv", [], ReadOptions(), None, 12),
    "ndjson without ids, --assign-ids": (
        "SPY-2013-10-01-noids.ndjson", ["--assign-ids"], ASSIGN, None, 42),
    "csv, ns, symbol column, --assign-ids": (
        "polygon-SPY-QQQ-2013-10-01.csv",
        ["--columns", POLYGON_COLUMNS, "--ts-unit", "ns", "--assign-ids"],
        ReadOptions(True, parse_columns(POLYGON_COLUMNS), TsUnit.NS), None, 70),
    "csv, numbered columns, no header, s, --assign-ids": (
        "kraken-XBTUSD-2024-08-09.csv",
        ["--format", "csv", "--columns", "ts=1,price=2,size=3", "--ts-unit", "s",
         "--symbol", "XBTUSD", "--assign-ids"],
        ReadOptions(True, parse_columns("ts=1,price=2,size=3"), TsUnit.S), "XBTUSD", 68),
    "csv, iso with offsets, ids": (
        "coinbase-BTC-USD-2024-08-09.csv",
        ["--columns", COINBASE_COLUMNS, "--ts-unit", "iso", "--symbol", "BTC-USD"],
        ReadOptions(False, parse_columns(COINBASE_COLUMNS), TsUnit.ISO), "BTC-USD", 56),
}


@pytest.mark.parametrize("case", list(CASES))
def test_replay_each_input_kind(kafka_bootstrap: str, kafka_topic_factory: TopicFactory,
                                case: str) -> None:
    fixture, flags, options, symbol, count = CASES[case]
    path = FIXTURES / fixture
    topic = kafka_topic_factory(partitions=1)
    passes = 2 if options.assign_ids else 1
    for _ in range(passes):
        _replay(kafka_bootstrap, topic, str(path), *flags)
    expected = list(open_records(path, None, symbol, options))
    assert len(expected) == count
    messages = consume_all(kafka_bootstrap, topic, passes * count)
    assert [_value(m) for m in messages] == [r.value for r in expected] * passes
    assert [m.key() for m in messages] == [r.key for r in expected] * passes
    assert [m.timestamp()[1] for m in messages] == [
        kafka_timestamp_ms(r.timestamp_us) for r in expected] * passes
    trades = [PARSER.parse(_value(m), kafka_ts_us=_kafka_us(m)) for m in messages]
    assert all(isinstance(t, Trade) for t in trades), trades
    kept, duplicates, conflicts = dedup(trades)  # type: ignore[arg-type]
    assert (len(kept), len(duplicates), len(conflicts)) == (count, (passes - 1) * count, 0)


def test_replay_parquet_without_ids(kafka_bootstrap: str, kafka_topic_factory: TopicFactory,
                                    tmp_path: Path) -> None:
    rows = [json.loads(line) for line in SPY.read_text().splitlines()]
    path = tmp_path / "spy.parquet"
    pq.write_table(pa.table({name: [row[name] for row in rows]
                             for name in ("symbol", "ts", "price", "size", "venue")}), path)
    topic = kafka_topic_factory(partitions=1)
    _replay(kafka_bootstrap, topic, str(path), "--assign-ids")
    messages = consume_all(kafka_bootstrap, topic, len(rows))
    trades = [PARSER.parse(_value(m), kafka_ts_us=_kafka_us(m)) for m in messages]
    from_ndjson = [PARSER.parse(r.value) for r in open_records(SPY, options=ASSIGN)]
    assert trades == from_ndjson  # row n of the table = line n of the tape: the same ids


def test_replay_without_ids_sends_missing_field(kafka_bootstrap: str,
                                                kafka_topic_factory: TopicFactory) -> None:
    topic = kafka_topic_factory(partitions=1)
    _replay(kafka_bootstrap, topic, str(SPY))
    messages = consume_all(kafka_bootstrap, topic, 42)
    assert [_value(m) for m in messages] == [line.encode()
                                             for line in SPY.read_text().splitlines()]
    verdicts = [PARSER.parse(_value(m), kafka_ts_us=_kafka_us(m)) for m in messages]
    assert all(isinstance(v, Rejection) and v.reason == "missing_field" for v in verdicts)
