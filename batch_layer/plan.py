"""Cut one symbol's files of a date into batches that can be deduplicated on their own.

Two copies of a trade share its id, so files whose trade-id ranges do not overlap cannot
hold copies of each other's trades. Exchange ids grow with time, and a file holds one
chunk of offsets of one event-time hour, so a symbol's files have nearly disjoint ranges:

    file ids:   [0 ..... 104k]  [104k ..... 209k]  [209k ..... 313k]  ...
    batches:    |<------- up to bucket_rows rows ------->|  |<---- next ...

Files are sorted by their lowest id and swept: overlapping ranges join one *component*
(all copies of any id of a component are in it), and neighbouring components are packed
into batches of at most ``bucket_rows`` rows, so memory is one batch whatever the day's
size. A component larger than that (ids that do not grow with time, or a copy re-sent
hours later) is one *oversized* batch, which :mod:`batch_layer.symbol` deduplicates in
hash buckets instead.

When all of a symbol's rows fit in one batch, the ranges are not even read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from batch_layer.source import row_count, scan_columns
from storage.store import Store


@dataclass(frozen=True)
class IdRange:
    """One file's rows and its lowest and highest trade id."""

    uri: str
    rows: int
    low: int
    high: int


@dataclass(frozen=True)
class Batch:
    """Files of the date that can be deduplicated without the date's other files."""

    uris: tuple[str, ...]
    rows: int
    oversized: bool = False


def plan_batches(store: Store, uris: Sequence[str], bucket_rows: int) -> list[Batch]:
    """The batches of one symbol's files of the date."""
    rows = row_count(store, uris)
    if rows <= bucket_rows:
        return [Batch(tuple(uris), rows)] if rows else []
    return pack(components(id_ranges(store, uris)), bucket_rows)


def id_ranges(store: Store, uris: Sequence[str]) -> list[IdRange]:
    """Each file's row count and id range (reads the ``trade_id`` column, one file at a
    time, in parallel)."""
    stats = [scan_columns(store, [uri], ["trade_id"]).select(
        rows=pl.len(), low=pl.col("trade_id").min(), high=pl.col("trade_id").max())
        for uri in uris]
    found = pl.collect_all(stats)
    return [IdRange(uri, int(frame["rows"][0]), int(frame["low"][0] or 0),
                    int(frame["high"][0] or 0))
            for uri, frame in zip(uris, found, strict=True) if frame["rows"][0]]


def components(ranges: list[IdRange]) -> list[list[IdRange]]:
    """Files grouped so that no two groups' id ranges overlap, in id order."""
    found: list[list[IdRange]] = []
    high = None
    for file in sorted(ranges, key=lambda r: (r.low, r.high, r.uri)):
        if high is None or file.low > high:
            found.append([])
            high = file.high
        found[-1].append(file)
        high = max(high, file.high)
    return found


def pack(groups: list[list[IdRange]], bucket_rows: int) -> list[Batch]:
    """Consecutive components packed into batches of at most ``bucket_rows`` rows."""
    batches: list[Batch] = []
    uris: list[str] = []
    rows = 0
    for group in groups:
        size = sum(r.rows for r in group)
        if uris and rows + size > bucket_rows:
            batches.append(Batch(tuple(uris), rows))
            uris, rows = [], 0
        if size > bucket_rows:
            batches.append(Batch(tuple(r.uri for r in group), size, oversized=True))
            continue
        uris.extend(r.uri for r in group)
        rows += size
    if uris:
        batches.append(Batch(tuple(uris), rows))
    return batches
