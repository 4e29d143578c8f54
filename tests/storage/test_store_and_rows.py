"""The local store, the manifest, and how a chunk becomes files."""

from __future__ import annotations

import random
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from candle_core.codec import trades_from_table
from candle_core.parsing import TradeParser
from storage.chunks import OpenChunk
from storage.exceptions import ArchiveLayoutError
from storage.local import LocalStore
from storage.manifest import ensure_layout
from storage.parquet_io import decode, encode, is_sealed
from storage.rows import Message
from storage.trade_rows import TradeRows
from tests.speed_layer.trades import as_records, clean_stream

T0 = 1_767_225_600_000_000 - 90_000_000  # 90 s before midnight: two dates, two hours


def test_write_is_atomic_and_leaves_no_temp_file(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.write_bytes("a/b/c.parquet", b"one")
    store.write_bytes("a/b/c.parquet", b"two")
    assert [p.name for p in (tmp_path / "a" / "b").iterdir()] == ["c.parquet"]
    assert store.read_bytes("a/b/c.parquet") == b"two"
    assert store.read_bytes("missing") is None
    assert store.list_dirs("a") == ["b"]


def test_manifest_refuses_another_chunk_size(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    ensure_layout(store, 1000)
    ensure_layout(store, 1000)  # same layout: fine
    with pytest.raises(ArchiveLayoutError, match="CANDLES_ARCHIVE_CHUNK_OFFSETS"):
        ensure_layout(store, 500)


def chunk_of(records: list[tuple[bytes, bytes, int]], first_offset: int = 0) -> OpenChunk:
    chunk = OpenChunk("trades", 2, 0, 10_000, TradeRows(TradeParser(5_000_000)))
    for offset, (key, value, ts_ms) in enumerate(records, start=first_offset):
        chunk.add(Message(offset, ts_ms, key, value))
    return chunk


def test_chunk_files_split_by_date_symbol_hour_and_sorted() -> None:
    trades = clean_stream(3_000, seed=5, span_s=180, start_us=T0)
    records = as_records(trades, [random.Random(1).randrange(3_000_000) for _ in trades])
    parts = chunk_of(records).rows.parts("trades", 2)
    assert {p.directory.split("/")[1] for p in parts} == {"date=2025-12-31", "date=2026-01-01"}
    assert {(p.directory, p.hour) for p in parts} == {
        (f"trades/date={d}/symbol={t.symbol}", h) for t in trades
        for d, h in [("2025-12-31", 23) if t.ts_us < T0 + 90_000_000 else ("2026-01-01", 0)]}
    for part in parts:
        keys = [(t.ts_us, t.trade_id) for t in trades_from_table(part.table)]
        assert keys == sorted(keys)
    assert sum(p.table.num_rows for p in parts) == len(trades)


def test_same_chunk_encodes_to_identical_bytes() -> None:
    records = as_records(clean_stream(500, seed=9, start_us=T0))
    first = [encode(p.table, True) for p in chunk_of(records).rows.parts("trades", 2)]
    again = [encode(p.table, True) for p in chunk_of(records).rows.parts("trades", 2)]
    assert first == again
    assert all(is_sealed(data) for data in first)
    assert not is_sealed(encode(decode(first[0]), False))


def test_invalid_records_keep_reason_bytes_and_coordinates() -> None:
    good = as_records(clean_stream(3, seed=1, start_us=T0))
    bad = [(b"X", b"{not json", good[0][2]), (b"X", b'{"symbol":"X","trade_id":1}', 5)]
    parts = chunk_of([*good, *bad], first_offset=70).rows.parts("trades", 2)
    invalid = [p for p in parts if p.directory.startswith("invalid/")]
    rows = sorted((r for p in invalid for r in p.table.to_pylist()),
                  key=lambda r: r["kafka_offset"])
    assert [(r["kafka_offset"], r["reason"], r["value"]) for r in rows] == [
        (73, "malformed_json", b"{not json"), (74, "missing_field", bad[1][1])]
    assert {p.directory for p in invalid} == {  # dated by the Kafka timestamp
        "invalid/topic=trades/date=2025-12-31", "invalid/topic=trades/date=1970-01-01"}


def test_written_file_schema_is_trade_schema_plus_lineage(tmp_path: Path) -> None:
    from storage.schemas import ARCHIVE_TRADE_SCHEMA

    part = chunk_of(as_records(clean_stream(10, start_us=T0))).rows.parts("trades", 2)[0]
    (tmp_path / "x.parquet").write_bytes(encode(part.table, True))
    assert pq.read_schema(tmp_path / "x.parquet").remove_metadata() == ARCHIVE_TRADE_SCHEMA


def test_a_record_whose_parse_raises_becomes_an_internal_error_row() -> None:
    """The archive never crash-loops on one record: a bug in parsing it sets the record
    aside as an invalid row with reason internal_error and the exception as its detail."""
    from candle_core.reasons import Reason
    from storage.rows import Message
    from storage.trade_rows import TradeRows

    class BuggyParser:
        def parse(self, raw: bytes, kafka_ts_us: int | None = None) -> object:
            raise KeyError("boom")

    rows = TradeRows(BuggyParser())  # type: ignore[arg-type]
    rows.add(Message(5, 1_767_225_600_000, b"k", b'{"symbol":"A"}', ()))
    assert rows.counts()["invalid"] == 1
    message, reason, detail = rows.invalid[0]
    assert (message.offset, reason, detail) == (5, Reason.INTERNAL_ERROR, "KeyError: 'boom'")
