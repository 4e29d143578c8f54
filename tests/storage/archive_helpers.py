"""Shared helpers for archive tests: a chaos stream, snapshots of the dataset, candles."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from candle_core.candle import Candle
from candle_core.codec import candles_from_table
from candle_core.parsing import TradeParser
from candle_core.trade import Rejection, Trade
from sources.chaos import CHAOS_PRESET
from sources.records import kafka_timestamp_ms
from sources.simulator import SimulationConfig, simulate_records
from storage.store import is_temp

MIDNIGHT_US = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z
KafkaRecord = tuple[bytes, bytes, int]  # key, value, timestamp ms


@dataclass(frozen=True)
class ChaosStream:
    """Records to produce, the valid trades among them in produce order, the rejects."""

    records: list[KafkaRecord]
    trades: list[Trade]
    rejected: list[Rejection]


def chaos_stream(trades: int, seed: int = 7, rate_per_s: float = 60.0,
                 start_us: int = MIDNIGHT_US - 200_000_000) -> ChaosStream:
    """A simulated stream with every kind of fault, crossing midnight (two dates)."""
    config = SimulationConfig(trades=trades, start_us=start_us, seed=seed,
                              rate_per_s=rate_per_s, chaos=CHAOS_PRESET)
    records = [(r.key, r.value, kafka_timestamp_ms(r.timestamp_us))
               for r, _ in simulate_records(config)]
    parser = TradeParser(config.max_future_skew_us)
    parsed = [parser.parse(value, ts_ms * 1000) for _, value, ts_ms in records]
    return ChaosStream(records, [p for p in parsed if isinstance(p, Trade)],
                       [p for p in parsed if isinstance(p, Rejection)])


def dataset_files(root: Path) -> list[Path]:
    """Every visible dataset file (temp files excluded)."""
    return sorted(p for p in root.rglob("*.parquet") if not is_temp(p.name))


def snapshot(root: Path) -> dict[str, str]:
    """``{relative path: sha256}`` of every visible dataset file."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in dataset_files(root)}


def read_prefix(root: Path, prefix: str) -> pa.Table:
    """All rows under ``root/prefix`` (every file must be complete, readable Parquet)."""
    tables = [pq.read_table(p) for p in dataset_files(root / prefix)]
    return pa.concat_tables([t.replace_schema_metadata(None) for t in tables])


def batch_candles(root: Path) -> list[Candle]:
    """Every candle the batch layer wrote under ``root``, sorted by key."""
    candles = candles_from_table(read_prefix(root, "candles/source=batch"))
    return sorted(candles, key=lambda c: c.key)


def archive_env(root: Path, group: str) -> dict[str, str]:
    """Environment for a ``candles archive`` subprocess writing to ``root``."""
    return {"CANDLES_ARCHIVE_ROOT": str(root), "CANDLES_ARCHIVE_GROUP_ID": group}
