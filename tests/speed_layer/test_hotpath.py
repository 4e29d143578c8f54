"""The native hot path (speed_layer/_hotpath.c) against the contract's Python code.

The scanner may only handle what it handles exactly as the Python path would: its parser
accepts a strict subset of values and must give the identical trade for each; anything
else goes back to Python. Its fold must equal CandleBuilder to the last unit, beyond 128
bits. A batch scanned natively must leave the same candles, outcomes, offsets and counts
as the same batch handled message by message in Python.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import msgspec
import orjson
import pytest
from confluent_kafka import Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from candle_core.candle import Candle, CandleBuilder
from candle_core.fixed_point import MAX_PRICE_INT, MAX_SIZE_INT, format_fixed
from candle_core.message_kind import TYPE_PREFIX, non_trade_kind
from candle_core.parsing import MAX_TS_US, TradeParser
from candle_core.trade import Rejection, Trade
from sources.records import encode_wire, trade_record
from speed_layer._hotpath import CLOSE, SLOW, Scanner, WindowTable
from speed_layer.engine import FAR_FUTURE, Closed, Outcome, PartitionEngine

SKEW_US = 5_000_000
KAFKA_TS_US = 1_700_000_000_000_000
PARSER = TradeParser(SKEW_US)
SCANNER = Scanner(Message, SKEW_US)
S = 1_000_000
INTERVALS = (S, 10 * S, 60 * S)


def assert_agrees(value: bytes, kafka_ts_us: int = KAFKA_TS_US) -> bool:
    """The native parse is None or exactly Python's trade; True when it was native."""
    native = SCANNER.parse(value, kafka_ts_us)
    if native is None:
        return False
    expected = PARSER.parse(value, kafka_ts_us)
    assert isinstance(expected, Trade), (value, expected)
    assert Trade(*native) == expected, value
    assert [type(x) for x in native] == [type(x) for x in expected], value
    return True


# ---- the parser -------------------------------------------------------------------------

symbols = st.one_of(st.sampled_from(["BTCUSDT", "AAPL", "BRK.A", "X", "A" * 32, "A" * 33,
                                     "btc", "-AB", "A B", "É", "ABC_1-2.3", ""]),
                    st.text(max_size=6))
integers = st.one_of(st.integers(0, 2**63 - 1), st.integers(-5, 5), st.just(2**63),
                     st.integers(MAX_TS_US - 3, MAX_TS_US + 3),
                     st.integers(KAFKA_TS_US - 10, KAFKA_TS_US + 2 * SKEW_US))
fixed_ints = st.one_of(st.integers(-3, 10**6), st.integers(1, MAX_SIZE_INT + 10),
                       st.sampled_from([MAX_PRICE_INT, MAX_PRICE_INT + 1, MAX_SIZE_INT,
                                        MAX_SIZE_INT + 1, 0]))


@st.composite
def decimal_texts(draw: st.DrawFn) -> str:
    """A decimal in the many spellings a producer might use, good and bad."""
    value = draw(fixed_ints)
    text = format_fixed(abs(value), 8) if value else "0"
    if value < 0:
        text = "-" + text
    if "." in text and draw(st.booleans()):
        text += "0" * draw(st.integers(0, 3))  # trailing zeros, maybe beyond 8 decimals
    if draw(st.booleans()):
        text = "0" * draw(st.integers(1, 3)) + text  # leading zeros: invalid as a number
    return draw(st.sampled_from([text, text, text + "e0", text + ".", "." + text,
                                 text.replace(".", ",")]))


@st.composite
def number_or_string(draw: st.DrawFn) -> str:
    text = draw(decimal_texts())
    return draw(st.sampled_from([text, f'"{text}"', "null", "true", '"x"', "1.5e3"]))


