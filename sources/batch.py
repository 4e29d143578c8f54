"""A columnar batch of records with their ground truth (one Polars frame).

Columns: ``key`` (str), ``value`` (str: every simulated value is ASCII), ``timestamp_us``
(int64 arrival), ``label`` (uint8 :class:`Label`) and ``reason`` (str or null: the reason
the pipeline must give). Columnar, so 10M records never become 10M Python objects unless a
caller asks for them with :meth:`RecordBatch.records`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import polars as pl

from candle_core.reasons import Reason
from sources.labels import Label, Truth
from sources.records import Record

SCHEMA = {
    "key": pl.Utf8,
    "value": pl.Utf8,
    "timestamp_us": pl.Int64,
    "label": pl.UInt8,
    "reason": pl.Utf8,
}


@dataclass(frozen=True)
class RecordBatch:
    """Records in arrival order, with their labels."""

    frame: pl.DataFrame

    def __len__(self) -> int:
        return self.frame.height

    def records(self) -> Iterator[Record]:
        """The records as :class:`Record` tuples (key and value as bytes)."""
        columns = self.frame.select(
            pl.col("key").cast(pl.Binary), pl.col("value").cast(pl.Binary), "timestamp_us"
        )
        for key, value, timestamp_us in columns.iter_rows():
            yield Record(key, value, timestamp_us)

    def truths(self) -> Iterator[Truth]:
        """The ground truth of each record, in the same order."""
        for label, reason in self.frame.select("label", "reason").iter_rows():
            yield Truth(Label(label), None if reason is None else Reason(reason))

    def label_counts(self) -> dict[str, int]:
        """How many records of each label this batch holds."""
        counts = self.frame.group_by("label").len()
        return {Label(label).slug: count for label, count in counts.iter_rows()}
