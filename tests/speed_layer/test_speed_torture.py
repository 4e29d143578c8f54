"""Torture: SIGKILL the speed layer 20 times at random moments over a hostile backlog.

Kills land 1-4 s apart, so they hit start-up, the changelog restore, the replay below
``processed`` (with commits inside it) and commits. After the last kill the layer runs to
the end of the stream; then, reading with read_committed, the latest revision of every
interval's candles must equal the reference, no revision twice or skipped, ``trades.late``
exactly the late set and the DLQ exactly the bad set. Revisions are on (the default
horizon): the stream's 90 s late trades revise their candles, so a kill also lands on
revisions and on the changelog records that keep their numbers. A second torture kills one
of two instances again and again while the stream arrives, so rebalances happen
mid-transaction.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.pipeline import Pipeline
from tests.speed_layer.torture import produce, torture_stream, verdict

pytestmark = [pytest.mark.kafka, pytest.mark.torture]

FINAL_ARGS = ("speed", "--exit-when-idle", "5", "--idle-timeout-ms", "1000")
KILLS = 20


@pytest.fixture
def pipeline(kafka_bootstrap: str) -> Pipeline:
    line = Pipeline(kafka_bootstrap, partitions=8)
    line.create_topics()
    return line


def phase(log: Path) -> str:
    """How far the killed incarnation got, from its log: started, restored, committing."""
    text = log.read_text(errors="replace") if log.exists() else ""
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    if any(entry.get("msg") == "partition restored" for entry in lines):
        return "restored"
    return "start-up"


def test_twenty_sigkills_at_random_moments_lose_and_double_nothing(
        pipeline: Pipeline, tmp_path: Path) -> None:
    stream = torture_stream(1_200_000, seed=13, span_s=1500)
    produce(pipeline, stream.records)
    rnd = random.Random(20)
    env = {"CANDLES_SPEED_INSTANCE_ID": "tortured", "CANDLES_SPEED_BATCH_SIZE": "2000",
           "CANDLES_SPEED_COMMIT_INTERVAL_MS": "50",
           "CANDLES_SPEED_BACKLOG_COMMIT_INTERVAL_MS": "100"}
    phases = []
    for kill in range(KILLS):
        log = tmp_path / f"speed-{kill}.log"
        process = pipeline.start("speed", env=env, log_path=log)
        time.sleep(rnd.uniform(1.0, 4.0))
        assert process.poll() is None, log.read_text()[-3000:]
        process.send_signal(signal.SIGKILL)
        process.wait()
        phases.append(phase(log))
    print("phase of each kill:", phases)
    assert "start-up" in phases and "restored" in phases
    result = pipeline.run(*FINAL_ARGS, env=env, timeout_s=600)
    assert result.returncode == 0, result.stderr[-3000:]
    print(result.stdout.strip())
    outcome = verdict(pipeline, stream)
    print(f"{outcome.candles:,} candles committed ({outcome.revised:,} revised); missing "
          f"{len(outcome.missing)}, short {len(outcome.short)}, twice {len(outcome.twice)}; "
          f"late {outcome.late_diff}, dlq {outcome.dead_diff}")
    outcome.assert_exact()
    assert outcome.revised > 1000, "the late trades should have revised their candles"


def test_killing_one_of_two_instances_again_and_again_is_exact(
        pipeline: Pipeline, tmp_path: Path) -> None:
    """``a`` runs throughout; ``b`` is killed 8 times and sometimes stays down past the
    session timeout, so partitions move between the two while transactions are open.
    The stream arrives in slices during all of it."""
    stream = torture_stream(600_000, seed=17, span_s=900)
    rnd = random.Random(7)
    # the stream is historical and arrives in slices: idleness between slices must not
    # move event time with the wall clock (that would make the next slice late)
    args = ("speed", "--idle-timeout-ms", "600000")
    env = {"CANDLES_SPEED_COMMIT_INTERVAL_MS": "50", "CANDLES_SPEED_BATCH_SIZE": "2000"}
    logs = {name: tmp_path / f"{name}.log" for name in ("a", "b")}
    first = pipeline.start(*args, env={**env, "CANDLES_SPEED_INSTANCE_ID": "a"},
                           log_path=logs["a"])
    slices = 10
    size = len(stream.records) // slices + 1
    second: subprocess.Popen[bytes] | None = None
    revocations = 0
    try:
        for index in range(slices):
            produce(pipeline, stream.records[index * size:(index + 1) * size])
            if second is None or second.poll() is not None:  # one b at a time (else fenced)
                second = pipeline.start(*args, env={**env, "CANDLES_SPEED_INSTANCE_ID": "b"},
                                        log_path=logs["b"])
            time.sleep(rnd.uniform(3.0, 8.0))
            assert first.poll() is None, logs["a"].read_text()[-3000:]
            if index < 8:
                second.send_signal(signal.SIGKILL)
                second.wait()
                time.sleep(rnd.choice([0.5, 2.0, 12.0]))  # > 10 s session: a rebalance
        revocations = logs["a"].read_text().count("partitions revoked")
        first.send_signal(signal.SIGTERM)
        assert first.wait(60) == 0, logs["a"].read_text()[-3000:]
        if second is not None and second.poll() is None:
            second.send_signal(signal.SIGTERM)
            assert second.wait(60) == 0, logs["b"].read_text()[-3000:]
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
    assert revocations >= 2, "partitions never moved between the instances"
    # Static members do not leave the group on close: wait out their session (10 s) so
    # that the final run is given every partition, not only a's.
    time.sleep(12)
    result = pipeline.run(*FINAL_ARGS, env={**env, "CANDLES_SPEED_INSTANCE_ID": "a"},
                          timeout_s=600)
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = verdict(pipeline, stream)
    print(f"{revocations} revocations of a; {outcome.candles:,} candles committed "
          f"({outcome.revised:,} revised)")
    outcome.assert_exact()
    assert outcome.revised > 0
