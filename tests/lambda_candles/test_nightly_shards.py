"""The sharded nightly as the Indexed Job's pods run it: ``candles nightly --shards N
--index I --run R`` for I = 0..N-1 batch their shard, I = N reconciles and loads once all
shards of R are done."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from candle_core.parsing import TradeParser
from candle_core.reference import candles_from_trades
from candle_core.trade import Trade
from candle_core.windows import interval_label
from lambda_candles.settings import load_settings
from sources.records import kafka_timestamp_ms
from sources.simulator import SimulationConfig, simulate_records
from storage.candle_rows import candle_table
from storage.layout import candles_dir, date_of
from storage.local import LocalStore
from storage.parquet_io import encode
from storage.rows import Message
from tests.storage.offline import archive_offline

DATE = "2026-01-01"
START_US = 1_767_225_600_000_000 + 3_600_000_000  # 01:00 UTC
SHARDS = 3


@pytest.fixture()
def lake(tmp_path: Path) -> Path:
    """A clean day archived, with the speed layer's candles (equal to the contract's)."""
    root = tmp_path / "lake"
    config = SimulationConfig(trades=3_000, start_us=START_US, seed=4, rate_per_s=5.0,
                              symbols=6)
    records = [(offset, kafka_timestamp_ms(record.timestamp_us), record.key, record.value)
               for offset, (record, _) in enumerate(simulate_records(config))]
    store = LocalStore(root)
    archive_offline(store, records, chunk_offsets=400, seal_last=True)
    parser = TradeParser(config.max_future_skew_us)
    trades = [t for _, ts_ms, _, value in records
              if isinstance(t := parser.parse(value, ts_ms * 1000), Trade)]
    candles = candles_from_trades(trades, load_settings().intervals_us)
    for interval_us in load_settings().intervals_us:
        rows = [(c, Message(i, c.window_end_us // 1000, None, None))
                for i, c in enumerate(candles)
                if c.interval_us == interval_us and date_of(c.window_start_us) == DATE]
        store.write_bytes(f"{candles_dir('speed', interval_label(interval_us), DATE)}/"
                          "candles+0+speed.parquet",
                          encode(candle_table(rows, "candles", 0), sealed=True))
    return root


def nightly(lake: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CANDLES_ARCHIVE_ROOT": str(lake), "CANDLES_WAREHOUSE": "duckdb",
           "CANDLES_WAREHOUSE_DUCKDB_PATH": str(lake.parent / "warehouse.duckdb"),
           "CANDLES_PUSHGATEWAY_URL": "", "CANDLES_SNOWFLAKE_ACCOUNT": ""}
    return subprocess.run([sys.executable, "-m", "lambda_candles", "nightly", "--date", DATE,
                           "--json", *args], capture_output=True, text=True, env=env,
                          timeout=300)


def pod(lake: Path, index: int, run: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return nightly(lake, "--shards", str(SHARDS), "--index", str(index), "--run", run, *extra)


def test_shards_then_the_last_index_reconciles_and_loads(lake: Path) -> None:
    symbols, trades = [], 0
    for index in range(SHARDS):
        done = pod(lake, index, "nightly-1")
        assert done.returncode == 0, done.stderr
        summary = json.loads(done.stdout)
        assert summary["shard"] == f"{index}/{SHARDS}"
        symbols += summary["symbols"]
        trades += summary["trades_used"]
    assert sorted(symbols) == sorted(p.name.removeprefix("symbol=")
                                     for p in (lake / f"trades/date={DATE}").iterdir())
    last = pod(lake, SHARDS, "nightly-1")
    assert last.returncode == 0, last.stderr
    outcome = json.loads(last.stdout)
    assert outcome["verdict"] == "ok"
    assert [s["status"] for s in outcome["stages"]] == ["ok", "ok", "ok"]
    assert outcome["stages"][0]["detail"].startswith(f"{trades:,} trades")  # all shards'
    assert outcome["loaded"]["inserted"] == outcome["loaded"]["rows_read"] > 0


def test_the_last_index_waits_for_every_shard_of_its_own_run(lake: Path) -> None:
    """Shards of an earlier run (another Job) do not count; out of time: exit 3 (retry)."""
    for index in range(SHARDS - 1):
        assert pod(lake, index, "nightly-1").returncode == 0
    assert pod(lake, SHARDS - 1, "nightly-0").returncode == 0  # an older Job's shard
    waited = pod(lake, SHARDS, "nightly-1", "--wait-timeout", "0")
    assert waited.returncode == 3
    message = " ".join(waited.stderr.split())
    assert f"shards {SHARDS - 1} of {SHARDS} had not finished" in message


@pytest.mark.parametrize(("args", "message"), [
    (("--shards", "3", "--index", "4", "--run", "r"), "needs --index 0..3 and --run"),
    (("--shards", "3", "--index", "1"), "needs --index 0..3 and --run"),
    (("--index", "1"), "--index and --run go with --shards"),
    (("--shards", "3", "--index", "1", "--run", "../x"), "--run '../x': expected letters"),
])
def test_bad_sharding_flags_exit_2(lake: Path, args: tuple[str, ...], message: str) -> None:
    done = nightly(lake, *args)
    assert done.returncode == 2
    assert message in " ".join(done.stderr.split())
