"""Exactly-once under SIGKILL, and a consumer group of two splitting the work."""

from __future__ import annotations

import json
import random
import signal
import time
from collections.abc import Callable
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
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    processes = [
        pipeline.start("speed", "--exit-when-idle", "8", "--idle-timeout-ms", "1000",
                       env={"CANDLES_SPEED_INSTANCE_ID": name}, log_path=log)
        for name, log in zip(("a", "b"), logs, strict=True)
    ]
    deadline = time.monotonic() + 60
    while not all(owned_partitions(log) for log in logs) and time.monotonic() < deadline:
        time.sleep(0.5)
    owned = [owned_partitions(log) for log in logs]
    assert owned[0] and owned[1] and not owned[0] & owned[1], owned
    trades = clean_stream(100_000, seed=8, span_s=600)
    pipeline.produce(as_records(trades))
    for process, log in zip(processes, logs, strict=True):
        assert process.wait(timeout=240) == 0, log.read_text()[-3000:]
    consumed = [int(log.read_text().split("speed layer: ")[1].split(" records")[0]
                    .replace(",", "")) for log in logs]
    assert all(count > 0 for count in consumed), f"one instance did nothing: {consumed}"
    assert sum(consumed) == len(trades)
    assert_exact(committed_candles(pipeline), trades, pipeline.settings.intervals_us)


def owned_partitions(log: Path) -> set[int]:
    """Partitions an instance holds now, from its latest assignment in its JSON log."""
    owned: set[int] = set()
    for line in log.read_text().splitlines() if log.exists() else []:
        if not line.startswith("{"):
            continue
        entry = json.loads(line)
        if entry.get("msg") == "partitions revoked":
            owned.clear()
        elif entry.get("msg") == "partition restored":
            owned.add(entry["partition"])
    return owned


def test_a_member_joining_mid_stream_takes_over_state_exactly(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    """Rebalance mid-stream: the first member commits and hands its open windows over.

    Half the stream is produced and processed by member a; b joins (a's partitions are
    revoked and split, with windows still open); then the rest arrives for both.
    """
    trades = clean_stream(200_000, seed=12, span_s=1200)
    records = as_records(trades)
    half = len(records) // 2
    pipeline.produce(records[:half])
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    args = ("speed", "--exit-when-idle", "8", "--idle-timeout-ms", "60000")
    first = pipeline.start(*args, env={"CANDLES_SPEED_INSTANCE_ID": "a"}, log_path=logs[0])
    wait_for(lambda: bool(owned_partitions(logs[0])), logs[0])
    time.sleep(2.0)  # let a process the first half
    second = pipeline.start(*args, env={"CANDLES_SPEED_INSTANCE_ID": "b"}, log_path=logs[1])
    wait_for(lambda: bool(owned_partitions(logs[1])), logs[1])
    pipeline.produce(records[half:])
    for process, log in ((first, logs[0]), (second, logs[1])):
        assert process.wait(timeout=300) == 0, log.read_text()[-3000:]
    consumed = [int(log.read_text().split("speed layer: ")[1].split(" records")[0]
                    .replace(",", "")) for log in logs]
    assert consumed[1] > 0, f"the second member never got work: {consumed}"
    assert "partitions revoked" in logs[0].read_text()
    assert_exact(committed_candles(pipeline), trades, pipeline.settings.intervals_us)


def wait_for(condition: Callable[[], bool], log: Path, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, log.read_text()[-3000:] if log.exists() else ""
        time.sleep(0.2)
