"""The speed layer's Prometheus metrics, on a registry the caller owns (tests make their own).

Labels stay bounded: ``reason`` (a closed set), ``interval`` (configured), ``partition``
(the topic's partition count). Per-symbol detail belongs in reports, not here.
"""

from __future__ import annotations

import contextlib
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from candle_core.reasons import Reason

LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def observe_many(histogram: Histogram, amount: float, count: int) -> None:
    """``count`` observations of the same ``amount`` in one step.

    A commit makes every candle closed since the last one visible at once, so they share
    one close-to-commit latency; prometheus_client has no weighted ``observe``, and a loop
    of ``observe`` costs 2-4 us per candle (more than a closed candle's whole budget, see
    docs/benchmarks.md). This adds to the same sum and bucket ``observe`` would; the test
    compares the exposition of both, so a change in the library's internals fails it."""
    if count <= 0:
        return
    target: Any = histogram
    target._raise_if_not_observable()
    target._sum.inc(amount * count)
    for bound, bucket in zip(target._upper_bounds, target._buckets, strict=True):
        if amount <= bound:
            bucket.inc(count)
            break


class SpeedMetrics:
    """Every metric ``candles speed`` exposes on ``/metrics``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.consumed = Counter("candles_speed_messages_consumed", "Messages read from trades.",
                                registry=registry)
        self.valid = Counter("candles_speed_trades_valid", "Trades that passed validation.",
                             registry=registry)
        self.late = Counter("candles_speed_trades_late", "Trades later than the revision "
                            "horizon (for windows closed longer ago): sent to trades.late, not "
                            "in the speed candles.", registry=registry)
        self.duplicates = Counter("candles_speed_trades_duplicate",
                                  "Exact duplicates dropped (same symbol, trade_id, content).",
                                  registry=registry)
        self.dlq = Counter("candles_speed_dlq", "Records sent to the DLQ, by reason.",
                           ["reason"], registry=registry)
        for reason in Reason:  # every reason has a series from the start, at 0
            self.dlq.labels(reason.value)
        self.skipped = Counter("candles_speed_messages_skipped", "Non-trade messages (orders, "
                               "quotes) skipped before decoding, by type.", ["type"],
                               registry=registry)
        self.candles = Counter("candles_speed_candles_emitted", "Final candles committed.",
                               ["interval"], registry=registry)
        self.revisions = Counter("candles_speed_revisions", "Candles emitted again, one "
                                 "revision higher, because a late trade inside the revision "
                                 "horizon changed them, by interval.", ["interval"],
                                 registry=registry)
        self.changelog_bytes = Counter(
            "candles_speed_changelog_bytes", "Bytes of rollup state records written to the "
            "speed layer's changelog (per commit: the partials that changed, and now and then "
            "all of them).", registry=registry)
        self.watermark_lag = Gauge("candles_speed_watermark_lag_seconds",
                                   "Wall clock minus the partition's watermark.",
                                   ["partition"], registry=registry)
        self.consumer_lag = Gauge("candles_speed_consumer_lag_messages",
                                  "High watermark minus position, per trades partition.",
                                  ["partition"], registry=registry)
        self.open_windows = Gauge("candles_speed_open_windows", "Open 1 s windows.",
                                  registry=registry)
        self.state_entries = Gauge("candles_speed_state_entries",
                                   "Trade ids held for dedup plus rollup partials.",
                                   registry=registry)
        self.dedup_ids = Gauge("candles_speed_dedup_ids", "Trade ids held for dedup: in "
                               "open windows and in closed ones inside the dedup horizon.",
                               registry=registry)
        self.rollup_partials = Gauge("candles_speed_rollup_partials",
                                     "Open larger-interval candles (10s, 1m, ...) in progress.",
                                     registry=registry)
        self.close_to_commit = Histogram(
            "candles_speed_window_close_to_commit_seconds",
            "From the moment a window closed to the commit of its candle.",
            buckets=LATENCY_BUCKETS_S, registry=registry,
        )
        self.commit_latency = Histogram("candles_speed_transaction_commit_seconds",
                                        "Duration of one Kafka transaction commit.",
                                        buckets=LATENCY_BUCKETS_S, registry=registry)
        self.last_commit = Gauge("candles_speed_last_commit_timestamp_seconds",
                                 "Unix time of the last committed transaction.",
                                 registry=registry)

    def forget_partition(self, partition: int) -> None:
        """Drop a revoked partition's gauges: its lag is its new owner's to report now
        (a stale value would keep the lag alert and the autoscaler's metric up)."""
        for gauge in (self.watermark_lag, self.consumer_lag):
            with contextlib.suppress(KeyError):
                gauge.remove(str(partition))
