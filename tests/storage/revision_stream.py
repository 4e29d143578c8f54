"""A ``candles`` topic on which one candle is revised twice, as the speed layer emits it.

::

    second   0   1   2   3   4        on-time trades: 3 a second (BTCUSDT)
                     ^ ^              two late trades of second 2, inside the revision horizon
    candles: every 1 s and 10 s candle at revision 0, then the 1 s candle of second 2 and
             the 10 s candle holding it at revision 1 (first late trade), then both at
             revision 2 (second late trade). The batch layer sees every trade: its candles
             equal the revision-2 candles, and neither revision 0 nor 1.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from candle_core.candle import Candle
from candle_core.codec import candle_message_key, encode_candle
from candle_core.reference import candles_from_trades
from candle_core.trade import Trade

DATE = "2026-01-01"
T0_US = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z
SYMBOL = "BTCUSDT"
INTERVALS = ("1s", "10s")
REVISED_1S = (SYMBOL, 1_000_000, T0_US + 2_000_000)
REVISED_10S = (SYMBOL, 10_000_000, T0_US)
TOPIC = "candles"
OffsetRecord = tuple[int, int, bytes, bytes]  # offset, kafka timestamp ms, key, value


def on_time_trades() -> list[Trade]:
    """Three trades a second for five seconds, prices moving."""
    return [Trade(SYMBOL, i + 1, T0_US + i * 333_333, (40_000 + i * 7 % 11) * 10**8,
                  10**7 + i) for i in range(15)]


def late_trades() -> list[Trade]:
    """Two trades of second 2 that arrive after its window closed: each revises it."""
    return [Trade(SYMBOL, 101, T0_US + 2_500_000, 41_000 * 10**8, 3 * 10**7),
            Trade(SYMBOL, 102, T0_US + 2_900_000, 39_000 * 10**8, 5 * 10**7)]


@dataclass(frozen=True)
class RevisedStream:
    """What the speed layer emits, in topic order, and what the batch layer computes."""

    emitted: list[Candle]
    batch: list[Candle]


def revised_stream() -> RevisedStream:
    """Every candle at revision 0, then the two revisions of the candles the late trades
    fall in (their 1 s candle and the 10 s candle holding it)."""
    trades = on_time_trades()
    emitted = candles_from_trades(trades, INTERVALS)
    for revision, late in enumerate(late_trades(), start=1):
        trades = [*trades, late]
        emitted += [dataclasses.replace(candle, revision=revision)
                    for candle in candles_from_trades(trades, INTERVALS)
                    if candle.key in (REVISED_1S, REVISED_10S)]
    return RevisedStream(emitted, candles_from_trades(trades, INTERVALS))


def candle_records(candles: list[Candle], first_offset: int = 0) -> list[OffsetRecord]:
    """The ``candles`` messages of ``candles``: key = the candle key, value = its JSON."""
    return [(first_offset + offset, candle.window_end_us // 1000,
             candle_message_key(candle.symbol, candle.interval_us, candle.window_start_us),
             encode_candle(candle)) for offset, candle in enumerate(candles)]
