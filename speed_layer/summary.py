"""Running counts of one speed-layer run, mirrored into Prometheus at each commit.

Counting in plain ints on the hot path and pushing deltas once per commit keeps metric
locks out of the per-trade loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from speed_layer.metrics import SpeedMetrics


@dataclass
class RunSummary:
    """What one run did so far."""

    consumed: int = 0
    valid: int = 0
    candles: int = 0
    late: int = 0
    revising: int = 0  # late trades inside the revision horizon (counted in valid too)
    dlq: int = 0
    duplicates: int = 0
    commits: int = 0
    state_bytes: int = 0  # rollup state records written to the changelog
    seconds: float = 0.0
    by_reason: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)  # non-trade messages by type

    def dead_letter(self, reason: str, count: int = 1) -> None:
        self.dlq += count
        self.by_reason[reason] = self.by_reason.get(reason, 0) + count

    def skip(self, kind: str, count: int = 1) -> None:
        self.skipped[kind] = self.skipped.get(kind, 0) + count


class MetricsMirror:
    """Pushes the growth of a :class:`RunSummary` into :class:`SpeedMetrics`."""

    def __init__(self, metrics: SpeedMetrics) -> None:
        self.metrics = metrics
        self._seen = RunSummary()

    def sync(self, summary: RunSummary) -> None:
        seen, metrics = self._seen, self.metrics
        metrics.consumed.inc(summary.consumed - seen.consumed)
        metrics.valid.inc(summary.valid - seen.valid)
        metrics.late.inc(summary.late - seen.late)
        metrics.duplicates.inc(summary.duplicates - seen.duplicates)
        metrics.changelog_bytes.inc(summary.state_bytes - seen.state_bytes)
        for reason, count in summary.by_reason.items():
            metrics.dlq.labels(reason).inc(count - seen.by_reason.get(reason, 0))
        for kind, count in summary.skipped.items():
            metrics.skipped.labels(kind).inc(count - seen.skipped.get(kind, 0))
        self._seen = RunSummary(consumed=summary.consumed, valid=summary.valid,
                                late=summary.late, duplicates=summary.duplicates,
                                state_bytes=summary.state_bytes,
                                by_reason=dict(summary.by_reason),
                                skipped=dict(summary.skipped))
