"""The speed-candle archive keeps every revision as a row with its number, readers take
the latest, and files from before revisions existed read as revision 0 (also once
compacted together with newer files)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from candle_core.candle import Candle, latest_revisions
from candle_core.codec import candles_from_table
from storage.candle_files import read_candle_table
from storage.candle_rows import CandleRows
from storage.compaction import compact_date
from storage.exceptions import BadDatasetError
from storage.layout import SPEED_SOURCE, candles_dir, live_files
from storage.local import LocalStore
from storage.parquet_io import decode
from storage.schemas import SPEED_CANDLE_SCHEMA
from storage.speed_candles import read_latest_speed_candles, read_speed_candles
from tests.storage.offline import archive_offline
from tests.storage.revision_stream import (
    DATE,
    REVISED_1S,
    REVISED_10S,
    TOPIC,
    candle_records,
    revised_stream,
)


def archive_candles(store: LocalStore, candles: list[Candle], chunk_offsets: int,
                    first_offset: int = 0, seal_last: bool = False) -> None:
    archive_offline(store, candle_records(candles, first_offset), chunk_offsets,
                    topic=TOPIC, seal_last=seal_last, rows=CandleRows)


def raw_rows(root: Path, interval: str) -> pa.Table:
    """Every row of the interval's files as written (no reader's selection)."""
    paths = sorted((root / candles_dir(SPEED_SOURCE, interval, DATE)).glob("*.parquet"))
    return pa.concat_tables([pq.read_table(p).replace_schema_metadata(None) for p in paths])


def values(candles: list[Candle]) -> list[Candle]:
    """``candles`` sorted by key, revision set to 0 (a table of candles has no revision)."""
    return sorted((dataclasses.replace(c, revision=0) for c in candles), key=lambda c: c.key)


def of_interval(candles: list[Candle], interval_us: int) -> list[Candle]:
    return [c for c in candles if c.interval_us == interval_us]


def with_revisions(table: pa.Table) -> list[Candle]:
    """The candles of a speed-candle table, each with its ``revision``."""
    return [dataclasses.replace(candle, revision=revision) for candle, revision in zip(
        candles_from_table(table), table["revision"].to_pylist(), strict=True)]


def test_every_revision_is_a_row_and_readers_get_the_latest(tmp_path: Path) -> None:
    store, stream = LocalStore(tmp_path), revised_stream()
    # chunks of 4: revision 1 and 2 land in later chunks than revision 0, the last open
    archive_candles(store, stream.emitted, chunk_offsets=4)
    rows = raw_rows(tmp_path, "1s")
    assert rows.schema.field("revision") == SPEED_CANDLE_SCHEMA.field("revision")
    kept = [r for r in rows.to_pylist()
            if (r["symbol"], r["interval_us"], r["window_start_us"]) == REVISED_1S]
    assert [r["revision"] for r in sorted(kept, key=lambda r: r["kafka_offset"])] == [0, 1, 2]
    emitted = [c for c in stream.emitted if c.key == REVISED_1S]
    assert sorted(candles_from_table(pa.Table.from_pylist(kept)), key=str) == sorted(
        values(emitted), key=str)  # each revision with its own values
    for interval, interval_us in (("1s", 1_000_000), ("10s", 10_000_000)):
        latest = read_latest_speed_candles(store, interval, DATE)
        assert latest.revised == 1
        table = latest.candles.sort("window_start_us").to_arrow()
        assert candles_from_table(table) == values(of_interval(stream.batch, interval_us))
        assert read_speed_candles(store, interval, DATE).height == (
            len(of_interval(stream.batch, interval_us)) + 2)
        revisions = dict(zip(table["window_start_us"].to_pylist(),
                             table["revision"].to_pylist(), strict=True))
        revised = REVISED_1S if interval == "1s" else REVISED_10S
        assert {start for start, revision in revisions.items() if revision} == {revised[2]}
        assert revisions[revised[2]] == 2
        contract = latest_revisions(of_interval(stream.emitted, interval_us))
        assert with_revisions(table) == [contract[key] for key in sorted(contract)]
        served = candles_from_table(read_candle_table(store, SPEED_SOURCE, interval, DATE))
        assert served == values(of_interval(stream.batch, interval_us))


def legacy_file(store: LocalStore, candles: list[Candle]) -> None:
    """A sealed chunk file as the archive wrote it before revisions: no revision column."""
    archive_candles(store, candles, chunk_offsets=len(candles), seal_last=True)
    (entry,) = store.list_files(candles_dir(SPEED_SOURCE, "1s", DATE))
    table = decode(store.read_bytes(entry.path) or b"")
    old = table.drop_columns(["revision"])
    pq.write_table(old.replace_schema_metadata({**table.schema.metadata}),
                   store.root / entry.path)
    assert "revision" not in pq.read_schema(store.root / entry.path).names


def test_files_without_the_revision_column_read_as_revision_0(tmp_path: Path) -> None:
    store, stream = LocalStore(tmp_path), revised_stream()
    first = of_interval([c for c in stream.emitted if not c.revision], 1_000_000)
    legacy_file(store, first)  # offsets 0-4, before the upgrade
    later = [c for c in stream.emitted if c.revision and c.interval_us == 1_000_000]
    archive_candles(store, later, chunk_offsets=len(first), first_offset=len(first),
                    seal_last=True)  # offsets 5-9 after it: revisions 1 and 2
    every = read_speed_candles(store, "1s", DATE)
    assert sorted(every["revision"].to_list()) == [0] * len(first) + [1, 2]
    latest = read_latest_speed_candles(store, "1s", DATE)
    assert latest.revised == 1
    expected = values(of_interval(stream.batch, 1_000_000))
    assert candles_from_table(latest.candles.sort("window_start_us").to_arrow()) == expected
    assert candles_from_table(read_candle_table(store, SPEED_SOURCE, "1s", DATE)) == expected

    summary = compact_date(store, DATE, target_rows=100)  # old and new merge into one file
    assert (summary.merged, summary.written) == (2, 1)
    (entry,) = live_files(store.list_files(candles_dir(SPEED_SOURCE, "1s", DATE)))
    merged = decode(store.read_bytes(entry.path) or b"").replace_schema_metadata(None)
    assert merged.schema == SPEED_CANDLE_SCHEMA
    assert sorted(merged["revision"].to_pylist()) == [0] * len(first) + [1, 2]
    after = read_latest_speed_candles(store, "1s", DATE)
    assert after.candles.sort("window_start_us").equals(latest.candles.sort("window_start_us"))


def test_only_the_revision_column_may_be_missing(tmp_path: Path) -> None:
    store, stream = LocalStore(tmp_path), revised_stream()
    legacy_file(store, of_interval(stream.batch, 1_000_000))
    (entry,) = store.list_files(candles_dir(SPEED_SOURCE, "1s", DATE))
    pq.write_table(pq.read_table(store.root / entry.path).drop_columns(["vwap"]),
                   store.root / entry.path)
    with pytest.raises(BadDatasetError, match="rows without vwap"):
        read_speed_candles(store, "1s", DATE)
