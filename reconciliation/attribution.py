"""Why a candle differs: the archived evidence of late trades, dead letters and duplicates.

A speed candle can legitimately differ from its batch candle for three reasons, each
leaving a trace in the archive: a trade the speed layer routed to ``trades.late`` (its
window had closed), a record it sent to ``trades.dlq``, or a duplicate the batch layer
dropped that the speed layer could no longer recognise. A candle whose difference this evidence
does not account for is *unexplained*: a lost message or a bug.

Late trades are checked, not just counted: folding the window's late trades into the speed
candle must give the batch candle exactly (:attr:`Attribution.reproduced`). Dead letters
and duplicates cannot be re-folded, so they must at least account for the difference in
trade count (see :func:`_explained`): a record merely present in a 1 h window explains
nothing.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass

import numpy as np
import polars as pl

from candle_core.candle import Candle, CandleBuilder, merge
from candle_core.fixed_point import PRICE_DECIMALS, SIZE_DECIMALS
from reconciliation.drift import CandleDrift

LATE, DLQ, DUPLICATE = "late", "dlq", "duplicate"
CAUSES = (LATE, DLQ, DUPLICATE)
LateTrade = tuple[int, int, int, int]  # ts_us, trade_id, price, size (fixed point)


@dataclass(frozen=True)
class Attribution:
    """The causes found in one candle's window, and whether they account for the drift."""

    causes: dict[str, int]
    reproduced: bool | None  # None: no late trades to fold in
    explained: bool


class TimeIndex:
    """Event times per symbol, sorted, for counting the records inside a window."""

    def __init__(self, frame: pl.DataFrame) -> None:
        self.times: dict[str, np.ndarray] = {}
        for (symbol,), part in frame.select("symbol", "ts_us").group_by("symbol"):
            self.times[str(symbol)] = np.sort(part["ts_us"].to_numpy())

    def count(self, symbol: str, start_us: int, end_us: int) -> int:
        times = self.times.get(symbol)
        if times is None:
            return 0
        return int(np.searchsorted(times, end_us) - np.searchsorted(times, start_us))


class Evidence:
    """Everything the archive says about one date's deviations from the contract."""

    def __init__(self, late: pl.DataFrame, dead_letters: pl.DataFrame,
                 duplicates: pl.DataFrame) -> None:
        self.dead_letters, self.duplicates = TimeIndex(dead_letters), TimeIndex(duplicates)
        self.late = _late_by_symbol(late)
        self.counts = {LATE: late.height, DLQ: dead_letters.height,
                       DUPLICATE: duplicates.height}

    def attribute(self, drift: CandleDrift) -> Attribution:
        symbol, interval_us, start_us = drift.key
        end_us = start_us + interval_us
        late = self._late_in(symbol, start_us, end_us)
        causes = {LATE: len(late), DLQ: self.dead_letters.count(symbol, start_us, end_us),
                  DUPLICATE: self.duplicates.count(symbol, start_us, end_us)}
        reproduced = None if not late else _reproduces(drift, late)
        return Attribution(causes, reproduced, _explained(drift, causes, reproduced))

    def _late_in(self, symbol: str, start_us: int, end_us: int) -> list[LateTrade]:
        trades = self.late.get(symbol, [])
        first = bisect_left(trades, (start_us,))
        last = bisect_left(trades, (end_us,))
        return trades[first:last]


def _explained(drift: CandleDrift, causes: dict[str, int], reproduced: bool | None) -> bool:
    """Does the evidence account for the difference, not merely sit in the window?

    Late trades must reproduce the batch candle exactly. Otherwise the trade counts must
    fit: a speed candle with *more* trades than the batch one is explained by at least that
    many dropped duplicates (the speed layer no longer knew the first copy); one with
    *fewer* by at least that many dead letters plus late trades (records the speed layer
    set aside). A candle the speed layer lacks is explained only by late trades.
    """
    if reproduced:
        return True
    if drift.speed is None:
        return False
    speed_trades = drift.speed.trade_count
    batch_trades = 0 if drift.batch is None else drift.batch.trade_count
    if speed_trades > batch_trades:
        return causes[DUPLICATE] >= speed_trades - batch_trades
    if speed_trades < batch_trades:
        return causes[DLQ] + causes[LATE] >= batch_trades - speed_trades
    return False  # same number of trades, different values: nothing here explains that


def _reproduces(drift: CandleDrift, late: list[LateTrade]) -> bool:
    """True when the speed candle plus the window's late trades is the batch candle."""
    symbol, interval_us, start_us = drift.key
    builder = CandleBuilder(symbol, interval_us, start_us)
    for ts_us, trade_id, price, size in late:
        builder.add(ts_us, trade_id, price, size)
    late_candle = builder.build()
    folded: Candle = late_candle if drift.speed is None else merge(drift.speed, late_candle)
    return folded == drift.batch


def _late_by_symbol(late: pl.DataFrame) -> dict[str, list[LateTrade]]:
    """Late trades per symbol, one copy per trade id (the first routed), sorted by time."""
    if not late.height:
        return {}
    unique = late.sort("kafka_partition", "kafka_offset").unique(
        ["symbol", "trade_id"], keep="first", maintain_order=True)
    fixed = unique.select(
        "symbol", "ts_us", "trade_id",
        (pl.col("price").cast(pl.Decimal(38, PRICE_DECIMALS)).to_physical()
         .cast(pl.Int64)).alias("price"),
        (pl.col("size").cast(pl.Decimal(38, SIZE_DECIMALS)).to_physical()
         .cast(pl.Int64)).alias("size"))
    by_symbol: dict[str, list[LateTrade]] = {}
    for symbol, ts_us, trade_id, price, size in fixed.iter_rows():
        by_symbol.setdefault(symbol, []).append((ts_us, trade_id, price, size))
    for trades in by_symbol.values():
        trades.sort()
    return by_symbol
