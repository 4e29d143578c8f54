"""The archive's disk fills up mid-run.

The archive root is a small tmpfs (``mount -t tmpfs -o size=...``; root only, as CI runs)
of about half what the dataset needs. ``candles archive`` must stop with a clear message
that names the path and says the disk is full, leave no partial or temporary file, and,
once space is freed (the tmpfs grown), a restart must complete the dataset byte for byte
as a run with room to spare writes it.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.store import is_temp
from tests.pipeline import Pipeline
from tests.speed_layer.torture import produce, torture_stream
from tests.storage.archive_helpers import archive_env, dataset_files, snapshot
from tests.storage.test_archive_crash import assert_every_visible_file_complete

pytestmark = [pytest.mark.kafka, pytest.mark.torture]

ARGS = ("--until-idle", "2", "--chunk-offsets", "5000")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0:
        if os.environ.get("CANDLES_REQUIRE_TOOLS"):
            pytest.fail("mounting a tmpfs needs root (CI runs as root)")
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "small"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def resize(mount: Path, size_bytes: int) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size_bytes}", str(mount)], check=True)


def test_a_full_disk_stops_the_archive_cleanly_and_a_restart_completes_it(
        kafka_bootstrap: str, small_disk: Path, tmp_path: Path) -> None:
    pipeline = Pipeline(kafka_bootstrap, partitions=4)
    pipeline.create_topics()
    produce(pipeline, torture_stream(300_000, seed=41, span_s=900).records)
    roomy = tmp_path / "roomy"
    clean = pipeline.run("archive", *ARGS, env=archive_env(roomy, "roomy"), timeout_s=600)
    assert clean.returncode == 0, clean.stderr[-3000:]
    needed = sum(path.stat().st_size for path in dataset_files(roomy))
    resize(small_disk, needed // 2)
    root = small_disk / "archive"
    full = pipeline.run("archive", *ARGS, env=archive_env(root, "small"), timeout_s=600)
    assert full.returncode != 0, "the archive did not notice the full disk"
    message = full.stderr.strip().splitlines()[-1]
    print(message)
    assert str(root) in message and "No space left on device" in message
    assert "The disk is full" in message and "Traceback" not in full.stderr
    leftovers = [p for p in root.rglob("*") if p.is_file() and is_temp(p.name)]
    assert not leftovers, leftovers
    assert_every_visible_file_complete(root)
    assert 0 < len(dataset_files(root)) < len(dataset_files(roomy))
    resize(small_disk, needed * 3)  # space freed
    again = pipeline.run("archive", *ARGS, env=archive_env(root, "small"), timeout_s=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert snapshot(root) == snapshot(roomy)
