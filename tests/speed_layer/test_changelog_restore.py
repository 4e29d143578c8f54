"""Reading the changelog back while a transaction on it is still open (a real broker).

On a rebalance the previous owner of a partition commits as it gives it up, and the next
owner restores at once. Its read_committed reader stops at the last stable offset, which
passes that commit only once the commit's markers are written: the restore must read to
the high watermark, or it would start from the commit before and emit that commit's
candles again.
"""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from confluent_kafka import Producer

from kafka_ops.clients import consumer_config, producer_config
from lambda_candles.settings import load_settings
from speed_layer.changelog import Position, encode_position, position_key, restore
from tests.kafka_fixture import TopicFactory

HELD_S = 1.5  # how long the transaction stays open while the restore reads


@pytest.mark.parametrize("ending", ["commit", "abort"])
def test_a_restore_reads_past_a_transaction_still_open(
        kafka_bootstrap: str, kafka_topic_factory: TopicFactory, ending: str) -> None:
    settings = load_settings(kafka_bootstrap_servers=kafka_bootstrap,
                             topic_speed_state=kafka_topic_factory(
                                 2, config={"cleanup.policy": "compact"}))
    topic = settings.topic_speed_state
    producer = Producer(producer_config(settings, None, **{
        "transactional.id": f"restore-test-{uuid.uuid4().hex[:8]}"}))
    producer.init_transactions(30)
    committed, pending = Position(100, 5, 7, 90), Position(200, 15, 17, 190)
    producer.begin_transaction()
    producer.produce(topic, encode_position(committed), position_key(0), partition=0)
    producer.commit_transaction(30)
    producer.begin_transaction()
    producer.produce(topic, encode_position(pending), position_key(0), partition=0)
    producer.flush(30)  # written, not yet committed or aborted

    def end_it() -> None:
        time.sleep(HELD_S)
        getattr(producer, f"{ending}_transaction")(30)

    ender = threading.Thread(target=end_it)
    began = time.monotonic()
    ender.start()
    states = restore(consumer_config(settings, "unused-restore-reader"), topic, [0, 1])
    took = time.monotonic() - began
    ender.join()
    assert took >= HELD_S  # it waited for the transaction to end
    assert states[0].position == (pending if ending == "commit" else committed)
    assert states[1].position is None  # an empty partition ends at once
