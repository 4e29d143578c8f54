"""Event times of a generic CSV (``--ts-unit``) as the contract's epoch microseconds.

* ``s``, ``ms``, ``us``, ``ns``: a number since the Unix epoch, decimals allowed
  (``1723161600.1234`` s, as Kraken writes); read exactly as a decimal, never a float.
* ``iso``: an ISO 8601 date-time **with** a UTC offset (``2024-08-09T00:00:01.5Z``,
  ``2024-08-09 02:00:01+02:00``); a time without an offset is refused, since guessing
  the zone would move every candle.

Digits below a microsecond (nanosecond stamps) are dropped, rounding down: the floor of
a time falls in the same window as the time itself for every window length, so no trade
changes candle. Ties this creates are broken by trade id, as the contract says.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from enum import StrEnum

from candle_core.parsing import MAX_TS_US

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
ONE_US = dt.timedelta(microseconds=1)


class TsUnit(StrEnum):
    """How a generic CSV writes its event times."""

    S = "s"
    MS = "ms"
    US = "us"
    NS = "ns"
    ISO = "iso"


_US_PER_UNIT = {TsUnit.S: Decimal(10**6), TsUnit.MS: Decimal(10**3), TsUnit.US: Decimal(1),
                TsUnit.NS: Decimal("0.001")}


def to_epoch_us(text: str, unit: TsUnit) -> int:
    """``text`` in ``unit`` -> epoch µs; ``ValueError`` saying what is wrong otherwise."""
    ts_us = _iso_us(text) if unit is TsUnit.ISO else _number_us(text, unit)
    if not 0 <= ts_us < MAX_TS_US:
        raise ValueError(f"is {ts_us} µs since the epoch, outside 1970..2100: is --ts-unit "
                         f"{unit.value} right?")
    return ts_us


def _number_us(text: str, unit: TsUnit) -> int:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"is not a number of {unit.value} since the epoch") from None
    if not value.is_finite():
        raise ValueError("is not a finite number")
    return int((value * _US_PER_UNIT[unit]).to_integral_value(rounding=ROUND_FLOOR))


def _iso_us(text: str) -> int:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise ValueError("has no UTC offset: add Z or +HH:MM (the zone is never guessed)")
    return (moment - EPOCH) // ONE_US
