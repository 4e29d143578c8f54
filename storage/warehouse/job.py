"""``load_date``: one date's verified batch bars into the configured warehouse.

What ``candles load`` and ``candles nightly`` both run. The rule on the reconciliation:
no report -> refused unless ``force`` (then recorded as ``unreconciled``); ``ok``,
``breach`` or ``critical`` -> loaded, the verdict recorded on the audit row and on every
bar. A breach is loaded all the same: the batch bars are the truth, the drift is the
speed layer's, and its alert comes from the verdict (here pushed as
``candles_load_verdict``, and by ``candles reconcile``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence

from candle_core.windows import canonical_labels
from storage.reconcile_report import ReconcileReport, ReportFiles, Verdict
from storage.store import Store
from storage.warehouse.bars import read_batch_bars
from storage.warehouse.duckdb_target import DuckDBTarget
from storage.warehouse.exceptions import (
    BadDateError,
    IntervalsNotReconciledError,
    ReconciliationMissingError,
)
from storage.warehouse.loader import LoadResult, LoadVerdict, load_bars
from storage.warehouse.metrics import LoadMetrics
from storage.warehouse.settings import WarehouseSettings
from storage.warehouse.targets import open_target

log = logging.getLogger(__name__)
UNRECONCILED = "unreconciled"
Progress = Callable[[str], None]


def load_date(store: Store, settings: WarehouseSettings, date: str, force: bool = False,
              intervals: Sequence[str] = (), progress: Progress | None = None) -> LoadResult:
    """Load ``date``'s batch bars of ``intervals`` (default: the configured ones)."""
    say = progress or (lambda _message: None)
    day = _day(date)
    reports = ReportFiles.of(store, settings.reports_dir)
    where = reports.uri(day)
    labels = intervals_of(intervals, settings)
    report = reports.read(day)
    verdict = verdict_of(report, day, where, force)
    if report is not None and not force:
        unreconciled = [label for label in labels if label not in report.intervals]
        if unreconciled:
            raise IntervalsNotReconciledError(day, where, unreconciled)
    bars = read_batch_bars(store, day, labels)
    say(f"{bars.table.num_rows:,} bars read, verdict {verdict.verdict}")
    target = open_target(settings, create=True)
    try:
        if isinstance(target, DuckDBTarget) and target.ensure_schema():
            say(f"created the warehouse schema in {target.where}")
        result = load_bars(target, bars, verdict)
    finally:
        target.close()
    if result.verdict in (Verdict.BREACH, Verdict.CRITICAL):
        log.warning("load %s: verdict %s, loaded anyway (the batch bars are the truth); the "
                    "speed layer drifted from them, see %s", day, result.verdict.upper(), where)
    if settings.pushgateway_url:
        push_metrics(settings.pushgateway_url, result)
    return result


def verdict_of(report: ReconcileReport | None, date: str, where: str, force: bool
               ) -> LoadVerdict:
    """The verdict to record: the report's, or ``unreconciled`` when forced without one."""
    if report is None:
        if not force:
            raise ReconciliationMissingError(date, where)
        return LoadVerdict(UNRECONCILED, None, forced=True)
    return LoadVerdict(report.verdict.value, report.run_id)


def intervals_of(given: Sequence[str], settings: WarehouseSettings) -> list[str]:
    """Canonical labels of ``given`` (repeated or comma-separated; default: configured)."""
    return canonical_labels(given, settings.intervals_us)


def push_metrics(gateway_url: str, result: LoadResult) -> None:
    """Push ``result`` as ``job="candles_load"``; a failed push only logs (the load is done,
    and a missed push shows as a stale ``candles_load_last_success_timestamp_seconds``)."""
    metrics = LoadMetrics()
    metrics.record(result)
    try:
        metrics.push(gateway_url)
    except OSError as exc:
        log.error("load: could not push metrics to %s: %s", gateway_url, exc)


def _day(date: str) -> str:
    try:
        return dt.date.fromisoformat(date).isoformat()
    except ValueError:
        raise BadDateError(date) from None
