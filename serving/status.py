"""The status strip's figures: the speed layer's (scraped from its ``/metrics`` when a URL
is given), else the serving process's own, plus the last reconciliation verdict."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from serving.metrics import ServeMetrics
from serving.store_reader import ArchiveReader

SPEED_TOTALS = {"consumed": "candles_speed_messages_consumed_total",
                "late": "candles_speed_trades_late_total", "dlq": "candles_speed_dlq_total",
                "lag": "candles_speed_consumer_lag_messages"}


def sums(text: str) -> dict[str, float]:
    """Prometheus text -> the sum over labels of each sample name."""
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
    return totals


class Rates:
    """Per-second rates from successive counter readings (the first reading gives 0)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._last: tuple[float, dict[str, float]] | None = None

    def update(self, counters: dict[str, float]) -> dict[str, float]:
        now = self._clock()
        previous, self._last = self._last, (now, counters)
        if previous is None or now <= previous[0]:
            return dict.fromkeys(counters, 0.0)
        seconds = now - previous[0]
        return {k: max(0.0, v - previous[1].get(k, 0.0)) / seconds for k, v in counters.items()}


class Status:
    def __init__(self, metrics: ServeMetrics, reader: ArchiveReader,
                 speed_metrics_url: str | None) -> None:
        self.metrics, self.reader, self.url = metrics, reader, speed_metrics_url
        self._rates = Rates()

    def snapshot(self) -> dict[str, Any]:
        figures = self._speed() if self.url else None
        if figures is None:
            figures = self._own()
        return {**figures, "last_verdict": self.last_verdict()}

    def _speed(self) -> dict[str, Any] | None:
        try:
            text = httpx.get(str(self.url), timeout=1.0).raise_for_status().text
        except httpx.HTTPError:
            return None
        totals = sums(text)
        counters = {k: totals.get(v, 0.0) for k, v in SPEED_TOTALS.items() if k != "lag"}
        rates = self._rates.update(counters)
        consumed = rates["consumed"]
        return {"source": "speed layer", "throughput_per_s": round(consumed, 1),
                "consumer_lag": int(totals.get(SPEED_TOTALS["lag"], 0)),
                "late_per_s": round(rates["late"], 2), "dlq_per_s": round(rates["dlq"], 2),
                "late_total": int(counters["late"]), "dlq_total": int(counters["dlq"])}

    def _own(self) -> dict[str, Any]:
        counters = {kind: self.metrics.total("candles_serve_candles_consumed_total", kind=kind)
                    for kind in ("final", "live")}
        rates = self._rates.update(counters)
        return {"source": "serving", "throughput_per_s": round(sum(rates.values()), 1),
                "consumer_lag": int(self.metrics.total("candles_serve_consumer_lag_messages")),
                "late_per_s": None, "dlq_per_s": None, "late_total": None, "dlq_total": None}

    def last_verdict(self) -> dict[str, Any] | None:
        dates = self.reader.report_dates()
        report = self.reader.report(dates[-1]) if dates else None
        if report is None:
            return None
        return {"date": report.date, "verdict": report.verdict.value,
                "breached": report.totals.breached, "unexplained": report.totals.unexplained}
