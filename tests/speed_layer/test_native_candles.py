"""The native close path against candle_core: every candle byte, every rollup, the state.

A window closes in C into the JSON bytes of its ``candles`` message and into the rollup
partials. The bytes must be exactly ``candle_core.codec.encode_candle`` of the contract's
candle (fold, merge, VWAP rounded half up, decimal text), for values at the bounds and
sums beyond 128 bits; the rollups must equal the reference; and the rollup state written
per commit must restore to the same partials, whether as deltas or as a snapshot.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from candle_core.candle import CandleBuilder
from candle_core.codec import candle_message_key, decode_candle, encode_candle, native_candle_wire
from candle_core.fixed_point import MAX_PRICE_INT, MAX_SIZE_INT
from candle_core.reference import candles_from_trades
from candle_core.trade import Trade
from candle_core.windows import interval_label
from speed_layer._hotpath import Sink, WindowTable
from speed_layer.engine import FAR_FUTURE, PartitionEngine

S = 1_000_000
T0 = 1_767_225_600_000_000
INTERVALS = (S, 10 * S, 60 * S, 300 * S, 3600 * S)


def table(horizon_us: int = 0) -> WindowTable:
    return WindowTable(S, 2 * S, horizon_us, tuple((i, interval_label(i)) for i in INTERVALS),
                       native_candle_wire())


def closed(window: WindowTable, watermark_us: int) -> list[tuple[bytes, bytes]]:
    """What a close to ``watermark_us`` emitted: (key, JSON) of each candle, in order (a
    table without a sink leaves every one for Python)."""
    window.close(watermark_us)
    candles, produced = window.take_candles()
    assert produced == 0
    return candles


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, S - 1), st.integers(0, 10**6),
                          st.one_of(st.integers(1, 1000), st.integers(1, MAX_PRICE_INT)),
                          st.one_of(st.integers(1, 1000), st.integers(1, MAX_SIZE_INT))),
                min_size=1, max_size=40, unique_by=lambda x: x[1]))
def test_a_closed_window_is_encode_candle_of_candle_builder(
        rows: list[tuple[int, int, int, int]]) -> None:
    window = table()
    builder = CandleBuilder("BRK.A", S, T0)
    for offset, (ts, trade_id, price, size) in enumerate(rows):
        window.add("BRK.A", trade_id, T0 + ts, price, size, None, None, offset)
        builder.add(T0 + ts, trade_id, price, size)
    (key, value), *_ = closed(window, FAR_FUTURE)
    assert key == candle_message_key("BRK.A", S, T0) == b"BRK.A|1s|%d" % T0
    assert value == encode_candle(builder.build())


def test_sums_beyond_128_bits_encode_exactly() -> None:
    count = 350_000
    trades = [Trade("BIG", i, T0 + i % S, MAX_PRICE_INT, MAX_SIZE_INT) for i in range(count)]
    trades.append(Trade("BIG", 10**7, T0 + 5, 1, 1))
    window = table()
    builder = CandleBuilder("BIG", S, T0)
    for offset, trade in enumerate(trades):
        window.add(*trade, offset)
        builder.add(trade.ts_us, trade.trade_id, trade.price, trade.size)
    candles = dict(((decode_candle(v).interval_us, v) for _, v in closed(window, FAR_FUTURE)))
    expected = builder.build()
    assert expected.notional > 2**128
    assert candles[S] == encode_candle(expected)
    rolled = decode_candle(candles[3600 * S])  # the rollups merge beyond 128 bits too
    assert (rolled.notional, rolled.volume, rolled.vwap) == \
        (expected.notional, expected.volume, expected.vwap)


def stream(seed: int, count: int = 4000) -> list[Trade]:
    rnd = random.Random(seed)
    return [Trade(rnd.choice(["AAPL", "MSFT", "SPY"]), i, T0 + rnd.randrange(700 * S),
                  rnd.randint(1, 10**12), rnd.randint(1, 10**10)) for i in range(count)]


@pytest.mark.parametrize("seed", range(3))
def test_rollups_of_every_interval_equal_the_reference(seed: int) -> None:
    trades = sorted(stream(seed), key=lambda t: t.ts_us)
    engine = PartitionEngine(INTERVALS, 2 * S)
    for offset, trade in enumerate(trades):
        engine.add(trade, offset)
    engine.advance_to(FAR_FUTURE)
    emitted, _ = engine.take_candles()
    candles = sorted((decode_candle(v) for _, v in emitted), key=lambda c: c.key)
    assert candles == candles_from_trades(trades, INTERVALS)


@pytest.mark.parametrize("snapshot", [False, True])
def test_rollup_state_records_restore_the_same_partials(snapshot: bool) -> None:
    """Feed half a stream, writing state records as commits would; restore them into a
    fresh table; both then finish the stream with the same candles."""
    trades = sorted(stream(7), key=lambda t: t.ts_us)
    half = len(trades) // 2
    first = PartitionEngine(INTERVALS, 2 * S)
    records: list[bytes] = []
    for offset, trade in enumerate(trades[:half]):
        first.add(trade, offset)
        if offset % 97 == 0:  # a commit
            records += first.table.take_rollup_delta(1024)
    records += first.table.take_rollup_delta(1024)
    if snapshot:
        records = first.table.rollup_snapshot(1024)
    assert len(records) > 1  # chunked
    second = PartitionEngine(INTERVALS, 2 * S)
    for record in records:
        second.table.restore_rollups(record)
    assert second.rollup_candles() == first.rollup_candles()
    assert second.table.next_rollup_close_us == first.table.next_rollup_close_us


def test_a_partial_in_the_previous_format_restores() -> None:
    engine = PartitionEngine(INTERVALS, 2 * S)
    for offset, trade in enumerate(sorted(stream(3, 300), key=lambda t: t.ts_us)[:100]):
        engine.add(trade, offset)
    engine.advance_to(engine.watermark_us + 3 * S)
    other = PartitionEngine(INTERVALS, 2 * S)
    for c in engine.rollup_candles():
        other.table.put_partial(c.interval_us, c.symbol, c.window_start_us, c.open, c.high,
                                c.low, c.close, c.volume, c.notional, c.trade_count,
                                c.first_ts_us, c.last_ts_us, c.first_trade_id,
                                c.last_trade_id)
    assert other.rollup_candles() == engine.rollup_candles()


def test_the_wire_layout_comes_from_candle_core() -> None:
    wire = native_candle_wire()
    with pytest.raises(ValueError, match="unknown to the native encoder"):
        WindowTable(S, 0, 0, ((S, "1s"),), [("symbol_name", "str"), *wire[1:]])
    with pytest.raises(ValueError, match="must list"):
        WindowTable(S, 0, 0, ((S, "1s"),), wire[:-1])
    changed = [(name, 6 if name == "volume" else kind) for name, kind in wire]
    window = WindowTable(S, 0, 0, ((S, "1s"),), changed)
    window.add("A", 1, T0, 10**8, 123_456_789, None, None, 0)
    (_, value), = closed(window, FAR_FUTURE)
    assert b'"volume":"123.456789"' in value  # the scale given, not one written in C


def test_candles_waiting_for_python_are_taken_once_and_keep_the_sink_as_it_is() -> None:
    """Without a sink every candle waits for ``take_candles`` (and is taken once); a sink
    may not be set or changed while candles wait (those after them would pass them), nor
    be one that was never initialised."""
    window = table()
    window.add("A", 1, T0, 10**8, 1, None, None, 0)
    window.close(FAR_FUTURE)
    with pytest.raises(RuntimeError, match="take them first"):
        window.use_sink(None)
    candles, produced = window.take_candles()
    assert [key for key, _ in candles][:1] == [b"A|1s|%d" % T0] and produced == 0
    assert window.take_candles() == ([], 0)
    with pytest.raises(TypeError, match="an initialised Sink or None"):
        window.use_sink(Sink.__new__(Sink))
    window.use_sink(None)
