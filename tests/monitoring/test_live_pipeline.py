"""The live alert test of issue 5: a real Prometheus and Pushgateway watching the pipeline.

Prometheus scrapes a running `candles speed` and `candles archive` while trades flow; then
`candles nightly` (batch -> reconcile -> load) pushes its figures. Every dashboard query
must return series, and on the clean stream the drift alerts stay inactive. A second
stream with 1% of its trades late beyond the allowed lateness, with revisions off (so they
go to trades.late, as trades past the revision horizon do), is reconciled next, and the
drift-breach alert must go to firing, with nothing unexplained. Last, speed candles are
deleted from a copy of the clean archive: the unexplained-drift alert (critical) fires.
"""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest

from tests.monitoring.prometheus_stack import (
    PrometheusStack,
    ScrapeTarget,
    free_port,
    load_dashboard,
    panel_queries,
    require_binaries,
    sample_value,
)
from tests.pipeline import Pipeline
from tests.reconciliation.runs import DATE, make_pipeline, run_pipeline
from tests.speed_layer.trades import as_records, clean_stream

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

TRADES = 8_000
DRIFT_ALERTS = ("CandlesDriftBreach", "CandlesUnexplainedDrift")


def total(stack: PrometheusStack, expr: str) -> float:
    series = stack.query(expr)
    return sample_value(series[0]) if series else -1.0


def settled(stack: PrometheusStack, expr: str, quiet_s: float = 3.0) -> float:
    """Wait until ``expr`` is positive and has not changed for ``quiet_s`` seconds."""
    last, since = -1.0, time.monotonic()
    deadline = since + 60
    while time.monotonic() < deadline:
        value = total(stack, expr)
        if value != last:
            last, since = value, time.monotonic()
        elif value > 0 and time.monotonic() - since >= quiet_s:
            return value
        time.sleep(0.5)
    raise AssertionError(f"{expr} did not settle (last value {last})")


@pytest.fixture
def stack() -> Iterator[PrometheusStack]:
    require_binaries()
    with PrometheusStack() as running:
        yield running


def start(pipeline: Pipeline, args: tuple[str, ...], port: int, log: Path
          ) -> subprocess.Popen[bytes]:
    return pipeline.start(*args, env={"CANDLES_METRICS_PORT": str(port)}, log_path=log)


