"""Errors raised by :mod:`batch_layer`; each derives from a shared ``candle_core`` kind."""

from __future__ import annotations

from candle_core.exceptions import CandlesError, TerminalError


class BatchLayerError(CandlesError):
    """Root of every error raised on purpose by :mod:`batch_layer`."""


class BatchIntervalError(BatchLayerError, TerminalError):
    """An interval whose windows would straddle midnight: a date cannot compute it alone."""

    def __init__(self, interval: str) -> None:
        self.interval = interval
        super().__init__(
            f"interval {interval} does not divide a day, so its windows straddle dates and "
            "a per-date batch cannot compute them exactly; use intervals that divide 24h "
            "(CANDLES_INTERVALS, e.g. 1s,10s,1m,5m,1h)")


class BadDateError(BatchLayerError, TerminalError):
    """A ``--date`` that is not ``YYYY-MM-DD``."""

    def __init__(self, value: str) -> None:
        self.value = value
        super().__init__(f"--date {value!r}: expected a UTC date as YYYY-MM-DD")


class BadShardError(BatchLayerError, TerminalError):
    """A ``--shard`` that is not ``I/N`` with ``0 <= I < N``."""

    def __init__(self, value: str) -> None:
        self.value = value
        super().__init__(f"--shard {value!r}: expected I/N with 0 <= I < N, e.g. 0/4 for "
                         "the first of four shards (indexes count from 0, like a "
                         "Kubernetes Indexed Job's completion index)")
