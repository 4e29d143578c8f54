"""The reconciliation figures as Prometheus metrics, pushed to a Pushgateway.

Reconcile is a batch job, so it pushes (the Pushgateway pattern) instead of being scraped.
Every push replaces the whole group ``job="candles_reconcile"``: the gateway always holds
the last reconciled range, never a mix of two runs. Labels stay bounded: ``symbol`` and
``interval`` (the configured set), ``field`` (six), ``match`` (four), ``cause`` (three).
"""

from __future__ import annotations

import datetime as dt
import time
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Gauge, push_to_gateway

from candle_core.windows import interval_label
from reconciliation.attribution import CAUSES
from reconciliation.drift import FIELDS
from storage.reconcile_report import Verdict

if TYPE_CHECKING:
    from reconciliation.job import Reconciliation

RECONCILE_JOB = "candles_reconcile"
MATCHES = ("exact", "drifted", "missing_speed", "missing_batch")
WORST_CANDLES = 10


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
        self.revised = Gauge("candles_reconcile_revised_candles",
                             "Speed candles compared by a revision above 0 (a late trade "
                             "inside the revision horizon changed them).", group,
                             registry=registry)
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
        self.worst = Gauge("candles_reconcile_worst_candle_drift_ratio",
                           "Drift of the worst candles of the range (rank 1 = worst), with "
                           "their window and cause.", ["rank", "symbol", "interval",
                                                       "window_start", "match", "cause"],
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

    def record(self, result: Reconciliation) -> None:
        """Set every gauge from one reconciliation (and stamp the success time)."""
        for group in result.groups:
            labels = (group.symbol, interval_label(group.interval_us))
            counts = dict(zip(MATCHES, (group.exact, group.drifted, group.missing_speed,
                                        group.missing_batch), strict=True))
            for match, count in counts.items():
                self.candles.labels(*labels, match).set(count)
            self.compared.labels(*labels).set(group.compared)
            self.breached.labels(*labels).set(group.breaches)
            self.unexplained.labels(*labels).set(group.unexplained)
            self.revised.labels(*labels).set(group.revised)
            for cause in CAUSES:
                self.attributed.labels(*labels, cause).set(group.attributed[cause])
            self.max_drift.labels(*labels).set(group.max_candle_drift)
            for name in FIELDS:
                self.field_max.labels(*labels, name).set(group.max_drift[name])
                self.field_p99.labels(*labels, name).set(group.p99_drift[name])
        self._record_worst(result)
        start = dt.datetime.fromisoformat(result.date).replace(tzinfo=dt.UTC).timestamp()
        self.range_start.set(start)
        self.range_end.set(start + 86_400)
        self.threshold.set(float(result.threshold))
        self.breach.set(int(result.verdict is not Verdict.OK))
        self.critical.set(int(result.verdict is Verdict.CRITICAL))
        self.duration.set(result.seconds)
        self.last_success.set(time.time())

    def _record_worst(self, result: Reconciliation) -> None:
        """At most :data:`WORST_CANDLES` series: bounded, and replaced by the next push."""
        ranked = sorted(result.comparison.differing, key=lambda d: (-d.drift, d.key))
        for rank, drift in enumerate(ranked[:WORST_CANDLES], start=1):
            symbol, interval_us, start_us = drift.key
            window = dt.datetime.fromtimestamp(start_us / 1e6, tz=dt.UTC)
            attribution = result.attributions.get(drift.key)
            causes = [c for c, n in attribution.causes.items() if n] if attribution else []
            if attribution is None or not attribution.explained:
                causes.append("unexplained")
            self.worst.labels(str(rank), symbol, interval_label(interval_us),
                              window.isoformat(timespec="microseconds").replace("+00:00", "Z"),
                              drift.match.value, "+".join(causes)).set(float(drift.drift))

    def push(self, gateway_url: str) -> None:
        """Replace the ``candles_reconcile`` group on the gateway with these figures."""
        push_to_gateway(gateway_url, job=RECONCILE_JOB, registry=self.registry, timeout=10)
