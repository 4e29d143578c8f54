"""The warehouse load into the local DuckDB file: MERGE, audit, verdicts, the CLI.

The bars come the realistic way (simulated trades -> archive -> ``run_batch``); the
reconciliation report is written as ``candles reconcile`` writes it. Every loaded value is
compared exactly with the batch bars, and "changes nothing" means every row is equal.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from candle_core.exceptions import ContractError
from lambda_candles.settings import CandlesSettings
from storage.exceptions import BadReportError, DatasetNotFoundError
from storage.reconcile_report import ReportFiles
from storage.stores import open_store
from storage.warehouse.bars import read_batch_bars
from storage.warehouse.duckdb_target import DuckDBTarget
from storage.warehouse.exceptions import (
    ReconciliationMissingError,
    WarehouseUnavailableError,
)
from storage.warehouse.job import intervals_of, load_date, verdict_of
from storage.warehouse.loader import LoadVerdict, load_bars
from storage.warehouse.metrics import LoadMetrics
from tests.report_data import sample_report
from tests.storage.warehouse_data import (
    DATE,
    INTERVALS,
    batch_candles,
    build_archive,
    pushed_samples,
    pushgateway,
    run_candles,
    settings_for,
    table_rows,
    warehouse_candles,
    write_report,
)

ALL = ["1s", "1m", "5m"]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("archive")
    build_archive(root)
    return root


@pytest.fixture
def settings(archive: Path, tmp_path: Path) -> CandlesSettings:
    """The shared archive, with this test's own warehouse file and report directory."""
    return settings_for(archive, warehouse_duckdb_path=tmp_path / "warehouse.duckdb",
                        reports_dir=f"reports/{tmp_path.name}")


@pytest.fixture
def target(settings: CandlesSettings) -> Any:
    target = DuckDBTarget(settings.warehouse_duckdb_path, create=True)
    target.apply_schema()
    yield target
    target.close()


def env_of(settings: CandlesSettings, **extra: str) -> dict[str, str]:
    return {"CANDLES_ARCHIVE_ROOT": settings.archive_root, "CANDLES_INTERVALS": "1s,1m,5m",
            "CANDLES_WAREHOUSE": "duckdb", "CANDLES_SNOWFLAKE_ACCOUNT": "",
            "CANDLES_WAREHOUSE_DUCKDB_PATH": str(settings.warehouse_duckdb_path),
            "CANDLES_REPORTS_DIR": settings.reports_dir, "CANDLES_PUSHGATEWAY_URL": "", **extra}


def reopen(settings: CandlesSettings) -> DuckDBTarget:
    return DuckDBTarget(settings.warehouse_duckdb_path)


@pytest.mark.slow
def test_clean_stream_is_loaded_once_and_a_rerun_changes_nothing(
        settings: CandlesSettings) -> None:
    """End to end through the CLI: init, load, load again, audit."""
    env = env_of(settings)
    write_report(settings, "ok", run_id="rec-clean")
    assert run_candles("warehouse", "init", env=env).returncode == 0
    first = run_candles("load", "--date", DATE, "--json", env=env)
    assert first.returncode == 0, first.stderr
    result = json.loads(first.stdout)
    target = reopen(settings)
    try:
        assert warehouse_candles(target) == batch_candles(settings, ALL)  # exact, every field
        assert (result["inserted"], result["updated"]) == (result["rows_read"], 0)
        assert result["verdict"] == "ok" and result["reconcile_run_id"] == "rec-clean"
        before = table_rows(target)
        assert {row[-3:] for row in before} == {("ok", "rec-clean", result["run_id"])}
    finally:
        target.close()

    again = run_candles("load", "--date", DATE, "--json", env=env)
    assert again.returncode == 0, again.stderr
    rerun = json.loads(again.stdout)
    assert (rerun["inserted"], rerun["updated"], rerun["unchanged"]) == (
        0, 0, result["rows_read"])
    target = reopen(settings)
    try:
        assert table_rows(target) == before  # LOAD_RUN_ID still names the first run
        assert table_rows(target, "RAW.BARS_STAGE") == []
    finally:
        target.close()
    audit = run_candles("warehouse", "audit", "--json", env=env)
    rows = [json.loads(line) for line in audit.stdout.splitlines()]
    assert [(r["RUN_ID"], r["STATUS"], r["ROWS_INSERTED"], r["ROWS_UNCHANGED"]) for r in rows] \
        == [(rerun["run_id"], "loaded", 0, rerun["rows_read"]),
            (result["run_id"], "loaded", result["rows_read"], 0)]


