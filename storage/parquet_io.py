"""Deterministic Parquet bytes: the same table always encodes to the same bytes.

Fixed compression (zstd, level 3), fixed row-group size, statistics on, and no timestamp
anywhere in the file, so a replay that rebuilds a table rewrites an identical file. The
``candles.sealed`` key says whether the file's chunk was complete when it was written
(compaction only merges sealed files; an open chunk's file may still grow).
"""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq

ROW_GROUP_ROWS = 256 * 1024
SEALED_KEY = b"candles.sealed"
COMPACTED_KEY = b"candles.compacted"


def encode(table: pa.Table, sealed: bool, extra: dict[bytes, bytes] | None = None) -> bytes:
    """``table`` as Parquet bytes with the sealed flag (and any ``extra`` metadata)."""
    metadata = {**(table.schema.metadata or {}), SEALED_KEY: b"true" if sealed else b"false",
                **(extra or {})}
    sink = io.BytesIO()
    pq.write_table(table.replace_schema_metadata(metadata), sink, compression="zstd",
                   compression_level=3, row_group_size=ROW_GROUP_ROWS, write_statistics=True)
    return sink.getvalue()


def decode(data: bytes) -> pa.Table:
    """The table in Parquet ``data``."""
    return pq.read_table(pa.BufferReader(data))


def is_sealed(data: bytes) -> bool:
    """The sealed flag of a Parquet file written by :func:`encode`."""
    metadata = pq.read_schema(pa.BufferReader(data)).metadata or {}
    return metadata.get(SEALED_KEY) == b"true"
