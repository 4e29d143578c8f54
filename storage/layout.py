"""Paths and file names of the master dataset (documented in ``docs/master-dataset.md``).

::

    trades/date=YYYY-MM-DD/symbol=SYM/<topic>+<partition>+<first>-<last>.hHH.parquet
    invalid/topic=<topic>/date=YYYY-MM-DD/<topic>+<partition>+<first>-<last>.hHH.parquet
    candles/source=speed/interval=1s/date=YYYY-MM-DD/<topic>+<partition>+<first>-<last>.hHH.parquet
    candles/source=batch/interval=1s/date=YYYY-MM-DD/<SYMBOL>.parquet
    late/date=YYYY-MM-DD/<topic>+<partition>+<first>-<last>.hHH.parquet
    dlq/date=YYYY-MM-DD/<topic>+<partition>+<first>-<last>.hHH.parquet
    duplicates/date=YYYY-MM-DD/<SYMBOL>.parquet

``first``-``last`` is the aligned block of offsets (the chunk) the rows came from and
``HH`` the event-time hour, so a name is a pure function of the data: a replay writes the
same names. ``candles compact`` replaces a run of chunk files by one
``<topic>+<partition>+<first>-<last>.compacted.parquet`` covering their offset range;
readers use :func:`live_files`, which hides any chunk file a compacted file covers.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from storage.store import FileEntry, is_temp

SPEED_SOURCE = "speed"  # candles/source=speed: the speed layer's, archived from `candles`
BATCH_SOURCE = "batch"  # candles/source=batch: written by `candles batch` (the truth)
US_PER_DAY = 86_400_000_000
US_PER_HOUR = 3_600_000_000
PARQUET = ".parquet"
_NAME = re.compile(r"(?P<topic>[A-Za-z0-9._-]+)\+(?P<partition>\d+)\+(?P<first>\d{19})-"
                   r"(?P<last>\d{19})\.(?P<kind>h\d\d|compacted)\.parquet")


@dataclass(frozen=True, order=True)
class ChunkName:
    """What a dataset file name says: the offsets it covers, and its hour (None: compacted)."""

    topic: str
    partition: int
    first: int
    last: int
    hour: int | None = None

    def file_name(self) -> str:
        kind = "compacted" if self.hour is None else f"h{self.hour:02d}"
        return f"{self.topic}+{self.partition}+{self.first:019d}-{self.last:019d}.{kind}{PARQUET}"

    def covers(self, other: ChunkName) -> bool:
        """True if this (compacted) file's offset range holds all of ``other``'s."""
        return (self.topic, self.partition) == (other.topic, other.partition) and (
            self.first <= other.first and other.last <= self.last)


def parse_name(name: str) -> ChunkName | None:
    """The :class:`ChunkName` of a dataset file, or ``None`` for any other name."""
    match = _NAME.fullmatch(name)
    if match is None:
        return None
    kind = match["kind"]
    return ChunkName(match["topic"], int(match["partition"]), int(match["first"]),
                     int(match["last"]), None if kind == "compacted" else int(kind[1:]))


def date_of(ts_us: int) -> str:
    """The UTC date (``YYYY-MM-DD``) of an epoch-microsecond time."""
    return (dt.date(1970, 1, 1) + dt.timedelta(days=ts_us // US_PER_DAY)).isoformat()


def hour_of(ts_us: int) -> int:
    """The UTC hour (0-23) of an epoch-microsecond time."""
    return int(ts_us % US_PER_DAY // US_PER_HOUR)


def trades_dir(date: str, symbol: str | None = None) -> str:
    base = f"trades/date={date}"
    return base if symbol is None else f"{base}/symbol={symbol}"


def invalid_dir(topic: str, date: str) -> str:
    return f"invalid/topic={topic}/date={date}"


def late_dir(date: str) -> str:
    return f"late/date={date}"


def dlq_dir(date: str) -> str:
    return f"dlq/date={date}"


def duplicates_dir(date: str) -> str:
    """Where ``candles batch`` writes the trades of ``date`` it dropped as duplicates."""
    return f"duplicates/date={date}"


def candles_source_dir(source: str) -> str:
    """``source`` is :data:`SPEED_SOURCE` or :data:`BATCH_SOURCE`."""
    return f"candles/source={source}"


def candles_dir(source: str, interval: str, date: str) -> str:
    return f"{candles_source_dir(source)}/interval={interval}/date={date}"


def live_files(entries: Iterable[FileEntry]) -> list[FileEntry]:
    """The Parquet files a reader should see: no temp files, no superseded chunk files."""
    parquet = [e for e in entries if e.name.endswith(PARQUET) and not is_temp(e.name)]
    compacted: dict[str, list[ChunkName]] = {}
    for entry in parquet:
        chunk = parse_name(entry.name)
        if chunk is not None and chunk.hour is None:
            compacted.setdefault(entry.parent, []).append(chunk)
    return sorted(e for e in parquet if not _superseded(e, compacted.get(e.parent, [])))


def _superseded(entry: FileEntry, compacted: list[ChunkName]) -> bool:
    chunk = parse_name(entry.name)
    if chunk is None:
        return False
    return any(c != chunk and c.covers(chunk) for c in compacted)
