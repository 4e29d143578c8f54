"""Per (symbol, interval) figures of a reconciled range: the report's and the metrics' rows."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction

from reconciliation.drift import FIELDS, CandleDrift, Match

WORST_CANDLES = 10


@dataclass
class GroupSummary:
    """Reconciliation figures of one symbol and interval."""

    symbol: str
    interval_us: int
    compared: int = 0
    exact: int = 0
    drifted: int = 0
    missing_speed: int = 0
    missing_batch: int = 0
    breaches: int = 0
    max_drift: dict[str, float] = field(default_factory=dict)
    p99_drift: dict[str, float] = field(default_factory=dict)
    worst: list[CandleDrift] = field(default_factory=list)


def nearest_rank(sorted_values: list[Fraction], quantile: float) -> Fraction:
    """The nearest-rank quantile of an ascending list (0 for an empty one)."""
    if not sorted_values:
        return Fraction(0)
    rank = max(1, math.ceil(quantile * len(sorted_values)))
    return sorted_values[rank - 1]


def summarize(drifts: Iterable[CandleDrift], threshold: Fraction) -> list[GroupSummary]:
    """Group joined candles by ``(symbol, interval)`` and compute the figures."""
    groups: dict[tuple[str, int], list[CandleDrift]] = defaultdict(list)
    for drift in drifts:
        groups[(drift.key[0], drift.key[1])].append(drift)
    return [_summarize(symbol, interval_us, members, threshold)
            for (symbol, interval_us), members in sorted(groups.items())]


def _summarize(symbol: str, interval_us: int, members: list[CandleDrift],
               threshold: Fraction) -> GroupSummary:
    summary = GroupSummary(symbol, interval_us)
    for drift in members:
        match = drift.match
        summary.compared += match in (Match.EXACT, Match.DRIFTED)
        summary.exact += match is Match.EXACT
        summary.drifted += match is Match.DRIFTED
        summary.missing_speed += match is Match.MISSING_SPEED
        summary.missing_batch += match is Match.MISSING_BATCH
        summary.breaches += drift.breaches(threshold)
    both = [d for d in members if d.match in (Match.EXACT, Match.DRIFTED)]
    for name in FIELDS:
        values = sorted(d.by_field[name] for d in both)
        summary.max_drift[name] = float(values[-1]) if values else 0.0
        summary.p99_drift[name] = float(nearest_rank(values, 0.99))
    ranked = sorted((d for d in members if d.match is not Match.EXACT),
                    key=lambda d: (-d.drift, d.key))
    summary.worst = ranked[:WORST_CANDLES]
    return summary
