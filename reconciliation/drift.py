"""Drift between a speed candle and a batch candle (docs/reconciliation.md), pure and exact.

A candle's drift is the largest relative difference, against the batch value (the truth),
over open, high, low, close, volume and VWAP. A candle present on one side only has drift
1 (100%). Drift is a :class:`~fractions.Fraction`, so "more than 0.5%" is decided exactly;
floats appear only in reports.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from fractions import Fraction

from candle_core.candle import Candle

FIELDS = ("open", "high", "low", "close", "volume", "vwap")
FULL = Fraction(1)
DEFAULT_THRESHOLD = Fraction(5, 1000)  # 0.5%

CandleKey = tuple[str, int, int]  # (symbol, interval_us, window_start_us)


class Match(Enum):
    """How a speed candle compares with its batch candle."""

    EXACT = "exact"  # every field identical
    DRIFTED = "drifted"  # both present, some field differs
    MISSING_SPEED = "missing_speed"  # only the batch layer has it
    MISSING_BATCH = "missing_batch"  # only the speed layer has it


@dataclass(frozen=True)
class CandleDrift:
    """One candle, joined across the two layers."""

    key: CandleKey
    speed: Candle | None
    batch: Candle | None
    by_field: dict[str, Fraction]

    @property
    def drift(self) -> Fraction:
        """The candle's drift: the largest field drift (1 when one side is missing)."""
        return max(self.by_field.values())

    @property
    def match(self) -> Match:
        if self.speed is None:
            return Match.MISSING_SPEED
        if self.batch is None:
            return Match.MISSING_BATCH
        return Match.EXACT if self.speed == self.batch else Match.DRIFTED

    def breaches(self, threshold: Fraction) -> bool:
        """True when the drift exceeds ``threshold`` (strictly)."""
        return self.drift > threshold


def relative(speed_value: int, batch_value: int) -> Fraction:
    """``|speed - batch| / batch``; batch prices and volumes are always positive."""
    if batch_value <= 0:
        raise ValueError(f"batch value {batch_value} is not positive")
    return Fraction(abs(speed_value - batch_value), batch_value)


def candle_drift(speed: Candle | None, batch: Candle | None) -> CandleDrift:
    """Compare one candle across the layers (at least one side must be given)."""
    present = speed or batch
    if present is None:
        raise ValueError("candle_drift needs at least one candle")
    if speed is None or batch is None:
        return CandleDrift(present.key, speed, batch, dict.fromkeys(FIELDS, FULL))
    by_field = {name: relative(getattr(speed, name), getattr(batch, name)) for name in FIELDS}
    return CandleDrift(batch.key, speed, batch, by_field)


def join(speed: Iterable[Candle], batch: Iterable[Candle]) -> list[CandleDrift]:
    """Full outer join on ``(symbol, interval, window_start)``, sorted by key."""
    speed_by_key = {candle.key: candle for candle in speed}
    batch_by_key = {candle.key: candle for candle in batch}
    keys = sorted(speed_by_key.keys() | batch_by_key.keys())
    return [candle_drift(speed_by_key.get(key), batch_by_key.get(key)) for key in keys]