def test_an_unreconciled_date_is_refused_unless_forced(settings: CandlesSettings,
                                                       target: DuckDBTarget) -> None:
    result = run_candles("load", "--date", DATE, env=env_of(settings))
    assert result.returncode == 2
    assert f"run `candles reconcile --date {DATE}` first, or pass --force" in result.stderr
    assert table_rows(target, "CORE.LOAD_AUDIT") == []  # refused before touching anything

    bars = read_batch_bars(open_store(settings), DATE, ALL)
    forced = load_bars(target, bars, verdict_of(None, DATE, "report.json", force=True))
    assert (forced.verdict, forced.forced, forced.inserted) == (
        "unreconciled", True, bars.table.num_rows)
    # Reconciled later: the next load records the verdict on every row, then nothing moves.
    write_report(settings, "ok", run_id="rec-late")
    report = sample_report(DATE, "ok", run_id="rec-late")
    relabelled = load_bars(target, bars, verdict_of(report, DATE, "report.json", force=False))
    assert (relabelled.inserted, relabelled.updated) == (0, bars.table.num_rows)
    assert {row[-3:-1] for row in table_rows(target)} == {("ok", "rec-late")}
    assert load_bars(target, bars, LoadVerdict("ok", "rec-late")).updated == 0


def test_a_breached_date_is_loaded_with_its_verdict_and_pushed(
        settings: CandlesSettings, target: DuckDBTarget, tmp_path: Path) -> None:
    write_report(settings, "breach", run_id="rec-breach")
    target.close()
    with pushgateway(tmp_path) as url:
        result = run_candles("load", "--date", DATE, env=env_of(
            settings, CANDLES_PUSHGATEWAY_URL=url))
        samples = pushed_samples(url)
    assert result.returncode == 0, result.stderr
    assert "verdict BREACH, loaded anyway" in result.stderr
    assert "verdict  breach (reconcile run rec-breach)" in result.stdout
    reopened = reopen(settings)
    try:
        rows = table_rows(reopened)
        audit = table_rows(reopened, "CORE.LOAD_AUDIT")
    finally:
        reopened.close()
    assert {row[-3:-1] for row in rows} == {("breach", "rec-breach")}
    assert [(a[1], a[10]) for a in audit] == [("loaded", "breach")]
    job = 'instance="",job="candles_load"'
    assert samples[f'candles_load_rows{{action="inserted",{job}}}'] == len(rows)
    assert samples[f'candles_load_rows{{action="unchanged",{job}}}'] == 0
    assert samples[f'candles_load_verdict{{{job},verdict="breach"}}'] == 1
    assert samples[f'candles_load_verdict{{{job},verdict="ok"}}'] == 0
    assert samples[f"candles_load_duration_seconds{{{job}}}"] > 0
    assert samples[f"candles_load_last_success_timestamp_seconds{{{job}}}"] > 1.7e9


def test_the_first_load_creates_a_missing_warehouse_file(settings: CandlesSettings) -> None:
    """Locally there is no DBA: the load applies the same DDL as `candles warehouse init`."""
    write_report(settings, "ok")
    result = run_candles("load", "--date", DATE, "--json", env=env_of(settings))
    assert result.returncode == 0, result.stderr
    target = reopen(settings)
    try:
        assert warehouse_candles(target) == batch_candles(settings, ALL)
        assert target.ensure_schema() is False  # already there
    finally:
        target.close()


def test_a_warehouse_file_in_use_is_transient(settings: CandlesSettings,
                                              target: DuckDBTarget) -> None:
    write_report(settings, "ok")
    result = run_candles("load", "--date", DATE, env=env_of(settings))  # target holds it
    assert result.returncode == 3
    assert "no other process holds the file" in result.stderr


class RetriedStage(DuckDBTarget):
    """Stages every row twice, as a retried INSERT whose first reply was lost would."""

    def stage(self, rows: Any) -> None:
        super().stage(rows)
        super().stage(rows)


def test_rows_staged_twice_are_merged_once(settings: CandlesSettings) -> None:
    target = RetriedStage(settings.warehouse_duckdb_path, create=True)
    target.apply_schema()
    bars = read_batch_bars(open_store(settings), DATE, ALL)
    result = load_bars(target, bars, LoadVerdict("ok", "r"))
    assert (result.inserted, result.unchanged) == (bars.table.num_rows, 0)
    assert warehouse_candles(target) == batch_candles(settings, ALL)
    target.close()


