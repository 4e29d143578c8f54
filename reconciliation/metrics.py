"""The reconciliation figures as Prometheus metrics, pushed to a Pushgateway.

Reconcile is a batch job, so it pushes (the Pushgateway pattern) instead of being scraped.
Every push replaces the whole group ``job="candles_reconcile"``: the gateway always holds
the last reconciled range, never a mix of two runs. Labels stay bounded: ``symbol`` and
``interval`` (the configured set), ``field`` (six), ``match`` (four), ``cause`` (three).
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Gauge, push_to_gateway

from reconciliation.drift import FIELDS

RECONCILE_JOB = "candles_reconcile"
MATCHES = ("exact", "drifted", "missing_speed", "missing_batch")
CAUSES = ("late", "dlq", "duplicate")


class ReconcileMetrics:
    """Every metric ``candles reconcile`` pushes."""

    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry()
        group = ["symbol", "interval"]
        self.candles = Gauge("candles_reconcile_candles", "Candles of the range by how the "
                             "speed candle matched the batch candle.", [*group, "match"],
                             registry=registry)
        self.compared = Gauge("candles_reconcile_compared_candles",
                              "Candles present in both layers.", group, registry=registry)
        self.breached = Gauge("candles_reconcile_breached_candles",
                              "Candles whose drift exceeds the threshold (missing ones "
                              "included).", group, registry=registry)
        self.unexplained = Gauge("candles_reconcile_unexplained_candles",
                                 "Differing or missing candles with no cause in the archive.",
                                 group, registry=registry)
        self.attributed = Gauge("candles_reconcile_attributed_candles",
                                "Differing candles explained by a cause.", [*group, "cause"],
                                registry=registry)
        self.max_drift = Gauge("candles_reconcile_max_drift_ratio",
                               "Largest candle drift (1 = a missing candle).", group,
                               registry=registry)
        self.field_max = Gauge("candles_reconcile_field_max_drift_ratio",
                               "Largest drift of one field over candles in both layers.",
                               [*group, "field"], registry=registry)
        self.field_p99 = Gauge("candles_reconcile_field_p99_drift_ratio",
                               "p99 (nearest rank) drift of one field.", [*group, "field"],
                               registry=registry)
        self.threshold = Gauge("candles_reconcile_threshold_ratio",
                               "The breach threshold used.", registry=registry)
        self.breach = Gauge("candles_reconcile_breach",
                            "1 when the range is in breach (or critical), else 0.",
                            registry=registry)
        self.critical = Gauge("candles_reconcile_critical",
                              "1 when some difference is unexplained, else 0.",
                              registry=registry)
        self.range_start = Gauge("candles_reconcile_range_start_timestamp_seconds",
                                 "Start of the reconciled range.", registry=registry)
        self.range_end = Gauge("candles_reconcile_range_end_timestamp_seconds",
                               "End (exclusive) of the reconciled range.", registry=registry)
        self.duration = Gauge("candles_reconcile_duration_seconds",
                              "Wall time of the reconciliation.", registry=registry)
        self.last_success = Gauge("candles_reconcile_last_success_timestamp_seconds",
                                  "Unix time the last reconciliation finished.",
                                  registry=registry)

    def field_gauges(self, symbol: str, interval: str, max_by_field: dict[str, float],
                     p99_by_field: dict[str, float]) -> None:
        for name in FIELDS:
            self.field_max.labels(symbol, interval, name).set(max_by_field.get(name, 0.0))
            self.field_p99.labels(symbol, interval, name).set(p99_by_field.get(name, 0.0))

    def zero_causes(self, symbol: str, interval: str, causes: Iterable[str] = CAUSES) -> None:
        for cause in causes:
            self.attributed.labels(symbol, interval, cause).set(0)

    def mark_success(self) -> None:
        self.last_success.set(time.time())

    def push(self, gateway_url: str) -> None:
        """Replace the ``candles_reconcile`` group on the gateway with these figures."""
        push_to_gateway(gateway_url, job=RECONCILE_JOB, registry=self.registry, timeout=10)
