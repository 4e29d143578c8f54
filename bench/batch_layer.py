"""Benchmark: ``candles batch`` (Polars) vs the same 1 s candles in DuckDB SQL.

Generates a day of trades (default 20M, 8 symbols, with 0.1% exact duplicates and 0.02%
conflicts) directly in the master-dataset layout, then for each scale runs, each in its own
process so peak RSS is its own: ``candles batch --intervals 1s`` and an equivalent DuckDB
query (dedup by lowest offset: the ids seen twice, then ``row_number`` among their copies
only, which was 2-4x faster here than ``qualify row_number()`` over every trade;
``arg_min/arg_max`` on ``(ts_us, trade_id)``, HUGEINT sums, round-half-up VWAP). Checks
both give identical candles; prints trades/s, the ratio and peak RSS. ``--scales 1,10``
repeats at 10x the trades to show memory stays flat.

    .venv/bin/python bench/batch_layer.py --trades 20000000 --scales 1,10 --workdir /tmp/b
"""

from __future__ import annotations

import argparse
import json
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

from bench.common import run_child
from candle_core.fixed_point import PRICE_SCALE
from storage.arrow_fixed import decimal_column
from storage.layout import US_PER_HOUR, ChunkName, trades_dir
from storage.schemas import ARCHIVE_TRADE_SCHEMA

DATE, DAY0_US = "2026-01-01", 1_767_225_600_000_000
SYMBOLS = ("AAPL", "MSFT", "BTCUSDT", "ETHUSDT", "SOLUSDT", "SHIBUSDT", "BRK.A", "EURUSD")


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


def measured(command: list[str]) -> tuple[float, int, str]:
    """Run ``command``; return wall seconds, its own peak RSS in bytes (``VmHWM``), stdout."""
    result = run_child(command, timeout_s=1800.0)
    if result.returncode:
        raise SystemExit(f"{command[:4]} failed with status {result.returncode}")
    return result.seconds, result.peak_rss_bytes, result.stdout


def run_polars(root: Path) -> tuple[float, int, pl.DataFrame]:
    cli = [sys.executable, "-m", "lambda_candles", "batch", "--date", DATE, "--root",
           str(root), "--intervals", "1s", "--json"]
    _, rss, out = measured(cli)
    seconds = json.loads(out)["seconds"]
    files = sorted((root / f"candles/source=batch/interval=1s/date={DATE}").glob("*.parquet"))
    frame = pl.read_parquet(files).select(pl.all().exclude("interval"))
    return seconds, rss, frame


DUCKDB_QUERY = """
with t as (
  select symbol, trade_id, ts_us, (price::DECIMAL(38, 8) * 100000000)::BIGINT as p,
         (size * 100000000)::BIGINT as s, kafka_partition, kafka_offset
  from read_parquet({files})
), dups as (
  select symbol, trade_id from t group by all having count(*) > 1
), losers as (
  select kafka_partition, kafka_offset from (
    select t.*, row_number() over (partition by symbol, trade_id
                                   order by kafka_offset, kafka_partition) as rn
    from t semi join dups using (symbol, trade_id)) where rn > 1
), trades as (
  select * from t anti join losers using (kafka_partition, kafka_offset)
), candles as (
  select symbol, ts_us - ts_us % 1000000 as window_start_us,
         arg_min(p, (ts_us, trade_id)) as open, max(p) as high, min(p) as low,
         arg_max(p, (ts_us, trade_id)) as close, sum(s::HUGEINT) as volume,
         sum(p::HUGEINT * s) as notional, count(*) as trade_count,
         min(ts_us) as first_ts_us, max(ts_us) as last_ts_us,
         arg_min(trade_id, (ts_us, trade_id)) as first_trade_id,
         arg_max(trade_id, (ts_us, trade_id)) as last_trade_id
  from trades group by all
)
select symbol, window_start_us, open, high, low, close, volume::VARCHAR as volume,
       notional::VARCHAR as notional,
       (notional // volume + (2 * (notional % volume) >= volume)::INT)::BIGINT as vwap,
       trade_count, first_ts_us, last_ts_us, first_trade_id, last_trade_id
from candles
"""


