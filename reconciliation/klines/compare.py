"""Klines against our candles, window by window (pure: no I/O).

Within the file's span (its first to its last window), every window falls in one row::

    kline      our candle   outcome
    -------    ----------   -------------------------------------------------------------
    volume>0   yes          matched if open, high, low, close, volume (and the trade
                            count, when compared and published) are equal, else differing
    volume>0   no           missing ours: the exchange traded, we have no candle
    volume=0   no           empty: nobody traded; not a difference
    volume=0   yes          differing: we have trades the exchange does not (volume)
    none       yes          missing theirs: a candle the file has no kline for

Candles outside the span are not compared (a file covers a day or a month; the master
dataset may hold more).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from candle_core.candle import Candle
from reconciliation.klines.kline_file import Kline

PRICE_FIELDS = ("open", "high", "low", "close")
FIELDS = (*PRICE_FIELDS, "volume", "trade_count")


class FieldDifference(NamedTuple):
    """One field of one window where our candle and the kline disagree."""

    field: str
    ours: int
    theirs: int


class WindowDifference(NamedTuple):
    """A window whose kline and candle disagree, with every differing field."""

    window_start_us: int
    line: int
    fields: tuple[FieldDifference, ...]


@dataclass
class KlinesComparison:
    """The outcome of every window of the file's span."""

    klines: int = 0
    matched: int = 0
    empty: int = 0
    differing: list[WindowDifference] = field(default_factory=list)
    missing_ours: list[Kline] = field(default_factory=list)
    missing_theirs: list[Candle] = field(default_factory=list)
    compared_fields: tuple[str, ...] = FIELDS

    @property
    def ok(self) -> bool:
        """True when every kline with trades equals our candle and nothing is missing."""
        return not (self.differing or self.missing_ours or self.missing_theirs)


def field_differences(kline: Kline, candle: Candle, fields: Sequence[str]
                      ) -> tuple[FieldDifference, ...]:
    """The fields (of ``fields``) where ``candle`` and ``kline`` differ; a count the
    file does not publish is not compared."""
    found = []
    for name in fields:
        theirs = getattr(kline, name)
        if theirs is not None and getattr(candle, name) != theirs:
            found.append(FieldDifference(name, getattr(candle, name), theirs))
    return tuple(found)


def compare_klines(klines: Sequence[Kline], candles: Mapping[int, Candle],
                   compare_count: bool = True) -> KlinesComparison:
    """Compare ``klines`` (sorted by window) with ``candles`` (by window start, µs)."""
    fields = FIELDS if compare_count else FIELDS[:-1]
    result = KlinesComparison(klines=len(klines), compared_fields=fields)
    for kline in klines:
        candle = candles.get(kline.open_time_us)
        if candle is None:
            if kline.volume:
                result.missing_ours.append(kline)
            else:
                result.empty += 1
            continue
        differences = field_differences(kline, candle, fields)
        if differences:
            result.differing.append(WindowDifference(kline.open_time_us, kline.line,
                                                     differences))
        else:
            result.matched += 1
    if klines:
        published = {kline.open_time_us for kline in klines}
        first, last = klines[0].open_time_us, klines[-1].open_time_us
        result.missing_theirs = [candle for start, candle in sorted(candles.items())
                                 if first <= start <= last and start not in published]
    return result
