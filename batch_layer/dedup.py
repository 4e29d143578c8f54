"""The contract's duplicate rule on frames of one symbol (pure: no I/O).

Same ``(symbol, trade_id)`` counts once; the copy at the lowest Kafka offset wins (ties
across partitions, which keying by symbol rules out, go to the lower partition); a later
copy with different content (ts, price, size, venue, side) is a conflict, like
:mod:`candle_core.dedup`. Copies may sit in any file of the date, and in the neighbouring
dates' files (a conflicting copy can carry another event time).

Per symbol the key is ``trade_id`` alone, an int64, and ids mostly grow with the file
order, so finding the ids seen twice is a near-linear sort of one int64 array
(:func:`repeated_positions`); when they strictly grow, one pass says there are none.
Only the few copies found are judged, in Polars.
"""

from __future__ import annotations

import numpy as np
import polars as pl

CONTENT = ("ts_us", "price", "size", "venue", "side")
ROW_ID = ("kafka_partition", "kafka_offset")
WINNER_ORDER = ("kafka_offset", "kafka_partition")
ROW = "row"  # a row's position in the frame it was found in
ON_DATE = "on_date"  # the row belongs to the date being computed (not a neighbour)


def repeated_positions(ids: np.ndarray) -> np.ndarray:
    """Positions (ascending) of every row whose id occurs more than once in ``ids``.

    One pass says whether the ids strictly grow (then there is no repeat); otherwise a
    stable sort, a merge sort that runs in close to linear time on ids made of a few
    ascending runs, as a symbol's files concatenated are.
    """
    if len(ids) < 2 or bool(np.all(ids[1:] > ids[:-1])):
        return np.empty(0, dtype=np.int64)
    order = np.argsort(ids, kind="stable")
    ordered = ids[order]
    same = ordered[1:] == ordered[:-1]
    copy = np.zeros(len(ids), dtype=bool)
    copy[1:] |= same
    copy[:-1] |= same
    return np.sort(order[copy])


def judge(copies: pl.DataFrame) -> pl.DataFrame:
    """The losers among all copies of some ids (any date): every copy but the winner,
    with ``conflict`` (its content differs from the winner's) and the winner's
    ``winner_kafka_partition``/``winner_kafka_offset``. Other columns are kept."""
    ordered = copies.sort("trade_id", *WINNER_ORDER)
    winner = {c: pl.col(c).first().over("trade_id") for c in (*CONTENT, *ROW_ID)}
    same = pl.all_horizontal(pl.col(c).eq_missing(winner[c]) for c in CONTENT)
    return ordered.with_columns(
        loser=pl.int_range(pl.len()).over("trade_id") > 0,
        conflict=~same,
        winner_kafka_partition=winner["kafka_partition"],
        winner_kafka_offset=winner["kafka_offset"],
    ).filter(pl.col("loser")).drop("loser")


def duplicated_ids(frame: pl.LazyFrame, rows: int, bucket_rows: int) -> pl.Series:
    """The trade ids that occur more than once in ``frame``, in passes over
    ``trade_id % buckets`` of about ``bucket_rows`` rows each (memory: one bucket)."""
    buckets = max(1, -(-rows // bucket_rows))
    ids = frame.select("trade_id")
    found = []
    for bucket in range(buckets):
        part = ids if buckets == 1 else ids.filter(pl.col("trade_id") % buckets == bucket)
        repeated = part.group_by("trade_id").len().filter(pl.col("len") > 1)
        found.append(repeated.collect(engine="streaming")["trade_id"])
    return pl.concat(found) if found else pl.Series("trade_id", [], pl.Int64)
