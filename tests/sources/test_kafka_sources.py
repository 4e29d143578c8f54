"""Sources through a real Kafka broker: what is produced is exactly what comes back.

The chaos test replays 100k simulated trades with every fault on and checks, message by
message, the verdicts of the contract's own validator (``TradeParser`` with the Kafka
timestamp, then ``candle_core.dedup`` in offset order) against the simulator's truth.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from confluent_kafka import TIMESTAMP_CREATE_TIME, Message

from candle_core.dedup import dedup
from candle_core.parsing import TradeParser
from candle_core.trade import Rejection, Trade
from kafka_ops.reading import read_topic
from kafka_ops.settings import KafkaSettings
from lambda_candles.commands.replay import replay
from lambda_candles.commands.simulate import simulate
from sources.chaos import ChaosRates
from sources.formats import open_records
from sources.labels import Label
from sources.records import kafka_timestamp_ms
from sources.simulator import SimulationConfig, simulate_records
from sources.simulator import simulate as simulate_batches
from sources.writers import open_writer
from tests.kafka_fixture import TopicFactory

pytestmark = pytest.mark.kafka

FIXTURES = Path(__file__).parent.parent / "fixtures"
START = "2024-01-01T00:00:00Z"
START_US = 1_704_067_200_000_000
SKEW_US = 5_000_000
PARSER = TradeParser(SKEW_US)
EVERYTHING = ChaosRates(malformed=0.02, duplicate=0.01, conflict=0.01, out_of_order=0.02,
                        late=0.01, future=0.01)
CONSUME_TIMEOUT_S = 120


def consume_all(bootstrap: str, topic: str, count: int) -> list[Message]:
    """Every message of ``topic`` (read_committed, from the start to its end), which must be
    ``count``. Read by assigning the partitions (``kafka_ops.reading.read_topic``), not by
    joining a consumer group: a group join that stalls on a loaded machine once left a
    subscribing reader with nothing for its whole timeout, the messages already written."""
    settings = KafkaSettings(kafka_bootstrap_servers=bootstrap)
    messages = list(read_topic(settings, topic, CONSUME_TIMEOUT_S))
    assert len(messages) == count
    return sorted(messages, key=lambda m: (m.partition(), m.offset()))


def _replay(bootstrap: str, topic: str, *args: str) -> None:
    result = CliRunner().invoke(replay, [*args, "--bootstrap-servers", bootstrap,
                                         "--topic", topic, "--quiet"])
    assert result.exit_code == 0, (result.output, result.exception)


def _value(message: Message) -> bytes:
    value = message.value()
    assert value is not None
    return value


def _kafka_us(message: Message) -> int:
    kind, stamp_ms = message.timestamp()
    assert kind == TIMESTAMP_CREATE_TIME
    return stamp_ms * 1_000


def test_chaos_replay_round_trip(
    kafka_bootstrap: str, kafka_topic_factory: TopicFactory, tmp_path: Path
) -> None:
    config = SimulationConfig(trades=100_000, start_us=START_US, seed=11, chaos=EVERYTHING,
                              max_future_skew_us=SKEW_US)
    pairs = simulate_records(config)
    path = tmp_path / "chaos.parquet"
    with open_writer(path) as writer:
        for batch in simulate_batches(config):
            writer.write(batch)
    topic = kafka_topic_factory(partitions=4)
    _replay(kafka_bootstrap, topic, str(path))
    messages = consume_all(kafka_bootstrap, topic, len(pairs))

    expected_rejections = Counter((truth.reason, record.value) for record, truth in pairs
                                  if truth.label in (Label.MALFORMED, Label.FUTURE))
    expected_kept = {}
    for record, truth in pairs:
        if truth.label in (Label.CLEAN, Label.OUT_OF_ORDER, Label.LATE):
            trade = PARSER.parse(record.value)
            assert isinstance(trade, Trade)
            expected_kept[(trade.symbol, trade.trade_id)] = trade

    rejections: Counter[tuple[str | None, bytes]] = Counter()
    trades: list[Trade] = []
    sent = {record.value: record for record, _ in pairs}
    for message in messages:
        value = _value(message)
        assert message.key() == sent[value].key
        verdict = PARSER.parse(value, kafka_ts_us=_kafka_us(message))
        if isinstance(verdict, Rejection):
            rejections[(verdict.reason, value)] += 1
        else:
            trades.append(verdict)
    assert rejections == expected_rejections
    kept, duplicates, conflicts = dedup(trades)  # per key, offset order = send order
    assert {(t.symbol, t.trade_id): t for t in kept} == expected_kept
    assert len(kept) == len(expected_kept)
    labels = Counter(truth.label for _, truth in pairs)
    assert len(duplicates) == labels[Label.DUPLICATE] > 0
    assert len(conflicts) == labels[Label.CONFLICT] > 0


def test_simulate_to_kafka_matches_the_file(
    kafka_bootstrap: str, kafka_topic_factory: TopicFactory, tmp_path: Path
) -> None:
    topic = kafka_topic_factory(partitions=2)
    common = ["-n", "5000", "--start", START, "--seed", "3", "--chaos", "--quiet"]
    out = tmp_path / "sim.parquet"
    runner = CliRunner()
    assert runner.invoke(simulate, [*common, "--out", str(out)]).exit_code == 0
    result = runner.invoke(simulate, [*common, "--to-kafka", "--bootstrap-servers",
                                      kafka_bootstrap, "--topic", topic])
    assert result.exit_code == 0, (result.output, result.exception)
    records = list(open_records(out))
    messages = consume_all(kafka_bootstrap, topic, len(records))
    got = Counter((m.key(), m.value(), m.timestamp()[1]) for m in messages)
    assert got == Counter((r.key, r.value, kafka_timestamp_ms(r.timestamp_us))
                          for r in records)


@pytest.mark.parametrize(
    ("fixture", "extra"),
    [("WDC_tickbidask.txt", []),
     ("BTCUSDT-trades-2024-01-01.csv", ["--symbol", "BTCUSDT"]),
     ("ETHUSDT-trades-2025-03-01.csv", ["--symbol", "ETHUSDT", "--passes", "2"])],
)
def test_replay_exchange_files(
    kafka_bootstrap: str, kafka_topic_factory: TopicFactory, fixture: str, extra: list[str]
) -> None:
    topic = kafka_topic_factory(partitions=1)
    _replay(kafka_bootstrap, topic, str(FIXTURES / fixture), *extra)
    symbol = extra[1] if extra else None
    expected = [PARSER.parse(r.value) for r in open_records(FIXTURES / fixture, symbol=symbol)]
    passes = 2 if "--passes" in extra else 1
    messages = consume_all(kafka_bootstrap, topic, passes * len(expected))
    trades = [PARSER.parse(_value(m), kafka_ts_us=_kafka_us(m)) for m in messages]
    assert all(isinstance(t, Trade) for t in trades)
    assert trades[: len(expected)] == expected  # one partition: file order
    for message, trade in zip(messages, trades, strict=True):
        assert isinstance(trade, Trade)
        assert message.key() == trade.symbol.encode()
        assert message.timestamp()[1] == kafka_timestamp_ms(trade.ts_us)
    ids = [t.trade_id for t in trades if isinstance(t, Trade)]
    assert len(set(ids)) == len(ids)  # the second pass has its own ids
