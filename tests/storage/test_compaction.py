"""Compaction merges small files without changing a row, atomically and idempotently."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from batch_layer.job import run_batch
from lambda_candles.settings import load_settings
from storage.compaction import compact_date
from storage.layout import live_files, parse_name
from storage.local import LocalStore
from storage.parquet_io import decode
from tests.storage.archive_helpers import chaos_stream, snapshot
from tests.storage.offline import archive_offline

DATES = ("2025-12-31", "2026-01-01")


def live_rows(store: LocalStore, prefix: str) -> list[tuple[object, ...]]:
    """Every row a reader sees under ``prefix``, as sorted tuples."""
    tables = [decode(store.read_bytes(e.path) or b"").replace_schema_metadata(None)
              for e in live_files(store.list_files(prefix))]
    table = pa.concat_tables(tables)
    return sorted(tuple(row.values()) for row in table.to_pylist())


def archive_file_count(root: Path) -> int:
    return sum(1 for p in ("trades", "invalid") for _ in (root / p).rglob("*.parquet"))


def batch_outputs(store: LocalStore) -> dict[str, str]:
    for date in DATES:
        run_batch(store, load_settings(), date)
    return snapshot(store.root / "candles")


def archive(store: LocalStore, partitions: int = 2) -> None:
    stream = chaos_stream(12_000, seed=5, rate_per_s=40.0)  # 300 s: crosses midnight
    for partition in range(partitions):
        records = [(offset, ts_ms, key, value) for offset, (key, value, ts_ms)
                   in enumerate(stream.records[partition::partitions])]
        archive_offline(store, records, chunk_offsets=400, partition=partition)


def test_compaction_keeps_every_row_and_is_idempotent(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    archive(store)
    before = {p: live_rows(store, p) for p in ("trades", "invalid")}
    files_before = archive_file_count(tmp_path)
    candles_before = batch_outputs(store)
    for date in DATES:
        compact_date(store, date, target_rows=2_000)
    assert {p: live_rows(store, p) for p in before} == before
    assert batch_outputs(store) == candles_before
    after = snapshot(tmp_path)
    assert archive_file_count(tmp_path) < files_before / 3
    for date in DATES:
        summary = compact_date(store, date, target_rows=2_000)
        assert (summary.written, summary.deleted) == (0, 0)
    assert snapshot(tmp_path) == after


def test_open_chunks_are_never_merged(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    archive(store, partitions=1)
    last_chunk = max(parse_name(p.name).first for p in tmp_path.rglob("*.h??.parquet"))
    for date in DATES:
        compact_date(store, date, target_rows=10**6)
    remaining = {parse_name(p.name).first for p in tmp_path.rglob("*.h??.parquet")}
    assert remaining == {last_chunk}  # only the open chunk's files are left as they were


def test_replay_after_compaction_adds_no_visible_row(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    archive(store)
    for date in DATES:
        compact_date(store, date, target_rows=3_000)
    compacted = snapshot(tmp_path)
    before = live_rows(store, "trades")
    archive(store)  # a replay rewrites every chunk file the compacted files now cover
    assert live_rows(store, "trades") == before
    for date in DATES:
        compact_date(store, date, target_rows=3_000)
    assert snapshot(tmp_path) == compacted  # the replayed files were garbage: deleted
    for path in tmp_path.glob("trades/**/*.compacted.parquet"):
        keys = pq.read_table(path).select(["ts_us", "trade_id"]).to_pylist()
        assert keys == sorted(keys, key=lambda k: (k["ts_us"], k["trade_id"]))
