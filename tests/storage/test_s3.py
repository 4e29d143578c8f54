"""The same round trips on S3 (a real S3 server on localhost): archive, batch, compact."""

from __future__ import annotations

import hashlib

import pyarrow as pa
import pytest

from batch_layer.job import run_batch
from candle_core.codec import candles_from_table
from candle_core.reference import candles_from_trades
from storage.compaction import compact_date
from storage.layout import live_files
from storage.parquet_io import decode
from storage.store import Store
from storage.stores import open_store
from tests.pipeline import Pipeline
from tests.storage.archive_helpers import ChaosStream, chaos_stream
from tests.storage.offline import archive_offline
from tests.storage.s3_fixture import S3Server

DATES = ("2025-12-31", "2026-01-01")


def s3_snapshot(store: Store) -> dict[str, str]:
    return {e.path: hashlib.sha256(store.read_bytes(e.path) or b"").hexdigest()
            for e in store.list_files("") if e.name.endswith(".parquet")}


def s3_candles(store: Store) -> list[object]:
    files = live_files(store.list_files("candles/source=batch"))
    table = pa.concat_tables([decode(store.read_bytes(f.path) or b"") for f in files])
    return sorted(candles_from_table(table), key=lambda c: c.key)


def test_offline_archive_batch_and_compaction_on_s3(s3_server: S3Server) -> None:
    root = f"s3://{s3_server.bucket()}/master"
    settings = s3_server.settings(root)
    store = open_store(settings)
    stream = chaos_stream(6_000, seed=2, rate_per_s=20.0)
    archive_offline(store, [(o, ts, k, v) for o, (k, v, ts) in enumerate(stream.records)],
                    chunk_offsets=700)
    expected = candles_from_trades(stream.trades, settings.intervals_us)
    for date in DATES:
        run_batch(store, settings, date)
    assert s3_candles(store) == expected
    for date in DATES:
        compact_date(store, date, target_rows=2_500)
        run_batch(store, settings, date)
    assert s3_candles(store) == expected
    assert any(e.name.endswith(".compacted.parquet") for e in store.list_files("trades"))


@pytest.mark.kafka
def test_archive_and_batch_commands_on_s3(loaded: Pipeline, stream: ChaosStream,
                                          s3_server: S3Server) -> None:
    root = f"s3://{s3_server.bucket()}/master"
    store = open_store(s3_server.settings(root))
    for group in ("s3-first", "s3-replay"):
        result = loaded.run("archive", "--until-idle", "1.5", "--chunk-offsets", "1000",
                            "--trades-only", env={**s3_server.env(root),
                                                  "CANDLES_ARCHIVE_GROUP_ID": group})
        assert result.returncode == 0, result.stderr[-3000:]
        if group == "s3-first":
            first = s3_snapshot(store)
    assert s3_snapshot(store) == first  # the replay rewrote identical objects
    for date in DATES:
        result = loaded.run("batch", "--date", date, env=s3_server.env(root))
        assert result.returncode == 0, result.stderr[-3000:]
    assert s3_candles(store) == candles_from_trades(stream.trades,
                                                    loaded.settings.intervals_us)
