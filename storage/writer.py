"""Write a chunk's files into the store: encode, write atomically, count."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from storage.chunks import OpenChunk
from storage.metrics import ArchiveMetrics
from storage.parquet_io import encode
from storage.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WriteResult:
    """What one chunk write put in the store."""

    files: int
    bytes: int


class ChunkWriter:
    """Turns an :class:`OpenChunk` into its Parquet files under their final names."""

    def __init__(self, store: Store, metrics: ArchiveMetrics) -> None:
        self.store, self.metrics = store, metrics

    def write(self, chunk: OpenChunk, sealed: bool) -> WriteResult:
        """Write every file of ``chunk``; ``sealed``: the chunk is complete and final."""
        state = "sealed" if sealed else "partial"
        files = written = 0
        for part in chunk.rows.parts(chunk.topic, chunk.partition):
            data = encode(part.table, sealed)
            self.store.write_bytes(chunk.path(part), data)
            files, written = files + 1, written + len(data)
        self.metrics.files.labels(state).inc(files)
        self.metrics.bytes.inc(written)
        log.debug("wrote %s chunk", state, extra={
            "topic": chunk.topic, "partition": chunk.partition, "first_offset": chunk.first,
            "last_offset": chunk.last_offset, "files": files, "bytes": written})
        chunk.dirty = False
        return WriteResult(files, written)
