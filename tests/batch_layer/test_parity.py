"""Parity: the batch layer's candles equal ``candle_core.reference`` bit for bit."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from batch_layer.job import run_batch
from candle_core.fixed_point import MAX_PRICE_INT, MAX_SIZE_INT
from candle_core.reference import candles_from_trades
from candle_core.trade import Trade
from lambda_candles.settings import load_settings
from storage.local import LocalStore
from tests.batch_layer.archived import batched
from tests.storage.archive_helpers import batch_candles as written_candles
from tests.storage.archive_helpers import chaos_stream
from tests.storage.offline import archive_offline

INTERVALS = (1_000_000, 10_000_000, 60_000_000, 300_000_000, 3_600_000_000)
T0 = 1_767_225_600_000_000


def test_chaos_stream_every_interval_through_the_archive(tmp_path: Path) -> None:
    stream = chaos_stream(20_000, seed=11)
    records = [(offset, ts_ms, key, value)
               for offset, (key, value, ts_ms) in enumerate(stream.records)]
    archive_offline(LocalStore(tmp_path), records, chunk_offsets=3_000)
    settings = load_settings()
    for date in ("2025-12-31", "2026-01-01"):
        run_batch(LocalStore(tmp_path), settings, date)
    expected = candles_from_trades(stream.trades, settings.intervals_us)
    assert written_candles(tmp_path) == expected


def test_extreme_values_need_and_get_128_bits(tmp_path: Path) -> None:
    """300 trades at the contract's maxima in one second: notional ~3e35, volume ~3e20."""
    trades = [Trade("BRK.A", i, T0 + i, MAX_PRICE_INT - i, MAX_SIZE_INT - 7 * i)
              for i in range(300)]
    got = batched(tmp_path, trades, chunk=100)
    assert got == candles_from_trades(trades, INTERVALS)
    assert got[0].notional > 2**127 // 10**3 and got[0].volume > 2**64


timestamps = st.integers(T0, T0 + 7_200_000_000)  # two hours: every interval has windows
trade_st = st.builds(
    Trade, st.sampled_from(["AAPL", "BTCUSDT"]), st.integers(0, 40), timestamps,
    st.integers(1, MAX_PRICE_INT), st.integers(1, MAX_SIZE_INT),
    st.sampled_from([None, "x"]), st.sampled_from([None, "buy", "sell"]))


@settings(max_examples=60, deadline=None)
@given(st.lists(trade_st, min_size=1, max_size=60), st.data())
def test_any_trades_with_duplicates_ties_and_conflicts(trades: list[Trade],
                                                       data: st.DataObject) -> None:
    """Few trade ids: duplicates and conflicts abound; copies of a trade: exact dups.
    Small chunks put a symbol's trades in many files, out of event-time order."""
    resent = data.draw(st.lists(st.sampled_from(trades), max_size=10))
    tied = [t._replace(trade_id=t.trade_id + 100, ts_us=trades[0].ts_us) for t in trades[:5]]
    stream = [*trades, *resent, *tied]
    chunk = data.draw(st.sampled_from([1, 7, 1_000]))
    with tempfile.TemporaryDirectory() as root:
        got = batched(Path(root), stream, chunk)
    assert got == candles_from_trades(stream, INTERVALS)
