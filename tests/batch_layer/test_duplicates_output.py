"""The trades the batch drops are an output (``duplicates/``), and reconciliation reads it."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from candle_core.dedup import dedup
from lambda_candles.settings import load_settings
from reconciliation.sources import read_duplicates
from storage.layout import date_of
from storage.local import LocalStore
from tests.batch_layer.archived import batch_every_date
from tests.storage.archive_helpers import chaos_stream
from tests.storage.offline import archive_offline


@pytest.mark.parametrize("date", ["2025-12-31", "2026-01-01"])
def test_dropped_trades_are_the_contract_losers(tmp_path: Path, date: str) -> None:
    """A stream across midnight, in chunks of 700 offsets and dedup buckets of 1,000."""
    stream = chaos_stream(6_000, seed=5, rate_per_s=20.0)
    records = [(offset, ts_ms, key, value)
               for offset, (key, value, ts_ms) in enumerate(stream.records)]
    archive_offline(LocalStore(tmp_path), records, chunk_offsets=700)
    summary = batch_every_date(tmp_path, load_settings(batch_dedup_bucket_rows=1_000))[date]
    _, duplicates, conflicts = dedup(stream.trades)
    on_date = [t for t in duplicates + conflicts if date_of(t.ts_us) == date]
    assert summary.duplicates + summary.conflicts == len(on_date) > 0
    written = pl.read_parquet(tmp_path / f"duplicates/date={date}")
    assert sorted(zip(written["symbol"], written["trade_id"], written["ts_us"],
                      strict=True)) == sorted((t.symbol, t.trade_id, t.ts_us) for t in on_date)
    assert int(written["conflict"].sum()) == summary.conflicts == sum(
        date_of(t.ts_us) == date for t in conflicts)
    assert {p.stem for p in (tmp_path / f"duplicates/date={date}").iterdir()} == set(
        summary.symbols), "one file per symbol, even without duplicates"
    seen = read_duplicates(LocalStore(tmp_path), date)
    assert seen.sort(seen.columns).equals(written.select(seen.columns).sort(seen.columns))


def test_no_batch_output_reads_as_no_duplicates(tmp_path: Path) -> None:
    assert read_duplicates(LocalStore(tmp_path), "2026-01-01").height == 0

