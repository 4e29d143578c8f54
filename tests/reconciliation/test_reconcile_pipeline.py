"""The acceptance runs of `candles reconcile`, end to end on the real broker.

Each run: trades -> Kafka -> `candles speed` -> `candles archive` (trades, candles, late,
dlq) -> `candles batch` -> `candles reconcile`. Every step is the real command.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from candle_core.trade import Trade
from storage.local import LocalStore
from storage.speed_candles import read_latest_speed_candles, read_speed_candles
from tests.pipeline import Pipeline
from tests.reconciliation.runs import DATE, Records, make_pipeline, run_pipeline
from tests.speed_layer.trades import as_records, clean_stream

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

TRADES = 12_000


def reconcile(pipeline: Pipeline, root: Path) -> tuple[int, dict[str, Any]]:
    done = pipeline.run("reconcile", "--date", DATE, "--json", "--fail-on-breach",
                        env={"CANDLES_ARCHIVE_ROOT": str(root)})
    assert done.returncode in (0, 1, 4), done.stderr
    return done.returncode, json.loads(done.stdout)


@pytest.fixture(scope="module")
def clean_run(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
              ) -> tuple[Pipeline, Path]:
    root = tmp_path_factory.mktemp("clean") / "lake"
    pipeline = make_pipeline(kafka_bootstrap, root)
    run_pipeline(pipeline, as_records(clean_stream(TRADES, seed=11)))
    return pipeline, root


def test_clean_stream_has_zero_drift(clean_run: tuple[Pipeline, Path]) -> None:
    pipeline, root = clean_run
    status, report = reconcile(pipeline, root)
    totals = report["totals"]
    assert (status, report["verdict"]) == (0, "ok")
    assert totals["compared"] == totals["exact"] == report["candles"]["batch"] > 0
    assert report["candles"]["speed"] == report["candles"]["batch"]
    assert totals["drifted"] == totals["missing_speed"] == totals["missing_batch"] == 0
    assert totals["unexplained"] == totals["breached"] == 0
    assert {g["symbol"] for g in report["groups"]} >= {"AAPL", "BTCUSDT", "EURUSD"}
    assert {g["interval"] for g in report["groups"]} == {"1s", "10s", "1m", "5m", "1h"}
    drifted = pq.read_table(root / "reports/reconcile" / f"date={DATE}" / "drifted.parquet")
    assert drifted.num_rows == 0


def test_deleted_speed_candles_are_missing_and_unexplained(
        clean_run: tuple[Pipeline, Path], tmp_path: Path) -> None:
    pipeline, source = clean_run
    root = tmp_path / "lake"
    shutil.copytree(source, root)
    speed_files = sorted((root / "candles/source=speed/interval=1s").rglob("*.parquet"))
    table = pq.read_table(speed_files[0])
    assert table.num_rows > 3
    deleted = table.slice(0, 3)
    pq.write_table(table.slice(3), speed_files[0])
    status, report = reconcile(pipeline, root)
    assert (status, report["verdict"]) == (4, "critical")
    assert report["totals"]["missing_speed"] == 3
    assert report["totals"]["unexplained"] == 3
    missing = {(c["symbol"], c["window_start_us"]) for c in report["worst"]
               if c["match"] == "missing_speed"}
    assert missing == set(zip(deleted["symbol"].to_pylist(),
                              deleted["window_start_us"].to_pylist(), strict=True))
    assert all(not c["explained"] for c in report["worst"] if c["match"] == "missing_speed")


def late_stream(pipeline: Pipeline) -> tuple[list[Trade], set[int], Records]:
    """1% of the trades 4 s later than the allowed lateness; none in the last fifth, so
    later trades move the watermark past their windows."""
    trades = clean_stream(TRADES, seed=12)
    rnd = random.Random(5)
    late = set(rnd.sample(range(len(trades) * 4 // 5), len(trades) // 100))
    lateness_us = pipeline.settings.allowed_lateness_us
    delays = [lateness_us + 4_000_000 if i in late else 0 for i in range(len(trades))]
    return trades, late, as_records(trades, delays)


def test_late_trades_are_the_attributed_cause_of_the_breach(
        kafka_bootstrap: str, tmp_path: Path) -> None:
    root = tmp_path / "lake"
    pipeline = make_pipeline(kafka_bootstrap, root)
    # no revisions: every late trade goes to trades.late, and its window drifts
    pipeline.extra_env["CANDLES_REVISION_HORIZON_MS"] = "0"
    trades, late, records = late_stream(pipeline)
    run_pipeline(pipeline, records)
    status, report = reconcile(pipeline, root)
    assert (status, report["verdict"]) == (1, "breach")
    assert report["totals"]["unexplained"] == 0
    assert report["totals"]["breached"] > 0
    assert report["evidence"]["late"] == len(late_ids(trades, late))
    drifted = pq.read_table(root / "reports/reconcile" / f"date={DATE}" / "drifted.parquet")
    rows = drifted.to_pylist()
    assert rows and all(r["explained"] and r["cause_late"] > 0 and r["reproduced"]
                        for r in rows)
    late_windows = {(t.symbol, t.ts_us // 1_000_000 * 1_000_000)
                    for t in late_ids(trades, late)}
    one_second = {(r["symbol"], r["window_start_us"]) for r in rows if r["interval"] == "1s"}
    assert one_second == late_windows


def late_ids(trades: list[Trade], late: set[int]) -> list[Trade]:
    return [trades[i] for i in sorted(late)]


def test_late_trades_inside_the_revision_horizon_revise_and_reconcile_clean(
        kafka_bootstrap: str, tmp_path: Path) -> None:
    root = tmp_path / "lake"
    pipeline = make_pipeline(kafka_bootstrap, root)  # the default revision horizon: 10 min
    trades, late, records = late_stream(pipeline)
    run_pipeline(pipeline, records)
    status, report = reconcile(pipeline, root)
    totals = report["totals"]
    assert (status, report["verdict"]) == (0, "ok")
    assert totals["compared"] == totals["exact"] == report["candles"]["batch"] > 0
    assert report["candles"]["speed"] == report["candles"]["batch"]  # old revisions: no extra
    assert totals["drifted"] == totals["missing_speed"] == totals["missing_batch"] == 0
    assert totals["unexplained"] == totals["speed_duplicates"] == 0
    late_windows = {(t.symbol, t.ts_us // 1_000_000 * 1_000_000)
                    for t in late_ids(trades, late)}
    groups = report["groups"]
    assert sum(g["revised"] for g in groups if g["interval"] == "1s") == len(late_windows)
    assert totals["revised"] == sum(g["revised"] for g in groups)
    store = LocalStore(root)
    archived = [read_speed_candles(store, label, DATE) for label in report["intervals"]]
    latest = [read_latest_speed_candles(store, label, DATE) for label in report["intervals"]]
    assert totals["revised"] == sum(found.revised for found in latest)
    assert sum(f.height for f in archived) > sum(found.candles.height for found in latest)


def warehouse_rows(path: Path) -> list[tuple[object, ...]]:
    with duckdb.connect(str(path), read_only=True) as connection:
        return connection.execute("SELECT * FROM CORE.BARS ORDER BY ALL").fetchall()


def test_nightly_loads_the_clean_day_once_and_a_rerun_changes_nothing(
        clean_run: tuple[Pipeline, Path], tmp_path: Path) -> None:
    pipeline, root = clean_run
    warehouse = tmp_path / "warehouse.duckdb"
    env = {"CANDLES_ARCHIVE_ROOT": str(root), "CANDLES_WAREHOUSE_DUCKDB_PATH": str(warehouse)}
    first = pipeline.run("nightly", "--date", DATE, "--json", env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    outcome = json.loads(first.stdout)
    assert outcome["verdict"] == "ok"
    assert [s["status"] for s in outcome["stages"]] == ["ok", "ok", "ok"]
    loaded = outcome["loaded"]
    assert loaded["inserted"] == loaded["rows_read"] > 0 and loaded["updated"] == 0
    rows = warehouse_rows(warehouse)
    assert len(rows) == loaded["rows_read"]
    again = pipeline.run("nightly", "--date", DATE, "--json", env=env)
    assert again.returncode == 0, again.stdout + again.stderr
    rerun = json.loads(again.stdout)["loaded"]
    assert (rerun["inserted"], rerun["updated"], rerun["unchanged"]) == (
        0, 0, loaded["rows_read"])
    assert warehouse_rows(warehouse) == rows
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        audit = connection.execute("SELECT VERDICT, ROWS_INSERTED, ROWS_UPDATED FROM "
                                   "CORE.LOAD_AUDIT ORDER BY STARTED_AT").fetchall()
    assert audit == [("ok", loaded["rows_read"], 0), ("ok", 0, 0)]


def test_load_refuses_intervals_the_report_does_not_cover(
        clean_run: tuple[Pipeline, Path], tmp_path: Path) -> None:
    pipeline, source = clean_run
    root = tmp_path / "lake"
    shutil.copytree(source, root)
    env = {"CANDLES_ARCHIVE_ROOT": str(root),
           "CANDLES_WAREHOUSE_DUCKDB_PATH": str(tmp_path / "w.duckdb")}
    done = pipeline.run("reconcile", "--date", DATE, "--interval", "60s,1s", "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["intervals"] == ["1s", "1m"]  # canonical, ascending
    refused = pipeline.run("load", "--date", DATE, env=env)
    assert refused.returncode == 2
    assert "intervals 10s,5m,1h were not reconciled" in " ".join(refused.stderr.split())
    loaded = pipeline.run("load", "--date", DATE, "--interval", "1m", "--interval", "1s",
                          "--json", env=env)
    assert loaded.returncode == 0, loaded.stderr
    assert json.loads(loaded.stdout)["intervals"] == ["1s", "1m"]
