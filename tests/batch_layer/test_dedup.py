"""The dedup rule across files, dates and buckets."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from batch_layer.dedup import duplicated_ids
from batch_layer.job import run_batch
from candle_core.settings import load_settings
from candle_core.trade import Trade
from storage.local import LocalStore
from tests.batch_layer.archived import archive_trades

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