@st.composite
def wire_values(draw: st.DrawFn) -> bytes:
    """A JSON object close to a trade: fields present or absent, in any order, spelled
    any way, with whitespace, extra keys and a ``type``."""
    fields: dict[str, str] = {}
    if draw(st.integers(0, 9)):
        fields["symbol"] = orjson.dumps(draw(symbols)).decode()
    for name in ("trade_id", "ts"):
        if draw(st.integers(0, 9)):
            value = draw(integers)
            fields[name] = draw(st.sampled_from([str(value), str(value), f'"{value}"',
                                                 f"{value}.0", "null", f"{value}e0"]))
    for name in ("price", "size"):
        if draw(st.integers(0, 9)):
            fields[name] = draw(number_or_string())
    for name, choices in (("venue", ['"binance"', '"XNAS"', "null", "5", '"caf\\u00e9"',
                                     '"\u00e9"', '"' + "v" * 40 + '"']),
                          ("side", ['"buy"', '"sell"', "null", '"BUY"', '"hold"', "1"])):
        if draw(st.booleans()):
            fields[name] = draw(st.sampled_from(choices))
    for name, choices in (("type", ['"trade"', '"order"', "null", "7"]),
                          ("recv_ts", ["1700000000000001", "-1", "1.5", "1e3", "-0.5E-2",
                                       "01", "true", "false", "null", '"x"', "[1]", '{"a":1}',
                                       "1.", "-", "tru"])):
        if draw(st.integers(0, 3)) == 0:
            fields[name] = draw(st.sampled_from(choices))
    keys = draw(st.permutations(list(fields)))
    space = st.sampled_from(["", "", "", " ", "\n\t", "\r "])
    body = ",".join(f"{draw(space)}\"{key}\"{draw(space)}:{draw(space)}{fields[key]}"
                    f"{draw(space)}" for key in keys)
    value = f"{draw(space)}{{{body}}}{draw(space)}".encode()
    if draw(st.integers(0, 4)) == 0:  # a byte-level mutation
        position = draw(st.integers(0, len(value)))
        cut = draw(st.integers(0, 3))
        insert = draw(st.binary(max_size=2))
        value = value[:position] + insert + value[position + cut:]
    return value


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(wire_values(), st.sampled_from([KAFKA_TS_US, KAFKA_TS_US - 10 * SKEW_US, 0, -1000]))
def test_the_native_parser_agrees_with_trade_parser(value: bytes, kafka_ts_us: int) -> None:
    assert_agrees(value, kafka_ts_us)


def test_a_duplicated_field_is_left_to_python() -> None:
    value = b'{"symbol":"A","trade_id":1,"ts":1,"price":1,"size":1,"price":2}'
    assert SCANNER.parse(value, KAFKA_TS_US) is None


def test_what_producers_send_takes_the_native_path() -> None:
    """The shapes this project's producers write are parsed natively (otherwise the hot
    path would silently be the slow one)."""
    trade = Trade("BTCUSDT", 42, KAFKA_TS_US, 3_701_250_000_000, 1_250_000, "binance", "buy")
    values = [
        trade_record(trade).value,
        trade_record(trade, recv_ts_us=KAFKA_TS_US + 7).value,
        trade_record(trade._replace(venue=None, side=None)).value,
        encode_wire({"type": "trade", **trade.to_wire()}),
        orjson.dumps({**trade.to_wire(), "price": 37012.5, "size": 2}),
        msgspec.json.encode({"symbol": "AAPL", "trade_id": 0, "ts": 0, "price": "0.00000001",
                             "size": "10000000000"}),
    ]
    for value in values:
        assert assert_agrees(value), value


def test_values_the_contract_rejects_are_never_native() -> None:
    good = trade_record(Trade("BTCUSDT", 1, KAFKA_TS_US, 10**8, 10**8)).value
    assert SCANNER.parse(good, KAFKA_TS_US) is not None
    for bad in (good.replace(b"BTCUSDT", b"btcusdt"), good.replace(b'"price":"1"', b'"price":"0"'),
                good.replace(b"1700000000000000", b"1800000000000000"),
                good.replace(b'"trade_id":1', b'"trade_id":-1'), good[:-1], good + b"x",
                b'{"type":"order"}', b"[]", b""):
        assert SCANNER.parse(bad, KAFKA_TS_US) is None, bad
        assert_agrees(bad)


# ---- the fold ---------------------------------------------------------------------------

