"""The native close path against candle_core: every candle byte, every rollup, the state.

A window closes in C into the JSON bytes of its ``candles`` message and into the rollup
partials. The bytes must be exactly ``candle_core.codec.encode_candle`` of the contract's
candle (fold, merge, VWAP rounded half up, decimal text), for values at the bounds and
sums beyond 128 bits; the rollups must equal the reference; and the rollup state written
per commit must restore to the same partials, whether as deltas or as a snapshot.
"""

from __future__ import annotations

import random
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from candle_core.candle import Candle, CandleBuilder
from candle_core.codec import candle_message_key, decode_candle, encode_candle, native_candle_wire
from candle_core.fixed_point import MAX_PRICE_INT, MAX_SIZE_INT
from candle_core.parsing import MAX_TS_US
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
    (key, value), *_ = one_window_closed("BRK.A", rows)
    assert key == candle_message_key("BRK.A", S, T0) == b"BRK.A|1s|%d" % T0
    assert value == encode_candle(candle_of("BRK.A", rows))


def one_window_closed(symbol: str, rows: list[tuple[int, int, int, int]]
                      ) -> list[tuple[bytes, bytes]]:
    """The candles a table emits for trades (offset in T0's second, id, price, size) of one
    1 s window, closed with everything: its 1 s candle first, then its rollups."""
    window = table()
    for offset, (ts, trade_id, price, size) in enumerate(rows):
        window.add(symbol, trade_id, T0 + ts, price, size, None, None, offset)
    return closed(window, FAR_FUTURE)


def candle_of(symbol: str, rows: list[tuple[int, int, int, int]]) -> Candle:
    """The contract's candle of those trades (CandleBuilder, as the Python path folds)."""
    builder = CandleBuilder(symbol, S, T0)
    for ts, trade_id, price, size in rows:
        builder.add(T0 + ts, trade_id, price, size)
    return builder.build()


# Numbers that make one candle's fields equal one another: the encoder copies the text
# of a number it has just written, and must not copy it into a field of another format
# (a price of 5 is "0.00000005" where a count of 5 is 5) or from a different value.
CLASHING = (1, 5, 10, 100_000_000, 1_000_000, T0, T0 + 1)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from((0, 1, 5, 10)), st.sampled_from(CLASHING),
                          st.sampled_from(CLASHING[:5]), st.sampled_from(CLASHING[:5])),
                min_size=1, max_size=6, unique_by=lambda x: x[1]))
def test_fields_that_share_a_value_are_each_written_in_their_own_format(
        rows: list[tuple[int, int, int, int]]) -> None:
    emitted = one_window_closed("X", rows)
    assert emitted[0][1] == encode_candle(candle_of("X", rows))
    expected = candles_from_trades(
        [Trade("X", trade_id, T0 + ts, price, size) for ts, trade_id, price, size in rows],
        INTERVALS)
    assert sorted(value for _, value in emitted) == sorted(encode_candle(c) for c in expected)


@settings(max_examples=200, deadline=None)
@given(price=st.one_of(st.integers(1, 1000), st.integers(1, MAX_PRICE_INT)),
       sizes=st.lists(st.one_of(st.integers(1, 1000), st.integers(1, MAX_SIZE_INT)),
                      min_size=1, max_size=20))
def test_a_window_traded_at_one_price_has_that_price_as_its_vwap(
        price: int, sizes: list[int]) -> None:
    rows = [(i, i, price, size) for i, size in enumerate(sizes)]
    emitted = one_window_closed("ONE", rows)
    assert emitted[0][1] == encode_candle(candle_of("ONE", rows))
    assert all(decode_candle(value).vwap == price for _, value in emitted)


@pytest.mark.parametrize("one_price", [False, True], ids=["prices", "one-price"])
def test_sums_beyond_128_bits_encode_exactly(one_price: bool) -> None:
    count = 350_000
    trades = [Trade("BIG", i, T0 + i % S, MAX_PRICE_INT, MAX_SIZE_INT) for i in range(count)]
    if not one_price:
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