def test_a_changed_row_is_put_back_exactly(settings: CandlesSettings,
                                           target: DuckDBTarget) -> None:
    bars = read_batch_bars(open_store(settings), DATE, ALL)
    first = load_bars(target, bars, LoadVerdict("ok", "r"))
    before = table_rows(target)
    target.execute("UPDATE CORE.BARS SET CLOSE = CLOSE + 0.00000001 WHERE INTERVAL = '5m' "
                   "AND (SYMBOL, WINDOW_START_US) = (SELECT MIN((SYMBOL, WINDOW_START_US)) "
                   "FROM CORE.BARS)")
    fixed = load_bars(target, bars, LoadVerdict("ok", "r"))
    assert (fixed.inserted, fixed.updated) == (0, 1)
    after = table_rows(target)
    changed = [(b, a) for b, a in zip(before, after, strict=True) if b != a]
    assert len(changed) == 1 and changed[0][0][:-1] == changed[0][1][:-1]
    assert changed[0][1][-1] == fixed.run_id != first.run_id  # LOAD_RUN_ID: who changed it


class FailingMerge(DuckDBTarget):
    def merge(self, statement: str) -> tuple[int, int]:
        raise WarehouseUnavailableError(self.where, "connection reset")


def test_a_failed_load_is_audited_and_changes_nothing(settings: CandlesSettings) -> None:
    target = FailingMerge(settings.warehouse_duckdb_path, create=True)
    target.apply_schema()
    bars = read_batch_bars(open_store(settings), DATE, ALL)
    with pytest.raises(WarehouseUnavailableError):
        load_bars(target, bars, LoadVerdict("ok", "r"))
    (audit,) = table_rows(target, "CORE.LOAD_AUDIT")
    assert audit[1] == "failed" and "connection reset" in audit[-1]
    assert table_rows(target) == [] and table_rows(target, "RAW.BARS_STAGE") == []
    target.close()


def test_missing_batch_bars_name_the_command_to_run(settings: CandlesSettings) -> None:
    with pytest.raises(DatasetNotFoundError, match=r"run `candles batch --date 2026-01-01`"):
        read_batch_bars(open_store(settings), DATE, ["10s"])


@pytest.mark.parametrize(("given", "expected"), [
    ((), ["1s", "1m", "5m"]),                    # default: the configured intervals
    (("5m,1m",), ["1m", "5m"]),                  # comma-separated, sorted by length
    (("60s", "1m"), ["1m"]),                     # two spellings of one interval
])
def test_interval_flags(settings: CandlesSettings, given: tuple[str, ...],
                        expected: list[str]) -> None:
    assert intervals_of(given, settings) == expected


def test_bad_interval_and_bad_verdict_are_clear(settings: CandlesSettings) -> None:
    with pytest.raises(ContractError, match="expected a number and a unit"):
        intervals_of(("5 minutes",), settings)
    with pytest.raises(ReconciliationMissingError, match="--force"):
        verdict_of(None, DATE, "r.json", force=False)
    store = open_store(settings)
    report = sample_report(DATE, "ok", intervals=INTERVALS.split(",")).to_dict()
    reports = ReportFiles.of(store, settings.reports_dir)
    store.write_bytes(f"{reports.directory(DATE)}/report.json",
                      json.dumps({**report, "verdict": "maybe"}).encode())
    with pytest.raises(BadReportError, match=r"Invalid enum value 'maybe' - at `\$.verdict`"):
        load_date(store, settings, DATE)


def test_metrics_names_and_values() -> None:
    from storage.warehouse.loader import LoadResult

    result = LoadResult("a" * 32, DATE, "duckdb", "w", ALL, 4, 10, 7, 2, 1, "critical", "r",
                        False, "", 0.1, 0.2, 0.3, 0.6)
    metrics = LoadMetrics(clock=lambda: 1_767_225_600.0)
    metrics.record(result)
    registry: CollectorRegistry = metrics.registry
    value = registry.get_sample_value
    assert [value("candles_load_rows", {"action": a}) for a in
            ("inserted", "updated", "unchanged")] == [7, 2, 1]
    assert value("candles_load_duration_seconds") == 0.6
    assert value("candles_load_last_success_timestamp_seconds") == 1_767_225_600.0
    assert value("candles_load_verdict", {"verdict": "critical"}) == 1
    assert value("candles_load_verdict", {"verdict": "ok"}) == 0
