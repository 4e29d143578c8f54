"""The reconciliation report as the archive keeps it: one typed, versioned model, its one
writer and its one reader.

``candles reconcile`` builds a :class:`ReconcileReport` and writes it with
:meth:`ReportFiles.write`; the warehouse load, the serving layer and the nightly job read it
with :meth:`ReportFiles.read` and get the same typed object back. It lives in ``storage``
(below the reconciliation package) so that the warehouse can read a verdict without
importing the layer that produced it (docs/architecture.md)::

    <reports>/reconcile/date=YYYY-MM-DD/drifted.parquet   one row per differing candle
    <reports>/reconcile/date=YYYY-MM-DD/report.json       this model, written last

``<reports>`` is ``CANDLES_REPORTS_DIR``: a relative path is relative to the archive root
(local or S3), an absolute path is a local directory used as given.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

import msgspec

from storage.exceptions import BadReportError
from storage.local import LocalStore
from storage.store import Store

REPORT_VERSION = 1
"""Bumped when a key changes meaning or goes away; readers refuse a version they do not
know (a report without ``version`` is version 1, the shape before the key existed). A new
key with a default does not bump it: an older report reads with the default, and an older
reader ignores the key (``revised``, added with speed-candle revisions, is 0 in reports
from before them, which is what they found)."""
REPORT_NAME = "report.json"
DRIFTED_NAME = "drifted.parquet"
VOLATILE = ("version", "run_id", "generated_at", "seconds")
"""Keys left out of :func:`content_id`: when and how fast, not what was found."""


class Verdict(StrEnum):
    """What a reconciliation concluded, from best to worst."""

    OK = "ok"  # no candle drifts beyond the threshold, nothing unexplained
    BREACH = "breach"  # some candle drifts beyond the threshold; every drift has a cause
    CRITICAL = "critical"  # some candle differs (or is missing) with no cause in the archive

    @property
    def rank(self) -> int:
        return list(Verdict).index(self)


class ReportRange(msgspec.Struct, frozen=True):
    start: str  # ISO-8601 UTC, inclusive
    end: str  # exclusive


class Totals(msgspec.Struct, frozen=True, kw_only=True):
    compared: int
    exact: int
    drifted: int
    missing_speed: int
    missing_batch: int
    breached: int
    unexplained: int
    speed_duplicates: int
    revised: int = 0  # speed candles compared by their latest revision, above 0


class GroupReport(msgspec.Struct, frozen=True, kw_only=True):
    """One symbol and interval's figures."""

    symbol: str
    interval: str
    compared: int
    exact: int
    drifted: int
    missing_speed: int
    missing_batch: int
    breached: int
    unexplained: int
    attributed: dict[str, int]
    max_candle_drift: float
    max_drift: dict[str, float]
    p99_drift: dict[str, float]
    revised: int = 0


class CandleRef(msgspec.Struct, frozen=True, kw_only=True):
    """A candle's key, its window start both readable and in epoch microseconds."""

    symbol: str
    interval: str
    window_start: str
    window_start_us: int


class WorstCandle(CandleRef, frozen=True, kw_only=True):
    """One of the worst candles: how it differs and what explains it."""

    match: str
    drift: float
    by_field: dict[str, float]
    causes: dict[str, int]
    reproduced: bool | None  # None: no late trades to fold in
    explained: bool


class ReconcileReport(msgspec.Struct, frozen=True, kw_only=True):
    """``report.json`` (docs/reconciliation.md describes every key)."""

    version: int = REPORT_VERSION
    run_id: str
    date: str
    range: ReportRange
    intervals: list[str]
    threshold: str  # a decimal string: the fraction a candle's drift may reach
    verdict: Verdict
    generated_at: str
    seconds: float
    candles: dict[str, int]
    totals: Totals
    attributed: dict[str, int]
    evidence: dict[str, int]
    groups: list[GroupReport]
    worst: list[WorstCandle]
    speed_duplicates: list[CandleRef]

    @property
    def threshold_fraction(self) -> Decimal:
        return Decimal(self.threshold)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready builtins (what ``report.json`` holds)."""
        data: dict[str, Any] = msgspec.to_builtins(self)
        return data

    def with_content_id(self) -> ReconcileReport:
        """This report with its ``run_id`` set to :func:`content_id`."""
        return msgspec.structs.replace(self, run_id=content_id(self))


def content_id(report: ReconcileReport) -> str:
    """A digest of what the report found (not when or how fast): reconciling unchanged
    data again gives the same id, so a re-run load has nothing to update."""
    stable = {k: v for k, v in report.to_dict().items() if k not in VOLATILE}
    return hashlib.sha256(json.dumps(stable, sort_keys=True).encode()).hexdigest()[:32]


def decode_report(raw: bytes, where: str) -> ReconcileReport:
    """Parse ``report.json`` bytes; :class:`BadReportError` names the file and the fault."""
    try:
        version = msgspec.json.decode(raw, type=_Versioned).version
        if version > REPORT_VERSION:
            raise BadReportError(where, f"version {version}, newest known {REPORT_VERSION}")
        return msgspec.json.decode(raw, type=ReconcileReport)
    except msgspec.DecodeError as exc:  # ValidationError is a DecodeError
        raise BadReportError(where, str(exc)) from None


class _Versioned(msgspec.Struct):
    version: int = 1


@dataclass(frozen=True)
class ReportFiles:
    """Where the reports live: ``store`` and the ``base`` directory in it."""

    store: Store
    base: str

    @classmethod
    def of(cls, archive: Store, reports_dir: str) -> ReportFiles:
        """``reports_dir`` relative to the ``archive`` root, or an absolute local directory
        used as given (never rewritten into the archive)."""
        if reports_dir.startswith("/"):
            return cls(LocalStore(reports_dir), "")
        return cls(archive, reports_dir.strip("/"))

    def directory(self, date: str) -> str:
        """The store directory of ``date``'s report files."""
        return "/".join(part for part in (self.base, "reconcile", f"date={date}") if part)

    def uri(self, date: str, name: str = REPORT_NAME) -> str:
        """A URI of one of ``date``'s report files, for messages and Polars."""
        return self.store.uri(f"{self.directory(date)}/{name}")

    def write(self, report: ReconcileReport, drifted_parquet: bytes) -> str:
        """Write ``drifted.parquet`` then ``report.json`` (last: its presence means the
        report is complete); returns the report's URI."""
        directory = self.directory(report.date)
        self.store.write_bytes(f"{directory}/{DRIFTED_NAME}", drifted_parquet)
        encoded = json.dumps(report.to_dict(), indent=2).encode() + b"\n"
        self.store.write_bytes(f"{directory}/{REPORT_NAME}", encoded)
        return self.uri(report.date)

    def read(self, date: str) -> ReconcileReport | None:
        """``date``'s report (``None`` if there is none); :class:`BadReportError` if the
        file is not one."""
        raw = self.store.read_bytes(f"{self.directory(date)}/{REPORT_NAME}")
        return None if raw is None else decode_report(raw, self.uri(date))

    def read_drifted(self, date: str) -> bytes | None:
        """``date``'s ``drifted.parquet`` bytes (``None`` if there is none)."""
        return self.store.read_bytes(f"{self.directory(date)}/{DRIFTED_NAME}")

    def dates(self) -> list[str]:
        """Every date with a report directory, ascending."""
        names = self.store.list_dirs("/".join(p for p in (self.base, "reconcile") if p))
        return sorted(n.removeprefix("date=") for n in names if n.startswith("date="))
