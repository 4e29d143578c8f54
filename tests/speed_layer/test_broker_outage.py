"""The broker goes away for 20 s mid-stream, and comes back.

A broker of the test's own (the session's is shared) gets half a hostile backlog;
``candles speed`` and ``candles archive`` run on it; ``candles kafka stop`` takes it down
while they work; 20 s later it starts again on the same ports and data, and the rest of
the stream arrives. A supervisor restarts a process that exits, as Kubernetes would.
What each process does through the outage (ride it out, or exit non-zero and resume when
restarted) is recorded; docs/operations.md says which. Either way nothing may be lost or
doubled: the speed candles, late trades and dead letters are exact, and the master
dataset is byte for byte the one a fresh archive run over the same topic writes.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kafka_ops.launcher import LocalKafka, LocalKafkaConfig
from kafka_ops.maven import default_cache_dir
from kafka_ops.process import pick_free_ports
from tests.pipeline import Pipeline
from tests.speed_layer.torture import produce, torture_stream, verdict
from tests.storage.archive_helpers import archive_env, snapshot

pytestmark = [pytest.mark.kafka, pytest.mark.torture]

OUTAGE_S = 20


@dataclass
class Supervised:
    """A long-running command, restarted whenever it exits (its exit codes recorded)."""

    start: Callable[[], subprocess.Popen[bytes]]
    process: subprocess.Popen[bytes] | None = None
    exits: list[int] = field(default_factory=list)

    def tick(self) -> None:
        if self.process is None:
            self.process = self.start()
        elif (code := self.process.poll()) is not None:
            self.exits.append(code)
            self.process = self.start()

    def stop(self, log: Path) -> int:
        """SIGTERM; a process still there after 120 s (its watchdog ends it 45 s after a stop
        request) has its stacks dumped into the failure (``kill -USR1``) and is killed."""
        assert self.process is not None
        self.process.terminate()
        try:
            return self.process.wait(120)
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal.SIGUSR1)
            time.sleep(2)
            self.process.kill()
            tail = "\n".join(line for line in log.read_text().splitlines()
                             if not line.startswith("%"))[-6000:]
            raise AssertionError(f"still running 120 s after SIGTERM:\n{tail}") from None


def test_a_twenty_second_broker_outage_loses_and_doubles_nothing(tmp_path: Path) -> None:
    port, controller = pick_free_ports("127.0.0.1", 2)
    config = LocalKafkaConfig(run_dir=tmp_path / "broker", cache_dir=default_cache_dir(),
                              port=port, controller_port=controller)
    broker = LocalKafka(config)
    bootstrap = broker.start()
    try:
        pipeline = Pipeline(bootstrap, partitions=8)
        pipeline.create_topics()
        stream = torture_stream(600_000, seed=37, span_s=900)
        half = len(stream.records) // 2
        produce(pipeline, stream.records[:half])
        root = tmp_path / "archive"
        speed = Supervised(lambda: pipeline.start(
            "speed", "--idle-timeout-ms", "600000", env={
                "CANDLES_SPEED_INSTANCE_ID": "outage", "CANDLES_SPEED_BATCH_SIZE": "1000"},
            log_path=tmp_path / "speed.log"))
        archive = Supervised(lambda: pipeline.start(
            "archive", "--chunk-offsets", "5000", "--flush-interval-ms", "500",
            env=archive_env(root, "outage-archive"), log_path=tmp_path / "archive.log"))
        for _ in range(6):  # both at work on the backlog
            speed.tick()
            archive.tick()
            time.sleep(0.5)
        stop = pipeline.run("kafka", "stop", "--run-dir", str(config.run_dir))
        assert stop.returncode == 0, stop.stderr
        down_until = time.monotonic() + OUTAGE_S
        while time.monotonic() < down_until:
            speed.tick()
            archive.tick()
            time.sleep(0.5)
        assert broker.start() == bootstrap
        produce(pipeline, stream.records[half:])
        settle_until = time.monotonic() + 60
        while time.monotonic() < settle_until:
            speed.tick()
            archive.tick()
            time.sleep(0.5)
        speed.exits.append(speed.stop(tmp_path / "speed.log"))
        archive.exits.append(archive.stop(tmp_path / "archive.log"))
        print(f"exit codes through the outage and at SIGTERM: speed {speed.exits}, "
              f"archive {archive.exits}")
        assert set(speed.exits + archive.exits) <= {0, 2, 3}, "a crash, not a clean exit"
        final = pipeline.run("speed", "--exit-when-idle", "5", "--idle-timeout-ms", "1000",
                             env={"CANDLES_SPEED_INSTANCE_ID": "outage"}, timeout_s=600)
        assert final.returncode == 0, final.stderr[-3000:]
        verdict(pipeline, stream).assert_exact()
        done = pipeline.run("archive", "--until-idle", "2", "--chunk-offsets", "5000",
                            env=archive_env(root, "outage-archive"), timeout_s=600)
        assert done.returncode == 0, done.stderr[-3000:]
        fresh = tmp_path / "fresh"
        again = pipeline.run("archive", "--until-idle", "2", "--chunk-offsets", "5000",
                             env=archive_env(fresh, "fresh-archive"), timeout_s=600)
        assert again.returncode == 0, again.stderr[-3000:]
        assert snapshot(root) == snapshot(fresh)
    finally:
        broker.stop()
