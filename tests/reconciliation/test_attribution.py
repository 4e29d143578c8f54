"""Attribution decides whether the archive's evidence accounts for a difference, and the
Polars join finds exact matches, missing sides and twice-emitted speed candles."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import polars as pl

from candle_core.candle import Candle, CandleBuilder
from candle_core.codec import candles_to_table
from candle_core.reference import candles_from_trades
from candle_core.trade import Trade
from reconciliation.attribution import DLQ, DUPLICATE, LATE, Evidence
from reconciliation.compare import compare
from reconciliation.drift import DEFAULT_THRESHOLD, Match, candle_drift
from reconciliation.summary import nearest_rank, summarize

T0 = 1_767_225_600_000_000
HOUR = 3_600_000_000


def trade(trade_id: int, second: int, price: int = 100_00000000) -> Trade:
    return Trade("AAPL", trade_id, T0 + second * 1_000_000, price, 1_00000000)


def candle(trades: list[Trade], interval: str = "1s") -> Candle:
    (built,) = candles_from_trades(trades, [interval])
    return built


def late_frame(trades: list[Trade]) -> pl.DataFrame:
    return pl.DataFrame({
        "symbol": [t.symbol for t in trades], "trade_id": [t.trade_id for t in trades],
        "ts_us": [t.ts_us for t in trades],
        "price": pl.Series([Decimal(t.price).scaleb(-8) for t in trades], dtype=pl.Decimal(18, 8)),
        "size": pl.Series([Decimal(t.size).scaleb(-8) for t in trades], dtype=pl.Decimal(38, 8)),
        "kafka_partition": [0] * len(trades), "kafka_offset": list(range(len(trades))),
    }, schema_overrides={"trade_id": pl.Int64, "ts_us": pl.Int64, "kafka_partition": pl.Int32,
                         "kafka_offset": pl.Int64})


def times(symbol: str, *seconds: int) -> pl.DataFrame:
    return pl.DataFrame({"symbol": [symbol] * len(seconds),
                         "ts_us": [T0 + s * 1_000_000 for s in seconds]},
                        schema={"symbol": pl.String, "ts_us": pl.Int64})


NONE = times("AAPL")


def test_late_trades_that_reproduce_the_batch_candle_explain_it() -> None:
    on_time, late = [trade(1, 0), trade(2, 0)], [trade(3, 0, price=104_00000000)]
    drift = candle_drift(candle(on_time), candle(on_time + late))
    found = Evidence(late_frame(late), NONE, NONE).attribute(drift)
    assert found.causes == {LATE: 1, DLQ: 0, DUPLICATE: 0}
    assert found.reproduced is True and found.explained


def test_a_late_trade_does_not_cover_a_second_lost_one() -> None:
    on_time, late, lost = [trade(1, 0)], [trade(3, 0)], [trade(2, 0, price=99_00000000)]
    drift = candle_drift(candle(on_time), candle(on_time + late + lost))
    found = Evidence(late_frame(late), NONE, NONE).attribute(drift)
    assert found.reproduced is False and not found.explained


def test_a_dead_letter_in_the_window_does_not_explain_a_lost_candle() -> None:
    hourly = candle([trade(1, 10), trade(2, 3000)], "1h")
    drift = candle_drift(None, hourly)
    found = Evidence(late_frame([]), times("AAPL", 3000), NONE).attribute(drift)
    assert found.causes[DLQ] == 1 and not found.explained


def test_duplicates_explain_extra_speed_trades_only_if_there_are_enough() -> None:
    batch = candle([trade(1, 0)])
    builder = CandleBuilder("AAPL", 1_000_000, T0)  # a conflicting copy applied as well
    for copy in (trade(1, 0), trade(1, 0, price=101_00000000)):
        builder.add(copy.ts_us, copy.trade_id, copy.price, copy.size)
    speed = builder.build()
    drift = candle_drift(speed, batch)
    assert Evidence(late_frame([]), NONE, times("AAPL", 0)).attribute(drift).explained
    assert not Evidence(late_frame([]), NONE, NONE).attribute(drift).explained


def test_dead_letters_explain_missing_speed_trades_by_count() -> None:
    speed, batch = candle([trade(1, 0)]), candle([trade(1, 0), trade(2, 0, 98_00000000)])
    drift = candle_drift(speed, batch)
    assert Evidence(late_frame([]), times("AAPL", 0), NONE).attribute(drift).explained
    assert not Evidence(late_frame([]), times("AAPL", 5), NONE).attribute(drift).explained


def frame(candles: list[Candle], offsets: list[int] | None = None) -> pl.DataFrame:
    table = pl.from_arrow(candles_to_table(candles))
    assert isinstance(table, pl.DataFrame)
    return table.with_columns(kafka_partition=pl.lit(0, pl.Int32),
                              kafka_offset=pl.Series(offsets or list(range(len(candles))),
                                                     dtype=pl.Int64))


def test_compare_counts_exact_matches_and_finds_every_difference() -> None:
    a, b, c = candle([trade(1, 0)]), candle([trade(2, 1)]), candle([trade(3, 2)])
    changed = candle([trade(2, 1, price=101_00000000)])
    result = compare(frame([a, changed, a]), frame([a, b, c]).drop("kafka_partition",
                                                                     "kafka_offset"))
    assert result.exact == {("AAPL", 1_000_000): 1}
    assert [d.match for d in result.differing] == [Match.DRIFTED, Match.MISSING_SPEED]
    assert result.speed_duplicates == [a.key]


def test_summary_percentiles_count_exact_matches_as_zero() -> None:
    drifted = candle_drift(candle([trade(1, 0, 101_00000000)]), candle([trade(1, 0)]))
    (group,) = summarize([drifted], DEFAULT_THRESHOLD, {("AAPL", 1_000_000): 99})
    assert (group.compared, group.exact, group.drifted) == (100, 99, 1)
    assert group.p99_drift["open"] == 0.0 and group.max_drift["open"] == 0.01
    assert group.unexplained == 1  # no attribution given
    assert nearest_rank([Fraction(1, 2)], 1.0, zeros=99) == Fraction(1, 2)
    assert nearest_rank([Fraction(1, 2)], 0.99, zeros=99) == 0
