"""The hostile corpus against every parser: each value gets its reason, none is native,
none raises, and the parser's work on each is bounded (no decoder recursion)."""

from __future__ import annotations

import random

import pytest
from confluent_kafka import Message

from candle_core.parsing import (
    MAX_JSON_DEPTH,
    TradeParser,
    json_depth,
    native_dead_letters,
    native_limits,
)
from candle_core.trade import Rejection, Trade
from sources.feed.wire import decode_envelope, encode_envelope
from sources.hostile import KINDS, HostileKind, hostile_values
from sources.records import Record, probe
from speed_layer._hotpath import Scanner

KAFKA_TS_US = 1_767_225_600_000_000
PARSER = TradeParser(5_000_000)
SCANNER = Scanner(Message, native_limits(5_000_000), native_dead_letters())
TRADE = Trade("BTCUSDT", 42, KAFKA_TS_US, 3_701_250_000_000, 1_250_000, "binance", "buy")


def test_the_corpus_has_at_least_fifty_kinds_with_distinct_names() -> None:
    names = [kind.name for kind in KINDS]
    assert len(set(names)) == len(names) >= 50


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
def test_each_kind_gets_its_reason_and_never_the_native_path(kind: HostileKind) -> None:
    for seed in range(3):
        value = kind.build(TRADE, random.Random(seed))
        verdict = PARSER.parse(value, KAFKA_TS_US)
        assert isinstance(verdict, Rejection), (kind.name, verdict)
        assert verdict.reason == kind.reason, (kind.name, verdict)
        assert len(verdict.detail) < 2_000  # a header, not a copy of the value
        assert SCANNER.parse(value, KAFKA_TS_US) is None


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
def test_replay_and_feed_readers_carry_each_value_unharmed(kind: HostileKind) -> None:
    """The replay's key probe and the HTTP feed's envelope never raise on a value, and
    the feed's envelope gives the ingest the value byte for byte."""
    value = kind.build(TRADE, random.Random(0))
    probe(value)
    line = encode_envelope(7, 1, Record(b"BTCUSDT", value, KAFKA_TS_US))
    assert json_depth(line) <= MAX_JSON_DEPTH + 1
    assert decode_envelope(line).value() == value


def test_the_corpus_cycles_every_kind_and_caps_the_large_ones() -> None:
    trades = [TRADE._replace(trade_id=i) for i in range(100)]
    values = list(hostile_values(trades, 1_000, seed=1, max_large_each=2))
    assert len(values) == 1_000
    kinds = {kind.name for kind, _ in values}
    assert kinds == {kind.name for kind in KINDS}
    large = [kind for kind, _ in values if kind.large]
    assert len(large) == 2 * sum(kind.large for kind in KINDS)