def duckdb_child(root: Path, out: Path) -> None:
    """In a child process: run the DuckDB query, write its result, print the seconds."""
    import duckdb

    files = sorted(str(p) for p in (root / trades_dir(DATE)).rglob("*.parquet"))
    began = time.perf_counter()
    table = duckdb.connect().sql(DUCKDB_QUERY.format(files=files)).to_arrow_table()
    seconds = time.perf_counter() - began
    pq.write_table(table, out)
    print(json.dumps({"seconds": seconds}))


def run_duckdb(root: Path) -> tuple[float, int, pl.DataFrame]:
    out = root / "duckdb.parquet"
    _, rss, stdout = measured([sys.executable, __file__, "duckdb-child", str(root), str(out)])
    return json.loads(stdout)["seconds"], rss, pl.read_parquet(out)


def comparable(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column as exact text, decimals as their unscaled integers; sorted."""
    columns = [pl.col(c).to_physical().cast(pl.String) if frame.schema[c].is_decimal()
               else pl.col(c).cast(pl.String) for c in DUCK_COLUMNS]
    return frame.select(columns).sort("symbol", "window_start_us")


DUCK_COLUMNS = ("symbol", "window_start_us", "open", "high", "low", "close", "volume",
                "notional", "vwap", "trade_count", "first_ts_us", "last_ts_us",
                "first_trade_id", "last_trade_id")


def bench_scale(workdir: Path, trades: int, duckdb_max: int, repeats: int
                ) -> dict[str, Any]:
    """``repeats`` alternating Polars/DuckDB runs on one generated day; medians and runs."""
    root = workdir / f"day-{trades}"
    if not (root / trades_dir(DATE)).exists():
        began = time.perf_counter()
        generate(root, trades)
        print(f"generated {trades:,} trades in {time.perf_counter() - began:.0f} s", flush=True)
    runs: list[dict[str, float]] = []
    for attempt in range(repeats):
        polars_s, polars_rss, polars_frame = run_polars(root)
        run = {"polars_s": polars_s, "polars_peak_rss_mb": polars_rss / 2**20,
               "candles": float(polars_frame.height)}
        if trades <= duckdb_max:  # its window-function dedup needs ~0.2 GB per million
            duck_s, duck_rss, duck_frame = run_duckdb(root)
            if not comparable(polars_frame).equals(comparable(duck_frame)):
                raise SystemExit("Polars and DuckDB candles differ")
            run |= {"duckdb_s": duck_s, "duckdb_peak_rss_mb": duck_rss / 2**20,
                    "ratio": duck_s / polars_s}
        print(f"{trades:,} trades, run {attempt + 1}/{repeats}: {run}", flush=True)
        runs.append(run)
    medians = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
    result: dict[str, Any] = {"trades": trades, **medians, "runs": runs,
                                 "polars_trades_per_s": trades / medians["polars_s"]}
    if "duckdb_s" in medians:
        result["duckdb_trades_per_s"] = trades / medians["duckdb_s"]
    return result


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "duckdb-child":
        duckdb_child(Path(sys.argv[2]), Path(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trades", type=int, default=20_000_000)
    parser.add_argument("--scales", default="1,10", help="multiples of --trades to run")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/candles-bench"))
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs per scale; medians are reported (default 3)")
    parser.add_argument("--duckdb-max-trades", type=int, default=50_000_000,
                        help="skip DuckDB above this many trades (it would not fit in RAM)")
    args = parser.parse_args()
    results = [bench_scale(args.workdir, args.trades * int(scale), args.duckdb_max_trades,
                           args.repeats) for scale in args.scales.split(",")]
    print(f"medians of {args.repeats} runs:")
    print(f"{'trades':>12} {'candles':>9} {'polars/s':>12} {'duckdb/s':>12} {'ratio':>6} "
          f"{'polars RSS':>11} {'duckdb RSS':>11}")
    for r in results:
        duck = (f"{r['duckdb_trades_per_s']:>12,.0f} {r['ratio']:>6.2f}" if "ratio" in r
                else f"{'skipped':>12} {'':>6}")
        duck_rss = f"{r['duckdb_peak_rss_mb']:>9,.0f}MB" if "ratio" in r else ""
        print(f"{r['trades']:>12,} {int(r['candles']):>9,} {r['polars_trades_per_s']:>12,.0f} "
              f"{duck} {r['polars_peak_rss_mb']:>9,.0f}MB {duck_rss}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
