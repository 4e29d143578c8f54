"""The recent tail of final speed candles, in memory: one bounded series per
``(symbol, interval)``, shared by the Kafka consumer thread and the API (hence the lock).
A window holds its highest revision (:func:`serving.merge.supersedes`)."""

from __future__ import annotations

import threading

from candle_core.candle import Candle
from serving.merge import supersedes
from storage.layout import date_of


class Ring:
    """Final candles newer than ``max_age_us`` before each series' newest, at most
    ``max_bars`` per series (the oldest go first)."""

    def __init__(self, max_age_us: int, max_bars: int) -> None:
        self.max_age_us, self.max_bars = max_age_us, max_bars
        self._series: dict[tuple[str, int], dict[int, Candle]] = {}
        self._lock = threading.Lock()

    def add(self, candle: Candle) -> bool:
        """Hold ``candle`` unless its window already holds the same or a higher revision;
        ``True`` when it was held (it is news for the stream's subscribers)."""
        key = (candle.symbol, candle.interval_us)
        with self._lock:
            series = self._series.setdefault(key, {})
            if not supersedes(candle, series.get(candle.window_start_us)):
                return False
            series[candle.window_start_us] = candle
            if len(series) > self.max_bars * 1.1 or (
                    candle.window_start_us - min(series) > self.max_age_us * 1.1):
                self._trim(key, series)
        return True

    def _trim(self, key: tuple[str, int], series: dict[int, Candle]) -> None:
        newest = max(series)
        keep = sorted(s for s in series if newest - s <= self.max_age_us)[-self.max_bars:]
        self._series[key] = {start: series[start] for start in keep}

    def series(self, symbol: str, interval_us: int, from_us: int, to_us: int) -> list[Candle]:
        """The series' candles starting in ``[from_us, to_us)``, by window start."""
        with self._lock:
            series = self._series.get((symbol, interval_us), {})
            found = [c for s, c in series.items() if from_us <= s < to_us]
        return sorted(found, key=lambda c: c.window_start_us)

    def dates(self, symbol: str, interval_us: int) -> set[str]:
        """The UTC dates the series has candles on."""
        with self._lock:
            starts = list(self._series.get((symbol, interval_us), {}))
        return {date_of(start) for start in starts}

    def symbols(self) -> set[str]:
        with self._lock:
            return {symbol for symbol, _ in self._series}

    def __len__(self) -> int:
        with self._lock:
            return sum(len(series) for series in self._series.values())
