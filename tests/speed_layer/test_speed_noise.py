"""A 98%-noise stream (orders and quotes around the trades) on the real broker: the speed
layer and the archive skip the noise before decoding, count it by type, and the trades
give exactly the candles of the same trades alone."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from candle_core.codec import decode_candle
from candle_core.reference import candles_from_trades
from tests.pipeline import Pipeline
from tests.speed_layer.trades import as_records, clean_stream

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

TRADES = 3_000
NOISE_PER_TRADE = 49  # 98% of the messages


def with_noise(records: list[tuple[bytes, bytes, int]], seed: int = 3
               ) -> tuple[list[tuple[bytes, bytes, int]], Counter[str]]:
    rnd, noisy, kinds = random.Random(seed), [], Counter[str]()
    for key, value, timestamp_ms in records:
        for n in range(NOISE_PER_TRADE):
            kind = rnd.choice(("order", "quote"))
            kinds[kind] += 1
            body = {"type": kind, "symbol": key.decode(), "id": n, "price": "1.5"}
            noisy.append((key, json.dumps(body, separators=(",", ":")).encode(),
                          timestamp_ms))
        noisy.append((key, value, timestamp_ms))
    return noisy, kinds


def test_trades_in_a_noisy_stream_give_the_candles_of_the_trades_alone(
        kafka_bootstrap: str, tmp_path: Path) -> None:
    pipeline = Pipeline(kafka_bootstrap, partitions=3)
    pipeline.extra_env.update({"CANDLES_ARCHIVE_ROOT": str(tmp_path / "lake"),
                               "CANDLES_ARCHIVE_GROUP_ID": f"{pipeline.prefix}-archive",
                               "CANDLES_ARCHIVE_INSTANCE_ID": f"{pipeline.prefix}-a"})
    pipeline.create_topics()
    trades = clean_stream(TRADES, seed=31)
    records, kinds = with_noise(as_records(trades))
    assert sum(kinds.values()) / len(records) == pytest.approx(0.98)
    pipeline.produce(records)
    speed = pipeline.run("speed", "--exit-when-idle", "3", "--idle-timeout-ms", "1000",
                         "--summary-json")
    assert speed.returncode == 0, speed.stderr
    summary = json.loads(speed.stdout)
    assert summary["skipped"] == dict(kinds)
    assert summary["valid"] == TRADES and summary["dlq"] == 0
    candles = [decode_candle(m.value() or b"")
               for m in pipeline.messages(pipeline.settings.topic_candles)]
    assert sorted(candles, key=lambda c: c.key) == candles_from_trades(
        trades, pipeline.settings.intervals_us)

    archive = pipeline.run("archive", "--trades-only", "--until-idle", "2", "--summary-json")
    assert archive.returncode == 0, archive.stderr
    summary = json.loads(archive.stdout)
    rows = Counter(summary["rows"]) + Counter(summary["pending_rows"])  # sealed + open tail
    assert rows["trade"] == TRADES and rows["invalid"] == 0
    assert {k: v for k, v in rows.items() if k.startswith("skipped_")} == {
        f"skipped_{kind}": count for kind, count in kinds.items()}
    archived = sum(pq.read_metadata(path).num_rows
                   for path in (tmp_path / "lake" / "trades").rglob("*.parquet"))
    assert archived == TRADES
