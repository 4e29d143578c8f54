"""The reconciliation report's one writer and one reader: where the files go
(``CANDLES_REPORTS_DIR`` relative to the archive root, or an absolute directory used as
given), the round trip, and the reports a reader refuses."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from lambda_candles.settings import load_settings
from storage.exceptions import BadReportError
from storage.local import LocalStore
from storage.reconcile_report import REPORT_VERSION, ReportFiles, content_id
from storage.stores import open_store
from tests.report_data import sample_report

DATE = "2026-01-05"


def test_an_absolute_reports_dir_is_used_as_given(tmp_path: Path) -> None:
    archive, elsewhere = tmp_path / "lake", tmp_path / "elsewhere" / "reports"
    settings = load_settings(archive_root=str(archive), reports_dir=str(elsewhere))
    reports = ReportFiles.of(open_store(settings), settings.reports_dir)
    report = sample_report(DATE, "breach", breached=2)
    uri = reports.write(report, b"drifted")
    written = elsewhere / "reconcile" / f"date={DATE}" / "report.json"
    assert uri == str(written) and written.is_file()
    assert (written.parent / "drifted.parquet").read_bytes() == b"drifted"
    assert not archive.exists()  # never rewritten to <archive>/<path without its slash>
    assert reports.read(DATE) == report and reports.dates() == [DATE]


def test_a_relative_reports_dir_is_under_the_archive_root(tmp_path: Path) -> None:
    reports = ReportFiles.of(LocalStore(tmp_path / "lake"), "audit/reports/")
    reports.write(sample_report(DATE, "ok"), b"")
    assert (tmp_path / "lake/audit/reports/reconcile" / f"date={DATE}" / "report.json"
            ).is_file()
    assert reports.read("2026-01-06") is None


def test_the_report_round_trips_and_its_id_ignores_time_and_version() -> None:
    report = sample_report(DATE, "critical", unexplained=1)
    data = report.to_dict()
    assert data["version"] == REPORT_VERSION and data["verdict"] == "critical"
    assert list(data)[:3] == ["version", "run_id", "date"]
    later = msgspec.structs.replace(report, generated_at="x", seconds=9.0, run_id="other")
    assert content_id(later) == content_id(report)
    assert content_id(sample_report(DATE, "ok")) != content_id(report)


@pytest.mark.parametrize(("change", "problem"), [
    ({"version": REPORT_VERSION + 1}, f"version {REPORT_VERSION + 1}, newest known"),
    ({"verdict": "maybe"}, r"Invalid enum value 'maybe' - at `\$.verdict`"),
    ({"totals": {}}, r"missing required field `compared` - at `\$.totals`"),
])
def test_a_report_this_version_cannot_read_is_refused_by_name(
        tmp_path: Path, change: dict[str, object], problem: str) -> None:
    reports = ReportFiles.of(LocalStore(tmp_path), "reports")
    data = {**sample_report(DATE, "ok").to_dict(), **change}
    reports.store.write_bytes(f"{reports.directory(DATE)}/report.json",
                              json.dumps(data).encode())
    with pytest.raises(BadReportError, match=problem) as caught:
        reports.read(DATE)
    assert "candles reconcile" in str(caught.value) and reports.uri(DATE) in str(caught.value)


def test_a_report_from_before_the_version_key_is_version_1(tmp_path: Path) -> None:
    reports = ReportFiles.of(LocalStore(tmp_path), "reports")
    report = sample_report(DATE, "ok")
    data = {k: v for k, v in report.to_dict().items() if k != "version"}
    reports.store.write_bytes(f"{reports.directory(DATE)}/report.json",
                              json.dumps(data).encode())
    assert reports.read(DATE) == report


def test_a_report_from_before_revisions_reads_with_none_revised(tmp_path: Path) -> None:
    reports = ReportFiles.of(LocalStore(tmp_path), "reports")
    report = sample_report(DATE, "ok", revised=3)
    data = report.to_dict()
    assert data["totals"]["revised"] == 3
    del data["totals"]["revised"]  # what reconcile wrote before speed candles had revisions
    reports.store.write_bytes(f"{reports.directory(DATE)}/report.json",
                              json.dumps(data).encode())
    read = reports.read(DATE)
    assert read is not None and read.totals.revised == 0
    assert read == msgspec.structs.replace(
        report, totals=msgspec.structs.replace(report.totals, revised=0))
