"""Reconcile a date and publish the outcome: report files, then the Pushgateway.

The one sequence both ``candles reconcile`` and ``candles nightly`` run, so the files and
the metrics never disagree about a date.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciliation.exceptions import MetricsPushError
from reconciliation.job import Progress, Reconciliation, reconcile
from reconciliation.metrics import ReconcileMetrics
from reconciliation.report import drifted_parquet, report_of
from reconciliation.settings import ReconcileSettings
from storage.reconcile_report import ReconcileReport, ReportFiles
from storage.store import Store


@dataclass(frozen=True)
class Published:
    """A finished reconciliation: the result, its report and where the report went."""

    result: Reconciliation
    report: ReconcileReport
    report_uri: str
    pushed: bool


def reconcile_and_publish(store: Store, settings: ReconcileSettings, date: str,
                          intervals: list[str] | None = None,
                          progress: Progress | None = None) -> Published:
    """Reconcile ``date``, write its report, push its metrics (when a gateway is set)."""
    result = reconcile(store, settings, date, intervals, progress)
    report = report_of(result)
    uri = ReportFiles.of(store, settings.reports_dir).write(report, drifted_parquet(result))
    if settings.pushgateway_url:
        metrics = ReconcileMetrics()
        metrics.record(result)
        try:
            metrics.push(settings.pushgateway_url)
        except OSError as exc:
            raise MetricsPushError(settings.pushgateway_url, exc) from exc
    return Published(result, report, uri, bool(settings.pushgateway_url))
