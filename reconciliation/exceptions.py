"""Errors raised on purpose by :mod:`reconciliation`."""

from __future__ import annotations

from candle_core.exceptions import CandlesError, TransientError


class ReconciliationError(CandlesError):
    """Root of every error raised on purpose by :mod:`reconciliation`."""


class MetricsPushError(ReconciliationError, TransientError):
    """The figures could not be pushed to the Pushgateway (the report was written)."""

    def __init__(self, url: str, cause: Exception) -> None:
        self.url, self.cause = url, cause
        super().__init__(f"could not push metrics to {url}: {cause}. The report was written; "
                         "check CANDLES_PUSHGATEWAY_URL and that the gateway is up, then run "
                         "again (the push replaces the previous figures)")
