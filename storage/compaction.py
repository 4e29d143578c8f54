"""``candles compact``: merge a date's small chunk files into larger ones, atomically.

Per directory and source partition, runs of *sealed* files (complete chunks, or earlier
compacted files) are packed, in offset order, into files of about ``target_rows`` rows
named ``<topic>+<partition>+<first>-<last>.compacted.parquet``. The new file appears by
one atomic write; from that moment :func:`storage.layout.live_files` hides the inputs it
covers, so a reader never sees a row twice or misses one. The inputs are deleted after
(a crash in between only leaves garbage that the next run deletes). An open chunk's file
is never merged: it may still grow. Running it again changes nothing. Speed-candle files
written before revisions existed get their ``revision`` column (0) when merged, so old and
new files merge into one :data:`~storage.schemas.SPEED_CANDLE_SCHEMA` file; every revision
stays a row (no row is marked the latest: see :mod:`storage.speed_candles`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa

from storage.layout import SPEED_SOURCE, ChunkName, candles_source_dir, live_files, parse_name
from storage.parquet_io import COMPACTED_KEY, decode, encode, is_sealed
from storage.speed_candles import with_revision
from storage.store import FileEntry, Store

SORT_KEYS = {"trades": ("ts_us", "trade_id", "kafka_offset"),
             "candles": ("window_start_us", "symbol", "kafka_offset"),
             "invalid": ("kafka_offset",)}


@dataclass
class CompactionSummary:
    directories: int = 0
    merged: int = 0
    written: int = 0
    deleted: int = 0
    rows: int = 0


@dataclass(frozen=True)
class Input:
    entry: FileEntry
    name: ChunkName
    table: pa.Table


def date_directories(store: Store, date: str) -> list[str]:
    """Every directory of ``date`` holding archive chunk files."""
    dirs = [f"trades/date={date}/{d}" for d in store.list_dirs(f"trades/date={date}")]
    dirs += [f"invalid/{t}/date={date}" for t in store.list_dirs("invalid")]
    speed = candles_source_dir(SPEED_SOURCE)
    dirs += [f"{speed}/{i}/date={date}" for i in store.list_dirs(speed)]
    return dirs


def compact_date(store: Store, date: str, target_rows: int) -> CompactionSummary:
    summary = CompactionSummary()
    for directory in date_directories(store, date):
        entries = store.list_files(directory)
        if entries:
            summary.directories += 1
            compact_directory(store, directory, entries, target_rows, summary)
    return summary


def compact_directory(store: Store, directory: str, entries: list[FileEntry],
                      target_rows: int, summary: CompactionSummary) -> None:
    kind = directory.split("/", 1)[0]
    upgrade = with_revision if kind == "candles" else _same
    for pack in packs(store, live_files(entries), target_rows):
        table = pa.concat_tables([upgrade(i.table.replace_schema_metadata(None)) for i in pack])
        table = table.sort_by([(key, "ascending") for key in SORT_KEYS[kind]])
        first, last = pack[0].name, pack[-1].name
        name = ChunkName(first.topic, first.partition, first.first, last.last)
        sources = ",".join(i.entry.name for i in pack).encode()
        store.write_bytes(f"{directory}/{name.file_name()}",
                          encode(table, sealed=True, extra={COMPACTED_KEY: sources}))
        summary.merged, summary.written = summary.merged + len(pack), summary.written + 1
        summary.rows += table.num_rows
    collect_garbage(store, entries, summary)


def packs(store: Store, live: list[FileEntry], target_rows: int) -> Iterator[list[Input]]:
    """Runs of sealed chunks of one (topic, partition), in offset order, up to the target.

    A chunk's files (one per hour) stay in one pack: a compacted file claims whole chunks.
    """
    pack: list[Input] = []
    for unit in sealed_chunks(store, live):
        head = unit[0].name
        rows = sum(i.table.num_rows for i in pack) + sum(i.table.num_rows for i in unit)
        if pack and ((pack[-1].name.topic, pack[-1].name.partition) != (
                head.topic, head.partition) or rows > target_rows):
            yield from _ready(pack)
            pack = []
        pack.extend(unit)
    yield from _ready(pack)


def sealed_chunks(store: Store, live: list[FileEntry]) -> Iterator[list[Input]]:
    """The sealed files, grouped by chunk (same topic, partition, offsets), in order."""
    named = sorted(((n, e) for e in live if (n := parse_name(e.name)) is not None),
                   key=lambda pair: (pair[0].topic, pair[0].partition, pair[0].first,
                                     pair[0].last, -1 if pair[0].hour is None else pair[0].hour))
    unit: list[Input] = []
    for name, entry in named:
        data = store.read_bytes(entry.path) or b""
        if not is_sealed(data):
            continue  # an open chunk: the last of its partition, and it may still grow
        if unit and (unit[0].name.topic, unit[0].name.partition, unit[0].name.first) != (
                name.topic, name.partition, name.first):
            yield unit
            unit = []
        unit.append(Input(entry, name, decode(data)))
    if unit:
        yield unit


def _same(table: pa.Table) -> pa.Table:
    return table


def _ready(pack: list[Input]) -> Iterator[list[Input]]:
    if len(pack) > 1:  # one file alone is already as compact as it gets
        yield pack


def collect_garbage(store: Store, entries: list[FileEntry], summary: CompactionSummary
                    ) -> None:
    """Delete chunk files that a compacted file now covers."""
    live = {e.path for e in live_files(store.list_files(entries[0].parent))}
    for entry in entries:
        if parse_name(entry.name) is not None and entry.path not in live:
            store.delete(entry.path)
            summary.deleted += 1
