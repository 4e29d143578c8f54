"""Join speed and batch candles in Polars; exact Python arithmetic only where they differ.

On clean data nearly every candle matches exactly, so equality is decided column-wise in
Polars over the whole date, and only the rest become :class:`~candle_core.candle.Candle`
pairs for :func:`reconciliation.drift.candle_drift` (exact fractions). The speed side holds
every revision of a candle; only the latest is compared (older revisions are neither extra
candles nor drift), and the candles that were revised are counted. An emission (key and
revision) the speed side holds twice is an exactly-once violation, reported on its own.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import polars as pl

from candle_core.candle import Candle
from candle_core.codec import CANDLE_SCHEMA, REVISION_FIELD, candles_from_table
from reconciliation.drift import CandleDrift, CandleKey, candle_drift
from storage.speed_candles import latest_revisions

KEY = ("symbol", "interval_us", "window_start_us")
VALUES = tuple(name for name in CANDLE_SCHEMA.names if name not in (*KEY, "interval"))
BATCH = "_batch"
GroupKey = tuple[str, int]  # (symbol, interval_us)


@dataclass
class Comparison:
    """The join of one interval's (or several intervals') candles."""

    exact: Counter[GroupKey] = field(default_factory=Counter)
    differing: list[CandleDrift] = field(default_factory=list)
    speed_duplicates: list[CandleKey] = field(default_factory=list)
    speed_candles: int = 0
    """Speed candles compared: each once, as its latest revision."""
    revised: Counter[GroupKey] = field(default_factory=Counter)
    """Speed candles whose latest revision is above 0."""

    def extend(self, other: Comparison) -> None:
        self.exact.update(other.exact)
        self.differing.extend(other.differing)
        self.speed_duplicates.extend(other.speed_duplicates)
        self.speed_candles += other.speed_candles
        self.revised.update(other.revised)


def compare(speed: pl.DataFrame, batch: pl.DataFrame) -> Comparison:
    """Every candle of ``speed`` (every revision, as
    :func:`storage.speed_candles.read_speed_candles` reads them) and ``batch`` (same
    interval set), joined on the key: the speed side by its latest revisions."""
    result = Comparison()
    if REVISION_FIELD not in speed.columns:  # rows from before revisions: first emissions
        speed = speed.with_columns(pl.lit(0, pl.Int64).alias(REVISION_FIELD))
    if speed.height:
        repeated = speed.group_by([*KEY, REVISION_FIELD]).len().filter(pl.col("len") > 1)
        result.speed_duplicates = sorted(set(repeated.select(KEY).iter_rows()))
        speed = latest_revisions(speed).candles
        revised = speed.filter(pl.col(REVISION_FIELD) > 0).group_by("symbol", "interval_us")
        result.revised.update({(s, i): n for s, i, n in revised.len().iter_rows()})
    result.speed_candles = speed.height
    speed = speed.select(CANDLE_SCHEMA.names).with_columns(pl.lit(True).alias("_in_speed"))
    batch = batch.select(CANDLE_SCHEMA.names).with_columns(pl.lit(True).alias("_in_batch"))
    joined = speed.join(batch, on=list(KEY), how="full", coalesce=True, suffix=BATCH)
    both = pl.col("_in_speed").is_not_null() & pl.col("_in_batch").is_not_null()
    same = pl.all_horizontal(pl.col(name) == pl.col(name + BATCH) for name in VALUES)
    joined = joined.with_columns(_exact=both & same.fill_null(False))
    exact = joined.filter(pl.col("_exact")).group_by("symbol", "interval_us").len()
    result.exact.update({(s, i): n for s, i, n in exact.iter_rows()})
    result.differing = differing_drifts(joined.filter(~pl.col("_exact")))
    return result


def differing_drifts(rows: pl.DataFrame) -> list[CandleDrift]:
    """Exact drifts of the joined rows that are not exact matches."""
    if not rows.height:
        return []
    speed = _side(rows, "", "_in_speed")
    batch = _side(rows, BATCH, "_in_batch")
    return [candle_drift(speed.get(key), batch.get(key)) for key in rows.select(KEY).iter_rows()]


def _side(rows: pl.DataFrame, suffix: str, present: str) -> dict[CandleKey, Candle]:
    """One side's candles of the joined rows (revision 0: a revision is not a value, so
    a speed candle equals its batch candle when every value does)."""
    side = rows.filter(pl.col(present).is_not_null()).select(
        *(pl.col(name) for name in KEY),
        *(pl.col(name + suffix).alias(name) for name in ("interval", *VALUES)))
    candles = candles_from_table(side.to_arrow())
    return {candle.key: candle for candle in candles}