def stop(*processes: subprocess.Popen[bytes]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        process.wait(timeout=60)


def bad_records(count: int) -> list[tuple[bytes, bytes, int]]:
    """Malformed trades, so the DLQ panels have something real to show."""
    when_ms = clean_stream(1)[0].ts_us // 1000
    bodies = [b"{not json", orjson.dumps({"symbol": "AAPL", "trade_id": 1}),
              orjson.dumps({"symbol": "AAPL", "trade_id": 9, "ts": when_ms * 1000,
                            "price": "-1", "size": "1"})]
    return [(b"AAPL", bodies[i % len(bodies)], when_ms + i) for i in range(count)]


def test_dashboards_have_data_and_the_drift_alert_follows_the_verdict(
        kafka_bootstrap: str, stack: PrometheusStack, tmp_path: Path) -> None:
    clean = make_pipeline(kafka_bootstrap, tmp_path / "clean" / "lake")
    # While the speed layer runs, a window closes only once event time passes its end
    # (idle partitions follow the wall clock): 1s and 10s windows close within seconds.
    clean.extra_env["CANDLES_INTERVALS"] = "1s,10s"
    clean.create_topics()
    speed_port, archive_port = free_port(), free_port()
    speed = start(clean, ("speed", "--idle-timeout-ms", "1000"), speed_port,
                  tmp_path / "speed.log")
    archive = start(clean, ("archive",), archive_port, tmp_path / "archive.log")
    try:
        stack.add_targets(ScrapeTarget("candles_speed", f"127.0.0.1:{speed_port}"),
                          ScrapeTarget("candles_archive", f"127.0.0.1:{archive_port}"))
        stack.wait_for_targets_up(timeout=60)
        records = [*as_records(clean_stream(TRADES, seed=21)), *bad_records(30)]
        clean.produce(records)
        produced = len(records)
        # every window closed: the ids of closed ones stay for the dedup horizon
        state = "sum(candles_speed_open_windows) + sum(candles_speed_rollup_partials)"
        stack.wait_for(lambda: total(stack, "sum(candles_speed_messages_consumed_total)")
                       == produced and total(stack, state) == 0, timeout=120,
                       what="the speed layer to read everything and close every window")
        outputs = ("sum(candles_speed_candles_emitted_total) + sum(candles_speed_dlq_total)"
                   " + sum(candles_speed_trades_late_total)")
        stack.wait_for(lambda: total(stack, "sum(candles_archive_messages_consumed_total)")
                       == produced + total(stack, outputs), timeout=120,
                       what="the archive to read every trade and every speed output")
        settled(stack, "sum(candles_archive_files_written_total)")  # open chunks flushed
        nightly = clean.run("nightly", "--date", DATE, "--json",
                            env={"CANDLES_PUSHGATEWAY_URL": stack.pushgateway_url})
        assert nightly.returncode == 0, nightly.stdout + nightly.stderr
        assert orjson.loads(nightly.stdout)["verdict"] == "ok"
        stack.wait_for_series("candles_nightly_success == 1")
        stack.wait_for_evaluation()
        for name in DRIFT_ALERTS:
            assert not stack.active_alerts(name), (
                f"{name} is active on a clean stream: {stack.active_alerts(name)}; breached "
                f"series: {stack.query('candles_reconcile_breached_candles > 0')}; "
                f"nightly: {nightly.stdout}")
        for query in panel_queries(load_dashboard("pipeline-overview")):
            assert stack.query(query.expr), f"pipeline-overview: no series for {query}"
        assert not stack.query("candles_reconcile_worst_candle_drift_ratio")  # none: clean
        assert stack.query('sum by (reason) (candles_speed_dlq_total) > 0')
    finally:
        stop(speed, archive)

    late = make_pipeline(kafka_bootstrap, tmp_path / "late" / "lake")
    # Revisions off: every late trade goes to trades.late, as one later than the revision
    # horizon would (the stream spans 2 minutes, shorter than the default 10-minute horizon).
    late.extra_env["CANDLES_REVISION_HORIZON_MS"] = "0"
    trades = clean_stream(TRADES, seed=22)
    picked = set(random.Random(3).sample(range(len(trades) * 4 // 5), len(trades) // 100))
    lateness_us = late.settings.allowed_lateness_us
    delays = [lateness_us + 4_000_000 if i in picked else 0 for i in range(len(trades))]
    run_pipeline(late, as_records(trades, delays), batch=False)
    nightly = late.run("nightly", "--date", DATE, "--json",
                       env={"CANDLES_PUSHGATEWAY_URL": stack.pushgateway_url})
    assert nightly.returncode == 0, nightly.stdout + nightly.stderr
    assert orjson.loads(nightly.stdout)["verdict"] == "breach"
    firing = stack.wait_for_alert("CandlesDriftBreach", state="firing", timeout=60)
    assert firing
    stack.wait_for_evaluation()
    assert not stack.active_alerts("CandlesUnexplainedDrift")
    for query in panel_queries(load_dashboard("drift")):  # worst candles exist now
        assert stack.query(query.expr), f"drift: no series for {query}"
    worst = stack.query("candles_reconcile_worst_candle_drift_ratio")
    assert len(worst) == 10 and all(s["metric"]["cause"] == "late" for s in worst)

    # speed candles deleted on purpose: missing, unexplained, and the critical alert fires
    damaged = tmp_path / "damaged" / "lake"
    shutil.copytree(tmp_path / "clean" / "lake", damaged)
    victim = sorted((damaged / "candles/source=speed/interval=1s").rglob("*.parquet"))[0]
    table = pq.read_table(victim)
    pq.write_table(table.slice(2), victim)
    lost = set(table.slice(0, 2)["symbol"].to_pylist())
    done = clean.run("reconcile", "--date", DATE, "--json",
                     env={"CANDLES_ARCHIVE_ROOT": str(damaged),
                          "CANDLES_PUSHGATEWAY_URL": stack.pushgateway_url})
    assert done.returncode == 0, done.stderr
    assert orjson.loads(done.stdout)["verdict"] == "critical"
    critical = stack.wait_for_alert("CandlesUnexplainedDrift", state="firing", timeout=60)
    assert {alert["labels"]["symbol"] for alert in critical} == lost
    assert all(alert["labels"]["severity"] == "critical" for alert in critical)
