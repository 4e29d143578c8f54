"""Every injected fault gets exactly the verdict the simulator promises.

The validator here is the contract's own: ``TradeParser`` (with each message's Kafka
timestamp), ``candle_core.dedup`` for duplicates and conflicts, and a watermark for
lateness (max event time seen - allowed lateness, as docs/speed-layer.md defines it).
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from candle_core.dedup import Verdict, judge
from candle_core.parsing import TradeParser
from candle_core.reasons import Reason
from candle_core.trade import Trade
from candle_core.windows import window_end
from sources.chaos import CHAOS_PRESET, ChaosRates
from sources.exceptions import SourceOptionError
from sources.hostile import KINDS
from sources.labels import PARSER_VALID, Label, Truth
from sources.malformed import FAULTS, MALFORMED_KINDS, corrupt
from sources.records import Record, kafka_timestamp_ms
from sources.simulator import SimulationConfig, simulate_records

START_US = 1_704_067_200_000_000
LATENESS_US = 2_000_000
SKEW_US = 5_000_000
PARSER = TradeParser(SKEW_US)
EVERYTHING = ChaosRates(malformed=0.04, duplicate=0.03, conflict=0.03, out_of_order=0.05,
                        late=0.02, future=0.02)
WIRE: dict[str, object] = {
    "symbol": "BTCUSDT", "trade_id": 17, "ts": START_US, "price": "97000.01",
    "size": "0.25", "venue": "binance", "side": "buy", "recv_ts": START_US + 3_000,
}


def _kafka_us(record: Record) -> int:
    return kafka_timestamp_ms(record.timestamp_us) * 1_000


@pytest.fixture(scope="module")
def stream() -> list[tuple[Record, Truth]]:
    config = SimulationConfig(trades=60_000, start_us=START_US, seed=3, chaos=EVERYTHING,
                              allowed_lateness_us=LATENESS_US, max_future_skew_us=SKEW_US)
    return simulate_records(config)


@pytest.mark.parametrize("kind", MALFORMED_KINDS, ids=str)
def test_every_variant_of_every_fault_gets_its_reason(kind: Reason) -> None:
    # 200 draws reach every variant of the kind (at most 6 per kind).
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(200):
        value = corrupt(WIRE, kind, rng)
        seen.add(value)
        verdict = PARSER.parse(value, kafka_ts_us=START_US + 3_000)
        assert getattr(verdict, "reason", None) == kind, (value, verdict)
        assert b"\n" not in value
    assert len(seen) >= 2 or kind is Reason.MALFORMED_JSON


def test_fault_table_covers_every_parser_reason() -> None:
    """Every reason the parser gives is injected by the chaos simulator, or (for the
    attacks on the decoder itself) by the hostile corpus; the rest are not the parser's."""
    not_from_parser = {Reason.FUTURE_TIMESTAMP, Reason.CONFLICTING_DUPLICATE,
                       Reason.INTERNAL_ERROR}
    hostile_only = {kind.reason for kind in KINDS} - set(FAULTS)
    assert hostile_only == {Reason.TOO_LARGE, Reason.TOO_DEEP, Reason.DUPLICATE_KEY,
                            Reason.BAD_VENUE}
    assert set(FAULTS) | hostile_only == set(Reason) - not_from_parser


def test_parser_gives_every_record_its_expected_reason(
    stream: list[tuple[Record, Truth]],
) -> None:
    kinds: Counter[Reason] = Counter()
    for record, truth in stream:
        verdict = PARSER.parse(record.value, kafka_ts_us=_kafka_us(record))
        if truth.label in PARSER_VALID:
            assert isinstance(verdict, Trade), (record, truth, verdict)
        else:
            assert getattr(verdict, "reason", None) == truth.reason, (record, truth, verdict)
            kinds[truth.reason] += 1  # type: ignore[index]
    assert set(kinds) == set(MALFORMED_KINDS) | {Reason.FUTURE_TIMESTAMP}


