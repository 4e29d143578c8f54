"""The windowing engine, pure: no broker, no clock.

The central invariant: whatever the arrival order, the candles the engine emits equal the
contract's reference over exactly the trades it applied (not late, not duplicate), for
every interval. Crashes are tested through the real processor (test_crash_points.py).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from candle_core.candle import Candle
from candle_core.codec import candle_message_key, decode_candle
from candle_core.reference import candles_from_trades
from candle_core.trade import Trade
from candle_core.windows import parse_interval
from speed_layer._hotpath import CLOSE_DUE, LATE, REVISED
from speed_layer.engine import FAR_FUTURE, Outcome, PartitionEngine

S = 1_000_000
T0 = 1_700_000_000_000_000
INTERVALS = tuple(parse_interval(x) for x in ("1s", "10s", "1m"))
LATENESS_US = 2 * S


def decoded(eng: PartitionEngine, closed: list[tuple[bytes, bytes]]) -> list[Candle]:
    """Every candle the engine has emitted so far (gathered into ``closed``), from their wire
    bytes (key = the candle's); without a sink, the engine produced none itself."""
    candles, produced = eng.take_candles()
    assert produced == 0
    closed.extend(candles)
    decoded = [decode_candle(value) for _, value in closed]
    assert [key for key, _ in closed] == [
        candle_message_key(c.symbol, c.interval_us, c.window_start_us) for c in decoded]
    return decoded


def engine() -> PartitionEngine:
    return PartitionEngine(INTERVALS, LATENESS_US)


def run(trades: list[Trade]) -> tuple[list[Candle], list[Outcome]]:
    """Feed trades in arrival order, then flush every window."""
    eng, closed = engine(), []
    outcomes = [eng.add(trade, offset) for offset, trade in enumerate(trades)]
    eng.advance_to(FAR_FUTURE)
    return decoded(eng, closed), outcomes


def t(trade_id: int, ts_us: int, price: int = 100, size: int = 1, symbol: str = "AAPL") -> Trade:
    return Trade(symbol, trade_id, T0 + ts_us, price, size)


def test_in_order_stream_equals_reference() -> None:
    trades = [t(i, i * 150_000, price=100 + i % 7) for i in range(2000)]
    candles, outcomes = run(trades)
    assert set(outcomes) == {Outcome.APPLIED}
    assert sorted(candles, key=lambda c: c.key) == candles_from_trades(trades, INTERVALS)


def test_out_of_order_within_lateness_is_not_late() -> None:
    # arrival: 1.9 s late, but lateness is 2 s, so the window [T0, T0+1s) is still open
    trades = [t(1, 0), t(2, 500_000), t(3, 2_900_000), t(4, 100_000), t(5, 3_000_000)]
    candles, outcomes = run(trades)
    assert outcomes[3] is Outcome.APPLIED
    assert sorted(candles, key=lambda c: c.key) == candles_from_trades(trades, INTERVALS)


def test_late_beyond_lateness_is_late_and_not_applied() -> None:
    # watermark = 3.0 s - 2 s = 1.0 s: the window [0, 1 s) has closed when trade 3 arrives
    trades = [t(1, 0), t(2, 3_000_000), t(3, 999_999)]
    candles, outcomes = run(trades)
    assert outcomes == [Outcome.APPLIED, Outcome.APPLIED, Outcome.LATE]
    assert sorted(candles, key=lambda c: c.key) == candles_from_trades(trades[:2], INTERVALS)


def test_duplicates_and_conflicts_in_an_open_window() -> None:
    trades = [t(1, 0), t(1, 0), t(1, 0, price=101), t(2, 10)]
    _, outcomes = run(trades)
    assert outcomes == [Outcome.APPLIED, Outcome.DUPLICATE, Outcome.CONFLICT, Outcome.APPLIED]


def test_future_looking_watermark_never_moves_back() -> None:
    eng = engine()
    eng.add(t(1, 10 * S), 0)
    eng.add(t(2, 9 * S), 1)
    assert eng.watermark_us == T0 + 8 * S


def test_idle_partition_closes_its_last_window_after_the_timeout() -> None:
    eng, closed = engine(), []
    eng.add(t(1, 5_300_000), 0)
    assert eng.idle_watermark_us(4 * S, 5 * S) == eng.watermark_us  # not idle long enough
    eng.advance_to(eng.idle_watermark_us(5 * S, 5 * S))
    assert [c.interval_us for c in decoded(eng, closed)] == [S]  # the 1 s candle, not yet 10 s
    eng.advance_to(eng.idle_watermark_us(9 * S, 5 * S))  # event time follows the clock
    assert [c.interval_us for c in decoded(eng, closed)] == [S, 10 * S]


@st.composite
def arrivals(draw: st.DrawFn) -> list[Trade]:
    """Trades over ~20 s for two symbols, delayed by 0-5 s (some beyond lateness),
    with some re-sent (exact duplicates) or re-sent with another price (conflicts)."""
    count = draw(st.integers(1, 120))
    trades: list[tuple[int, Trade]] = []
    for trade_id in range(count):
        ts_us = draw(st.integers(0, 20 * S))
        trade = t(trade_id, ts_us, price=draw(st.integers(1, 500)),
                  symbol=draw(st.sampled_from(["AAPL", "MSFT"])))
        arrival = ts_us + draw(st.sampled_from([0, 0, 0, 300_000, 1_500_000, 5 * S]))
        trades.append((arrival, trade))
        copy = draw(st.sampled_from([None, None, None, "same", "other"]))
        if copy is not None:
            price = trade.price if copy == "same" else trade.price + 1
            trades.append((arrival + draw(st.integers(0, 3 * S)), trade._replace(price=price)))
    return [trade for _, trade in sorted(trades, key=lambda pair: pair[0])]


@settings(max_examples=200, deadline=None)
@given(arrivals())
def test_emitted_candles_equal_reference_over_applied_trades(trades: list[Trade]) -> None:
    candles, outcomes = run(trades)
    pairs = zip(trades, outcomes, strict=True)
    applied = [trade for trade, outcome in pairs if outcome is Outcome.APPLIED]
    assert sorted(candles, key=lambda c: c.key) == candles_from_trades(applied, INTERVALS)
    keys = [c.key for c in candles]
    assert len(keys) == len(set(keys))  # each candle once


def test_end_of_input_closes_every_window_with_data_and_no_later_one() -> None:
    """The flush at end of input (``--exit-when-idle``) emits every candle holding data,
    the 1m rollup too; a run resumed from that state treats only those windows as closed."""
    eng, closed = engine(), []
    trades = [t(1, 0), t(2, 15 * S + 300_000), t(3, 15 * S + 700_000)]
    for offset, trade in enumerate(trades):
        eng.add(trade, offset)
    eng.advance_to(eng.end_of_input_watermark_us())
    assert sorted(decoded(eng, closed), key=lambda c: c.key) == \
        candles_from_trades(trades, INTERVALS)
    last = T0 + 15 * S + 700_000
    minute_end = last - last % (60 * S) + 60 * S  # the 1m window holding the last trade
    assert eng.watermark_us == minute_end
    assert eng.add(t(4, minute_end - T0 - S), 3) is Outcome.LATE  # 1m emitted
    assert eng.add(t(5, minute_end - T0 + S), 4) is Outcome.APPLIED  # next minute


def test_a_re_send_after_its_window_closed_is_a_duplicate_within_the_horizon() -> None:
    """The dedup horizon: after close, an exact re-send is a duplicate, other content a
    conflict, until the watermark passes the window end + horizon; then it is late."""
    eng, closed = PartitionEngine(INTERVALS, LATENESS_US, 10 * S), []
    eng.add(t(1, 0), 0)
    eng.add(t(2, 5 * S), 1)  # watermark 3 s: [0, 1 s) closed
    assert [c.window_start_us for c in decoded(eng, closed)] == [T0]
    assert eng.add(t(1, 0), 2) is Outcome.DUPLICATE
    assert eng.add(t(1, 0, price=101), 3) is Outcome.CONFLICT
    assert eng.add(t(3, 10), 4) is Outcome.LATE  # a new id: late, remembered
    assert eng.add(t(3, 10), 5) is Outcome.DUPLICATE  # its re-send: a duplicate
    eng.add(t(4, 12 * S + 999_999), 6)  # watermark 10.99 s < end 1 s + 10 s
    assert eng.add(t(1, 0), 7) is Outcome.DUPLICATE
    eng.add(t(5, 13 * S), 8)  # watermark 11 s: the horizon of [0, 1 s) has passed
    assert eng.add(t(1, 0), 9) is Outcome.LATE
    assert eng.add(t(3, 10), 10) is Outcome.LATE


@settings(max_examples=60, deadline=None)
@given(ids=st.lists(st.integers(1, 10**12), min_size=2, max_size=300, unique=True),
       resends=st.lists(st.integers(0, 10**6), min_size=1, max_size=40), data=st.data())
def test_re_sends_after_close_are_found_among_many_ids(
        ids: list[int], resends: list[int], data: st.DataObject) -> None:
    """A closed window's ids are compacted at close and sorted only on the first lookup;
    whatever their order, every re-send of any of them is a duplicate (or a conflict), and
    a late new id, once remembered, is a duplicate too."""
    eng, closed = PartitionEngine(INTERVALS, LATENESS_US, 60 * S), []
    for offset, trade_id in enumerate(ids):
        eng.add(t(trade_id, offset), offset)
    offset = len(ids)
    eng.add(t(10**13, 5 * S), offset)  # watermark 3 s: [0, 1 s) closed
    assert len(decoded(eng, closed)) == 1
    late_ids: list[int] = []
    for pick in resends:
        offset += 1
        trade_id = ids[pick % len(ids)]
        ts = ids.index(trade_id)
        if data.draw(st.booleans()):
            assert eng.add(t(trade_id, ts), offset) is Outcome.DUPLICATE
        elif data.draw(st.booleans()):
            assert eng.add(t(trade_id, ts, price=7), offset) is Outcome.CONFLICT
        else:
            new_id = 10**12 + pick + 1
            expected = Outcome.DUPLICATE if new_id in late_ids else Outcome.LATE
            assert eng.add(t(new_id, 500), offset) is expected
            late_ids.append(new_id)
    for trade_id in ids + late_ids:
        offset += 1
        ts = ids.index(trade_id) if trade_id in ids else 500
        assert eng.add(t(trade_id, ts), offset) is Outcome.DUPLICATE


def test_without_a_horizon_a_re_send_after_close_is_late() -> None:
    eng = PartitionEngine(INTERVALS, LATENESS_US, 0)
    eng.add(t(1, 0), 0)
    eng.add(t(2, 5 * S), 1)
    assert eng.add(t(1, 0), 2) is Outcome.LATE


def test_kept_windows_hold_the_low_water_offset_until_the_horizon_passes() -> None:
    eng = PartitionEngine(INTERVALS, LATENESS_US, 10 * S)
    eng.add(t(1, 0), 7)
    eng.add(t(2, 5 * S), 8)
    assert eng.table.first_offset() == 7  # [0, 1 s) closed but kept: re-read from 7
    assert eng.table.kept() == (1, 1)
    eng.add(t(3, 13 * S), 9)
    assert eng.table.first_offset() == 8
    assert eng.table.kept() == (1, 1)  # [5 s, 6 s) closed and kept; [0, 1 s) forgotten


def test_event_time_only_moves_forward() -> None:
    """A window's fold is made from its ids, and a late id past the revision horizon is
    held but never folded: exact only while such a window can never be revised again, so
    the watermark cannot be written or moved back, and a position is restored only on a
    table whose time has not moved."""
    eng = PartitionEngine(INTERVALS, 0, 10 * S, 1 * S)
    table = eng.table
    with pytest.raises(AttributeError):
        table.watermark_us = 5  # type: ignore[misc]
    with pytest.raises(AttributeError):
        table.max_ts_us = 5  # type: ignore[misc]
    eng.restore_position(T0, T0)  # a new table: its position comes from the changelog
    with pytest.raises(ValueError, match="restored once, on a new table"):
        eng.restore_position(T0 - S, T0 - S)
    table.advance(T0 + 3 * S)
    table.advance(T0 + S)  # back: ignored
    assert table.watermark_us == T0 + 3 * S
    fresh = PartitionEngine(INTERVALS, 0, 10 * S, 1 * S)
    fresh.add(t(1, 100_000), 0)
    with pytest.raises(ValueError, match="restored once, on a new table"):
        fresh.restore_position(T0, T0)


def test_a_late_trade_held_past_the_revision_horizon_is_never_folded() -> None:
    """X's window closes with one trade; a second comes after the revision horizon (late:
    held for dedup, not folded); the watermark cannot go back to make the window
    revisable, so X's candle stays the one trade the batch layer also counts."""
    eng, closed = PartitionEngine(INTERVALS, 0, 10 * S, 1 * S), []
    assert eng.add(t(1, 10_100_000, price=100), 0) is Outcome.APPLIED
    eng.add(t(9, 13_500_000, symbol="MSFT"), 1)
    assert eng.add(t(2, 10_200_000, price=900), 2) is Outcome.LATE
    eng.advance_to(T0 + 11_500_000)  # back: ignored
    assert eng.add(t(3, 10_300_000, price=700), 3) is Outcome.LATE
    eng.advance_to(FAR_FUTURE)
    x = [c for c in decoded(eng, closed) if c.symbol == "AAPL" and c.interval_us == S]
    assert [(c.trade_count, c.high, c.revision) for c in x] == [(1, x[0].open, 0)]


def assert_newest_equal_reference(emitted: list[Candle], trades: list[Trade]) -> None:
    """The newest emission of every candle is the reference's candle of ``trades``."""
    final = {(c.symbol, c.interval_us, c.window_start_us): c for c in emitted}  # newest wins
    expected = candles_from_trades(trades, intervals=INTERVALS)
    assert {key: (c.trade_count, c.open, c.high, c.low, c.close, c.volume)
            for key, c in final.items()} == \
        {(c.symbol, c.interval_us, c.window_start_us):
         (c.trade_count, c.open, c.high, c.low, c.close, c.volume) for c in expected}


def test_a_late_trade_for_a_window_the_close_has_not_reached_closes_it_first() -> None:
    """The watermark passed X's window (CLOSE_DUE) but no close ran before a late trade for
    it arrived (a close that failed): the table closes what is due first, so X's candle is
    emitted with its three trades and then revised with the fourth, each trade counted once
    in every interval; with revisions off the late trade is left out, as the contract's
    eager close would have it."""
    eng, closed = PartitionEngine(INTERVALS, 0, 10 * S, 3 * S), []
    trades = [t(i + 1, ts, price=100 + 7 * i) for i, ts in
              enumerate((10_100_000, 10_200_000, 10_300_000))]
    for offset, trade in enumerate(trades):
        assert eng.table.add(*trade, offset) == 0
    other = t(9, 11_500_000, symbol="MSFT")
    assert eng.table.add(*other, 3) & CLOSE_DUE  # and no close yet
    late = t(4, 10_400_000, price=50)
    assert eng.table.add(*late, 4) == REVISED
    eng.advance_to(FAR_FUTURE)
    emitted = decoded(eng, closed)
    x_1s = [c for c in emitted if c.symbol == "AAPL" and c.interval_us == S]
    assert [(c.trade_count, c.low, c.revision) for c in x_1s] == [(3, 100, 0), (4, 50, 1)]
    assert_newest_equal_reference(emitted, [*trades, other, late])

    eng, closed = PartitionEngine(INTERVALS, 0, 10 * S, 0), []  # revisions off
    assert eng.table.add(*trades[0], 0) == 0
    assert eng.table.add(*other, 1) & CLOSE_DUE
    assert eng.table.add(*late, 2) == LATE
    eng.advance_to(FAR_FUTURE)
    x = [c for c in decoded(eng, closed) if c.symbol == "AAPL"]
    assert [(c.trade_count, c.low) for c in x] == [(1, 100)] * 3


def test_a_late_trade_into_an_empty_second_closes_the_due_rollups_first() -> None:
    """The watermark passed the end of AAPL's 10 s window but no close ran (a close that
    failed), and a late trade comes for a second of it that no trade was in: the table
    closes what is due first, so the 10 s candle is emitted with its three trades and then
    revised with the fourth. Otherwise the revision would make the missing 10 s partial,
    closed, holding the late trade alone, and the three trades would be merged into it
    later without being emitted."""
    eng, closed = PartitionEngine(INTERVALS, 0, 60 * S, 30 * S), []
    trades = [t(i + 1, ts, price=100 + 7 * i) for i, ts in
              enumerate((1_100_000, 5_200_000, 8_300_000))]
    for offset, trade in enumerate(trades):
        eng.table.add(*trade, offset)
    other = t(9, 12_500_000, symbol="MSFT")
    assert eng.table.add(*other, 3) & CLOSE_DUE  # and no close yet
    late = t(4, 3_400_000, price=50)  # second [3, 4): no trade of it was on time
    assert eng.table.add(*late, 4) == REVISED
    eng.advance_to(FAR_FUTURE)
    emitted = decoded(eng, closed)
    x_10s = [c for c in emitted if c.symbol == "AAPL" and c.interval_us == 10 * S]
    assert [(c.trade_count, c.low, c.revision) for c in x_10s] == [(3, 100, 0), (4, 50, 1)]
    assert_newest_equal_reference(emitted, [*trades, other, late])
