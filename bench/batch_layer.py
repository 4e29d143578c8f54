"""Benchmark: ``candles batch`` (Polars) vs the same 1 s candles in two DuckDB queries.

Generates a day of trades (default 20M, 8 symbols, with 0.1% exact duplicates and 0.02%
conflicts) directly in the master-dataset layout, then for each scale and repeat runs,
each in its own process so peak RSS is its own:

- ``candles batch --intervals 1s`` and ``candles batch`` with all five intervals (the job's
  own seconds; writing: the share of them the job waited for its writer thread, the
  writer's busy time as a share of them, overlapped or not, and the writer thread's CPU
  time as a share of the job's);
- DuckDB, *window* query: dedup by lowest offset with ``row_number()`` among the copies
  of the ids seen twice; ``arg_min/arg_max`` on the struct ``(ts_us, trade_id)``;
- DuckDB, *join* query: the ids seen twice with their ``min(kafka_offset)``, every trade
  left-joined to that small set and kept when its id is not in it or its offset is the
  minimum; ``arg_min/arg_max`` on one HUGEINT key ``ts_us * 2^63 + trade_id``.

Both queries use HUGEINT sums and round-half-up VWAP. Every run checks that all three
give identical candles (exact text, decimals as unscaled integers). Ratios are taken
within a run; medians over the repeats. Above ``--duckdb-max-trades`` only Polars runs
(DuckDB would not fit in memory), to show that its memory stays flat.

    .venv/bin/python bench/batch_layer.py --trades 20000000 --scales 1,10 --workdir /tmp/b

``--s3`` instead times ``candles batch --intervals 1s`` with the same day on the S3 server
the tests use (moto, in this process; the job reads its trades and writes its outputs
there) against the local disk, alternating, in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path[0] = str(Path(__file__).resolve().parents[1])

from bench.common import load_average, run_child
from candle_core.fixed_point import PRICE_SCALE
from storage.arrow_fixed import decimal_column
from storage.layout import US_PER_HOUR, ChunkName, trades_dir
from storage.schemas import ARCHIVE_TRADE_SCHEMA

DATE, DAY0_US = "2026-01-01", 1_767_225_600_000_000
SYMBOLS = ("AAPL", "MSFT", "BTCUSDT", "ETHUSDT", "SOLUSDT", "SHIBUSDT", "BRK.A", "EURUSD")
DUCKDB_QUERIES = ("window", "join")


def generate(root: Path, trades: int, seed: int = 1) -> None:
    """``trades`` trades over one day, written hour by hour as archive files."""
    rng = np.random.default_rng(seed)
    per_hour = trades // 24
    next_id = np.zeros(len(SYMBOLS), dtype=np.int64)
    prices = rng.integers(10 * PRICE_SCALE, 1_000 * PRICE_SCALE, len(SYMBOLS))
    for hour in range(24):
        ts = np.sort(rng.integers(0, US_PER_HOUR, per_hour)) + DAY0_US + hour * US_PER_HOUR
        sym = rng.integers(0, len(SYMBOLS), per_hour)
        for s, symbol in enumerate(SYMBOLS):
            mask = sym == s
            n = int(mask.sum())
            ids = next_id[s] + np.arange(n)
            next_id[s] += n
            walk = prices[s] + np.cumsum(rng.integers(-1000, 1001, n))
            prices[s] = walk[-1]
            write_hour(root, symbol, s, hour, ts[mask], ids, np.maximum(walk, 1), rng)


def write_hour(root: Path, symbol: str, s: int, hour: int, ts: np.ndarray, ids: np.ndarray,
               price: np.ndarray, rng: np.random.Generator) -> None:
    n = len(ts)
    dup = rng.random(n) < 0.0012  # re-sent copies: 5 in 6 exact, 1 in 6 with another price
    ts, ids = np.concatenate([ts, ts[dup]]), np.concatenate([ids, ids[dup]])
    conflict = rng.random(int(dup.sum())) < 1 / 6
    price = np.concatenate([price, price[dup] + conflict])
    size = rng.integers(1, 10**10, n)
    size = np.concatenate([size, size[dup]])
    first = (s * 24 + hour) * 10**8
    table = pa.table({
        "symbol": pa.array([symbol] * len(ts)), "trade_id": ids, "ts_us": ts,
        "price": decimal_column(price, 18, 8), "size": decimal_column(size, 38, 8),
        "venue": pa.array(["bench"] * len(ts)), "side": pa.array(["buy"] * len(ts)),
        "kafka_topic": pa.array(["trades"] * len(ts)),
        "kafka_partition": pa.array(np.full(len(ts), s % 4), pa.int32()),
        "kafka_offset": first + np.arange(len(ts)), "kafka_timestamp_ms": ts // 1000 + 5,
    }, schema=ARCHIVE_TRADE_SCHEMA)
    directory = root / trades_dir(DATE, symbol)
    directory.mkdir(parents=True, exist_ok=True)
    name = ChunkName("trades", s % 4, first, first + 10**8 - 1, hour).file_name()
    pq.write_table(table, directory / name, compression="zstd", row_group_size=256 * 1024)


def measured(command: list[str], env: dict[str, str] | None = None
             ) -> tuple[float, int, str]:
    """Run ``command``; return wall seconds, its own peak RSS in bytes (``VmHWM``), stdout."""
    result = run_child(command, env=env, timeout_s=3600.0)
    if result.returncode:
        raise SystemExit(f"{command[:4]} failed with status {result.returncode}")
    return result.seconds, result.peak_rss_bytes, result.stdout


def run_polars(root: str, intervals: str, env: dict[str, str] | None = None
               ) -> dict[str, Any]:
    """``candles batch`` in a child: its summary (``seconds``, ``stages``) and peak RSS."""
    cli = [sys.executable, "-m", "lambda_candles", "batch", "--date", DATE, "--root", root,
           "--intervals", intervals, "--json"]
    _, rss, out = measured(cli, env)
    summary: dict[str, Any] = json.loads(out)
    return summary | {"rss_mb": rss / 2**20}


def polars_candles(root: Path) -> pl.DataFrame:
    files = sorted((root / f"candles/source=batch/interval=1s/date={DATE}").glob("*.parquet"))
    return pl.read_parquet(files).select(pl.all().exclude("interval"))


DEDUP = {
    "window": """