def test_duplicates_and_conflicts_follow_their_original(
    stream: list[tuple[Record, Truth]],
) -> None:
    first: dict[tuple[str, int], tuple[Trade, bytes]] = {}
    for record, truth in stream:
        trade = PARSER.parse(record.value, kafka_ts_us=_kafka_us(record))
        if not isinstance(trade, Trade):
            continue
        key = (trade.symbol, trade.trade_id)
        original = first.get(key)
        verdict = judge(original[0] if original else None, trade)
        expected = {Label.DUPLICATE: Verdict.DUPLICATE, Label.CONFLICT: Verdict.CONFLICT}
        assert verdict == expected.get(truth.label, Verdict.FIRST), (record, truth)
        if truth.label is Label.DUPLICATE:
            assert original is not None and original[1] == record.value  # same bytes
        first.setdefault(key, (trade, record.value))


def test_lateness_labels_match_a_watermark(stream: list[tuple[Record, Truth]]) -> None:
    """One watermark over all symbols (the highest any partition can have): a record
    labelled on time must be on time even here; a late one must be late here, unless it
    arrives after the traffic has ended (then nothing closes its window before it)."""
    traffic_end_us = max(r.timestamp_us for r, t in stream if t.label is Label.CLEAN)
    max_ts_us, late = 0, 0
    for record, truth in stream:
        trade = PARSER.parse(record.value, kafka_ts_us=_kafka_us(record))
        if not isinstance(trade, Trade):
            continue
        closed = window_end(trade.ts_us, 1_000_000) <= max_ts_us - LATENESS_US
        if truth.label is not Label.LATE:
            assert not closed, (record, truth)
        elif record.timestamp_us <= traffic_end_us:
            assert closed, (record, truth)
            late += 1
        max_ts_us = max(max_ts_us, trade.ts_us)
    assert late > 0.7 * sum(t.label is Label.LATE for _, t in stream)  # the rest: after the end


def test_rates_are_roughly_honoured(stream: list[tuple[Record, Truth]]) -> None:
    counts = Counter(truth.label for _, truth in stream)
    base = 60_000
    for label, rate in ((Label.MALFORMED, EVERYTHING.malformed),
                        (Label.OUT_OF_ORDER, EVERYTHING.out_of_order),
                        (Label.LATE, EVERYTHING.late), (Label.FUTURE, EVERYTHING.future)):
        assert abs(counts[label] / base - rate) < 0.2 * rate, label
    clean = counts[Label.CLEAN]  # re-sends are drawn from clean trades
    for label, rate in ((Label.DUPLICATE, EVERYTHING.duplicate),
                        (Label.CONFLICT, EVERYTHING.conflict)):
        assert abs(counts[label] / clean - rate) < 0.2 * rate, label


def test_out_of_order_records_really_are_out_of_order(
    stream: list[tuple[Record, Truth]],
) -> None:
    max_ts_us, overtaken = 0, 0
    for record, truth in stream:
        trade = PARSER.parse(record.value, kafka_ts_us=_kafka_us(record))
        if isinstance(trade, Trade):
            overtaken += truth.label is Label.OUT_OF_ORDER and trade.ts_us < max_ts_us
            max_ts_us = max(max_ts_us, trade.ts_us)
    assert overtaken > 0.9 * sum(t.label is Label.OUT_OF_ORDER for _, t in stream)


@pytest.mark.parametrize(
    ("rates", "flag"),
    [
        ({"malformed": 1.5}, "--malformed-rate"),  # above 1
        ({"late": -0.1}, "--late-rate"),  # below 0
        ({"malformed": 0.6, "future": 0.6}, "--malformed/out-of-order/late/future-rate"),
    ],
)
def test_bad_rates_name_the_flag(rates: dict[str, float], flag: str) -> None:
    with pytest.raises(SourceOptionError) as error:
        ChaosRates(**rates)
    assert error.value.option == flag


def test_out_of_order_needs_room_below_the_lateness() -> None:
    config = SimulationConfig(trades=10, start_us=START_US, chaos=CHAOS_PRESET,
                              allowed_lateness_us=0)
    with pytest.raises(SourceOptionError, match="allowed lateness"):
        simulate_records(config)
