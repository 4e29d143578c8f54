"""State of the previous build, through a real broker: restored, then written again.

The rollup state records of the build before hierarchical rollups (format 3, every partial
holding every closed 1 s candle of its window) restore as direct partials; the first
commit after the restore writes all of them again, as a snapshot in the current format,
and tombstones every old record, so that the next restart reads the current format only.
"""

from __future__ import annotations

import uuid

from prometheus_client import CollectorRegistry

from lambda_candles.settings import load_settings
from speed_layer.changelog import (
    PartitionState,
    Position,
    encode_position,
    position_key,
    state_record_key,
)
from speed_layer.clients import build_clients
from speed_layer.metrics import SpeedMetrics
from speed_layer.partition import PartitionRun
from speed_layer.writer import TransactionWriter
from tests.kafka_fixture import TopicFactory
from tests.speed_layer.test_native_candles import (
    committed_state,
    late_stream,
    read_fixture,
    revising_engine,
)


def test_the_first_commit_rewrites_state_of_the_previous_build(
        kafka_bootstrap: str, kafka_topic_factory: TopicFactory) -> None:
    old = read_fixture("rollup-state-v3.bin")  # committed_state(late_stream(11)[:800]), v3
    live, _ = committed_state(late_stream(11)[:800])
    settings = load_settings(
        kafka_bootstrap_servers=kafka_bootstrap, speed_instance_id=uuid.uuid4().hex[:8],
        topic_trades=kafka_topic_factory(1), topic_candles=kafka_topic_factory(1),
        topic_speed_state=kafka_topic_factory(1, config={"cleanup.policy": "compact"}))
    clients = build_clients(settings)
    try:
        producer = clients.producer
        producer.init_transactions(30)
        # the changelog as the previous build left it: its position and its records
        position = Position(800, live.watermark_us, live.max_ts_us, low_water=0)
        producer.begin_transaction()
        producer.produce(settings.topic_speed_state, encode_position(position),
                         position_key(0), partition=0)
        for number, record in enumerate(old, 1):
            producer.produce(settings.topic_speed_state, record, state_record_key(0, number),
                             partition=0)
        producer.commit_transaction(30)

        state = clients.restore([0])[0]  # read to the end, the commit markers included
        assert sorted(state.records) == list(range(1, len(old) + 1))
        restored = PartitionRun.restored(revising_engine(), state, now=0.0)
        assert restored.state_log.rewrite  # an older format: written again at the commit
        writer = TransactionWriter(producer, clients.consumer, settings,
                                   SpeedMetrics(CollectorRegistry()), None, sink=clients.sink)
        writer.begin()
        writer.commit({0: restored}, begin_next=False)
        assert not restored.state_log.rewrite

        again = clients.restore([0])[0]
    finally:
        clients.consumer.close()
    assert again.position == position
    assert again.records and min(again.records) > len(old)  # every old record tombstoned
    assert {record[0] for record in again.records.values()} == {4}
    second = PartitionRun.restored(revising_engine(), again, now=0.0)
    assert not second.state_log.rewrite
    assert second.engine.rollup_candles() == restored.engine.rollup_candles()
    assert second.engine.rollup_partials() > 0
    empty = PartitionRun.restored(revising_engine(), PartitionState(), now=0.0)
    assert not empty.state_log.rewrite
