"""The dedup rule across files, dates and buckets."""

from __future__ import annotations

import random
from pathlib import Path

import polars as pl
import pytest

from batch_layer.dedup import duplicated_ids
from batch_layer.job import run_batch
from batch_layer.plan import plan_batches
from batch_layer.symbol import symbol_files
from candle_core.candle import Candle
from candle_core.dedup import dedup
from candle_core.reference import candles_from_trades
from candle_core.trade import Trade
from lambda_candles.settings import CandlesSettings, load_settings
from storage.local import LocalStore
from tests.batch_layer.archived import archive_trades, batch_every_date
from tests.storage.archive_helpers import batch_candles

MIDNIGHT = 1_767_225_600_000_000
BEFORE, AFTER = "2025-12-31", "2026-01-01"


def counts_of(store: LocalStore, date: str) -> tuple[int, int, int]:
    summary = run_batch(store, load_settings(intervals="1s"), date)
    return summary.trades_used, summary.duplicates, summary.conflicts


@pytest.mark.parametrize(("first_ts", "second_ts", "counts"), [
    # original before midnight, conflicting copy (other ts) after: the copy loses on its date
    (MIDNIGHT - 100_000, MIDNIGHT + 100_000, {BEFORE: (2, 0, 0), AFTER: (1, 0, 1)}),
    # original after midnight, copy before: the earlier date's copy loses
    (MIDNIGHT + 100_000, MIDNIGHT - 100_000, {BEFORE: (1, 0, 1), AFTER: (2, 0, 0)}),
])
def test_copies_on_neighbouring_dates_count_once(tmp_path: Path, first_ts: int,
                                                 second_ts: int,
                                                 counts: dict[str, tuple[int, int, int]]
                                                 ) -> None:
    others = [Trade("AAPL", 1, MIDNIGHT - 5, 10**9, 10**8), Trade("AAPL", 2, MIDNIGHT + 5,
                                                                  10**9, 10**8)]
    original = Trade("AAPL", 7, first_ts, 10**9, 10**8)
    store = archive_trades(tmp_path, [*others, original, original._replace(ts_us=second_ts)])
    assert {date: counts_of(store, date) for date in counts} == counts


def test_exact_copy_in_a_later_file_is_a_duplicate(tmp_path: Path) -> None:
    trades = [Trade("MSFT", i, MIDNIGHT + i * 1_000, 10**9 + i, 10**8) for i in range(20)]
    store = archive_trades(tmp_path, [*trades, trades[3], trades[4]._replace(side="buy")])
    assert counts_of(store, AFTER) == (20, 1, 1)


def test_buckets_find_the_same_ids_as_one_pass() -> None:
    ids = pl.DataFrame({"trade_id": [*range(10_000), *range(0, 10_000, 7)]}).lazy()
    whole = duplicated_ids(ids, 11_429, bucket_rows=10**9).sort()
    bucketed = duplicated_ids(ids, 11_429, bucket_rows=1_000).sort()  # 12 passes
    assert whole.to_list() == bucketed.to_list() == list(range(0, 10_000, 7))


def shuffled_day(seed: int) -> list[Trade]:
    """8,000 trades of two symbols around midnight whose ids do not grow with time (so
    every file's id range overlaps every other's), 10% re-sent later, some with another
    price, some with an event time 700 s later (across midnight for some)."""
    rng = random.Random(seed)
    ids = rng.sample(range(10**9), 8_000)
    trades = [Trade(("AAPL", "MSFT")[i % 2], ids[i], MIDNIGHT - 600_000_000 + i * 150_000,
                    10**9 + i, 10**8) for i in range(8_000)]
    resent = [t._replace(price=t.price + rng.choice([0, 0, 1]),
                         ts_us=t.ts_us + rng.choice([0, 0, 0, 700_000_000]))
              for t in rng.sample(trades, 800)]
    return [*trades, *resent]


@pytest.mark.parametrize("bucket_rows", [1_000, 1_000_000])
def test_ids_that_do_not_grow_still_dedup_exactly(tmp_path: Path, bucket_rows: int) -> None:
    """With 1,000-row batches the overlapping ranges make one oversized batch per symbol
    (hash buckets, row-bounded folds); with large ones a single batch. Same candles and
    the same dropped trades as the contract either way."""
    trades = shuffled_day(seed=bucket_rows)
    settings = load_settings(batch_dedup_bucket_rows=bucket_rows)
    store = archive_trades(tmp_path, trades, chunk=250)
    plans = [plan_batches(store, files.uris, bucket_rows)
             for files in symbol_files(store, AFTER, ["AAPL", "MSFT"])]
    assert all(p[0].oversized == (bucket_rows == 1_000) for p in plans)
    assert batched_candles(tmp_path, settings) == candles_from_trades(
        trades, settings.intervals_us)
    _, duplicates, conflicts = dedup(trades)
    dropped = pl.read_parquet(tmp_path / "duplicates").sort("trade_id", "kafka_offset")
    assert sorted(dropped["trade_id"].to_list()) == sorted(
        t.trade_id for t in duplicates + conflicts)
    assert int(dropped["conflict"].sum()) == len(conflicts)


def batched_candles(root: Path, settings: CandlesSettings) -> list[Candle]:
    batch_every_date(root, settings)
    return batch_candles(root)
