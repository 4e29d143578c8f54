"""The profile finds the faults planted in a hand-made day."""

from __future__ import annotations

from pathlib import Path

import orjson

from batch_layer.profile import ProfileOptions, profile_date
from candle_core.fixed_point import PRICE_SCALE
from candle_core.trade import Trade
from lambda_candles.settings import load_settings
from storage.local import LocalStore
from tests.storage.offline import archive_offline

T0 = 1_767_225_600_000_000 + 3_600_000_000  # 2026-01-01T01:00Z
DATE = "2026-01-01"


def record(trade: Trade, delay_ms: int = 1) -> tuple[int, bytes, bytes]:
    return trade.ts_us // 1000 + delay_ms, trade.symbol.encode(), orjson.dumps(trade.to_wire())


def planted_day() -> list[tuple[int, bytes, bytes]]:
    """AAPL every 100 ms for 60 s, with a 7 s gap, one fat finger, one very late trade,
    one exact duplicate and one conflict; plus one malformed record."""
    trades = [Trade("AAPL", i, T0 + i * 100_000, 200 * PRICE_SCALE + i, 10**8)
              for i in range(600) if not 300 <= i < 370]  # the gap: 7 s without trades
    trades[100] = trades[100]._replace(price=2_000 * PRICE_SCALE)  # ten times the price
    rows = [record(t) for t in trades]
    rows[200] = record(trades[200], delay_ms=9_000)  # arrives 9 s after its event time
    rows.append(record(trades[10]))                 # exact duplicate, later offset
    rows.append(record(trades[11]._replace(size=5)))  # conflicting duplicate
    rows.append((rows[-1][0], b"AAPL", b"{oops"))
    return rows


def test_profile_finds_gap_outlier_lateness_duplicates_and_invalid(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    records = [(offset, ts_ms, key, value)
               for offset, (ts_ms, key, value) in enumerate(planted_day())]
    archive_offline(store, records, chunk_offsets=250)
    report = profile_date(store, load_settings(), DATE, options=ProfileOptions())
    aapl = report["symbols"]["AAPL"]
    assert aapl["trades"] == 530
    assert aapl["gaps"]["5000ms"] == {"count": 1, "longest_ms": 7_100, "total_ms": 7_100}
    assert aapl["gaps"]["30000ms"]["count"] == 0
    assert aapl["outliers"]["count"] == 1
    assert aapl["outliers"]["worst"][0]["trade_id"] == 100
    assert aapl["lateness"]["beyond_allowed"] == 1
    assert aapl["lateness"]["max_ms"] == 9_000
    assert (report["duplicates"], report["conflicts"]) == (1, 1)
    assert report["invalid"] == {"malformed_json": 1}
