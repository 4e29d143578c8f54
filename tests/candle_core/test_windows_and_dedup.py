"""Window alignment, interval labels, and the dedup rule."""

from __future__ import annotations

import pytest

from candle_core.dedup import Verdict, dedup, judge
from candle_core.exceptions import ContractError
from candle_core.reference import candles_from_trades
from candle_core.trade import Trade
from candle_core.windows import interval_label, parse_interval, window_end, window_start

S = 1_000_000


@pytest.mark.parametrize(
    ("ts_us", "interval_us", "start"),
    [
        # |----1s----|----1s----|
        # 0          1s         2s
        (0, S, 0),  # the epoch itself opens a window
        (S - 1, S, 0),  # the last microsecond stays in [0, 1s)
        (S, S, S),  # the end is exclusive: 1s opens the next window
        (1_700_000_000_123_456, S, 1_700_000_000_000_000),
        (1_700_000_059_999_999, 60 * S, 1_700_000_040_000_000),  # aligned to epoch minutes
        (1_700_000_000_000_000, 3600 * S, 1_699_999_200_000_000),  # and hours, UTC
    ],
)
def test_window_start(ts_us: int, interval_us: int, start: int) -> None:
    assert window_start(ts_us, interval_us) == start
    assert window_end(ts_us, interval_us) == start + interval_us


@pytest.mark.parametrize(
    ("label", "interval_us"),
    [("1s", S), ("10s", 10 * S), ("1m", 60 * S), ("5m", 300 * S), ("1h", 3600 * S),
     ("1d", 86400 * S), ("2000ms", 2 * S)],
)
def test_parse_interval(label: str, interval_us: int) -> None:
    assert parse_interval(label) == interval_us


@pytest.mark.parametrize("label", ["0s", "1.5s", "500ms", "1w", "", "s"])
def test_bad_intervals_are_refused(label: str) -> None:
    with pytest.raises(ContractError):
        parse_interval(label)


def test_interval_label_is_shortest() -> None:
    labels = [interval_label(parse_interval(x)) for x in ("60s", "3600s", "90s")]
    assert labels == ["1m", "1h", "90s"]


def trade(trade_id: int, price: int = 100, ts_us: int = 5) -> Trade:
    return Trade("AAPL", trade_id, ts_us, price, 1)


def test_dedup_lowest_offset_wins() -> None:
    stream = [trade(1), trade(2), trade(1), trade(2, price=101), trade(3)]
    kept, duplicates, conflicts = dedup(stream)
    assert kept == [trade(1), trade(2), trade(3)]
    assert duplicates == [trade(1)]
    assert conflicts == [trade(2, price=101)]
    assert judge(None, trade(9)) is Verdict.FIRST


def test_reference_ignores_duplicates_and_ties_break_by_trade_id() -> None:
    # two trades at the same microsecond: open is the lower id, close the higher
    stream = [trade(8, price=300), trade(7, price=200), trade(7, price=200)]
    (candle,) = candles_from_trades(stream, ["1s"])
    assert (candle.open, candle.close, candle.trade_count) == (200, 300, 2)
    assert candle.volume == 2 and candle.vwap == 250


def test_no_candle_without_trades() -> None:
    assert candles_from_trades([], ["1s", "1m"]) == []