def stream(seed: int, count: int = 4000,
           symbols: tuple[str, ...] = ("AAPL", "MSFT", "SPY")) -> list[Trade]:
    rnd = random.Random(seed)
    return [Trade(rnd.choice(symbols), i, T0 + rnd.randrange(700 * S),
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
    trades = sorted(stream(7, symbols=tuple(f"S{n}" for n in range(40))), key=lambda t: t.ts_us)
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
    assert second.table.restore_rollups(records) is False  # nothing to write again
    assert second.rollup_candles() == first.rollup_candles()
    assert second.table.next_rollup_close_us == first.table.next_rollup_close_us


def late_stream(seed: int, count: int = 1200) -> list[Trade]:
    """Trades in time order, but every 17th arrives 40 trades late (most inside the
    revision horizon: revised candles, closed partials kept with their revisions)."""
    rnd = random.Random(seed)
    trades = sorted((Trade(rnd.choice(["AAPL", "MSFT", "SPY", "BRK.B"]), i,
                           T0 + rnd.randrange(900 * S), rnd.randint(1, 10**12),
                           rnd.randint(1, 10**10)) for i in range(count)),
                    key=lambda t: t.ts_us)
    for k in range(0, count - 40, 17):
        trades.insert(k + 40, trades.pop(k))
    return trades


def revising_engine() -> PartitionEngine:
    return PartitionEngine(INTERVALS, 2 * S, 700 * S, 600 * S)


def committed_state(trades: list[Trade]) -> tuple[PartitionEngine, list[bytes]]:
    """An engine fed ``trades`` and the state records its commits (every 150 trades) wrote."""
    engine, records = revising_engine(), []
    for offset, trade in enumerate(trades):
        engine.add(trade, offset)
        if offset % 150 == 0:
            engine.take_candles()  # produced in that commit
            records += engine.table.take_rollup_delta(1024)
    engine.take_candles()
    return engine, records + engine.table.take_rollup_delta(1024)


def finish(engine: PartitionEngine, trades: list[Trade], first_offset: int) -> list[bytes]:
    for offset, trade in enumerate(trades, first_offset):
        engine.add(trade, offset)
    engine.advance_to(FAR_FUTURE)
    return [value for _, value in engine.take_candles()[0]]


def uvarint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    return bytes(out + bytes([n]))


def read_fixture(name: str) -> list[bytes]:
    """State records as tests/fixtures keeps them: each a little-endian length, then it."""
    data = (Path(__file__).parent.parent / "fixtures" / name).read_bytes()
    records, at = [], 0
    while at < len(data):
        (length,) = struct.unpack_from("<I", data, at)
        records.append(data[at + 4:at + 4 + length])
        at += 4 + length
    return records


def test_state_records_of_earlier_formats_still_restore() -> None:
    """tests/fixtures/rollup-state-v2.bin and -v3.bin: the state records that the builds
    before the compact format (2, fixed-size fields) and before hierarchical rollups (3)
    wrote for ``committed_state`` of the first 800 trades of ``late_stream(11)``. Their
    partials took every closed 1 s candle; restored, they go on doing so until they close
    (direct), so the rest of the stream gives the same candles and revisions as the engine
    that never stopped, and the restore asks for the state to be written again."""
    v2, v3 = read_fixture("rollup-state-v2.bin"), read_fixture("rollup-state-v3.bin")
    assert {record[0] for record in v2} == {2} and {record[0] for record in v3} == {3}
    trades = late_stream(11)
    live, records = committed_state(trades[:800])
    assert {record[0] for record in records} == {4}
    assert sum(map(len, records)) * 2 < sum(map(len, v2))  # the point of the compact form
    restored = []
    for chosen, rewrite in ((v2, True), (v3, True), (records, False)):
        engine = revising_engine()
        assert engine.table.restore_rollups(chosen) is rewrite
        engine.restore_position(live.max_ts_us, live.watermark_us)
        for offset, trade in enumerate(trades[:800]):  # the replay rebuilds the 1 s windows
            engine.replay(trade, offset)
        assert engine.table.next_rollup_close_us == live.table.next_rollup_close_us
        if not rewrite:
            assert engine.rollup_candles() == live.rollup_candles()
        restored.append(engine)
    expected = finish(live, trades[800:], 800)
    assert any(b'"revision":' in value for value in expected)  # closed partials revised
    for engine in restored:
        assert finish(engine, trades[800:], 800) == expected


def latest_candles(values: list[bytes], intervals: set[int]) -> dict[tuple, Candle]:
    """The last emission of every candle of `intervals`, by (symbol, interval, start)."""
    out: dict[tuple, Candle] = {}
    for value in values:
        c = decode_candle(value)
        if c.interval_us in intervals:
            out[c.symbol, c.interval_us, c.window_start_us] = c
    return out


@pytest.mark.parametrize("written, now", [
    (INTERVALS, (S, 10 * S, 300 * S, 3600 * S)),  # 1 m dropped: 5 m's parent becomes 10 s
    (INTERVALS, (S, 10 * S, 30 * S, 60 * S, 300 * S, 3600 * S)),  # 30 s added below 1 m
    ((S, 10 * S, 20 * S, 60 * S, 3600 * S), (S, 10 * S, 30 * S, 60 * S, 3600 * S)),
])
def test_state_written_with_other_intervals_restores_exact_candles(
        written: tuple[int, ...], now: tuple[int, ...]) -> None:
    """Intervals changed across a restart: the open partials of the intervals kept, each a
    merge of its closed children as linked when written, are made whole (with the open
    partials below them, those of a dropped interval too) and go on exactly: every candle
    of an interval configured before and after equals the one of an engine that ran the
    whole stream with the new intervals, revisions included."""
    trades, cut = late_stream(11), 690  # at 516 s: open 10 s, 1 m, 5 m and 1 h partials
    before = PartitionEngine(written, 2 * S, 700 * S, 600 * S)
    records: list[bytes] = []
    emitted: list[bytes] = []
    for offset, trade in enumerate(trades[:cut]):
        before.add(trade, offset)
        if offset % 150 == 0:
            emitted += [value for _, value in before.take_candles()[0]]
            records += before.table.take_rollup_delta(1024)
    emitted += [value for _, value in before.take_candles()[0]]
    records += before.table.take_rollup_delta(1024)
    after = PartitionEngine(now, 2 * S, 700 * S, 600 * S)
    assert after.table.restore_rollups(records) is True
    after.restore_position(before.max_ts_us, before.watermark_us)
    for offset, trade in enumerate(trades[:cut]):
        after.replay(trade, offset)
    emitted += finish(after, trades[cut:], cut)
    whole = PartitionEngine(now, 2 * S, 700 * S, 600 * S)
    kept = set(written) & set(now)
    expected = latest_candles(finish(whole, trades, 0), kept)
    assert {k for k, c in expected.items() if c.revision > 0}  # revisions are covered
    assert latest_candles(emitted, kept) == expected


INT64 = st.integers(-(2**63), 2**63 - 1)


@settings(max_examples=300, deadline=None)
@given(start=st.integers(0, MAX_TS_US), prices=st.lists(INT64, min_size=4, max_size=4),
       times=st.lists(INT64, min_size=2, max_size=2), ids=st.lists(INT64, min_size=2, max_size=2),
       count=INT64, volume=st.integers(0, 2**128 - 1), notional=st.integers(0, 2**192 - 1),
       interval=st.sampled_from(INTERVALS[1:]))
def test_a_state_record_keeps_every_field_whatever_its_value(
        start: int, prices: list[int], times: list[int], ids: list[int], count: int,
        volume: int, notional: int, interval: int) -> None:
    """The compact format writes differences modulo 2^64: a fold at the edges of int64
    (and sums of 128 and 192 bits) comes back bit for bit, at any window start a trade
    can have."""
    first = table()
    first.put_partial(interval, "SYM", start, *prices, volume, notional, count, *times, *ids)
    second = table()
    second.restore_rollups(first.rollup_snapshot(1024))
    assert second.rollup_folds() == first.rollup_folds()
    assert first.rollup_folds()[0][1][2:] == (*prices, volume, notional, count, *times, *ids)


def test_a_truncated_or_corrupt_state_record_is_refused() -> None:
    engine, records = committed_state(late_stream(5, 300))
    record = max(records, key=len)
    single = table()
    single.put_partial(10 * S, "A", T0, 5, 6, 4, 5, 7, 35, 1, T0, T0, 1, 1)
    (one,) = single.rollup_snapshot(1024)
    assert one.endswith(b"\x00")
    revising_engine().table.restore_rollups([one])  # as written, it restores
    corrupt = {
        "its last byte lost": record[:-1],
        "an unknown operation": b"\x03X" + record[2:],
        "a number longer than 64 bits": b"\x03U" + b"\xff" * 11 + b"\x01",
        # the last field (the notional's high 64 bits, 0) as ten bytes holding 2^64
        "a number with bits past 64 in its last byte": one[:-1] + b"\x80" * 9 + b"\x02",
        "a window before 1970": b"\x03D\x80\x89\x7a\x01\x00\x01A",  # quotient -1
        "a symbol past the end": b"\x03D\x80\x89\x7a\x00\x00\x09AB",
        "a window that ends past int64":  # 2 s interval, start 2^63 - 1
            b"\x03D\x80\x89\x7a\xf6\xb5\xc1\xde\xb7\x8c\x02\xfe\xd9\x5e\x01A",
        "more intervals than a table holds": b"\x04\x09",
        "intervals out of order": b"\x04\x02" + uvarint(60 * S) + uvarint(10 * S),
        "an interval that is no whole second": b"\x04\x01" + uvarint(S + 1),
        "the base interval among the rollups": b"\x04\x01" + uvarint(S),
    }
    for what, data in corrupt.items():
        with pytest.raises(ValueError, match="truncated or corrupt"):
            revising_engine().table.restore_rollups([data])
            pytest.fail(what)
    with pytest.raises(ValueError, match="format 9: this build reads 1 to 4"):
        engine.table.restore_rollups([b"\x09"])
    with pytest.raises(TypeError, match="not one record"):
        engine.table.restore_rollups(record)
    with pytest.raises(ValueError, match="no trade's window"):
        engine.table.put_partial(10 * S, "A", -10 * S, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1)


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
