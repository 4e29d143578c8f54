"""Trades through the real path: archived as the archiver would, then ``candles batch``."""

from __future__ import annotations

from pathlib import Path

import orjson

from batch_layer.job import run_batch
from batch_layer.summary import BatchSummary
from candle_core.candle import Candle
from candle_core.trade import Trade
from lambda_candles.settings import CandlesSettings, load_settings
from storage.local import LocalStore
from tests.storage.archive_helpers import batch_candles
from tests.storage.offline import archive_offline


def archive_trades(root: Path, trades: list[Trade], chunk: int = 2) -> LocalStore:
    """Trades in offset order (partition 0), arriving 1 ms after their event time, in
    chunks of ``chunk`` offsets (so in many files)."""
    store = LocalStore(root)
    records = [(offset, t.ts_us // 1000 + 1, t.symbol.encode(), orjson.dumps(t.to_wire()))
               for offset, t in enumerate(trades)]
    archive_offline(store, records, chunk_offsets=chunk)
    return store


def batch_every_date(root: Path, settings: CandlesSettings | None = None
                     ) -> dict[str, BatchSummary]:
    """``candles batch`` on every date archived under ``root``."""
    store, settings = LocalStore(root), settings or load_settings()
    dates = sorted(p.name.removeprefix("date=") for p in (root / "trades").iterdir())
    return {date: run_batch(store, settings, date) for date in dates}


def batched(root: Path, trades: list[Trade], chunk: int = 2,
            settings: CandlesSettings | None = None) -> list[Candle]:
    """The candles ``candles batch`` writes for ``trades`` (every interval, every date)."""
    archive_trades(root, trades, chunk)
    batch_every_date(root, settings)
    return batch_candles(root)
