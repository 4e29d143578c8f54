"""The serving layer's merge rule, pure: one series from batch and speed candles.

A day whose reconciliation report exists is *covered*: its windows are served from the
batch layer only (the truth). Every other window is served from the speed layer (the
archived ``candles/source=speed`` of older days plus the in-memory tail of the ``candles``
topic). Intervals divide a day (1s..1h), so a window never straddles two days and the rule
needs no partial coverage::

    day:     | 2026-01-01 (report) | 2026-01-02 (no report) ....... now |
    bars:    | batch batch batch   | speed speed speed ... speed (tail)  |

Batch bars are ``verified`` unless the day's verdict is critical. The result is sorted by
``window_start_us`` with one bar per window: no gap, no overlap.

The speed layer may emit a window's candle more than once: a late trade inside its
revision horizon emits it again, one ``revision`` higher. The highest revision is the
speed layer's latest word, and a lower or equal one never replaces it (:func:`supersedes`),
whatever order the copies arrive in::

    arrivals:  rev 0, rev 2, rev 1 (out of order), rev 2 (redelivered)
    held:      rev 0  rev 2  rev 2                 rev 2
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from candle_core.candle import Candle, rollup
from candle_core.windows import window_start
from storage.layout import BATCH_SOURCE, SPEED_SOURCE, date_of

BATCH, SPEED = BATCH_SOURCE, SPEED_SOURCE  # a served bar's source: the layer it came from
CRITICAL = "critical"


@dataclass(frozen=True, slots=True)
class Bar:
    """A served candle and where it came from."""

    candle: Candle
    source: str  # "batch" or "speed"
    verified: bool


def is_verified(verdict: str) -> bool:
    """Batch bars of a reconciled day are verified unless its verdict is critical."""
    return verdict != CRITICAL


def supersedes(candidate: Candle, held: Candle | None) -> bool:
    """Whether ``candidate`` replaces ``held``, a copy of the same window's candle: only a
    strictly higher revision does, so that redelivery and out-of-order copies never go back."""
    return held is None or candidate.revision > held.revision


def merge_series(batch: Iterable[Candle], speed: Iterable[Candle],
                 verdicts: Mapping[str, str]) -> list[Bar]:
    """One bar per window: batch where the window's day has a verdict, else speed.

    ``verdicts`` maps a covered day (``YYYY-MM-DD``) to its report's verdict. Speed candles
    may come more than once (archive and topic tail, revisions): the same window counts
    once, as its highest revision (the first copy of it).
    """
    bars: dict[int, Bar] = {}
    for candle in speed:
        if date_of(candle.window_start_us) in verdicts:
            continue
        held = bars.get(candle.window_start_us)
        if supersedes(candle, None if held is None else held.candle):
            bars[candle.window_start_us] = Bar(candle, SPEED, False)
    for candle in batch:
        verdict = verdicts.get(date_of(candle.window_start_us))
        if verdict is not None:
            bars[candle.window_start_us] = Bar(candle, BATCH, is_verified(verdict))
    return [bars[start] for start in sorted(bars)]


def in_window(bars: Iterable[Bar], from_us: int, to_us: int) -> list[Bar]:
    """Bars whose window starts in ``[from_us, to_us)``."""
    return [bar for bar in bars if from_us <= bar.candle.window_start_us < to_us]


def page(bars: Sequence[Bar], limit: int) -> tuple[list[Bar], int | None]:
    """The first ``limit`` bars and the cursor of the next page (``None``: last page).

    The cursor is the next bar's ``window_start_us``: pass it as the next request's start.
    """
    if len(bars) <= limit:
        return list(bars), None
    return list(bars[:limit]), bars[limit].candle.window_start_us


def in_progress(finals_1s: Iterable[Candle], live: Candle, interval_us: int) -> Candle:
    """The in-progress ``interval_us`` candle: the final 1 s candles of its window that came
    before the live (partial) 1 s candle, rolled up exactly with it."""
    if interval_us == live.interval_us:
        return live
    start = window_start(live.window_start_us, interval_us)
    members = [c for c in finals_1s if c.symbol == live.symbol
               and start <= c.window_start_us < live.window_start_us]
    return rollup([*members, live], interval_us)[0]
