"""The duplicate rule: the same ``(symbol, trade_id)`` counts once.

The record at the lowest Kafka offset wins. A later record with the same id and the same
content is an exact duplicate (counted, dropped); with different content it is a
conflicting duplicate (sent to the DLQ with reason ``conflicting_duplicate``).
"""

from __future__ import annotations

from enum import Enum

from candle_core.trade import Trade


class Verdict(Enum):
    """What the dedup rule says about a trade seen after the first with its id."""

    FIRST = "first"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"


def judge(first_seen: Trade | None, candidate: Trade) -> Verdict:
    """Compare a candidate with the earlier trade of the same id (None if there is none)."""
    if first_seen is None:
        return Verdict.FIRST
    if first_seen.content() == candidate.content():
        return Verdict.DUPLICATE
    return Verdict.CONFLICT


def dedup(trades_in_offset_order: list[Trade]) -> tuple[list[Trade], list[Trade], list[Trade]]:
    """Split trades (in offset order) into ``(kept, exact_duplicates, conflicts)``."""
    first: dict[tuple[str, int], Trade] = {}
    kept: list[Trade] = []
    duplicates: list[Trade] = []
    conflicts: list[Trade] = []
    for trade in trades_in_offset_order:
        key = (trade.symbol, trade.trade_id)
        verdict = judge(first.get(key), trade)
        if verdict is Verdict.FIRST:
            first[key] = trade
            kept.append(trade)
        elif verdict is Verdict.DUPLICATE:
            duplicates.append(trade)
        else:
            conflicts.append(trade)
    return kept, duplicates, conflicts
