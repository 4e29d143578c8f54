"""Reconciliation's settings (``candles reconcile``): see ``kafka_ops.settings``."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from storage.settings import ArchiveSettings, ReportSettings


class ReconcileSettings(ArchiveSettings, ReportSettings):
    """What ``candles reconcile`` reads: the archive, the reports, and the threshold."""

    drift_threshold: Decimal = Field(
        default=Decimal("0.005"), gt=0, lt=1,
        description="A reconciled range is in breach when a candle's drift exceeds this "
        "fraction (0.005 = 0.5%).",
    )
