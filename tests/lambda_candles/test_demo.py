"""`candles demo` end to end, as a newcomer runs it (on the test broker)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import httpx
import pytest

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


@pytest.mark.parametrize("revision_horizon_ms", [None, 0], ids=["revisions", "no-revisions"])
def test_demo_runs_the_pipeline_and_everything_is_exact(
        kafka_bootstrap: str, tmp_path: Path, revision_horizon_ms: int | None) -> None:
    """With the default revision horizon the chaos stream's late trades (seconds late)
    revise their candles: the reconcile finds no drift at all. Without revisions they go
    to trades.late: a breach, every drifted candle attributed to its late trade."""
    env = {**os.environ, "CANDLES_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
           "CANDLES_METRICS_PORT": "0"}
    if revision_horizon_ms is not None:
        env["CANDLES_REVISION_HORIZON_MS"] = str(revision_horizon_ms)
    result = subprocess.run(
        [sys.executable, "-m", "lambda_candles", "demo", "--trades", "20000",
         "--workdir", str(tmp_path), "--no-serve"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = " ".join(result.stdout.split())  # rich wraps long lines
    assert "speed-layer candles vs the contract reference" in out
    assert "batch-layer candles vs the contract reference" in out
    assert out.count("— all exact") == 2
    assert "dead letter: malformed_json" in out
    assert list(tmp_path.glob("demo-*/lake/trades/date=*/symbol=*/*.parquet"))
    assert list(tmp_path.glob("demo-*/lake/candles/source=batch/interval=1s/date=*/*.parquet"))
    (report,) = tmp_path.glob("demo-*/lake/reports/reconcile/date=*/report.json")
    totals = json.loads(report.read_text())["totals"]
    revised, late = (int(found[1].replace(",", "")) for found in (
        re.search(r"late, revised their candles\W+([\d,]+)", out),
        re.search(r"-> trades\.late\W+([\d,]+)", out)) if found is not None)
    if revision_horizon_ms == 0:
        # the chaos stream has late trades: a breach, every drifted candle explained
        assert revised == 0 and late > 0
        assert "verdict: BREACH" in out and " 0 unexplained" in out
        assert totals["drifted"] > 0 and totals["unexplained"] == 0
    else:
        assert revised > 0 and late == 0
        assert "verdict: OK" in out
        assert totals["drifted"] == 0 and totals["unexplained"] == 0
    (warehouse,) = tmp_path.glob("demo-*/warehouse.duckdb")
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        (bars,) = connection.execute("SELECT COUNT(*) FROM CORE.BARS").fetchone() or (0,)
    assert bars == totals["compared"] + totals["missing_speed"] > 0
    assert f"{bars:,} inserted" in out


def test_demo_from_the_http_feed_ends_serving_the_chart(kafka_bootstrap: str,
                                                         tmp_path: Path) -> None:
    """``--source http``: the trades file as a tick feed, ingested over HTTP; then the
    page is served at the printed URL until Ctrl-C."""
    env = {**os.environ, "CANDLES_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
           "CANDLES_METRICS_PORT": "0", "COLUMNS": "200"}
    demo = subprocess.Popen(
        [sys.executable, "-m", "lambda_candles", "demo", "--trades", "10000", "--source",
         "http", "--serve-port", "0", "--workdir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=tmp_path)
    lines: list[str] = []
    url = None
    try:
        assert demo.stdout is not None
        deadline = time.monotonic() + 300
        while url is None and time.monotonic() < deadline:
            line = demo.stdout.readline()
            if not line:
                break
            lines.append(line)
            found = re.search(r"serving the chart at (http://\S+/)", line)
            url = found.group(1) if found else None
        assert url, "".join(lines)[-4000:]
        out = " ".join("".join(lines).split())
        assert "feed -> ingest" in out and out.count("— all exact") == 2
        simulated = sum(int(n.replace(",", "")) for n in
                        re.findall(r"records labelled \w+ │ ([\d,]+)", out))
        (sent,) = re.findall(r"sent to trades │ ([\d,]+)", out)
        assert int(sent.replace(",", "")) == simulated >= 10_000  # every record, once
        assert " 0 unexplained" in out and "CRITICAL" not in out
        page = httpx.get(url, timeout=10)
        assert page.status_code == 200 and "lightweight-charts" in page.text
        symbols = httpx.get(url + "symbols", timeout=10).json()
        assert symbols, "the served archive has symbols"
    finally:
        demo.send_signal(signal.SIGINT)
        demo.wait(timeout=60)
    assert demo.returncode == 0, "".join(lines)[-3000:]
