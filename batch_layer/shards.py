"""``--shard I/N``: a deterministic split of a date's symbols between N batch runs.

A symbol belongs to shard ``I`` of ``N`` (``0 <= I < N``) when the first 8 bytes of the
SHA-256 digest of its UTF-8 name, read as a big-endian unsigned integer, are ``I``
modulo ``N`` (documented in docs/master-dataset.md). Every output file of the batch
layer is per symbol, so the shards' files are disjoint, and together they are exactly
the files of one unsharded run. The hash depends on nothing but the name: not on the
Python process (``hash()`` is salted), the order of listing, or the other symbols.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from batch_layer.exceptions import BadShardError

_SHARD = re.compile(r"(\d+)/(\d+)")


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (0-based)."""

    index: int
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def holds(self, symbol: str) -> bool:
        return shard_of(symbol, self.count) == self.index


ALL = Shard(0, 1)


def shard_of(symbol: str, count: int) -> int:
    """The shard (of ``count``) that ``symbol`` belongs to."""
    digest = hashlib.sha256(symbol.encode()).digest()
    return int.from_bytes(digest[:8], "big") % count


def parse_shard(value: str) -> Shard:
    """``"2/4"`` -> ``Shard(2, 4)`` (raises :class:`BadShardError`)."""
    match = _SHARD.fullmatch(value.strip())
    if match is None:
        raise BadShardError(value)
    index, count = int(match.group(1)), int(match.group(2))
    if not 0 <= index < count:
        raise BadShardError(value)
    return Shard(index, count)
