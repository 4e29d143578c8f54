"""One klines file against the batch candles of the same symbol, interval and windows.

Batch candles are read the way reconciliation reads them (``reconciliation.sources``):
``candles/source=batch/interval=<label>/date=<date>/`` for every UTC date the file's
windows fall on. A date with no batch candles at all means ``candles batch`` has not run
there, which is an error to fix, not a difference; a date where the batch ran but the
symbol has no candle is compared (every kline with trades is then missing ours).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from candle_core.candle import Candle
from candle_core.codec import candles_from_table
from candle_core.windows import interval_label
from reconciliation.klines.compare import KlinesComparison, compare_klines
from reconciliation.klines.exceptions import BatchCandlesMissingError, KlinesFileError
from reconciliation.klines.kline_file import KlineFile, read_klines
from reconciliation.settings import ReconcileSettings
from reconciliation.sources import read_candles
from storage.layout import BATCH_SOURCE, date_of
from storage.store import Store


@dataclass(frozen=True)
class KlinesCheck:
    """A file, the dates whose batch candles it was compared with, and the outcome."""

    file: KlineFile
    root: str
    dates: list[str]
    comparison: KlinesComparison

    @property
    def interval(self) -> str:
        return interval_label(self.file.interval_us)


def batch_candles(store: Store, symbol: str, interval: str, dates: list[str]
                  ) -> dict[int, Candle]:
    """Our batch candles of ``symbol`` on ``dates`` by window start; raises when the batch
    has not run on one of them."""
    found: dict[int, Candle] = {}
    not_run = []
    for date in dates:
        frame = read_candles(store, BATCH_SOURCE, interval, date)
        if frame.is_empty():
            not_run.append(date)
            continue
        mine = frame.filter(pl.col("symbol") == symbol)
        found.update((c.window_start_us, c) for c in candles_from_table(mine.to_arrow()))
    if not_run:
        raise BatchCandlesMissingError(store.root_uri, interval, not_run)
    return found


def check_klines(store: Store, settings: ReconcileSettings, path: Path, symbol: str | None,
                 interval: str | None, compare_count: bool = True) -> KlinesCheck:
    """Read ``path``, find our batch candles of its windows, compare (see ``compare``)."""
    file = read_klines(path, symbol, interval)
    label = interval_label(file.interval_us)
    if file.interval_us not in settings.intervals_us:
        raise KlinesFileError(path, 0, f"{label} is not one of the batch intervals "
                              f"({', '.join(settings.intervals)}): add it to CANDLES_INTERVALS "
                              f"and run candles batch again, or check other klines")
    dates = sorted({date_of(kline.open_time_us) for kline in file.klines if kline.volume})
    candles = batch_candles(store, file.symbol, label, dates)
    comparison = compare_klines(file.klines, candles, compare_count)
    return KlinesCheck(file, store.root_uri, dates, comparison)
