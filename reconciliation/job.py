"""``candles reconcile`` for one date: read both layers, join, attribute, judge.

The batch candles are the truth (docs/reconciliation.md). Evidence for attribution (late
trades, dead letters, batch duplicates) is read only when some candle differs, so a clean
day costs two Parquet scans and one join per interval.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

from candle_core.windows import canonical_labels
from reconciliation.attribution import Attribution, Evidence
from reconciliation.compare import Comparison, compare
from reconciliation.drift import CandleKey
from reconciliation.settings import ReconcileSettings
from reconciliation.sources import (
    read_candles,
    read_dead_letters,
    read_duplicates,
    read_late,
)
from reconciliation.summary import GroupSummary, summarize
from storage.exceptions import DatasetNotFoundError
from storage.layout import BATCH_SOURCE, SPEED_SOURCE, candles_dir
from storage.reconcile_report import Verdict
from storage.store import Store

Progress = Callable[[str], None]


@dataclass
class Reconciliation:
    """Everything one run found: the report, the metrics and the Parquet come from this."""

    date: str
    intervals: list[str]
    threshold: Fraction
    comparison: Comparison
    attributions: dict[CandleKey, Attribution]
    groups: list[GroupSummary]
    evidence: dict[str, int] = field(default_factory=dict)
    candles: dict[str, int] = field(default_factory=dict)  # per side
    seconds: float = 0.0

    @property
    def unexplained(self) -> int:
        return sum(g.unexplained for g in self.groups) + len(self.comparison.speed_duplicates)

    @property
    def revised(self) -> int:
        """Speed candles compared by a revision above 0 (docs/reconciliation.md)."""
        return sum(g.revised for g in self.groups)

    @property
    def breached(self) -> int:
        return sum(g.breaches for g in self.groups)

    @property
    def verdict(self) -> Verdict:
        if self.unexplained:
            return Verdict.CRITICAL
        return Verdict.BREACH if self.breached else Verdict.OK


def reconcile(store: Store, settings: ReconcileSettings, date: str,
              intervals: list[str] | None = None, progress: Progress | None = None
              ) -> Reconciliation:
    """Compare ``date``'s speed and batch candles of ``intervals`` (default: configured)."""
    began = time.perf_counter()
    labels = canonical_labels(intervals or (), settings.intervals_us)
    say = progress or (lambda _message: None)
    comparison, candles = Comparison(), {SPEED_SOURCE: 0, BATCH_SOURCE: 0}
    for label in labels:
        speed = read_candles(store, SPEED_SOURCE, label, date)
        batch = read_candles(store, BATCH_SOURCE, label, date)
        if not batch.height:
            raise DatasetNotFoundError(
                f"{store.root_uri}/{candles_dir(BATCH_SOURCE, label, date)}",
                f"run `candles batch --date {date}` first (the batch candles are the truth)")
        compared = compare(speed, batch)
        candles[SPEED_SOURCE] += compared.speed_candles
        candles[BATCH_SOURCE] += batch.height
        comparison.extend(compared)
        say(f"{label}: {batch.height:,} batch candles, {compared.speed_candles:,} speed "
            f"candles ({sum(compared.revised.values()):,} revised)")
    if not candles[SPEED_SOURCE]:
        raise DatasetNotFoundError(
            f"{store.root_uri}/{candles_dir(SPEED_SOURCE, '<interval>', date)}",
            "no speed candles archived for this date; is `candles archive` consuming the "
            f"{settings.topic_candles} topic (not --trades-only)?")
    attributions, evidence = _attribute(store, settings, date, comparison, say)
    threshold = Fraction(settings.drift_threshold)
    groups = summarize(comparison.differing, threshold, comparison.exact, attributions,
                       comparison.revised)
    return Reconciliation(date, labels, threshold, comparison,
                          attributions, groups, evidence, candles,
                          time.perf_counter() - began)


def _attribute(store: Store, settings: ReconcileSettings, date: str, comparison: Comparison,
               say: Progress) -> tuple[dict[CandleKey, Attribution], dict[str, int]]:
    if not comparison.differing:
        return {}, {}
    say(f"attributing {len(comparison.differing):,} differing candles")
    evidence = Evidence(read_late(store, date), read_dead_letters(store, date),
                        read_duplicates(store, date))
    attributions = {drift.key: evidence.attribute(drift) for drift in comparison.differing}
    return attributions, evidence.counts
