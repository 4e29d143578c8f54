"""Bursty trade arrivals: a Poisson process whose rate switches between calm and burst.

Regimes are runs of events with geometric lengths (calm runs long, bursts short and
``BURST_FACTOR`` times faster), so traffic has the clumps real markets have. Event times
are integer microseconds; gaps are floored to whole µs (several trades may share one µs).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

US_PER_SECOND = 1_000_000
BURST_FACTOR = 8.0
CALM_RUN_EVENTS = 20_000  # mean events per calm run
BURST_RUN_EVENTS = 4_000  # mean events per burst run


@dataclass
class ArrivalState:
    """Where the process stands between chunks: time, regime and events left in the run."""

    now_us: int
    bursting: bool = True  # the first run flips it: traffic starts calm
    run_left: int = 0


def regimes(count: int, state: ArrivalState, rng: np.random.Generator) -> np.ndarray:
    """Per event: True while bursting. Continues the run left over from the last chunk."""
    flags: list[np.ndarray] = []
    filled = 0
    while filled < count:
        if state.run_left == 0:
            state.bursting = not state.bursting
            mean = BURST_RUN_EVENTS if state.bursting else CALM_RUN_EVENTS
            state.run_left = int(rng.geometric(1.0 / mean))
        take = min(state.run_left, count - filled)
        flags.append(np.full(take, state.bursting))
        state.run_left -= take
        filled += take
    return np.concatenate(flags) if flags else np.zeros(0, dtype=bool)


def event_times(
    count: int, rate_per_s: float, state: ArrivalState, rng: np.random.Generator
) -> np.ndarray:
    """``count`` non-decreasing event times (int64 µs), continuing from ``state.now_us``."""
    bursting = regimes(count, state, rng)
    rates = np.where(bursting, rate_per_s * BURST_FACTOR, rate_per_s)
    gaps_us = np.floor(rng.exponential(1.0, count) / rates * US_PER_SECOND).astype(np.int64)
    times = state.now_us + np.cumsum(gaps_us)
    if count:
        state.now_us = int(times[-1])
    return times
