"""A load's figures as Prometheus gauges, pushed to a Pushgateway (``job="candles_load"``).

A load is a batch job, so it pushes instead of being scraped; each push replaces the whole
group, so the gateway holds the last load only. Alert rules use these names as they are.
Labels stay bounded: ``action`` (three values) and ``verdict`` (four).
"""

from __future__ import annotations

import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Gauge, push_to_gateway

from storage.warehouse.loader import LoadResult

LOAD_JOB = "candles_load"
ACTIONS = ("inserted", "updated", "unchanged")
VERDICTS = ("ok", "breach", "critical", "unreconciled")


class LoadMetrics:
    """Every metric ``candles load`` pushes; tests pass their own clock."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.registry = registry = CollectorRegistry()
        self.rows = Gauge("candles_load_rows", "Bars of the last load by what the MERGE did "
                          "with them.", ["action"], registry=registry)
        self.duration = Gauge("candles_load_duration_seconds", "Wall time of the last load "
                              "(read, stage and merge).", registry=registry)
        self.last_success = Gauge("candles_load_last_success_timestamp_seconds",
                                  "Unix time the last successful load finished.",
                                  registry=registry)
        self.verdict = Gauge("candles_load_verdict", "1 for the reconciliation verdict the "
                             "last load recorded, 0 for the others.", ["verdict"],
                             registry=registry)

    def record(self, result: LoadResult) -> None:
        """Set every gauge from a successful load."""
        for action in ACTIONS:
            self.rows.labels(action).set(getattr(result, action))
        self.duration.set(result.total_seconds)
        for verdict in VERDICTS:
            self.verdict.labels(verdict).set(1 if verdict == result.verdict else 0)
        self.last_success.set(self.clock())

    def push(self, gateway_url: str) -> None:
        """Replace the ``candles_load`` group on the gateway with these figures."""
        push_to_gateway(gateway_url, job=LOAD_JOB, registry=self.registry, timeout=10)
