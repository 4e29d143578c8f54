"""What the serving layer reads from the archive store: batch and speed candles per day,
reconciliation verdicts and drifted candles. Small time-bounded caches keep a chart's
paging from re-reading the same files; a report written later is seen within ``ttl_s``."""

from __future__ import annotations

import dataclasses
import io
import time
from collections.abc import Callable
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from candle_core.candle import Candle
from candle_core.codec import REVISION_FIELD, candles_from_table
from serving.settings import ServeSettings
from storage.layout import BATCH_SOURCE, SPEED_SOURCE, candles_dir
from storage.reconcile_report import ReconcileReport, ReportFiles
from storage.speed_candles import read_latest_speed_candles
from storage.store import Store

CAUSE_PREFIX = "cause_"


class TtlCache:
    """A dict of computed values that expire after ``ttl_s`` (bounded to ``size`` keys)."""

    def __init__(self, ttl_s: float, size: int = 256,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s, self.size, self._clock = ttl_s, size, clock
        self._items: dict[Any, tuple[float, Any]] = {}

    def get(self, key: Any, compute: Callable[[], Any]) -> Any:
        now = self._clock()
        hit = self._items.get(key)
        if hit is not None and now - hit[0] <= self.ttl_s:
            return hit[1]
        value = compute()
        if len(self._items) >= self.size:
            self._items.pop(next(iter(self._items)))
        self._items[key] = (now, value)
        return value


class ArchiveReader:
    """Reads one archive store on behalf of the API (all methods are blocking I/O)."""

    def __init__(self, store: Store, settings: ServeSettings, ttl_s: float = 30.0) -> None:
        self.store, self.settings = store, settings
        self.reports = ReportFiles.of(store, settings.reports_dir)
        self._cache = TtlCache(ttl_s)

    def report(self, date: str) -> ReconcileReport | None:
        """``date``'s reconciliation report, or ``None``."""
        report: ReconcileReport | None = self._cache.get(("report", date),
                                                         lambda: self.reports.read(date))
        return report

    def verdict(self, date: str) -> str | None:
        """The verdict of ``date``'s report (``None``: not reconciled)."""
        report = self.report(date)
        return None if report is None else report.verdict.value

    def report_dates(self) -> list[str]:
        """Every date with a report directory, ascending."""
        dates: list[str] = self._cache.get(("report_dates",), self.reports.dates)
        return dates

    def data_dates(self, interval: str) -> list[str]:
        """Dates with archived batch or speed candles of ``interval``, ascending."""
        def compute() -> list[str]:
            found: set[str] = set()
            for source in (BATCH_SOURCE, SPEED_SOURCE):
                prefix = candles_dir(source, interval, "x").rsplit("/", 1)[0]
                found.update(_dates(self.store.list_dirs(prefix)))
            return sorted(found)
        return self._cache.get(("dates", interval), compute)

    def batch(self, symbol: str, interval: str, date: str) -> list[Candle]:
        """The batch layer's candles of one symbol, interval and day."""
        def compute() -> list[Candle]:
            raw = self.store.read_bytes(f"{candles_dir(BATCH_SOURCE, interval, date)}/"
                                        f"{symbol}.parquet")
            return [] if raw is None else candles_from_table(pq.read_table(io.BytesIO(raw)))
        return self._cache.get(("batch", symbol, interval, date), compute)

    def speed(self, symbol: str, interval: str, date: str) -> list[Candle]:
        """The archived speed candles (from the ``candles`` topic) of one symbol and day,
        each the latest revision the archive holds, with its ``revision``."""
        def compute() -> list[Candle]:
            latest = read_latest_speed_candles(self.store, interval, date).candles
            rows = latest.filter(pl.col("symbol") == symbol).sort("window_start_us")
            return revised_candles(rows.to_arrow())
        return self._cache.get(("speed", symbol, interval, date), compute)

    def drifted(self, symbol: str, interval: str, date: str) -> dict[int, dict[str, Any]]:
        """The day's drifted candles of one series by ``window_start_us``: drift and causes."""
        def compute() -> dict[int, dict[str, Any]]:
            raw = self.reports.read_drifted(date)
            if raw is None:
                return {}
            rows = pq.read_table(io.BytesIO(raw)).to_pylist()
            return {row["window_start_us"]: drift_info(row) for row in rows
                    if row["symbol"] == symbol and row["interval"] == interval}
        return self._cache.get(("drifted", symbol, interval, date), compute)

    def batch_symbols(self, date: str) -> list[str]:
        """Symbols with batch candles on ``date`` (file names are ``<SYMBOL>.parquet``)."""
        entries = self.store.list_files(candles_dir(BATCH_SOURCE, "1s", date))
        return sorted(e.name.removesuffix(".parquet") for e in entries
                      if e.name.endswith(".parquet") and not e.name.startswith("."))


def revised_candles(table: pa.Table) -> list[Candle]:
    """Candles of a speed-candle table, each with the table's ``revision``."""
    revisions = table[REVISION_FIELD].to_pylist()
    return [dataclasses.replace(candle, revision=revision) if revision else candle
            for candle, revision in zip(candles_from_table(table), revisions, strict=True)]


def drift_info(row: dict[str, Any]) -> dict[str, Any]:
    """The part of a drifted.parquet row a chart shows: drift, match and causes."""
    causes = {k.removeprefix(CAUSE_PREFIX): v for k, v in row.items()
              if k.startswith(CAUSE_PREFIX) and v}
    return {"drift": row["drift"], "match": row["match"], "explained": row["explained"],
            "causes": causes}


def _dates(names: list[str]) -> list[str]:
    return sorted(n.removeprefix("date=") for n in names if n.startswith("date="))
