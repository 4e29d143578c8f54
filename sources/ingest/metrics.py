"""Prometheus counters of ``candles ingest`` (on an injected registry)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class IngestMetrics:
    """Produced trades, invalid records by reason, HTTP errors by status, rate limits and
    reconnects. ``status`` is an HTTP status code or ``connection`` (a dropped or refused
    connection), so the label set stays bounded."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.produced = Counter("candles_ingest_trades_produced_total",
                                "Valid trades produced to the trades topic.",
                                registry=registry)
        self.invalid = Counter("candles_ingest_invalid_total",
                               "Invalid records sent to the dead-letter topic, by reason.",
                               ["reason"], registry=registry)
        self.skipped = Counter("candles_ingest_skipped_total",
                               "Records not produced again because the topic already has "
                               "them (found on resume).", registry=registry)
        self.http_errors = Counter("candles_ingest_http_errors_total",
                                   "Failed feed requests, by HTTP status or 'connection'.",
                                   ["status"], registry=registry)
        self.rate_limited = Counter("candles_ingest_rate_limited_total",
                                    "HTTP 429 answers (Retry-After honoured).",
                                    registry=registry)
        self.reconnects = Counter("candles_ingest_reconnects_total",
                                  "Stream reconnections after a drop or an error.",
                                  registry=registry)
