"""Realistic, deterministic trades with injected faults: the ``candles simulate`` engine.

Determinism: the output is byte-identical for the same :class:`SimulationConfig` (seed,
start, trade count, symbols, rate, chaos rates, lateness and skew), on any machine, because
every random draw comes from one seeded numpy generator in a fixed order and chunk sizes
are fixed (``chunk_trades``, default ``CHUNK_TRADES``: changing it changes the stream).

Records are produced chunk by chunk and emitted in arrival order: after a chunk whose last
event time is T, every record arriving at or before T is final (later chunks' records
arrive after their own event times, all > T), the rest waits for the next chunk.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from sources import chaos
from sources.arrivals import ArrivalState
from sources.batch import RecordBatch
from sources.chunk import SEQ_STRIDE, ChunkContext, build_chunk
from sources.labels import Truth
from sources.market import Market
from sources.records import Record
from sources.symbols import make_universe

CHUNK_TRADES = 500_000


@dataclass(frozen=True)
class SimulationConfig:
    """Everything that decides the simulated stream (times in µs since the Unix epoch)."""

    trades: int
    start_us: int
    seed: int = 42
    symbols: int = 8
    rate_per_s: float = 1_000.0
    chaos: chaos.ChaosRates = field(default_factory=chaos.ChaosRates)
    allowed_lateness_us: int = 2_000_000
    max_future_skew_us: int = 5_000_000
    chunk_trades: int = CHUNK_TRADES  # part of the stream's identity: keep the default


def simulate(config: SimulationConfig) -> Iterator[RecordBatch]:
    """The simulated records in arrival order, in batches of about ``CHUNK_TRADES``."""
    chaos.check_lateness(config.chaos, config.allowed_lateness_us)
    rng = np.random.default_rng(config.seed)
    ctx = ChunkContext(
        Market(make_universe(config.symbols, rng), rng), config.chaos, config.rate_per_s,
        config.allowed_lateness_us, config.max_future_skew_us,
    )
    arrivals = ArrivalState(now_us=config.start_us)
    pending: pl.DataFrame | None = None
    for first in range(0, config.trades, config.chunk_trades):
        count = min(config.chunk_trades, config.trades - first)
        fresh = build_chunk(ctx, first * SEQ_STRIDE, count, arrivals, rng)
        pool = fresh if pending is None else pl.concat([pending, fresh])
        pool = pool.sort("timestamp_us", "seq")
        ready = pool["timestamp_us"] <= arrivals.now_us
        pending = pool.filter(~ready)
        yield RecordBatch(pool.filter(ready).drop("seq"))
    if pending is not None and len(pending):
        yield RecordBatch(pending.drop("seq"))


def simulate_records(config: SimulationConfig) -> list[tuple[Record, Truth]]:
    """All records with their ground truth, as Python objects (for tests and small runs)."""
    pairs: list[tuple[Record, Truth]] = []
    for batch in simulate(config):
        pairs.extend(zip(batch.records(), batch.truths(), strict=True))
    return pairs
