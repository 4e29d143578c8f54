"""The contract's duplicate rule over a date partition, with memory that does not grow
with the day.

Same ``(symbol, trade_id)`` counts once; the copy at the lowest Kafka offset wins (ties
across partitions, which keying by symbol rules out, go to the lower partition); a later
copy with different content (ts, price, size, venue, side) is a conflict, like
:mod:`candle_core.dedup`. Copies may sit in any file of the date, and in the neighbouring
dates' files (a conflicting copy can carry another event time), so the key pass reads
``trade_id`` from the date and its neighbours.

1. Key pass, per symbol: sort ``trade_id`` and keep the ids seen twice. When a symbol has
   more rows than ``bucket_rows``, the ids are split by ``trade_id % buckets`` into
   passes of about that size, so memory is bounded by the bucket, not the day.
2. Those few ids' full rows are fetched and judged: every copy but the winner is a loser.
3. The caller anti-joins the losers (by partition and offset) out of the date's trades.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

CONTENT = ("ts_us", "price", "size", "venue", "side")
ROW_ID = ("kafka_partition", "kafka_offset")
WINNER_ORDER = ("kafka_offset", "kafka_partition")


@dataclass(frozen=True)
class DedupResult:
    """The rows of the date to drop, and how many duplicates and conflicts there were."""

    losers: pl.DataFrame  # columns ROW_ID, rows of the date being processed only
    duplicates: int
    conflicts: int


def duplicated_ids(frame: pl.LazyFrame, rows: int, bucket_rows: int) -> pl.Series:
    """The trade ids of one symbol that occur more than once in ``frame``."""
    buckets = max(1, -(-rows // bucket_rows))
    ids = frame.select("trade_id")
    found = []
    for bucket in range(buckets):
        part = ids if buckets == 1 else ids.filter(pl.col("trade_id") % buckets == bucket)
        sorted_ids = part.sort("trade_id")
        repeated = sorted_ids.filter(pl.col("trade_id").diff() == 0).unique()
        found.append(repeated.collect(engine="streaming")["trade_id"])
    return pl.concat(found) if found else pl.Series("trade_id", [], pl.Int64)


def judge(copies: pl.DataFrame, date: str) -> DedupResult:
    """Winners and losers among all copies of the duplicated keys (any date)."""
    ordered = copies.sort("symbol", "trade_id", *WINNER_ORDER)
    winner = [pl.col(c).first().over("symbol", "trade_id") for c in CONTENT]
    same = pl.all_horizontal(pl.col(c).eq_missing(w) for c, w in zip(CONTENT, winner,
                                                                        strict=True))
    judged = ordered.with_columns(
        loser=pl.int_range(pl.len()).over("symbol", "trade_id") > 0,
        same_content=same,
    ).filter(pl.col("loser") & (pl.col("date") == pl.lit(date).str.to_date()))
    conflicts = judged.filter(~pl.col("same_content")).height
    return DedupResult(judged.select(ROW_ID), judged.height - conflicts, conflicts)


def no_duplicates() -> DedupResult:
    return DedupResult(pl.DataFrame(schema={"kafka_partition": pl.Int32,
                                            "kafka_offset": pl.Int64}), 0, 0)
