"""A simulated chaos stream through the real broker and the speed layer."""

from __future__ import annotations

from collections import Counter

import orjson
import pytest

from candle_core.parsing import TradeParser
from candle_core.reasons import Reason
from candle_core.side_outputs import HEADER_REASON, decode_late, header
from candle_core.trade import Trade
from sources.chaos import ChaosRates
from sources.labels import Label
from sources.records import kafka_timestamp_ms
from sources.simulator import SimulationConfig, simulate_records
from tests.pipeline import Pipeline
from tests.speed_layer.test_speed_kafka import SPEED_ARGS, assert_exact, committed_candles

pytestmark = pytest.mark.kafka

CHAOS = ChaosRates(malformed=0.01, duplicate=0.01, conflict=0.005, out_of_order=0.03,
                   late=0.005, future=0.005)


@pytest.mark.parametrize("revision_horizon_ms", [0, None], ids=["no-revisions", "default"])
def test_chaos_stream_dead_letters_late_trades_and_duplicates(
        kafka_bootstrap: str, revision_horizon_ms: int | None) -> None:
    """Without revisions, late trades go to trades.late and the candles are the reference
    over the rest; with the default horizon the simulator's late trades (a few seconds
    late) revise their candles instead: nothing is late, and the latest revision of every
    candle is the reference over every valid trade."""
    env = {} if revision_horizon_ms is None else {
        "CANDLES_REVISION_HORIZON_MS": str(revision_horizon_ms)}
    pipeline = Pipeline(kafka_bootstrap, partitions=4, extra_env=env)
    pipeline.create_topics()
    settings = pipeline.settings
    config = SimulationConfig(trades=40_000, start_us=1_767_225_600_000_000, seed=9,
                              rate_per_s=200.0, chaos=CHAOS,
                              allowed_lateness_us=settings.allowed_lateness_us,
                              max_future_skew_us=settings.max_future_skew_us)
    pairs = simulate_records(config)
    pipeline.produce((r.key, r.value, kafka_timestamp_ms(r.timestamp_us)) for r, _ in pairs)
    result = pipeline.run(*SPEED_ARGS)
    assert result.returncode == 0, result.stderr[-3000:]

    # every rejected record is in the DLQ, untouched, with the reason the simulator injected
    dead = Counter((header(m.headers(), HEADER_REASON), m.value())
                   for m in pipeline.messages(settings.topic_dlq))
    injected = Counter((truth.reason.value, record.value) for record, truth in pairs
                       if truth.reason is not None and truth.label is not Label.CONFLICT)
    conflicts = Counter(key for key in dead if key[0] == Reason.CONFLICTING_DUPLICATE)
    assert dead - Counter({k: n for k, n in dead.items() if k in conflicts}) == injected
    expected_conflicts = sum(1 for _, truth in pairs if truth.label is Label.CONFLICT)
    assert sum(conflicts.values()) == expected_conflicts

    # late trades: only injected ones (a few at the very end find no traffic to close them)
    late = {(w["symbol"], w["trade_id"]) for w in
            (orjson.loads(bytes(decode_late(m.value() or b"").trade))
             for m in pipeline.messages(settings.topic_late))}
    injected_late = {trade_key(r.value) for r, t in pairs if t.label is Label.LATE}
    if revision_horizon_ms == 0:
        assert late <= injected_late | resent_keys(pairs)
        assert len(injected_late - late) <= 0.2 * len(injected_late)
    else:
        assert not late
        assert " them, 0 late," in result.stdout
        revised = [c for c in committed_candles(pipeline) if c.revision > 0]
        assert len(revised) >= len(injected_late) // 2, "the late trades revised few candles"

    # candles: the reference over valid trades that were not late; duplicates count once
    parser = TradeParser(settings.max_future_skew_us)
    valid = [t for t in (parser.parse(r.value, kafka_timestamp_ms(r.timestamp_us) * 1000)
                         for r, _ in pairs) if isinstance(t, Trade)]
    on_time = [t for t in valid if (t.symbol, t.trade_id) not in late]
    assert_exact(committed_candles(pipeline), on_time, settings.intervals_us)
    duplicates = sum(1 for _, t in pairs if t.label is Label.DUPLICATE)
    assert duplicates > 0
    assert f"{duplicates:,} duplicates" in result.stdout  # each counted, none applied twice


def trade_key(value: bytes) -> tuple[str, int]:
    wire = orjson.loads(value)
    return wire["symbol"], wire["trade_id"]


def resent_keys(pairs: list) -> set[tuple[str, int]]:  # type: ignore[type-arg]
    """Re-sends (duplicates) of late originals are late too."""
    return {trade_key(r.value) for r, t in pairs if t.label is Label.DUPLICATE}
