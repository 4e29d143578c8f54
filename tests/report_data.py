"""Reconciliation reports for tests of their readers (the warehouse load, serving): valid
:class:`~storage.reconcile_report.ReconcileReport` objects with only the figures a test
names filled in, written through the one writer."""

from __future__ import annotations

from storage.reconcile_report import ReconcileReport, ReportRange, Totals, Verdict

NO_TOTALS = dict.fromkeys(("compared", "exact", "drifted", "missing_speed", "missing_batch",
                           "breached", "unexplained", "speed_duplicates"), 0)


def sample_report(date: str, verdict: str, run_id: str = "rec-0001",
                  intervals: list[str] | None = None, threshold: str = "0.005",
                  **totals: int) -> ReconcileReport:
    """A report of ``date`` with ``verdict``; ``totals`` override the zero figures."""
    return ReconcileReport(
        run_id=run_id, date=date, range=ReportRange(f"{date}T00:00:00Z", f"{date}T24:00:00Z"),
        intervals=intervals or ["1s"], threshold=threshold, verdict=Verdict(verdict),
        generated_at=f"{date}T00:00:00+00:00", seconds=0.0, candles={},
        totals=Totals(**{**NO_TOTALS, **totals}), attributed={}, evidence={}, groups=[],
        worst=[], speed_duplicates=[])
