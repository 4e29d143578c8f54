"""The hostile corpus through the real broker: the speed layer and the archive stay up.

10,500 hostile records of every kind in :mod:`sources.hostile` (66 kinds: 100,000-deep
nesting, values up to the broker's message size, invalid UTF-8, NUL bytes, megabyte
strings, 10,000-digit numbers, repeated keys, ...) are mixed into a valid backlog that
has its own faults (out of order, re-sends, conflicts, late trades). ``candles speed``
and ``candles archive`` run side by side as long-lived processes. Both must still be up
once the whole stream is handled, stop cleanly on SIGTERM, and have set every bad record
aside byte for byte with its reason: the speed layer in ``trades.dlq``, the archive in
the master dataset's ``invalid/`` rows. The candles must still equal the reference.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest

from candle_core.side_outputs import HEADER_REASON, header
from candle_core.trade import Trade
from sources.hostile import hostile_values
from tests.pipeline import Pipeline
from tests.speed_layer.torture import T0_US, produce, torture_stream, verdict
from tests.storage.archive_helpers import archive_env, read_prefix

pytestmark = [pytest.mark.kafka, pytest.mark.torture]

HOSTILE = 10_500
WAIT_S = 300


def wait_until(condition: Callable[[], bool], processes: list[subprocess.Popen[bytes]],
               logs: list[Path]) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        for process, log in zip(processes, logs, strict=True):
            assert process.poll() is None, f"{log.name} died:\n{log.read_text()[-4000:]}"
        assert time.monotonic() < deadline, "the stream was not handled in time"
        time.sleep(3)


def test_hostile_records_are_set_aside_and_both_processes_stay_up(
        kafka_bootstrap: str, tmp_path: Path) -> None:
    pipeline = Pipeline(kafka_bootstrap, partitions=8)
    pipeline.create_topics()
    seeds = [Trade("BTCUSDT", i, T0_US + i, 10**12, 10**8, "x", "buy") for i in range(500)]
    hostile = list(hostile_values(seeds, HOSTILE, seed=5))
    reasons = {value: kind.reason for kind, value in hostile}
    stream = torture_stream(200_000, seed=31, span_s=600,
                            extra_bad=[value for _, value in hostile])
    produce(pipeline, stream.records)
    config = pipeline.settings
    root = tmp_path / "archive"
    logs = [tmp_path / "speed.log", tmp_path / "archive.log"]
    processes = [
        pipeline.start("speed", "--idle-timeout-ms", "600000",
                       env={"CANDLES_SPEED_INSTANCE_ID": "hostile"}, log_path=logs[0]),
        pipeline.start("archive", "--flush-interval-ms", "1000", "--trades-only",
                       env=archive_env(root, "hostile-archive"), log_path=logs[1]),
    ]
    expected_dead = sum(stream.dead.values())
    expected_invalid = sum(stream.rejected.values())
    try:
        wait_until(lambda: sum(1 for _ in pipeline.messages(config.topic_dlq)) >= expected_dead
                   and invalid_rows(root) >= expected_invalid, processes, logs)
        for process, log in zip(processes, logs, strict=True):
            assert process.poll() is None, f"{log.name} died:\n{log.read_text()[-4000:]}"
            process.send_signal(signal.SIGTERM)
            assert process.wait(120) == 0, log.read_text()[-4000:]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    kinds = {kind.name for kind, _ in hostile}
    print(f"{len(hostile):,} hostile records of {len(kinds)} kinds in a stream of "
          f"{len(stream.records):,}")
    assert len(hostile) >= 10_000 and len(kinds) >= 50

    dead_reasons = Counter()
    for message in pipeline.messages(config.topic_dlq):
        value = message.value() or b""
        if value in reasons:
            dead_reasons[(value, header(message.headers(), HEADER_REASON))] += 1
    # every hostile value, as often as the stream holds it (some also occur among the
    # stream's ordinary bad records), with its reason
    assert dead_reasons == Counter({(value, reason.value): stream.dead[value]
                                    for value, reason in reasons.items()})

    table: pa.Table = read_prefix(root, "invalid")
    values, row_reasons = table["value"].to_pylist(), table["reason"].to_pylist()
    assert Counter(values) == stream.rejected  # byte for byte, each once
    wrong = [(reasons[v].value, r, v[:60]) for v, r in zip(values, row_reasons, strict=True)
             if v in reasons and r != reasons[v].value]
    assert not wrong, wrong[:5]

    result = pipeline.run("speed", "--exit-when-idle", "5", "--idle-timeout-ms", "1000",
                          env={"CANDLES_SPEED_INSTANCE_ID": "hostile"}, timeout_s=600)
    assert result.returncode == 0, result.stderr[-3000:]
    verdict(pipeline, stream).assert_exact()


def invalid_rows(root: Path) -> int:
    """Rows in the master dataset's ``invalid/`` files so far (0 before the first)."""
    if not (root / "invalid").exists():
        return 0
    try:
        return read_prefix(root, "invalid").num_rows
    except (OSError, ValueError):
        return 0
