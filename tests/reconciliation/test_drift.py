"""Drift as docs/reconciliation.md defines it: exact fractions, missing sides, per-group figures."""

from __future__ import annotations

from fractions import Fraction

import pytest

from candle_core.candle import Candle
from candle_core.reference import candles_from_trades
from candle_core.trade import Trade
from reconciliation.drift import DEFAULT_THRESHOLD, Match, candle_drift, join, relative
from reconciliation.summary import nearest_rank, summarize

T0 = 1_767_225_600_000_000


def bar(price: int = 100_00000000, size: int = 1_00000000, symbol: str = "AAPL",
        second: int = 0) -> Candle:
    trade = Trade(symbol, 1, T0 + second * 1_000_000, price, size)
    (candle,) = candles_from_trades([trade], ["1s"])
    return candle


@pytest.mark.parametrize(
    ("speed_price", "drift"),
    [
        (100_00000000, Fraction(0)),  # identical
        (100_50000000, Fraction(5, 1000)),  # exactly the threshold: not a breach
        (100_50000001, Fraction(10050000001 - 10000000000, 10000000000)),  # just above
        (99_00000000, Fraction(1, 100)),  # below counts the same as above
    ],
)
def test_price_drift_is_exact(speed_price: int, drift: Fraction) -> None:
    result = candle_drift(bar(price=speed_price), bar())
    assert result.drift == drift
    assert result.breaches(DEFAULT_THRESHOLD) == (drift > Fraction(5, 1000))


def test_volume_counts_and_the_largest_field_wins() -> None:
    result = candle_drift(bar(size=3_00000000), bar(size=2_00000000))
    assert result.by_field["volume"] == Fraction(1, 2)
    assert result.drift == Fraction(1, 2) and result.match is Match.DRIFTED


def test_one_side_missing_is_full_drift() -> None:
    only_batch = candle_drift(None, bar())
    only_speed = candle_drift(bar(), None)
    assert only_batch.drift == only_speed.drift == 1
    assert (only_batch.match, only_speed.match) == (Match.MISSING_SPEED, Match.MISSING_BATCH)


def test_relative_refuses_a_non_positive_truth() -> None:
    with pytest.raises(ValueError, match="not positive"):
        relative(1, 0)


def test_join_and_summarize() -> None:
    speed = [bar(second=0), bar(second=1, price=101_00000000), bar(second=3)]
    batch = [bar(second=0), bar(second=1), bar(second=2)]
    drifts = join(speed, batch)
    assert [d.match for d in drifts] == [Match.EXACT, Match.DRIFTED, Match.MISSING_SPEED,
                                         Match.MISSING_BATCH]
    (group,) = summarize(drifts, DEFAULT_THRESHOLD)
    assert (group.compared, group.exact, group.drifted) == (2, 1, 1)
    assert (group.missing_speed, group.missing_batch, group.breaches) == (1, 1, 3)
    assert group.max_drift["open"] == pytest.approx(0.01)
    assert group.worst[0].drift == 1 and len(group.worst) == 3


def test_nearest_rank() -> None:
    values = [Fraction(i) for i in range(1, 101)]
    assert nearest_rank(values, 0.99) == 99
    assert nearest_rank(values, 1.0) == 100
    assert nearest_rank([], 0.99) == 0
