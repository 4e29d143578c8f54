"""Exactly-once under SIGKILL, and a consumer group of two splitting the work."""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

import pytest

from tests.pipeline import Pipeline
from tests.speed_layer.test_speed_kafka import SPEED_ARGS, assert_exact, committed_candles
from tests.speed_layer.trades import as_records, clean_stream

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


@pytest.fixture
def pipeline(kafka_bootstrap: str) -> Pipeline:
    line = Pipeline(kafka_bootstrap, partitions=4)
    line.create_topics()
    return line


def test_sigkill_at_random_moments_loses_and_duplicates_nothing(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    """Kill -9 six times mid-run, restart each time: the committed candles are exact."""
    trades = clean_stream(300_000, seed=3, span_s=1800)
    pipeline.produce(as_records(trades))
    rnd = random.Random(5)
    env = {"CANDLES_SPEED_INSTANCE_ID": "crashy", "CANDLES_SPEED_COMMIT_INTERVAL_MS": "50"}
    kills = 0
    for _ in range(6):
        process = pipeline.start("speed", env=env, log_path=tmp_path / "speed.log")
        time.sleep(rnd.uniform(2.0, 6.0))
        assert process.poll() is None, (tmp_path / "speed.log").read_text()[-3000:]
        process.send_signal(signal.SIGKILL)
        process.wait()
        kills += 1
    result = pipeline.run(*SPEED_ARGS, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert kills >= 5
    assert_exact(committed_candles(pipeline), trades, pipeline.settings.intervals_us)


def test_sigterm_finishes_the_transaction_and_exits_cleanly(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    trades = clean_stream(200_000, seed=4, span_s=1200)
    pipeline.produce(as_records(trades))
    env = {"CANDLES_SPEED_INSTANCE_ID": "polite"}
    process = pipeline.start("speed", env=env, log_path=tmp_path / "speed.log")
    time.sleep(5)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0, (tmp_path / "speed.log").read_text()[-3000:]
    result = pipeline.run(*SPEED_ARGS, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert_exact(committed_candles(pipeline), trades, pipeline.settings.intervals_us)


def test_two_instances_split_the_partitions_and_together_are_exact(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    trades = clean_stream(100_000, seed=8, span_s=600)
    pipeline.produce(as_records(trades))
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    processes = [
        pipeline.start(*SPEED_ARGS, env={"CANDLES_SPEED_INSTANCE_ID": name}, log_path=log)
        for name, log in zip(("a", "b"), logs, strict=True)
    ]
    for process, log in zip(processes, logs, strict=True):
        assert process.wait(timeout=240) == 0, log.read_text()[-3000:]
    summaries = [log.read_text() for log in logs]
    assert all("speed layer:" in text for text in summaries)
    consumed = [int(text.split("speed layer: ")[1].split(" records")[0].replace(",", ""))
                for text in summaries]
    assert all(count > 0 for count in consumed), f"one instance did nothing: {consumed}"
    assert_exact(committed_candles(pipeline), trades, pipeline.settings.intervals_us)
