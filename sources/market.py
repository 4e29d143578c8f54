"""Clean trades for one chunk, vectorised: symbols, ids, prices and sizes as int64 arrays.

Per symbol, trade ids count up by one and prices take a random walk in whole ticks
(reflected at one tick, so a price is always > 0); sizes are lognormal in whole lots.
All values are fixed-point integers; floats only draw the random steps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from candle_core.fixed_point import MAX_PRICE_INT, MAX_SIZE_INT
from sources.symbols import SymbolSpec

SIZE_SIGMA = 1.1  # lognormal shape of trade sizes (heavy right tail)
FIRST_ID_MIN = 1_000_000
FIRST_ID_MAX = 900_000_000


@dataclass(frozen=True)
class MarketChunk:
    """One chunk of clean trades in event order (all arrays the same length)."""

    symbol_idx: np.ndarray  # int64 index into the universe
    trade_id: np.ndarray
    price: np.ndarray  # fixed point
    size: np.ndarray  # fixed point
    sell: np.ndarray  # bool: side is "sell"


class Market:
    """The state of every symbol between chunks: next trade id and the price walk."""

    def __init__(self, universe: tuple[SymbolSpec, ...], rng: np.random.Generator) -> None:
        self.universe = universe
        self.weights = np.array([spec.weight for spec in universe])
        self.weights /= self.weights.sum()
        self.next_id = rng.integers(FIRST_ID_MIN, FIRST_ID_MAX, len(universe))
        self.walk = np.array([spec.price // spec.tick for spec in universe], dtype=np.int64)
        self.tick = np.array([spec.tick for spec in universe], dtype=np.int64)
        self.lot = np.array([spec.lot for spec in universe], dtype=np.int64)
        self.sigma = np.array([spec.sigma_ticks for spec in universe])
        self.size_mu = np.array([spec.size_mu for spec in universe])

    def trades(self, count: int, rng: np.random.Generator) -> MarketChunk:
        """The next ``count`` trades (symbols drawn by weight)."""
        symbol_idx = rng.choice(len(self.universe), size=count, p=self.weights)
        order = np.argsort(symbol_idx, kind="stable")
        counts = np.bincount(symbol_idx, minlength=len(self.universe))
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        sorted_idx = symbol_idx[order]
        rank = np.arange(count) - starts[sorted_idx]
        trade_id = np.empty(count, dtype=np.int64)
        trade_id[order] = self.next_id[sorted_idx] + rank
        self.next_id = self.next_id + counts
        price = np.empty(count, dtype=np.int64)
        price[order] = self._walk(sorted_idx, starts, counts, rng)
        return MarketChunk(symbol_idx, trade_id, price, self._sizes(symbol_idx, rng),
                           rng.random(count) < 0.5)

    def _walk(self, sorted_idx: np.ndarray, starts: np.ndarray, counts: np.ndarray,
              rng: np.random.Generator) -> np.ndarray:
        """Prices (grouped by symbol) from integer tick steps, reflected at one tick."""
        steps = np.rint(rng.normal(0.0, self.sigma[sorted_idx])).astype(np.int64)
        running = np.cumsum(steps)
        before = np.concatenate(([0], running))[starts]  # sum of earlier symbols' steps
        walk = self.walk[sorted_idx] + running - before[sorted_idx]
        has = counts > 0
        last = starts[has] + counts[has] - 1
        self.walk[has] = walk[last]
        ticks = np.abs(walk - 1) + 1  # reflect at one tick: a price is never <= 0
        return np.minimum(ticks * self.tick[sorted_idx], MAX_PRICE_INT)

    def _sizes(self, symbol_idx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Lognormal sizes rounded to whole lots (at least one lot)."""
        lots = np.rint(rng.lognormal(self.size_mu[symbol_idx], SIZE_SIGMA))
        lot = self.lot[symbol_idx]
        lots = np.minimum(np.clip(lots, 1, 1e15).astype(np.int64), MAX_SIZE_INT // lot)
        return lots * lot
