"""Per (symbol, interval) figures of a reconciled range: the report's and the metrics' rows.

Exact matches arrive as counts (there may be millions) and every other candle as a
:class:`~reconciliation.drift.CandleDrift`; an exact match has drift 0 in every field, so
percentiles are computed by rank arithmetic instead of materialising the zeros.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction

from reconciliation.attribution import CAUSES, Attribution
from reconciliation.drift import FIELDS, CandleDrift, CandleKey, Match

WORST_CANDLES = 10
GroupKey = tuple[str, int]


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
    unexplained: int = 0
    revised: int = 0  # speed candles whose latest revision, the one compared, is above 0
    attributed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CAUSES, 0))
    max_candle_drift: float = 0.0
    max_drift: dict[str, float] = field(default_factory=dict)
    p99_drift: dict[str, float] = field(default_factory=dict)
    worst: list[CandleDrift] = field(default_factory=list)


def nearest_rank(sorted_values: list[Fraction], quantile: float, zeros: int = 0) -> Fraction:
    """The nearest-rank quantile of ``zeros`` zeros followed by ``sorted_values``
    (ascending, non-negative); 0 for no values at all."""
    total = zeros + len(sorted_values)
    if not total:
        return Fraction(0)
    rank = max(1, math.ceil(quantile * total))
    return Fraction(0) if rank <= zeros else sorted_values[rank - zeros - 1]


def summarize(drifts: Iterable[CandleDrift], threshold: Fraction,
              exact: Mapping[GroupKey, int] | None = None,
              attributions: Mapping[CandleKey, Attribution] | None = None,
              revised: Mapping[GroupKey, int] | None = None) -> list[GroupSummary]:
    """Group candles by ``(symbol, interval)`` and compute the figures.

    ``drifts`` may hold exact matches too; ``exact`` adds matches known only by count.
    A differing candle without an attribution counts as unexplained. ``revised`` counts
    the speed candles compared by a revision above 0.
    """
    groups: dict[GroupKey, list[CandleDrift]] = defaultdict(list)
    for drift in drifts:
        groups[(drift.key[0], drift.key[1])].append(drift)
    for key in (*(exact or {}), *(revised or {})):
        groups.setdefault(key, [])
    summaries = [_summarize(key, members, threshold, (exact or {}).get(key, 0),
                            attributions or {}) for key, members in sorted(groups.items())]
    for summary in summaries:
        summary.revised = (revised or {}).get((summary.symbol, summary.interval_us), 0)
    return summaries


def _summarize(key: GroupKey, members: list[CandleDrift], threshold: Fraction, exact: int,
               attributions: Mapping[CandleKey, Attribution]) -> GroupSummary:
    summary = GroupSummary(*key, compared=exact, exact=exact)
    for drift in members:
        match = drift.match
        summary.compared += match in (Match.EXACT, Match.DRIFTED)
        summary.exact += match is Match.EXACT
        summary.drifted += match is Match.DRIFTED
        summary.missing_speed += match is Match.MISSING_SPEED
        summary.missing_batch += match is Match.MISSING_BATCH
        summary.breaches += drift.breaches(threshold)
        if match is not Match.EXACT:
            _attribute(summary, attributions.get(drift.key))
    drifted = [d for d in members if d.match is Match.DRIFTED]
    zeros = summary.exact
    for name in FIELDS:
        values = sorted(d.by_field[name] for d in drifted)
        summary.max_drift[name] = float(values[-1]) if values else 0.0
        summary.p99_drift[name] = float(nearest_rank(values, 0.99, zeros))
    ranked = sorted((d for d in members if d.match is not Match.EXACT),
                    key=lambda d: (-d.drift, d.key))
    summary.max_candle_drift = float(ranked[0].drift) if ranked else 0.0
    summary.worst = ranked[:WORST_CANDLES]
    return summary


def _attribute(summary: GroupSummary, attribution: Attribution | None) -> None:
    if attribution is None or not attribution.explained:
        summary.unexplained += 1
    if attribution is not None:
        for cause, count in attribution.causes.items():
            summary.attributed[cause] += bool(count)
