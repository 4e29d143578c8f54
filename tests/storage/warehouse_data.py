"""A small master dataset with its batch bars and a reconciliation report, for load tests.

The realistic path: simulated trades -> the archiver's own writer -> ``run_batch`` (the
batch bars the loader reads) -> a ``report.json`` as ``candles reconcile`` writes it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from batch_layer.job import run_batch
from candle_core.candle import Candle
from candle_core.codec import CANDLE_SCHEMA, candles_from_table
from lambda_candles.settings import CandlesSettings, load_settings
from sources.records import kafka_timestamp_ms
from sources.simulator import SimulationConfig, simulate_records
from storage.local import LocalStore
from storage.reconcile_report import ReportFiles
from storage.stores import open_store
from storage.warehouse.bars import KEY, read_batch_bars
from storage.warehouse.loader import Target
from tests.report_data import sample_report
from tests.storage.offline import archive_offline

DATE = "2026-01-01"
START_US = 1_767_225_600_000_000 + 3_600_000_000  # 2026-01-01T01:00:00Z
INTERVALS = "1s,1m,5m"


def settings_for(root: Path, **overrides: Any) -> CandlesSettings:
    """Settings for ``root`` that no ``CANDLES_*`` variable of the test machine changes."""
    base: dict[str, Any] = {
        "archive_root": str(root), "intervals": INTERVALS, "warehouse": "duckdb",
        "warehouse_duckdb_path": root / "warehouse.duckdb", "pushgateway_url": "",
        "snowflake_account": "", "snowflake_password": "", "snowflake_private_key": "",
        "snowflake_private_key_passphrase": "",
    }
    return load_settings(**{**base, **overrides})


def build_archive(root: Path, trades: int = 1_200, rate_per_s: float = 2.0,
                  seed: int = 11) -> CandlesSettings:
    """A clean stream archived under ``root`` with the batch bars of :data:`DATE` written."""
    config = SimulationConfig(trades=trades, start_us=START_US, seed=seed,
                              rate_per_s=rate_per_s, symbols=4)
    records = [(offset, kafka_timestamp_ms(record.timestamp_us), record.key, record.value)
               for offset, (record, _) in enumerate(simulate_records(config))]
    archive_offline(LocalStore(root), records, chunk_offsets=500, seal_last=True)
    settings = settings_for(root)
    run_batch(open_store(settings), settings, DATE)
    return settings


def write_report(settings: CandlesSettings, verdict: str, run_id: str = "rec-0001",
                 date: str = DATE) -> str:
    """A reconciliation report of ``date`` with ``verdict``; its URI."""
    report = sample_report(date, verdict, run_id, INTERVALS.split(","))
    return ReportFiles.of(open_store(settings), settings.reports_dir).write(report, b"")


def run_candles(*args: str, env: dict[str, str] | None = None
                ) -> subprocess.CompletedProcess[str]:
    """``candles ARGS`` as a user runs it (a fresh interpreter)."""
    return subprocess.run([sys.executable, "-m", "lambda_candles", *args], capture_output=True,
                          text=True, timeout=120, env={**os.environ, **(env or {})})


def table_rows(target: Target, table: str = "CORE.BARS") -> list[tuple[Any, ...]]:
    """Every row of ``table``, in key order: what "the table did not change" compares."""
    order = "RUN_ID" if table.endswith("LOAD_AUDIT") else ", ".join(KEY)
    return target.execute(f"SELECT * FROM {table} ORDER BY {order}")


def warehouse_candles(target: Target) -> list[Candle]:
    """``CORE.BARS`` as candles, through the codec (exact: decimals are never floats)."""
    names = [name.lower() for name in CANDLE_SCHEMA.names]
    rows = target.execute(f"SELECT {', '.join(n.upper() for n in names)} FROM CORE.BARS")
    table = pa.Table.from_pylist([dict(zip(names, row, strict=True)) for row in rows],
                                 schema=CANDLE_SCHEMA)
    return sorted(candles_from_table(table), key=lambda c: c.key)


def batch_candles(settings: CandlesSettings, intervals: list[str]) -> list[Candle]:
    """The batch bars of :data:`DATE` as candles, sorted by key."""
    bars = read_batch_bars(open_store(settings), DATE, intervals)
    return sorted(candles_from_table(bars.table), key=lambda c: c.key)


@contextlib.contextmanager
def pushgateway(workdir: Path) -> Iterator[str]:
    """Debian's Pushgateway on a free localhost port (skips the test if not installed,
    fails it in CI, where a skip would hide that the push was never tested)."""
    binary = shutil.which("prometheus-pushgateway") or shutil.which("pushgateway")
    if binary is None:
        hint = "prometheus-pushgateway not found: ./scripts/bootstrap installs it"
        if os.environ.get("CI") or os.environ.get("CANDLES_REQUIRE_TOOLS"):
            pytest.fail(hint)
        pytest.skip(hint)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with (workdir / "pushgateway.log").open("wb") as log:
        proc = subprocess.Popen([binary, f"--web.listen-address=127.0.0.1:{port}"],
                                stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(f"{url}/-/ready", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the Pushgateway did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def pushed_samples(url: str, prefix: str = "candles_load_") -> dict[str, float]:
    """``{series: value}`` of what the gateway at ``url`` holds, for names with ``prefix``."""
    text = urllib.request.urlopen(f"{url}/metrics", timeout=5).read().decode()
    samples = {}
    for line in text.splitlines():
        if line.startswith(prefix):
            series, value = line.rsplit(" ", 1)
            samples[series] = float(value)
    return samples
