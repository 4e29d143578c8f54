"""`candles demo` end to end, as a newcomer runs it (on the test broker)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def test_demo_runs_the_pipeline_and_everything_is_exact(kafka_bootstrap: str,
                                                        tmp_path: Path) -> None:
    env = {**os.environ, "CANDLES_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
           "CANDLES_METRICS_PORT": "0"}
    result = subprocess.run(
        [sys.executable, "-m", "lambda_candles", "demo", "--trades", "20000",
         "--workdir", str(tmp_path)],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = " ".join(result.stdout.split())  # rich wraps long lines
    assert "speed-layer candles vs the contract reference" in out
    assert "batch-layer candles vs the contract reference" in out
    assert out.count("— all exact") == 2
    assert "dead letter: malformed_json" in out and "late -> trades.late" in out
    assert list(tmp_path.glob("demo-*/lake/trades/date=*/symbol=*/*.parquet"))
    assert list(tmp_path.glob("demo-*/lake/candles/source=batch/interval=1s/date=*/*.parquet"))
    # the chaos stream has late trades: a breach, every drifted candle explained
    assert "verdict: BREACH" in out and " 0 unexplained" in out
    (report,) = tmp_path.glob("demo-*/lake/reports/reconcile/date=*/report.json")
    totals = json.loads(report.read_text())["totals"]
    assert totals["drifted"] > 0 and totals["unexplained"] == 0
    (warehouse,) = tmp_path.glob("demo-*/warehouse.duckdb")
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        (bars,) = connection.execute("SELECT COUNT(*) FROM CORE.BARS").fetchone() or (0,)
    assert bars == totals["compared"] + totals["missing_speed"] > 0
    assert f"{bars:,} inserted" in out
