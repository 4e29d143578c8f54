"""Everything a request handler needs, wired once per process (``serving.app``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from candle_core.candle import Candle
from serving.hub import Hub
from serving.live import LiveFeed
from serving.merge import Bar, merge_series
from serving.metrics import ServeMetrics
from serving.ring import Ring
from serving.settings import ServeSettings
from serving.status import Status
from serving.store_reader import ArchiveReader
from storage.layout import US_PER_DAY, date_of


@dataclass
class ServeOptions:
    """``candles serve`` flags (the serving layer's own; not in ServeSettings)."""

    host: str = "127.0.0.1"
    port: int = 8000
    ring_hours: float = 6.0
    ring_max_bars: int = 20_000
    speed_metrics_url: str | None = None
    kafka: bool = True


@dataclass
class Services:
    reader: ArchiveReader
    ring: Ring
    hub: Hub
    metrics: ServeMetrics
    status: Status
    options: ServeOptions
    feed: LiveFeed | None = field(default=None)

    @property
    def settings(self) -> ServeSettings:
        return self.reader.settings

    def feed_running(self) -> bool:
        return self.feed is not None and self.feed.running()

    def days(self, symbol: str, interval: str, interval_us: int, from_us: int,
             to_us: int) -> list[str]:
        """The days in ``[from_us, to_us)`` that can hold bars of the series, ascending."""
        known = {*self.reader.data_dates(interval), *self.reader.report_dates(),
                 *self.ring.dates(symbol, interval_us)}
        first, last = date_of(from_us), date_of(to_us - 1)
        return sorted(day for day in known if first <= day <= last)

    def day_bars(self, symbol: str, interval: str, interval_us: int, day: str) -> list[Bar]:
        """One day of the merged series (see :func:`serving.merge.merge_series`)."""
        verdict = self.reader.verdict(day)
        if verdict is not None:
            return merge_series(self.reader.batch(symbol, interval, day), [], {day: verdict})
        start_us = day_start_us(day)
        tail = self.ring.series(symbol, interval_us, start_us, start_us + US_PER_DAY)
        return merge_series([], [*self.reader.speed(symbol, interval, day), *tail], {})

    def drift_of(self, candle: Candle, interval: str) -> dict[str, Any] | None:
        day = date_of(candle.window_start_us)
        info = self.reader.drifted(candle.symbol, interval, day).get(candle.window_start_us)
        if info is None:
            return None
        report = self.reader.report(day)
        if report is None:  # drifted.parquet is written first: its report is on its way
            return None
        return {**info, "breach": Decimal(str(info["drift"])) > report.threshold_fraction}

    def symbols(self) -> list[str]:
        found = set(self.ring.symbols())
        dates = self.reader.report_dates()
        if dates:
            found.update(self.reader.batch_symbols(dates[-1]))
        return sorted(found)


def day_start_us(day: str) -> int:
    return (dt.date.fromisoformat(day) - dt.date(1970, 1, 1)).days * US_PER_DAY
