"""Property tests of candle arithmetic: the guarantees both layers lean on."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, localcontext

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from candle_core.candle import Candle, CandleBuilder, merge, relabel, rollup
from candle_core.fixed_point import (
    INT64_MAX,
    INT128_MAX,
    MAX_PRICE_INT,
    MAX_SIZE_INT,
    PRICE_SCALE,
    SIZE_SCALE,
)
from candle_core.reference import candles_from_trades
from candle_core.trade import Trade
from candle_core.windows import parse_interval
from tests.candle_core.strategies import BASE_TS_US, trade_lists

MergeFn = Callable[[Candle, Candle], Candle]


def one_candle(trades: list[Trade], interval_us: int = 3_600_000_000) -> Candle:
    """All ``trades`` folded into one candle (callers keep them in one window)."""
    builder = CandleBuilder(trades[0].symbol, interval_us, BASE_TS_US - BASE_TS_US % interval_us)
    for trade in trades:
        builder.add(trade.ts_us, trade.trade_id, trade.price, trade.size)
    return builder.build()


def same_symbol(trades: list[Trade]) -> list[Trade]:
    return [t._replace(symbol="AAPL") for t in trades]


@given(trade_lists(), st.randoms(use_true_random=False))
def test_any_permutation_gives_identical_candles(trades: list[Trade], rnd: object) -> None:
    shuffled = list(trades)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert candles_from_trades(shuffled) == candles_from_trades(trades)


def check_merge_laws(merge_fn: MergeFn, trades: list[Trade], cut1: int, cut2: int) -> None:
    """Split one window's trades in three non-empty parts; merging them any way equals the
    candle of the whole."""
    trades = same_symbol(trades)
    lo = 1 + cut1 % (len(trades) - 2)
    hi = lo + 1 + cut2 % (len(trades) - lo - 1)
    a, b, c = (one_candle(part) for part in (trades[:lo], trades[lo:hi], trades[hi:]))
    whole = one_candle(trades)
    assert merge_fn(a, b) == merge_fn(b, a)
    assert merge_fn(merge_fn(a, b), c) == merge_fn(a, merge_fn(b, c))
    assert merge_fn(merge_fn(a, b), c) == whole


@given(trade_lists(min_size=3), st.integers(0, 100), st.integers(0, 100))
def test_merge_is_associative_commutative_and_exact(
    trades: list[Trade], cut1: int, cut2: int
) -> None:
    check_merge_laws(merge, trades, cut1, cut2)


def merge_by_arrival(a: Candle, b: Candle) -> Candle:
    """A deliberately wrong merge: open from the first argument, close from the second."""
    right = merge(a, b)
    return Candle(**{**_fields(right), "open": a.open, "close": b.close})


def _fields(candle: Candle) -> dict[str, object]:
    return {name: getattr(candle, name) for name in Candle.__slots__}


def test_a_wrong_merge_is_caught() -> None:
    """The property test must fail for open/close by arrival order, or it proves nothing."""

    @settings(
        max_examples=500, database=None, report_multiple_bugs=False, phases=[Phase.generate]
    )
    @given(trade_lists(min_size=3), st.integers(0, 100), st.integers(0, 100))
    def laws_hold_for_wrong_merge(trades: list[Trade], cut1: int, cut2: int) -> None:
        check_merge_laws(merge_by_arrival, trades, cut1, cut2)

    with pytest.raises(AssertionError):
        laws_hold_for_wrong_merge()


@pytest.mark.parametrize("label", ["10s", "1m", "5m", "1h"])
@given(trades=trade_lists(max_size=60, span_us=900_000_000))
def test_rollup_of_1s_equals_direct(label: str, trades: list[Trade]) -> None:
    interval_us = parse_interval(label)
    one_second = candles_from_trades(trades, ["1s"])
    assert rollup(one_second, interval_us) == candles_from_trades(trades, [label])


@given(trade_lists(max_size=60))
def test_candle_values_equal_exact_decimal_arithmetic(trades: list[Trade]) -> None:
    """Extreme prices and sizes: every field equals Decimal math, no digit lost."""
    with localcontext(prec=120):  # the default 28 digits would itself lose digits here
        check_against_decimal(trades)


def check_against_decimal(trades: list[Trade]) -> None:
    for candle in candles_from_trades(trades, ["1h"]):
        mine = [t for t in trades if t.symbol == candle.symbol]
        volume = sum(Decimal(t.size) / SIZE_SCALE for t in mine)
        notional = sum(Decimal(t.price) / PRICE_SCALE * Decimal(t.size) / SIZE_SCALE for t in mine)
        assert Decimal(candle.volume) / SIZE_SCALE == volume
        assert Decimal(candle.notional) / (PRICE_SCALE * SIZE_SCALE) == notional
        assert candle.low <= candle.vwap <= candle.high
        exact_vwap = notional / volume * PRICE_SCALE
        assert abs(candle.vwap - exact_vwap) <= Decimal("0.5")
        first = min(mine, key=lambda t: (t.ts_us, t.trade_id))
        last = max(mine, key=lambda t: (t.ts_us, t.trade_id))
        assert (candle.open, candle.close) == (first.price, last.price)


def test_extreme_candle_fits_the_declared_bounds() -> None:
    """170,000 trades each at both the price and the size bound fit 128 bits (docs/contract.md)."""
    count = 170_000
    builder = CandleBuilder("BRKA", 3_600_000_000, 0)
    for trade_id in range(count):
        builder.add(trade_id, trade_id, MAX_PRICE_INT, MAX_SIZE_INT)
    candle = builder.build()
    assert candle.notional == count * MAX_PRICE_INT * MAX_SIZE_INT <= INT128_MAX
    assert candle.volume <= INT128_MAX
    assert candle.vwap == MAX_PRICE_INT <= INT64_MAX
    assert MAX_PRICE_INT <= INT64_MAX and MAX_SIZE_INT <= INT64_MAX


@given(trade_lists(max_size=30))
def test_relabel_keeps_every_value(trades: list[Trade]) -> None:
    for candle in candles_from_trades(trades, ["1s"]):
        bigger = relabel(candle, 60_000_000)
        assert bigger.window_start_us <= candle.window_start_us < bigger.window_end_us
        assert (bigger.open, bigger.close, bigger.volume) == (
            candle.open,
            candle.close,
            candle.volume,
        )
