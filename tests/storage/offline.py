"""Archive records without a broker: the archiver's own chunk and writer code, fed by hand.

For fast tests of the layout, the batch layer and compaction. Integration tests use the
real ``candles archive`` on the real broker instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry

from candle_core.parsing import TradeParser
from storage.chunks import ChunkRows, OpenChunk, chunk_index
from storage.metrics import ArchiveMetrics
from storage.rows import Message
from storage.store import Store
from storage.trade_rows import TradeRows
from storage.writer import ChunkWriter

TOPIC = "trades"
SKEW_US = 5_000_000

OffsetRecord = tuple[int, int, bytes, bytes]  # offset, kafka timestamp ms, key, value


def archive_offline(store: Store, records: Iterable[OffsetRecord], chunk_offsets: int,
                    partition: int = 0, topic: str = TOPIC, seal_last: bool = False,
                    rows: Callable[[], ChunkRows] | None = None) -> None:
    """Write ``records`` (in offset order) of one partition as the archiver would, into
    the sink ``rows`` makes (default: the ``trades`` topic's)."""
    writer = ChunkWriter(store, ArchiveMetrics(CollectorRegistry()))
    parser = TradeParser(SKEW_US)
    make_rows = rows or (lambda: TradeRows(parser))
    chunk: OpenChunk | None = None
    for offset, timestamp_ms, key, value in records:
        index = chunk_index(offset, chunk_offsets)
        if chunk is not None and chunk.index != index:
            writer.write(chunk, sealed=True)
            chunk = None
        if chunk is None:
            chunk = OpenChunk(topic, partition, index, chunk_offsets, make_rows())
        chunk.add(Message(offset, timestamp_ms, key, value))
    if chunk is not None:
        writer.write(chunk, sealed=seal_last)