def fold_candle(table: WindowTable) -> Candle:
    engine = PartitionEngine((S,), 0)
    engine.table = table
    (candle,) = engine.open_candles()
    return candle


def builder_candle(trades: list[Trade]) -> Candle:
    builder = CandleBuilder(trades[0].symbol, S, trades[0].ts_us - trades[0].ts_us % S)
    for trade in trades:
        builder.add(trade.ts_us, trade.trade_id, trade.price, trade.size)
    return builder.build()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, S - 1), st.integers(0, 50),
                          st.integers(1, MAX_PRICE_INT), st.integers(1, MAX_SIZE_INT)),
                min_size=1, max_size=60, unique_by=lambda x: x[1]))
def test_the_native_fold_equals_candle_builder(rows: list[tuple[int, int, int, int]]) -> None:
    trades = [Trade("AAPL", trade_id, KAFKA_TS_US + ts, price, size)
              for ts, trade_id, price, size in rows]
    table = WindowTable(0)
    for offset, trade in enumerate(trades):
        assert table.add(*trade, offset) & 7 == 0
    assert fold_candle(table) == builder_candle(trades)


def test_sums_beyond_128_bits_stay_exact() -> None:
    """350,000 trades at both bounds in one second: notional 3.5e38 > 2^128, volume > 2^64
    (far beyond any market, but the fold must not wrap)."""
    count = 350_000
    trades = [Trade("BIG", i, KAFKA_TS_US + i % S, MAX_PRICE_INT, MAX_SIZE_INT)
              for i in range(count)]
    trades += [Trade("BIG", 10**6 + i, KAFKA_TS_US + i, 1, 1) for i in range(3)]
    table = WindowTable(0)
    for offset, trade in enumerate(trades):
        table.add(*trade, offset)
    candle = fold_candle(table)
    assert candle.notional == count * MAX_PRICE_INT * MAX_SIZE_INT + 3 > 2**128
    assert candle.volume == count * MAX_SIZE_INT + 3 > 2**64
    assert candle == builder_candle(trades)


# ---- the scanner over a batch -----------------------------------------------------------

@dataclass
class Outcomes:
    """What handling a batch left: per offset, and in counts."""

    by_offset: dict[int, str] = field(default_factory=dict)
    candles: list[Candle] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    consumed: int = 0
    valid: int = 0
    native_valid: int = field(default=0, compare=False)  # applied by the scanner itself


def handle_in_python(engine: PartitionEngine, message: Message, seen: Outcomes,
                     closed: Closed, replay_until: int) -> None:
    """The processor's per-message path (speed_layer/processor.py `_process_one`)."""
    offset, value = message.offset(), message.value() or b""
    if value.startswith(TYPE_PREFIX) and (kind := non_trade_kind(value)) is not None:
        if offset >= replay_until:
            seen.consumed += 1
            seen.skipped[kind] = seen.skipped.get(kind, 0) + 1
            seen.by_offset[offset] = "skipped"
            engine.table.processed = offset + 1
        return
    _, timestamp_ms = message.timestamp()
    result = PARSER.parse(value, timestamp_ms * 1000)
    if offset < replay_until:
        if isinstance(result, Trade):
            engine.add(result, offset, closed)
        return
    seen.consumed += 1
    if isinstance(result, Rejection):
        seen.by_offset[offset] = result.reason
    else:
        outcome = engine.add(result, offset, closed)
        seen.valid += outcome is Outcome.APPLIED
        seen.by_offset[offset] = outcome.value
    engine.table.processed = offset + 1


