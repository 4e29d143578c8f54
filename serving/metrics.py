"""The serving process's own Prometheus metrics (an injected registry, never the global)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class ServeMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.requests = Counter("candles_serve_requests", "API requests, by endpoint and status.",
                                ["endpoint", "status"], registry=registry)
        self.consumed = Counter("candles_serve_candles_consumed",
                                "Candles read from Kafka, by topic kind (final, live).",
                                ["kind"], registry=registry)
        self.consumer_lag = Gauge("candles_serve_consumer_lag_messages",
                                  "High watermark minus position on the candles topic.",
                                  registry=registry)
        self.ring_candles = Gauge("candles_serve_ring_candles",
                                  "Final speed candles held in memory.", registry=registry)
        self.revisions = Counter("candles_serve_revisions",
                                 "Revised final candles (revision > 0) that replaced the "
                                 "held bar.", registry=registry)
        self.stale = Counter("candles_serve_stale_candles",
                             "Final candles dropped: the same or a higher revision of the "
                             "window was already held (redelivery, out of order).",
                             registry=registry)
        self.stream_clients = Gauge("candles_serve_stream_clients",
                                    "Open event streams.", registry=registry)
        self.stream_events = Counter("candles_serve_stream_events",
                                     "Events queued to stream clients, by kind.", ["kind"],
                                     registry=registry)
        self.stream_dropped = Counter("candles_serve_stream_dropped",
                                      "Events dropped for a slow stream client.",
                                      registry=registry)

    def total(self, name: str, **labels: str) -> float:
        """The current value of a sample (0 when absent), for the status strip."""
        value = self.registry.get_sample_value(name, labels)
        return value or 0.0
