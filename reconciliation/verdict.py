"""A reconciled range's verdict, and where its report lives in the archive.

The report of date ``D`` is ``<reports_dir>/reconcile/date=D/report.json`` (with
``drifted.parquet`` beside it) in the archive store, so the loader, the nightly job and a
person all find it without being told.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from candle_core.settings import CandlesSettings
from storage.store import Store

REPORT_NAME = "report.json"
DRIFTED_NAME = "drifted.parquet"


class Verdict(StrEnum):
    """What a reconciliation concluded, from best to worst."""

    OK = "ok"  # no candle drifts beyond the threshold, nothing unexplained
    BREACH = "breach"  # some candle drifts beyond the threshold; every drift has a cause
    CRITICAL = "critical"  # some candle differs (or is missing) with no cause in the archive

    @property
    def rank(self) -> int:
        return list(Verdict).index(self)


def report_dir(settings: CandlesSettings, date: str) -> str:
    """The store directory of ``date``'s reconciliation report."""
    return f"{settings.reports_dir.strip('/')}/reconcile/date={date}"


def read_report(store: Store, settings: CandlesSettings, date: str) -> dict[str, Any] | None:
    """``date``'s report as written by ``candles reconcile`` (``None`` if there is none).

    Keys every consumer may rely on: ``date``, ``run_id`` (a digest of the findings: the
    same data reconciled again has the same id), ``verdict`` (a :class:`Verdict`
    value), ``threshold`` (a decimal string), ``intervals`` and ``totals``.
    """
    raw = store.read_bytes(f"{report_dir(settings, date)}/{REPORT_NAME}")
    if raw is None:
        return None
    report: dict[str, Any] = json.loads(raw)
    return report
