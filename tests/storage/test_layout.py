"""File names are pure functions of the data, and readers see exactly the live files."""

from __future__ import annotations

import pytest

from storage.layout import ChunkName, date_of, hour_of, live_files, parse_name
from storage.store import FileEntry

DIR = "trades/date=2026-01-01/symbol=AAPL"


@pytest.mark.parametrize("name", [
    ChunkName("trades", 3, 0, 999, 0),                   # first chunk, hour 00
    ChunkName("my.topic-x_1", 1023, 10**12, 10**12 + 99, 23),  # odd topic, big offsets
    ChunkName("trades", 0, 0, 4999, None),               # a compacted file
])
def test_name_round_trip(name: ChunkName) -> None:
    assert parse_name(name.file_name()) == name


@pytest.mark.parametrize("name", [
    "AAPL.parquet",                                             # batch output
    ".trades+0+0000000000000000000-0000000000000000999.h00.parquet.1-ab.tmp",  # temp
    "trades+0+0-999.h00.parquet",                               # offsets not zero-padded
])
def test_other_names_are_not_chunks(name: str) -> None:
    assert parse_name(name) is None


@pytest.mark.parametrize(("ts_us", "date", "hour"), [
    (0, "1970-01-01", 0),                                    # the epoch
    (1_767_225_599_999_999, "2025-12-31", 23),              # last µs of a day
    (1_767_225_600_000_000, "2026-01-01", 0),               # midnight belongs to the new day
])
def test_date_and_hour_are_utc(ts_us: int, date: str, hour: int) -> None:
    assert (date_of(ts_us), hour_of(ts_us)) == (date, hour)


def entry(name: str, directory: str = DIR) -> FileEntry:
    return FileEntry(f"{directory}/{name}", 1)


def test_live_files_hide_temp_and_superseded_chunk_files() -> None:
    chunk = [ChunkName("trades", 0, k * 100, k * 100 + 99, 5).file_name() for k in range(4)]
    compacted = ChunkName("trades", 0, 0, 299, None).file_name()
    other_partition = ChunkName("trades", 1, 0, 99, 5).file_name()
    entries = [entry(n) for n in [*chunk, compacted, other_partition, ".x.parquet.1-a.tmp"]]
    entries.append(entry(chunk[0], "trades/date=2026-01-01/symbol=MSFT"))  # other directory
    live = {e.path for e in live_files(entries)}
    assert live == {entry(compacted).path, entry(chunk[3]).path, entry(other_partition).path,
                    f"trades/date=2026-01-01/symbol=MSFT/{chunk[0]}"}
