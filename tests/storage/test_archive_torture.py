"""Torture: SIGKILL ``candles archive`` 20 times at random moments (1-4 s apart).

After every kill each visible file is complete Parquet; after the last, a run to the end
of the stream must leave a master dataset byte for byte identical to an uninterrupted
run's over the same topic (file names, and every byte of every file).
"""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

import pytest

from tests.pipeline import Pipeline
from tests.speed_layer.torture import produce, torture_stream
from tests.storage.archive_helpers import archive_env, dataset_files, snapshot
from tests.storage.test_archive_crash import assert_every_visible_file_complete

pytestmark = [pytest.mark.kafka, pytest.mark.torture]

ARGS = ("--chunk-offsets", "4000", "--flush-interval-ms", "500")
KILLS = 20


def test_twenty_sigkills_leave_a_byte_identical_master_dataset(
        kafka_bootstrap: str, tmp_path: Path) -> None:
    pipeline = Pipeline(kafka_bootstrap, partitions=8)
    pipeline.create_topics()
    stream = torture_stream(1_000_000, seed=23, span_s=1500)
    produce(pipeline, stream.records)
    clean, crashed = tmp_path / "clean", tmp_path / "crashed"
    began = time.monotonic()
    result = pipeline.run("archive", "--until-idle", "2", *ARGS,
                          env=archive_env(clean, "clean"), timeout_s=900)
    assert result.returncode == 0, result.stderr[-3000:]
    clean_s = time.monotonic() - began
    expected = snapshot(clean)
    rnd = random.Random(29)
    # Kills 1-4 s apart, unless the uninterrupted run was so quick (a quiet machine) that
    # 20 of them would outlast the work: each restart spends about a second before it
    # archives anything, so the spacing shrinks with the work until every kill lands
    # while there is work left.
    kill_spacing_s = min(4.0, max(1.5, 1.0 + clean_s / KILLS))
    files_at_kill = []
    for kill in range(KILLS):
        log = tmp_path / f"archive-{kill}.log"
        process = pipeline.start("archive", *ARGS, env=archive_env(crashed, "crashed"),
                                 log_path=log)
        time.sleep(rnd.uniform(1.0, kill_spacing_s))
        assert process.poll() is None, log.read_text()[-3000:]
        process.send_signal(signal.SIGKILL)
        process.wait(30)
        files_at_kill.append(len(dataset_files(crashed)) if crashed.exists() else 0)
        if crashed.exists():
            assert_every_visible_file_complete(crashed)
    print(f"uninterrupted run {clean_s:.0f} s, {len(expected)} files; kills 1-"
          f"{kill_spacing_s:.1f} s apart; files visible at "
          f"each kill: {files_at_kill}")
    assert files_at_kill[-1] < len(expected), "the kills came after the work was done"
    result = pipeline.run("archive", "--until-idle", "2", *ARGS,
                          env=archive_env(crashed, "crashed"), timeout_s=900)
    assert result.returncode == 0, result.stderr[-3000:]
    assert snapshot(crashed) == expected