def run_batch(messages: list[Message], native: bool, replay_until: int = -1
              ) -> tuple[Outcomes, PartitionEngine]:
    engine, closed, seen = PartitionEngine(INTERVALS, 2 * S), Closed(), Outcomes()
    engine.table.replay_until = replay_until
    scanner = Scanner(Message, SKEW_US)
    if native:
        index = 0
        while index < len(messages):
            index, why, _ = scanner.scan(messages, index, {0: engine.table}, 1.0)
            if why == SLOW:
                handle_in_python(engine, messages[index], seen, closed, replay_until)
                index += 1
            elif why == CLOSE:
                engine.close_due(closed)
        consumed, valid, skipped = scanner.drain()
        seen.consumed += consumed
        seen.valid += valid
        seen.native_valid = valid
        for kind, count in skipped.items():
            seen.skipped[kind] = seen.skipped.get(kind, 0) + count
        for message in messages:  # what the scanner handled itself: skipped or applied
            offset, value = message.offset(), message.value()
            if offset >= replay_until and offset not in seen.by_offset:
                seen.by_offset[offset] = "skipped" if non_trade_kind(value) else "applied"
        seen.by_offset = dict(sorted(seen.by_offset.items()))
    else:
        for message in messages:
            handle_in_python(engine, message, seen, closed, replay_until)
    engine.advance_to(FAR_FUTURE, closed)
    seen.candles = closed.candles
    return seen, engine


def chaotic_batch(seed: int, count: int = 3000) -> list[Message]:
    """Trades out of order, late, duplicated, conflicting, malformed, among orders and
    quotes; Kafka timestamps that make some trades future ones."""
    rng = random.Random(seed)
    values: list[bytes] = []
    for i in range(count):
        ts = KAFKA_TS_US + i * 20_000 - rng.choice([0, 0, 0, 500_000, 3_500_000])
        trade = Trade(rng.choice(["AAPL", "MSFT", "BTC-USD"]), i, ts,
                      rng.randint(1, 10**12), rng.randint(1, 10**10),
                      rng.choice([None, "XNAS"]), rng.choice([None, "buy", "sell"]))
        value = trade_record(trade).value
        roll = rng.random()
        if roll < 0.05 and values:
            value = values[-rng.randint(1, min(20, len(values)))]  # an exact re-send
        elif roll < 0.07:
            value = trade_record(trade._replace(trade_id=max(0, i - 3))).value  # conflict?
        elif roll < 0.09:
            value = value.replace(b'"price"', b'"prize"')
        elif roll < 0.10:
            value = value.replace(b"{", b'{"note":"caf\\u00e9",', 1)  # native-shy, valid
        for _ in range(rng.choice([0, 0, 1, 3])):
            values.append(rng.choice([b'{"type":"order","id":1}', b'{"type":"quote"}',
                                      b'{"type":"",', b'{"type":"\xc3\xa9x"}']))
        values.append(value)
    messages = []
    for offset, value in enumerate(values):
        stamp_ms = KAFKA_TS_US // 1000 + offset * 20 - rng.choice([0, 0, 0, 0, 9_000])
        messages.append(Message(topic="trades", partition=0, offset=offset, value=value,
                                timestamp=(1, stamp_ms)))
    return messages


@pytest.mark.parametrize("seed", range(6))
def test_a_scanned_batch_leaves_what_python_would(seed: int) -> None:
    messages = chaotic_batch(seed)
    native, native_engine = run_batch(messages, native=True)
    python, python_engine = run_batch(messages, native=False)
    assert native == python
    assert native_engine.table.processed == python_engine.table.processed == len(messages)
    assert native.native_valid > 0.9 * native.valid  # the scanner did the common case
    kinds = set(native.by_offset.values())
    assert {"applied", "duplicate", "conflict", "late", "skipped", "missing_field",
            "future_timestamp"} <= kinds, kinds


def test_a_replayed_stretch_rebuilds_windows_and_reports_nothing() -> None:
    messages = chaotic_batch(7, count=400)
    replay_until = len(messages) // 2
    native, native_engine = run_batch(messages, native=True, replay_until=replay_until)
    python, python_engine = run_batch(messages, native=False, replay_until=replay_until)
    assert native == python
    assert min(native.by_offset) >= replay_until
    assert native_engine.table.processed == python_engine.table.processed == len(messages)


def test_messages_of_revoked_partitions_are_passed_over() -> None:
    messages = chaotic_batch(8, count=50)
    scanner = Scanner(Message, SKEW_US)
    assert scanner.scan(messages, 0, {}, 1.0) == (len(messages), 0, -1)
    assert scanner.drain() == (0, 0, {})
