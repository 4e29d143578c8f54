"""The native hot path (speed_layer/native/) against the contract's Python code.

The scanner may only handle what it handles exactly as the Python path would: its parser
accepts a strict subset of values and must give the identical trade for each; anything
else goes back to Python. Its fold must equal CandleBuilder to the last unit, beyond 128
bits. A batch run through the real processor (``SpeedLayer._process``) with the scanner
must produce the same records, counts and positions as the same batch with every message
handed to the processor's Python path. Its limits come from candle_core: a changed bound
reaches it, and an unknown one stops it from being built.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import msgspec
import orjson
import pytest
from confluent_kafka import Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from candle_core.candle import Candle, CandleBuilder
from candle_core.fixed_point import MAX_PRICE_INT, MAX_SIZE_INT, format_fixed
from candle_core.parsing import MAX_TS_US, TradeParser, native_dead_letters, native_limits
from candle_core.trade import Trade
from kafka_ops.liveness import Heartbeat
from lambda_candles.settings import load_settings
from sources.records import encode_wire, trade_record
from speed_layer._hotpath import SLOW, Cursor, Scanner, WindowTable
from speed_layer.changelog import PartitionState
from speed_layer.engine import PartitionEngine
from speed_layer.metrics import SpeedMetrics
from speed_layer.partition import PartitionRun
from speed_layer.processor import SpeedLayer
from tests.speed_layer.memory_kafka import MemoryKafka, memory_clients

if TYPE_CHECKING:
    from speed_layer._hotpath import DeadLetter

SKEW_US = 5_000_000
KAFKA_TS_US = 1_700_000_000_000_000
PARSER = TradeParser(SKEW_US)
SCANNER = Scanner(Message, native_limits(SKEW_US), native_dead_letters())
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


def test_every_trade_of_a_symbol_shares_one_str_on_a_market_of_many_symbols() -> None:
    """The parser's str cache grows with the market: with 20,000 symbols (a fixed 4,096
    slots held a fifth of them), a symbol's trades still share one str, so the window
    index compares pointers, not text, and no trade allocates its symbol again."""
    scanner = Scanner(Message, native_limits(SKEW_US), native_dead_letters())
    symbols = [f"S{n:05d}" for n in range(20_000)]

    def parsed_symbols() -> list[str]:
        found = []
        for n, symbol in enumerate(symbols):
            trade = Trade(symbol, n, KAFKA_TS_US, 100_000_000, 1, None, None)
            parsed = scanner.parse(trade_record(trade).value, KAFKA_TS_US)
            assert parsed is not None and parsed[0] == symbol
            found.append(parsed[0])
        return found

    first, again = parsed_symbols(), parsed_symbols()
    assert sum(a is b for a, b in zip(first, again, strict=True)) == len(symbols)


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
    table = WindowTable(S, 0)
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
    table = WindowTable(S, 0)
    for offset, trade in enumerate(trades):
        table.add(*trade, offset)
    candle = fold_candle(table)
    assert candle.notional == count * MAX_PRICE_INT * MAX_SIZE_INT + 3 > 2**128
    assert candle.volume == count * MAX_SIZE_INT + 3 > 2**64
    assert candle == builder_candle(trades)


# ---- the scanner over a batch, through the real processor -------------------------------

class PythonPathOnly:
    """A scanner that hands every message to the processor's Python path."""

    def scan(self, messages: list[Message], start: int, cursors: dict[int, Cursor],
             now: float) -> tuple[int, int, int]:
        return start, SLOW, -1

    def drain(self) -> tuple[int, int, dict[str, int], dict[str, int]]:
        return 0, 0, {}, {}

    def take_rejects(self) -> None:
        return None


@dataclass
class CountingScanner:
    """The real scanner, counting what it applied itself."""

    scanner: Scanner
    native_valid: int = 0
    native_dead: int = 0

    def scan(self, messages: list[Message], start: int, cursors: dict[int, Cursor],
             now: float) -> tuple[int, int, int]:
        return self.scanner.scan(messages, start, cursors, now)

    def drain(self) -> tuple[int, int, dict[str, int], dict[str, int]]:
        consumed, valid, skipped, dead = self.scanner.drain()
        self.native_valid += valid
        self.native_dead += sum(dead.values())
        return consumed, valid, skipped, dead

    def take_rejects(self) -> list[DeadLetter] | None:
        return self.scanner.take_rejects()


@dataclass
class Outcomes:
    """What the processor produced for a batch, and what it counted."""

    produced: list[tuple[str, bytes | None, tuple[tuple[str, bytes], ...]]]
    summary: dict[str, object]
    position: int | None
    native_valid: int = field(default=0, compare=False)
    native_dead: int = field(default=0, compare=False)


