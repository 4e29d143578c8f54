"""The archive sinks the speed layer's ``candles`` topic, read_committed: aborted candles
never reach ``candles/source=speed/``, undecodable values go to ``invalid/``, and every
revision of a candle is archived with its number."""

from __future__ import annotations

import dataclasses
import time
import uuid
from pathlib import Path

import pytest
from confluent_kafka import Producer

from candle_core.candle import Candle
from candle_core.codec import candle_message_key, candles_from_table, encode_candle
from candle_core.reference import candles_from_trades
from storage.local import LocalStore
from storage.speed_candles import read_latest_speed_candles
from tests.pipeline import Pipeline
from tests.storage.archive_helpers import ChaosStream, archive_env, read_prefix
from tests.storage.revision_stream import DATE, REVISED_1S, candle_records, revised_stream

pytestmark = pytest.mark.kafka


def produce_in_transactions(pipeline: Pipeline, committed: list[Candle],
                            aborted: list[Candle], bad: bytes) -> None:
    topic = pipeline.settings.topic_candles
    producer = Producer({"bootstrap.servers": pipeline.bootstrap,
                         "transactional.id": f"test-{uuid.uuid4().hex[:8]}",
                         "partitioner": "murmur2_random"})
    producer.init_transactions(30)
    half = len(committed) // 2
    for batch, commit in ((committed[:half], True), (aborted, False),
                          (committed[half:], True)):
        producer.begin_transaction()
        for candle in batch:
            producer.produce(topic, encode_candle(candle), candle_message_key(
                candle.symbol, candle.interval_us, candle.window_start_us))
        producer.produce(topic, bad, b"BAD")  # one undecodable value per transaction
        if commit:
            producer.commit_transaction(30)
        else:
            # Deliver first, so the aborted records really sit in the log (and the abort
            # does not race the partitions' registration with the transaction).
            assert producer.flush(30) == 0
            producer.abort_transaction(30)

def test_speed_candles_archived_read_committed(kafka_bootstrap: str, stream: ChaosStream,
                                               tmp_path: Path) -> None:
    pipeline = Pipeline(kafka_bootstrap, partitions=2)
    pipeline.create_topics()
    candles = candles_from_trades(stream.trades[:4000], pipeline.settings.intervals_us)
    aborted = [dataclasses.replace(c, symbol="ABORTED") for c in candles[:50]]
    produce_in_transactions(pipeline, candles, aborted, b'{"symbol": "X", "open": ')
    result = pipeline.run("archive", "--until-idle", "1.5", "--chunk-offsets", "500",
                          env=archive_env(tmp_path, f"sink-{uuid.uuid4().hex[:6]}"))
    assert result.returncode == 0, result.stderr[-3000:]
    archived = candles_from_table(read_prefix(tmp_path, "candles/source=speed"))
    assert sorted(archived, key=lambda c: c.key) == candles
    invalid = read_prefix(tmp_path, f"invalid/topic={pipeline.settings.topic_candles}")
    assert invalid.column("reason").to_pylist() == ["bad_candle", "bad_candle"]
    intervals = {p.name for p in (tmp_path / "candles" / "source=speed").iterdir()}
    assert intervals == {"interval=1s", "interval=10s", "interval=1m", "interval=5m",
                         "interval=1h"}


def test_every_revision_is_archived_and_the_latest_is_read(kafka_bootstrap: str,
                                                           tmp_path: Path) -> None:
    pipeline = Pipeline(kafka_bootstrap, partitions=3)
    pipeline.create_topics()
    stream = revised_stream()
    now_ms = int(time.time() * 1000)  # not the windows' time: older would fall to retention
    records = [(key, value, now_ms) for _, _, key, value in candle_records(stream.emitted)]
    pipeline.produce(records, topic=pipeline.settings.topic_candles)
    result = pipeline.run("archive", "--until-idle", "1.5", "--chunk-offsets", "3",
                          env=archive_env(tmp_path, f"rev-{uuid.uuid4().hex[:6]}"))
    assert result.returncode == 0, result.stderr[-3000:]
    rows = read_prefix(tmp_path, "candles/source=speed/interval=1s").to_pylist()
    revised = sorted((r["kafka_offset"], r["revision"]) for r in rows
                     if (r["symbol"], r["interval_us"], r["window_start_us"]) == REVISED_1S)
    assert [revision for _, revision in revised] == [0, 1, 2]  # one key: one partition
    latest = read_latest_speed_candles(LocalStore(tmp_path), "1s", DATE)
    assert latest.revised == 1
    expected = [c for c in stream.batch if c.interval_us == 1_000_000]  # sorted by key
    assert candles_from_table(latest.candles.sort("window_start_us").to_arrow()) == expected
