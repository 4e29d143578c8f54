"""Candle JSON and Arrow round trips are exact, including at the declared bounds."""

from __future__ import annotations

import pyarrow.parquet as pq
from hypothesis import given, settings

from candle_core.candle import Candle
from candle_core.codec import (
    CANDLE_SCHEMA,
    candles_from_table,
    candles_to_table,
    decode_candle,
    encode_candle,
    trades_from_table,
    trades_to_table,
)
from candle_core.reference import candles_from_trades
from candle_core.trade import Trade
from tests.candle_core.strategies import trade_lists


@given(trade_lists(max_size=20))
def test_json_round_trip(trades: list[Trade]) -> None:
    for candle in candles_from_trades(trades):
        assert decode_candle(encode_candle(candle)) == candle


@settings(max_examples=25, deadline=None)
@given(trade_lists(max_size=20))
def test_arrow_round_trip(trades: list[Trade]) -> None:
    candles = candles_from_trades(trades)
    table = candles_to_table(candles)
    assert table.schema == CANDLE_SCHEMA
    assert candles_from_table(table) == candles


def test_parquet_file_round_trip(tmp_path: object) -> None:
    trades = [
        Trade("AAPL", i, 1_700_000_000_000_000 + i * 300_000, 10**15 - i, 10**18) for i in range(9)
    ]
    candles: list[Candle] = candles_from_trades(trades)
    path = f"{tmp_path}/c.parquet"
    pq.write_table(candles_to_table(candles), path)
    assert candles_from_table(pq.read_table(path)) == candles


def test_wire_is_human_readable() -> None:
    trade = Trade("AAPL", 1, 1_000_000, 150_25000000, 3_00000000)
    (candle,) = candles_from_trades([trade], ["1s"])
    text = encode_candle(candle).decode()
    assert '"open":"150.25"' in text and '"interval":"1s"' in text and '"volume":"3"' in text


@given(trade_lists(max_size=20))
def test_trade_table_round_trip(trades: list[Trade]) -> None:
    assert trades_from_table(trades_to_table(trades)) == trades
