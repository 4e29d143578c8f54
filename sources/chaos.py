"""Chaos knobs: which records are faulty, and when each one arrives.

Each base trade gets one label: clean, malformed, out_of_order, late or future (their
rates must sum to at most 1). A clean trade may also be re-sent as an exact duplicate
and/or as a conflicting duplicate (extra records, arriving after the original).

Arrival times (µs, always a whole millisecond, see ``records.kafka_timestamp_ms``):

* clean: event time + a network latency of 1-50 ms (at most L/10 more than 1 ms);
* out_of_order: event time + a delay in [L/10, L/2], L = allowed lateness: never late;
* late: event time + L + 1 s + 3 s margin + up to 2 s: with ordinary traffic its 1 s
  window has surely closed;
* future: arrives normally, but its event time is moved to arrival + max future skew +
  1..10 s, so ``TradeParser`` rejects it as ``future_timestamp``;
* duplicate / conflict: the original's arrival + 1 ms .. L/2.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from sources.exceptions import SourceOptionError
from sources.labels import Label

US_PER_MS = 1_000
US_PER_S = 1_000_000
LATE_MARGIN_US = 1 * US_PER_S + 3 * US_PER_S
MIN_LATENESS_FOR_OUT_OF_ORDER_US = 10 * US_PER_MS


@dataclass(frozen=True)
class ChaosRates:
    """Rates in [0, 1], each a fraction of the base trades."""

    malformed: float = 0.0
    duplicate: float = 0.0
    conflict: float = 0.0
    out_of_order: float = 0.0
    late: float = 0.0
    future: float = 0.0

    def __post_init__(self) -> None:
        for field in fields(self):
            rate = getattr(self, field.name)
            if not 0.0 <= rate <= 1.0:
                flag = "--" + field.name.replace("_", "-") + "-rate"
                raise SourceOptionError(flag, f"{rate} is not a rate in [0, 1]")
        if self.malformed + self.out_of_order + self.late + self.future > 1.0:
            raise SourceOptionError(
                "--malformed/out-of-order/late/future-rate", "these rates must sum to <= 1"
            )

    @property
    def any(self) -> bool:
        """True if any knob is on."""
        return any(getattr(self, field.name) > 0 for field in fields(self))


CHAOS_PRESET = ChaosRates(
    malformed=0.002, duplicate=0.002, conflict=0.0005, out_of_order=0.01, late=0.001,
    future=0.0005,
)


def assign_labels(count: int, rates: ChaosRates, rng: np.random.Generator) -> np.ndarray:
    """One base label per trade (uint8 :class:`Label` values)."""
    draw = rng.random(count)
    labels = np.full(count, Label.CLEAN, dtype=np.uint8)
    edge = 0.0
    for label, rate in ((Label.MALFORMED, rates.malformed),
                        (Label.OUT_OF_ORDER, rates.out_of_order),
                        (Label.LATE, rates.late), (Label.FUTURE, rates.future)):
        labels[(draw >= edge) & (draw < edge + rate)] = label
        edge += rate
    return labels


def ceil_ms(times_us: np.ndarray) -> np.ndarray:
    """Round µs times up to a whole millisecond (arrivals are Kafka timestamps)."""
    return -(-times_us // US_PER_MS) * US_PER_MS


def arrivals(ts_us: np.ndarray, labels: np.ndarray, lateness_us: int,
             rng: np.random.Generator) -> np.ndarray:
    """Arrival time of every base trade, by label (see the module docstring)."""
    count = len(ts_us)
    jitter_cap = min(49 * US_PER_MS, lateness_us // 10)  # clean trades are never late
    delay = US_PER_MS + np.minimum(rng.exponential(2 * US_PER_MS, count), jitter_cap)
    early, late = lateness_us // 10, lateness_us // 2
    shuffled = rng.uniform(early, max(early, late), count)
    delay = np.where(labels == Label.OUT_OF_ORDER, shuffled, delay)
    too_late = lateness_us + LATE_MARGIN_US + rng.uniform(0, 2 * US_PER_S, count)
    delay = np.where(labels == Label.LATE, too_late, delay)
    return ceil_ms(ts_us + delay.astype(np.int64))


def future_ts(arrival_us: np.ndarray, skew_us: int, rng: np.random.Generator) -> np.ndarray:
    """Event times more than ``skew_us`` after arrival (by 1 to 10 s)."""
    ahead = rng.integers(1 * US_PER_S, 10 * US_PER_S, len(arrival_us))
    return arrival_us + skew_us + ahead


def resend_arrivals(arrival_us: np.ndarray, lateness_us: int,
                    rng: np.random.Generator) -> np.ndarray:
    """When a duplicate or conflict of an original arriving at ``arrival_us`` is re-sent."""
    later = rng.uniform(US_PER_MS, max(US_PER_MS, lateness_us // 2), len(arrival_us))
    return ceil_ms(arrival_us + later.astype(np.int64))


def check_lateness(rates: ChaosRates, lateness_us: int) -> None:
    """Out-of-order records need room below the allowed lateness."""
    if rates.out_of_order > 0 and lateness_us < MIN_LATENESS_FOR_OUT_OF_ORDER_US:
        raise SourceOptionError(
            "--out-of-order-rate", "needs an allowed lateness of at least 10 ms"
        )
