"""Replay logic without a broker: pacing maths, loop passes, stop requests."""

from __future__ import annotations

import threading
from collections import defaultdict
from pathlib import Path

import pytest

from candle_core.fixed_point import MAX_PRICE_INT
from candle_core.parsing import TradeParser
from candle_core.trade import Rejection, Trade
from sources.chaos import ChaosRates
from sources.loop import DRIFT_MAX_BP, LoopPlan, drift_bp, drifted_price, plan_loop, shift_record
from sources.pacing import Pace, Pacer
from sources.records import Record
from sources.replay import replay
from sources.simulator import SimulationConfig, simulate_records

START_US = 1_704_067_200_000_000
PARSER = TradeParser(max_future_skew_us=5_000_000)


class ListSink:
    """A sink that keeps what it is sent (pure logic tests; Kafka is in test_kafka_*)."""

    def __init__(self) -> None:
        self.records: list[Record] = []

    def send(self, record: Record) -> None:
        self.records.append(record)


class FakeClock:
    """A monotonic clock that moves only when the pacer sleeps."""

    def __init__(self) -> None:
        self.now_s = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now_s

    def sleep(self, seconds: float) -> bool:
        self.slept.append(round(seconds, 6))
        self.now_s += seconds
        return False  # not interrupted


# ---- pacing --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("pace", "index", "ts_us", "due_s"),
    [
        (Pace(), 5, START_US + 9_000_000, 0.0),  # --rate max: always due
        (Pace(speed=1.0), 1, START_US + 2_500_000, 2.5),  # real time
        (Pace(speed=10.0), 1, START_US + 2_500_000, 0.25),  # 10x
        (Pace(speed=1.0), 3, START_US - 1_000_000, 0.0),  # timestamp went back: at once
        (Pace(max_rate=100.0), 50, START_US, 0.5),  # 100 msgs/s
        (Pace(speed=1.0, max_rate=100.0), 50, START_US + 100_000, 0.5),  # rate is later
        (Pace(speed=1.0, max_rate=100.0), 50, START_US + 900_000, 0.9),  # time is later
    ],
)
def test_due_time(pace: Pace, index: int, ts_us: int, due_s: float) -> None:
    assert pace.due_s(index, ts_us, START_US) == pytest.approx(due_s)


def test_pacer_sleeps_only_until_due() -> None:
    clock = FakeClock()
    pacer = Pacer(Pace(speed=2.0), sleep=clock.sleep, clock=clock)
    for offset_us in (0, 1_000_000, 1_000_000, 3_000_000, 3_000_500):
        assert pacer.wait(START_US + offset_us)
    assert clock.slept == [0.5, 1.0]  # 0.25 ms ahead is not worth a sleep


def test_pacer_reports_an_interrupted_sleep() -> None:
    pacer = Pacer(Pace(speed=1.0), sleep=lambda _s: True, clock=lambda: 0.0)
    assert pacer.wait(START_US)  # the first message is due at once
    assert not pacer.wait(START_US + 10_000_000)


# ---- loop passes ---------------------------------------------------------------------
def _stream() -> list[Record]:
    chaos = ChaosRates(0.05, 0.02, 0.02, 0.02, 0.02, 0.02)
    config = SimulationConfig(trades=3_000, start_us=START_US, chaos=chaos)
    return [record for record, _ in simulate_records(config)]


def test_plan_spans_whole_minutes_and_ids() -> None:
    records = [Record(b"A", b'{"symbol":"A","trade_id":7,"ts":10,"price":1,"size":1}', 20),
               Record(b"A", b'{"symbol":"A","trade_id":9,"ts":61000010,"price":1,"size":1}',
                      61_000_030),
               Record(b"", b"not json", 5)]
    assert plan_loop(records) == LoopPlan(shift_us=120_000_000, id_span=3)


