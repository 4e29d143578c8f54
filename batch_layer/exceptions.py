"""Errors raised by :mod:`batch_layer`; each derives from a shared ``candle_core`` kind."""

from __future__ import annotations

from candle_core.exceptions import CandlesError, TerminalError, TransientError


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


class BadRunError(BatchLayerError, TerminalError):
    """A sharded run's name that cannot be a directory name."""

    def __init__(self, run: str) -> None:
        self.run = run
        super().__init__(f"--run {run!r}: expected letters, digits, '.', '_' or '-' "
                         "(e.g. the Kubernetes Job's name), starting with a letter or digit")


class ShardsUnfinishedError(BatchLayerError, TransientError):
    """Some shards of a sharded run had not finished when the wait ran out."""

    def __init__(self, run: str, date: str, missing: list[int], count: int,
                 waited_s: float) -> None:
        self.run, self.date, self.missing = run, date, missing
        super().__init__(
            f"run {run} for {date}: shards {', '.join(map(str, missing))} of {count} had "
            f"not finished after {waited_s:.0f} s; look at those pods' logs (a failed "
            "shard is retried by its Job), then run this step again")
