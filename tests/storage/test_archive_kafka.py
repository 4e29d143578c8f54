"""The archive on the real broker: chaos stream -> archive -> batch equals the reference;
a replay rewrites identical bytes and adds no row."""

from __future__ import annotations

import uuid
from collections import Counter
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from candle_core.reference import candles_from_trades
from kafka_ops.liveness import Heartbeat
from lambda_candles.settings import load_settings
from storage.archiver import Archiver, build_clients
from storage.local import LocalStore
from storage.metrics import ArchiveMetrics
from storage.run_state import StopRules
from storage.sinks import archive_sinks
from tests.pipeline import Pipeline
from tests.storage.archive_helpers import (
    ChaosStream,
    archive_env,
    batch_candles,
    read_prefix,
    snapshot,
)

pytestmark = pytest.mark.kafka

CHUNK = "1000"
ARCHIVE = ("archive", "--until-idle", "1.5", "--chunk-offsets", CHUNK, "--trades-only")


def archive(pipeline: Pipeline, root: Path, group: str | None = None) -> None:
    env = archive_env(root, group or f"archive-{uuid.uuid4().hex[:8]}")
    result = pipeline.run(*ARCHIVE, env=env)
    assert result.returncode == 0, result.stderr[-3000:]


def test_chaos_stream_archive_then_batch_equals_reference_every_interval(
        loaded: Pipeline, stream: ChaosStream, tmp_path: Path) -> None:
    archive(loaded, tmp_path)
    dates = sorted(p.name.removeprefix("date=") for p in (tmp_path / "trades").iterdir())
    assert dates == ["2025-12-31", "2026-01-01"]  # the stream crosses midnight
    for date in dates:
        result = loaded.run("batch", "--date", date, "--root", str(tmp_path))
        assert result.returncode == 0, result.stderr[-3000:]
    expected = candles_from_trades(stream.trades, loaded.settings.intervals_us)
    assert {c.interval_us for c in expected} == set(loaded.settings.intervals_us)
    assert batch_candles(tmp_path) == expected


def test_invalid_records_archived_with_reason_and_bytes(
        loaded: Pipeline, stream: ChaosStream, tmp_path: Path) -> None:
    archive(loaded, tmp_path)
    invalid = read_prefix(tmp_path, "invalid").to_pylist()
    assert Counter(row["reason"] for row in invalid) == Counter(
        r.reason for r in stream.rejected)
    produced = {value for _, value, _ in stream.records}
    assert all(row["value"] in produced for row in invalid)
    assert {"future_timestamp", "malformed_json"} <= {row["reason"] for row in invalid}


def test_replay_rewrites_identical_bytes_and_adds_no_row(
        loaded: Pipeline, stream: ChaosStream, tmp_path: Path) -> None:
    archive(loaded, tmp_path, group="first")
    first = snapshot(tmp_path)
    archive(loaded, tmp_path, group="replay")  # a new group reads from the earliest offset
    assert snapshot(tmp_path) == first
    archive(loaded, tmp_path, group="first")  # a restart with nothing new changes nothing
    assert snapshot(tmp_path) == first
    rows = [*read_prefix(tmp_path, "trades").to_pylist(),
            *read_prefix(tmp_path, "invalid").to_pylist()]
    coordinates = Counter((r["kafka_partition"], r["kafka_offset"]) for r in rows)
    assert len(coordinates) == len(rows) == len(stream.records)



def test_metrics_count_messages_rows_files_and_bytes(loaded: Pipeline, stream: ChaosStream,
                                                     tmp_path: Path) -> None:
    settings = load_settings(**{**loaded.settings.model_dump(), "archive_root": str(tmp_path),
                                "archive_group_id": "metrics", "archive_chunk_offsets": 1000})
    registry = CollectorRegistry()
    archiver = Archiver(settings, build_clients(settings), LocalStore(tmp_path),
                        ArchiveMetrics(registry),
                        archive_sinks(settings, candles=False), Heartbeat(60.0),
                        StopRules(until_idle_s=1.0))
    summary = archiver.run()

    def value(name: str, **labels: str) -> float:
        return registry.get_sample_value(name, labels) or 0.0

    assert value("candles_archive_messages_consumed_total") == len(stream.records)
    sealed_rows = value("candles_archive_rows_committed_total", kind="trade") + value(
        "candles_archive_rows_committed_total", kind="invalid")
    assert 0 < sealed_rows == sum(summary.rows.values()) < len(stream.records)  # open chunks
    assert value("candles_archive_chunks_committed_total") == summary.chunks
    on_disk = sum(p.stat().st_size for p in tmp_path.rglob("*.parquet"))
    assert value("candles_archive_bytes_written_total") >= on_disk > 0
