"""The archived speed candles, every revision, and the one rule that picks the latest.

The speed layer emits a candle again, one revision higher, when a late trade inside its
revision horizon changes it; the archive keeps every emission as a row
(docs/master-dataset.md, "Revisions of speed candles")::

    candles/source=speed/interval=1s/date=2026-01-01/   (rows as archived)
      BTCUSDT 00:00:05  revision 0  close 100.0   first emission
      BTCUSDT 00:00:05  revision 1  close 100.5   a late trade came in
      BTCUSDT 00:00:05  revision 2  close 101.0   the latest: what readers use
      ETHUSDT 00:00:05  revision 0  ...           never revised: revision 0 is the latest

No row is flagged as the latest: a later revision can arrive in any later chunk (up to the
revision horizon after the window closed), so only a reader that sees every file of the
date can tell. :func:`latest_revisions` is that reader's rule, for reconciliation and
serving alike: the contract's rule (:func:`candle_core.candle.latest_revisions`) over a
Polars frame. Files written before revisions existed have no ``revision`` column: their
rows read as revision 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
import pyarrow as pa

from candle_core.codec import CANDLE_SCHEMA
from storage.exceptions import BadDatasetError
from storage.layout import SPEED_SOURCE, candles_dir, live_files
from storage.schemas import REVISION, SPEED_CANDLE_SCHEMA
from storage.store import Store

CANDLE_KEY = ("symbol", "interval_us", "window_start_us")
POSITION = ("kafka_partition", "kafka_offset")
COLUMNS = (*CANDLE_SCHEMA.names, REVISION.name, *POSITION)
"""What :func:`read_speed_candles` returns: the candle, its revision, its Kafka position."""


def _polars_schema() -> pl.Schema:
    """:data:`SPEED_CANDLE_SCHEMA` for Polars: every file is read with it, so a file
    without the ``revision`` column (written before it existed) still reads."""
    frame = pl.from_arrow(SPEED_CANDLE_SCHEMA.empty_table())
    assert isinstance(frame, pl.DataFrame)
    return frame.schema


_SCHEMA = _polars_schema()


@dataclass(frozen=True)
class LatestRevisions:
    """The latest revision of each speed candle (one row per candle key)."""

    candles: pl.DataFrame
    revised: int
    """How many of them were revised (latest revision > 0)."""


def latest_revisions(frame: pl.DataFrame) -> LatestRevisions:
    """One row per candle key of ``frame`` (:data:`COLUMNS`, every revision): the highest
    revision; of two rows with the same revision (one emission archived twice, which the
    caller may report as an exactly-once violation), the lowest Kafka position."""
    order = [*CANDLE_KEY, REVISION.name, *POSITION]
    latest = frame.sort(order, descending=[name == REVISION.name for name in order]).unique(
        list(CANDLE_KEY), keep="first", maintain_order=True)
    return LatestRevisions(latest, latest.filter(pl.col(REVISION.name) > 0).height)


def read_speed_candles(store: Store, interval: str, date: str) -> pl.DataFrame:
    """Every archived revision of the speed candles of ``interval`` and ``date``, as
    :data:`COLUMNS` (an empty frame when there are none)."""
    directory = candles_dir(SPEED_SOURCE, interval, date)
    uris = [store.uri(entry.path) for entry in live_files(store.list_files(directory))]
    if not uris:
        return pl.DataFrame(schema={name: _SCHEMA[name] for name in COLUMNS})
    frame = pl.scan_parquet(uris, schema=_SCHEMA, missing_columns="insert",
                            storage_options=store.polars_options(),
                            hive_partitioning=False).select(COLUMNS).collect()
    missing = [name for name in COLUMNS if name != REVISION.name and frame[name].null_count()]
    if missing:  # only the revision column may be absent (files from before it existed)
        raise BadDatasetError(store.uri(directory), f"rows without {', '.join(missing)}")
    return frame.with_columns(pl.col(REVISION.name).fill_null(0))


def read_latest_speed_candles(store: Store, interval: str, date: str) -> LatestRevisions:
    """The latest revision of each speed candle of ``interval`` and ``date``, and how many
    were revised: what every reader of archived speed candles should use."""
    return latest_revisions(read_speed_candles(store, interval, date))


def with_revision(table: pa.Table) -> pa.Table:
    """A speed-candle table with its ``revision`` column: a table read from a file written
    before revisions existed gets revision 0 on every row (its place in
    :data:`SPEED_CANDLE_SCHEMA`, so old and new tables concatenate)."""
    if REVISION.name in table.column_names:
        return table
    zeros = pa.array([0] * table.num_rows, REVISION.type)
    return table.add_column(SPEED_CANDLE_SCHEMA.get_field_index(REVISION.name), REVISION, zeros)