def run_batch(messages: list[Message], native: bool, replay_until: int | None = None,
              revision_horizon_ms: int = 0) -> Outcomes:
    """``SpeedLayer._process`` over one batch of partition 0, then the end-of-input flush.
    With revisions, late trades (1.5 s late in these batches) revise their candles."""
    config = load_settings(intervals=("1s", "10s", "1m"), allowed_lateness_ms=2_000,
                           max_future_skew_ms=SKEW_US // 1000,
                           dedup_horizon_ms=6_000 if revision_horizon_ms else 0,
                           revision_horizon_ms=revision_horizon_ms,
                           kafka_bootstrap_servers="memory:0")
    kafka = MemoryKafka(1)
    clients = memory_clients(kafka, config.topic_speed_state, random.Random(0), 10)
    layer = SpeedLayer(config, clients, SpeedMetrics(CollectorRegistry()), Heartbeat(60.0))
    counting = CountingScanner(layer.scanner)
    layer.scanner = counting if native else PythonPathOnly()  # type: ignore[assignment]
    engine = PartitionEngine(config.intervals_us, config.allowed_lateness_us,
                             config.dedup_horizon_us, config.revision_horizon_us)
    run = PartitionRun.restored(engine, PartitionState(), 1.0)
    run.cursor.replay_until = replay_until
    layer.partitions[0] = run
    layer.writer.begin()  # as run() does: everything is produced inside a transaction
    layer._process(messages, 1.0)
    layer._flush_all()
    produced = [(topic, record.value, tuple(record.headers or ()))
                for topic, _, record in clients.producer.pending]
    summary = dict(layer.summary.__dict__)
    return Outcomes(produced, summary, run.position, counting.native_valid,
                    counting.native_dead)


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


@pytest.mark.parametrize("revision_horizon_ms", [0, 4_000], ids=["no-revisions", "revisions"])
@pytest.mark.parametrize("seed", range(6))
def test_a_scanned_batch_leaves_what_python_would(seed: int, revision_horizon_ms: int) -> None:
    messages = chaotic_batch(seed)
    native = run_batch(messages, native=True, revision_horizon_ms=revision_horizon_ms)
    python = run_batch(messages, native=False, revision_horizon_ms=revision_horizon_ms)
    assert native == python
    assert native.position == python.position == len(messages)
    # the common case is native; a late trade that revises takes Python's path by design
    on_time = int(str(native.summary["valid"])) - int(str(native.summary["revising"]))
    assert native.native_valid > 0.9 * on_time
    assert native.native_dead > 0  # future-stamped trades dead-lettered natively, identically
    reasons = {dict(headers).get("candles.reason") for topic, _, headers in native.produced
               if topic == "trades.dlq"}
    assert {b"missing_field", b"future_timestamp", b"conflicting_duplicate"} <= reasons
    topics = {topic for topic, _, _ in native.produced}
    assert {"candles", "trades.dlq"} <= topics
    assert ("trades.late" in topics) == (not revision_horizon_ms)
    revisions = [value for topic, value, _ in native.produced
                 if topic == "candles" and b'"revision":' in value]
    assert bool(revisions) == bool(revision_horizon_ms)
    assert int(str(native.summary["duplicates"])) > 0


@pytest.mark.parametrize("revision_horizon_ms", [0, 4_000], ids=["no-revisions", "revisions"])
def test_a_replayed_stretch_rebuilds_windows_and_reports_nothing(
        revision_horizon_ms: int) -> None:
    messages = chaotic_batch(7, count=400)
    replay_until = len(messages) // 2
    native = run_batch(messages, native=True, replay_until=replay_until,
                       revision_horizon_ms=revision_horizon_ms)
    python = run_batch(messages, native=False, replay_until=replay_until,
                       revision_horizon_ms=revision_horizon_ms)
    assert native == python
    assert native.position == len(messages)
    offsets = [int(dict(headers)["candles.source.offset"]) for topic, _, headers in
               native.produced if topic == "trades.dlq"]
    assert offsets and min(offsets) >= replay_until


def test_messages_of_revoked_partitions_are_passed_over() -> None:
    messages = chaotic_batch(8, count=50)
    scanner = Scanner(Message, native_limits(SKEW_US), native_dead_letters())
    assert scanner.scan(messages, 0, {}, 1.0) == (len(messages), 0, -1)
    assert scanner.drain() == (0, 0, {}, {})


# ---- one definition of the contract ----------------------------------------------------

def test_a_changed_bound_in_candle_core_reaches_the_native_parser(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The native parser is built from candle_core's constants: lower the price bound
    there and a price the old bound allowed is no longer native (Python rejects it)."""
    import candle_core.parsing as parsing

    def native(value: bytes) -> object:
        scanner = Scanner(Message, native_limits(SKEW_US), native_dead_letters())
        return scanner.parse(value, KAFKA_TS_US)

    value = trade_record(Trade("BTCUSDT", 1, KAFKA_TS_US, 5 * 10**8, 10**8)).value
    assert native(value) is not None
    monkeypatch.setattr(parsing, "MAX_PRICE_INT", 4 * 10**8)
    assert native(value) is None
    monkeypatch.setattr(parsing, "SYMBOL_REST_CHARS", parsing.SYMBOL_FIRST_CHARS)
    assert native(trade_record(Trade("BRK.A", 1, KAFKA_TS_US, 10**8, 10**8)).value) is None


def test_an_unknown_or_impossible_limit_stops_the_native_path() -> None:
    limits = native_limits(SKEW_US)
    with pytest.raises(ValueError, match="without teaching"):
        Scanner(Message, {**limits, "max_notional": 1}, native_dead_letters())
    with pytest.raises(ValueError, match="max_trade_id"):
        Scanner(Message, {k: v for k, v in limits.items() if k != "max_trade_id"}
                | {"extra": 1}, native_dead_letters())
    with pytest.raises(ValueError, match="max_whole_digits"):
        Scanner(Message, {**limits, "max_whole_digits": 12},  # 12 + 8 digits > 64 bits
                native_dead_letters())
