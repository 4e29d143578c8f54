"""Chunks: aligned blocks of offsets of one partition, the unit of writing and committing.

Chunk ``k`` of a partition holds the messages with offsets in ``[k*N, (k+1)*N)``, where
``N`` = ``archive_chunk_offsets``. Which chunk a message belongs to depends only on its
offset, never on timing, so every run over the same log cuts the same chunks and writes
the same file names. A chunk is *sealed* when a message of a later chunk arrives; only
then are its files final and its end offset committed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from storage.layout import ChunkName
from storage.rows import FilePart, Message


class ChunkRows(Protocol):
    """The row buffer of one chunk (trades or candles)."""

    kind: str

    def __len__(self) -> int: ...

    def add(self, message: Message) -> None: ...

    def counts(self) -> dict[str, int]: ...

    def parts(self, topic: str, partition: int) -> list[FilePart]: ...


@dataclass
class OpenChunk:
    """The chunk a partition is filling now."""

    topic: str
    partition: int
    index: int
    size: int
    rows: ChunkRows
    dirty: bool = False
    last_offset: int = field(default=-1)

    @property
    def first(self) -> int:
        return self.index * self.size

    @property
    def end(self) -> int:
        """The first offset after this chunk: what is committed once it is sealed."""
        return self.first + self.size

    def add(self, message: Message) -> None:
        self.rows.add(message)
        self.last_offset = message.offset
        self.dirty = True

    def name(self, hour: int) -> ChunkName:
        return ChunkName(self.topic, self.partition, self.first, self.end - 1, hour)

    def path(self, part: FilePart) -> str:
        return f"{part.directory}/{self.name(part.hour).file_name()}"


def chunk_index(offset: int, size: int) -> int:
    """The chunk that holds ``offset``."""
    return offset // size