dups as (
  select symbol, trade_id from t group by all having count(*) > 1
), losers as (
  select kafka_partition, kafka_offset from (
    select t.*, row_number() over (partition by symbol, trade_id
                                   order by kafka_offset, kafka_partition) as rn
    from t semi join dups using (symbol, trade_id)) where rn > 1
), trades as (
  select * from t anti join losers using (kafka_partition, kafka_offset)
)""",
    # min(kafka_offset) alone decides: the bench keys each symbol to one partition, so
    # two copies never share an offset (the contract's tie-break on the partition).
    "join": """
repeated as (
  select symbol, trade_id, min(kafka_offset) as first_offset
  from t group by symbol, trade_id having count(*) > 1
), trades as (
  select t.* from t left join repeated using (symbol, trade_id)
  where repeated.first_offset is null or t.kafka_offset = repeated.first_offset
)""",
}
ORDER_KEY = {"window": "(ts_us, trade_id)",
             "join": "ts_us::HUGEINT * 9223372036854775808 + trade_id"}
DUCKDB_QUERY = """
with t as (
  select symbol, trade_id, ts_us, (price::DECIMAL(38, 8) * 100000000)::BIGINT as p,
         (size * 100000000)::BIGINT as s, kafka_partition, kafka_offset
  from read_parquet({files})
), {dedup}, candles as (
  select symbol, ts_us - ts_us % 1000000 as window_start_us,
         arg_min(p, {key}) as open, max(p) as high, min(p) as low,
         arg_max(p, {key}) as close, sum(s::HUGEINT) as volume,
         sum(p::HUGEINT * s) as notional, count(*) as trade_count,
         min(ts_us) as first_ts_us, max(ts_us) as last_ts_us,
         arg_min(trade_id, {key}) as first_trade_id,
         arg_max(trade_id, {key}) as last_trade_id
  from trades group by all
)
select symbol, window_start_us, open, high, low, close, volume::VARCHAR as volume,
       notional::VARCHAR as notional,
       (notional // volume + (2 * (notional % volume) >= volume)::INT)::BIGINT as vwap,
       trade_count, first_ts_us, last_ts_us, first_trade_id, last_trade_id
from candles
"""


def duckdb_query(kind: str, files: list[str]) -> str:
    return DUCKDB_QUERY.format(files=files, dedup=DEDUP[kind].strip(), key=ORDER_KEY[kind])


def duckdb_child(kind: str, root: Path, out: Path) -> None:
    """In a child process: run one DuckDB query, write its result, print the seconds."""
    import duckdb

    files = sorted(str(p) for p in (root / trades_dir(DATE)).rglob("*.parquet"))
    began = time.perf_counter()
    table = duckdb.connect().sql(duckdb_query(kind, files)).to_arrow_table()
    seconds = time.perf_counter() - began
    pq.write_table(table, out)
    print(json.dumps({"seconds": seconds}))


def duckdb_out(root: Path, kind: str) -> Path:
    return root.parent / f"duckdb-{kind}.parquet"


def run_duckdb(kind: str, root: Path) -> dict[str, float]:
    """One DuckDB query in a child (its candles to :func:`duckdb_out`): seconds, RSS."""
    _, rss, stdout = measured([sys.executable, __file__, "duckdb-child", kind, str(root),
                               str(duckdb_out(root, kind))])
    return {f"duckdb_{kind}_s": json.loads(stdout)["seconds"],
            f"duckdb_{kind}_rss_mb": rss / 2**20}


def comparable(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column as exact text, decimals as their unscaled integers; sorted."""
    columns = [pl.col(c).to_physical().cast(pl.String) if frame.schema[c].is_decimal()
               else pl.col(c).cast(pl.String) for c in DUCK_COLUMNS]
    return frame.select(columns).sort("symbol", "window_start_us")


DUCK_COLUMNS = ("symbol", "window_start_us", "open", "high", "low", "close", "volume",
                "notional", "vwap", "trade_count", "first_ts_us", "last_ts_us",
                "first_trade_id", "last_trade_id")


def day(workdir: Path, trades: int) -> Path:
    """The generated day of ``trades`` trades (generated once, then reused)."""
    root = workdir / f"day-{trades}"
    if not (root / trades_dir(DATE)).exists():
        began = time.perf_counter()
        generate(root, trades)
        print(f"generated {trades:,} trades in {time.perf_counter() - began:.0f} s", flush=True)
    return root


def one_run(root: Path, with_duckdb: bool) -> dict[str, float]:
    """DuckDB join, Polars 1 s, Polars all intervals, DuckDB window: each ratio is of two
    neighbouring runs, so that a change of load on the machine touches both alike."""
    run: dict[str, float] = {"load": load_average()}
    if with_duckdb:
        run |= run_duckdb("join", root)
    one = run_polars(str(root), "1s")
    expected = comparable(polars_candles(root))
    run |= {"polars_1s_s": one["seconds"], "polars_1s_cpu_s": one["cpu_seconds"],
            "polars_1s_rss_mb": one["rss_mb"], "candles": float(expected.height),
            "write_wait_share": one["stages"]["write_wait"] / one["seconds"],
            "write_busy_share": one["stages"]["write"] / one["seconds"],
            "write_cpu_share": one["stages"]["write_cpu"] / one["cpu_seconds"]}
    if not with_duckdb:
        return run
    every = run_polars(str(root), "1s,10s,1m,5m,1h")
    run |= {"polars_all_s": every["seconds"], "polars_all_rss_mb": every["rss_mb"],
            "all_vs_1s": every["seconds"] / one["seconds"],
            "all_vs_1s_cpu": every["cpu_seconds"] / one["cpu_seconds"],
            "all_write_wait_share": every["stages"]["write_wait"] / every["seconds"],
            "all_write_cpu_share": every["stages"]["write_cpu"] / every["cpu_seconds"]}
    run |= run_duckdb("window", root)
    for kind in DUCKDB_QUERIES:
        if not comparable(pl.read_parquet(duckdb_out(root, kind))).equals(expected):
            raise SystemExit(f"Polars and the DuckDB {kind} query give different candles")
        run[f"duckdb_{kind}_ratio"] = run[f"duckdb_{kind}_s"] / one["seconds"]
    run["best_duckdb_ratio"] = min(run[f"duckdb_{k}_s"] for k in DUCKDB_QUERIES) / (
        one["seconds"])
    return run


def bench_scale(workdir: Path, trades: int, duckdb_max: int, repeats: int
                ) -> dict[str, Any]:
    """``repeats`` runs on one generated day; medians and every run."""
    root = day(workdir, trades)
    runs = []
    for attempt in range(repeats):
        run = one_run(root, trades <= duckdb_max)
        print(f"{trades:,} trades, run {attempt + 1}/{repeats}: {json.dumps(run)}", flush=True)
        runs.append(run)
    medians = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
    return {"trades": trades, **medians, "runs": runs}


def bench_s3(workdir: Path, trades: int, repeats: int) -> dict[str, Any]:
    """``candles batch --intervals 1s`` from moto's S3 against the local disk."""
    import logging

    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    root = day(workdir, trades)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="bench",
                          aws_secret_access_key="bench", region_name="us-east-1")
    client.create_bucket(Bucket="bench")
    for path in sorted((root / "trades").rglob("*.parquet")):
        client.upload_file(str(path), "bench", f"day/{path.relative_to(root)}")
    env = {**os.environ, "CANDLES_S3_ENDPOINT_URL": endpoint,
           "CANDLES_S3_ACCESS_KEY_ID": "bench", "CANDLES_S3_SECRET_ACCESS_KEY": "bench"}
    runs = []
    try:
        for attempt in range(repeats):
            local = run_polars(str(root), "1s")
            remote = run_polars("s3://bench/day", "1s", env)
            run = {"local_s": local["seconds"], "s3_s": remote["seconds"],
                   "ratio": remote["seconds"] / local["seconds"],
                   "read_dedup_ratio": remote["stages"]["read_dedup"] / (
                       local["stages"]["read_dedup"]), "load": load_average()}
            print(f"S3 run {attempt + 1}/{repeats}: {json.dumps(run)}", flush=True)
            runs.append(run)
    finally:
        server.stop()
    return {"trades": trades, **{k: statistics.median(r[k] for r in runs) for k in runs[0]},
            "runs": runs}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "duckdb-child":
        duckdb_child(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trades", type=int, default=20_000_000)
    parser.add_argument("--scales", default="1,10", help="multiples of --trades to run")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/candles-bench"))
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs per scale; medians are reported (default 3)")
    parser.add_argument("--duckdb-max-trades", type=int, default=50_000_000,
                        help="skip DuckDB above this many trades (it would not fit in RAM)")
    parser.add_argument("--s3", action="store_true", help="time reading from a local S3 "
                        "server (moto) against the local disk, at --trades only")
    args = parser.parse_args()
    if args.s3:
        print(json.dumps(bench_s3(args.workdir, args.trades, args.repeats)))
        return
    results = [bench_scale(args.workdir, args.trades * int(scale), args.duckdb_max_trades,
                           args.repeats) for scale in args.scales.split(",")]
    print(f"medians of {args.repeats} runs:")
    for r in results:
        print(summary_line(r))
    print(json.dumps(results))


def summary_line(r: dict[str, Any]) -> str:
    line = (f"{r['trades']:>12,} trades: candles batch 1s {r['polars_1s_s']:.2f} s "
            f"({r['polars_1s_rss_mb']:,.0f} MB; writing: waited {r['write_wait_share']:.1%}, "
            f"busy {r['write_busy_share']:.1%}, CPU {r['write_cpu_share']:.1%})")
    if "duckdb_join_s" in r:
        line += (f"; all intervals {r['all_vs_1s']:.2f}x ({r['all_vs_1s_cpu']:.2f}x CPU); "
                 f"DuckDB join "
                 f"{r['duckdb_join_s']:.2f} s ({r['duckdb_join_ratio']:.2f}x), window "
                 f"{r['duckdb_window_s']:.2f} s ({r['duckdb_window_ratio']:.2f}x), the "
                 f"better one {r['best_duckdb_ratio']:.2f}x")
    return line


if __name__ == "__main__":
    main()
