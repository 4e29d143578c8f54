"""Epoch-aligned tumbling windows: ``[start, start + interval)``, UTC, integer microseconds.

One window function for every layer (the batch layer's Polars expression must compute the
same ``ts - ts % interval``; a parity test holds it to this one).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from candle_core.exceptions import ContractError

US_PER_SECOND = 1_000_000
BASE_INTERVAL_US = US_PER_SECOND
_UNIT_US = {"ms": 1_000, "s": US_PER_SECOND, "m": 60 * US_PER_SECOND, "h": 3600 * US_PER_SECOND}
_UNIT_US["d"] = 24 * _UNIT_US["h"]
_INTERVAL_PATTERN = re.compile(r"([1-9][0-9]*)(ms|s|m|h|d)")
DEFAULT_INTERVALS = ("1s", "10s", "1m", "5m", "1h")


def window_start(ts_us: int, interval_us: int) -> int:
    """Start of the window that holds ``ts_us`` (floor to a multiple of ``interval_us``)."""
    return ts_us - ts_us % interval_us


def window_end(ts_us: int, interval_us: int) -> int:
    """Exclusive end of the window that holds ``ts_us``."""
    return window_start(ts_us, interval_us) + interval_us


def parse_interval(label: str) -> int:
    """``"1s"`` -> 1_000_000. Intervals must be whole multiples of the 1 s base window,
    because larger candles are exact rollups of 1 s candles."""
    match = _INTERVAL_PATTERN.fullmatch(label.strip())
    if match is None:
        raise ContractError(f"interval {label!r}: expected a number and a unit ms|s|m|h|d")
    interval_us = int(match.group(1)) * _UNIT_US[match.group(2)]
    if interval_us % BASE_INTERVAL_US:
        raise ContractError(f"interval {label!r}: must be a whole number of seconds")
    return interval_us


def interval_label(interval_us: int) -> str:
    """The shortest label for an interval: 60_000_000 -> ``"1m"``."""
    for unit in ("d", "h", "m", "s", "ms"):
        size = _UNIT_US[unit]
        if interval_us % size == 0:
            return f"{interval_us // size}{unit}"
    return f"{interval_us}us"


def canonical_labels(given: Iterable[str], default_us: Iterable[int]) -> list[str]:
    """Interval labels as given on a command line (repeated and/or comma-separated, any
    spelling: ``60s`` = ``1m``) in canonical form, ascending; ``default_us`` when none."""
    labels = [part.strip() for value in given for part in value.split(",") if part.strip()]
    chosen = {parse_interval(label) for label in labels} or set(default_us)
    return [interval_label(us) for us in sorted(chosen)]