def test_drift_is_a_bounded_triangle() -> None:
    assert [drift_bp(k) for k in (0, 1, DRIFT_MAX_BP, DRIFT_MAX_BP + 1, 2 * DRIFT_MAX_BP)] == [
        0, 1, DRIFT_MAX_BP, DRIFT_MAX_BP - 1, 0]
    assert drifted_price(10**8, 1) == 100_010_000  # 1 * 1.0001
    assert drifted_price(5, 1) == 5  # 5.0005 rounds half up to 5
    assert drifted_price(15_000, 1) == 15_002  # 15001.5 -> 15002 (half up)
    assert drifted_price(MAX_PRICE_INT, 1) == MAX_PRICE_INT  # would pass the maximum


def test_passes_shift_time_ids_and_price_and_keep_faults() -> None:
    records = _stream()
    plan = plan_loop(records)
    assert plan.shift_us % 60_000_000 == 0
    for pass_no in (1, 2, 37):
        for original, shifted in zip(records, (shift_record(r, pass_no, plan) for r in records),
                                     strict=True):
            assert shifted.timestamp_us == original.timestamp_us + pass_no * plan.shift_us
            before, after = PARSER.parse(original.value), PARSER.parse(shifted.value)
            if isinstance(before, Rejection):
                assert shifted.value == original.value  # malformed: unchanged bytes
                continue
            assert isinstance(after, Trade)
            assert after.ts_us == before.ts_us + pass_no * plan.shift_us
            assert after.trade_id == before.trade_id + pass_no * plan.id_span
            assert after.price == drifted_price(before.price, pass_no)
            assert after.size == before.size
            assert (b'"price":"' in original.value) == (b'"price":"' in shifted.value)


def test_replayed_passes_keep_ids_unique_and_verdicts() -> None:
    records = _stream()
    sink = ListSink()
    run = replay(lambda: records, sink, Pacer(Pace(), sleep=lambda _s: False),
                 threading.Event(), passes=3, plan=plan_loop(records))
    assert run.sent == 3 * len(records) and run.passes == 3 and not run.stopped
    verdicts: dict[tuple[str, int], set[bytes]] = defaultdict(set)
    for record in sink.records:
        verdict = PARSER.parse(record.value, kafka_ts_us=record.timestamp_us)
        if isinstance(verdict, Trade):
            verdicts[(verdict.symbol, verdict.trade_id)].add(record.value)
    first = {(t.symbol, t.trade_id) for r in records
             if isinstance(t := PARSER.parse(r.value, kafka_ts_us=r.timestamp_us), Trade)}
    assert len(verdicts) == 3 * len(first)  # every pass has its own ids
    rejected = [PARSER.parse(r.value, kafka_ts_us=r.timestamp_us) for r in sink.records]
    reasons = [v.reason for v in rejected if isinstance(v, Rejection)]
    once = [v.reason for r in records
            if isinstance(v := PARSER.parse(r.value, kafka_ts_us=r.timestamp_us), Rejection)]
    assert sorted(reasons) == sorted(once * 3)  # faults stay faults, future stays future


def test_stop_ends_between_messages() -> None:
    records = _stream()
    stop, sink = threading.Event(), ListSink()

    class StopAfter(ListSink):
        def send(self, record: Record) -> None:
            super().send(record)
            if len(self.records) == 10:
                stop.set()

    sink = StopAfter()
    run = replay(lambda: records, sink, Pacer(Pace(), sleep=lambda _s: False), stop,
                 passes=None, plan=plan_loop(records))
    assert run.stopped and run.sent == 10 and len(sink.records) == 10


def test_progress_is_reported_in_batches_and_at_the_end(tmp_path: Path) -> None:
    records = _stream()
    seen: list[int] = []
    replay(lambda: records, ListSink(), Pacer(Pace(), sleep=lambda _s: False),
           threading.Event(), on_sent=seen.append)
    assert sum(seen) == len(records) and len(seen) <= len(records) // 1_000 + 1
