"""The simulated market: one :class:`SymbolSpec` per symbol, all amounts in fixed point.

Prices walk in whole ticks, sizes are whole lots, so every generated value is an exact
integer at the contract's 8-decimal scale; floats only drive the random draws.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from candle_core.fixed_point import PRICE_SCALE, SIZE_SCALE

PER_TRADE_VOLATILITY = 1e-4  # one trade moves the price by about 1 bp (standard deviation)


@dataclass(frozen=True)
class SymbolSpec:
    """How one symbol trades. ``tick``/``lot``/``price``/``typical_size``: fixed-point ints."""

    symbol: str
    tick: int
    price: int
    lot: int
    typical_size: int
    weight: float
    venue: str
    numeric_wire: bool  # True: price and size as JSON numbers; False: decimal strings

    @property
    def sigma_ticks(self) -> float:
        """Standard deviation of one trade's price step, in ticks (at least half a tick)."""
        return max(0.5, PER_TRADE_VOLATILITY * self.price / self.tick)

    @property
    def size_mu(self) -> float:
        """Log of the typical size in lots: the lognormal's location."""
        return math.log(max(1, self.typical_size // self.lot))


def _spec(symbol: str, tick: str, price: str, lot: str, typical: str, weight: float,
          venue: str, numeric: bool) -> SymbolSpec:
    def fixed(text: str, scale: int) -> int:
        whole, _, frac = text.partition(".")
        return int(whole) * scale + int((frac + "0" * 8)[:8] or 0)

    return SymbolSpec(symbol, fixed(tick, PRICE_SCALE), fixed(price, PRICE_SCALE),
                      fixed(lot, SIZE_SCALE), fixed(typical, SIZE_SCALE), weight, venue, numeric)


DEFAULT_UNIVERSE = (
    _spec("BTCUSDT", "0.01", "97000", "0.00001", "0.02", 0.26, "binance", False),
    _spec("ETHUSDT", "0.01", "3400", "0.0001", "0.5", 0.18, "binance", True),
    _spec("SOLUSDT", "0.01", "180", "0.001", "5", 0.10, "binance", True),
    _spec("SHIBUSDT", "0.00000001", "0.00001234", "1", "2000000", 0.05, "binance", False),
    _spec("AAPL", "0.01", "228", "1", "100", 0.14, "nasdaq", True),
    _spec("MSFT", "0.01", "415", "1", "100", 0.12, "nasdaq", False),
    _spec("BRK.A", "0.01", "690000", "1", "1", 0.03, "nyse", True),
    _spec("EURUSD", "0.00001", "1.08", "1000", "100000", 0.12, "fx", False),
)


def make_universe(count: int, rng: np.random.Generator) -> tuple[SymbolSpec, ...]:
    """The first ``count`` default symbols, then ``SIM0009``... with random price levels."""
    specs = list(DEFAULT_UNIVERSE[:count])
    for number in range(len(specs) + 1, count + 1):
        specs.append(_random_spec(f"SIM{number:04d}", rng, numeric=number % 2 == 0))
    return tuple(specs)


def _random_spec(symbol: str, rng: np.random.Generator, numeric: bool) -> SymbolSpec:
    """A symbol priced between 0.01 and 10^4 with a tick of about 1e-5 of its price."""
    price_exponent = int(rng.integers(-2, 5))
    tick = 10 ** max(0, price_exponent + 3)  # fixed-point units: 1 = 1e-8
    price = int(rng.integers(1, 10)) * 10 ** (price_exponent + 8)
    weight = float(rng.uniform(0.01, 0.1))
    return SymbolSpec(symbol, tick, price, SIZE_SCALE, 100 * SIZE_SCALE, weight, "sim", numeric)
