"""SIGKILL the archiver mid-run, again and again: no partial file is ever visible, and the
final dataset is byte for byte the one an uninterrupted run writes."""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.pipeline import Pipeline
from tests.storage.archive_helpers import (
    ChaosStream,
    archive_env,
    dataset_files,
    read_prefix,
    snapshot,
)

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

CHUNK = ("--chunk-offsets", "200", "--flush-interval-ms", "300", "--trades-only")
KILLS = 4
PROGRESS_TIMEOUT_S = 90


def wait_for_new_files(root: Path, seen: int) -> int:
    """Block until more dataset files than ``seen`` are visible; return the count."""
    deadline = time.monotonic() + PROGRESS_TIMEOUT_S
    while time.monotonic() < deadline:
        count = len(dataset_files(root)) if root.exists() else 0
        if count > seen:
            return count
        time.sleep(0.02)
    raise AssertionError(f"the archiver wrote nothing new in {PROGRESS_TIMEOUT_S} s")


def assert_every_visible_file_complete(root: Path) -> None:
    for path in dataset_files(root):
        pq.read_table(path)  # a torn file would fail to parse (footer missing)


def test_sigkill_mid_run_loses_and_doubles_nothing(
        loaded: Pipeline, stream: ChaosStream, tmp_path: Path) -> None:
    clean, crashed = tmp_path / "clean", tmp_path / "crashed"
    result = loaded.run("archive", "--until-idle", "1.5", *CHUNK,
                        env=archive_env(clean, "clean"))
    assert result.returncode == 0, result.stderr[-3000:]
    expected = snapshot(clean)
    rnd, seen, files_at_kill = random.Random(3), 0, []  # files visible at each kill
    for _ in range(KILLS):
        if seen >= len(expected):
            break  # an earlier incarnation finished the work: nothing new can appear
        process = loaded.start("archive", *CHUNK, env=archive_env(crashed, "crashed"),
                               log_path=tmp_path / "crashed.log")
        try:
            wait_for_new_files(crashed, seen)
            time.sleep(rnd.uniform(0.0, 1.5))
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait(30)
        seen = len(dataset_files(crashed))
        files_at_kill.append(seen)
        assert_every_visible_file_complete(crashed)
    assert files_at_kill[0] < len(expected), "the first kill came after all the work"
    print("files at each kill", files_at_kill, "of", len(expected))
    result = loaded.run("archive", "--until-idle", "1.5", *CHUNK,
                        env=archive_env(crashed, "crashed"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert snapshot(crashed) == expected
    rows = read_prefix(crashed, "trades").num_rows + read_prefix(crashed, "invalid").num_rows
    assert rows == len(stream.records)
