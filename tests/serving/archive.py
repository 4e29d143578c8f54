"""A small archive for API tests: two days of candles, the first reconciled.

::

    day 1 (2026-01-01, report: breach)      day 2 (2026-01-02, no report)
    batch: every window (the truth)          speed: every window (archived), one 1 s
    speed: every window, one drifted           window twice: revision 0, then 1 (high up)
                                             batch: none
"""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from candle_core.candle import Candle
from candle_core.codec import REVISION_FIELD, candles_to_table
from candle_core.reference import candles_from_trades
from candle_core.trade import Trade
from lambda_candles.settings import CandlesSettings, load_settings
from reconciliation.report import DRIFTED_SCHEMA
from storage.layout import candles_dir
from storage.local import LocalStore
from storage.reconcile_report import ReportFiles
from storage.schemas import SPEED_CANDLE_SCHEMA
from tests.report_data import sample_report

DAY1, DAY2 = "2026-01-01", "2026-01-02"
DAY1_US = 1_767_225_600_000_000
DAY2_US = DAY1_US + 86_400_000_000
SYMBOL = "BTCUSDT"
DRIFTED_WINDOW_US = DAY1_US + 5_000_000
REVISED_WINDOW_US = DAY2_US + 7_000_000
INTERVALS = ("1s", "10s", "1m")


def trades(start_us: int, seconds: int, symbol: str = SYMBOL) -> list[Trade]:
    """Three trades per second, prices moving, for ``seconds`` seconds."""
    out = []
    for i in range(seconds * 3):
        price = (50_000 + (i * 7) % 23) * 10**8 + 12_345_678
        out.append(Trade(symbol, i + 1, start_us + i * 333_333, price, 10**7 + i, None, None))
    return out


def parquet(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def speed_table(candles: list[Candle]) -> pa.Table:
    table = candles_to_table(candles)
    table = table.append_column(REVISION_FIELD, pa.array([c.revision for c in candles]))
    n = table.num_rows
    lineage = {"kafka_topic": ["candles"] * n, "kafka_partition": [0] * n,
               "kafka_offset": list(range(n)), "kafka_timestamp_ms": [0] * n}
    for name, values in lineage.items():
        table = table.append_column(name, pa.array(values))
    return table.cast(SPEED_CANDLE_SCHEMA)


def drifted_row(candle: Candle) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(DRIFTED_SCHEMA.names)
    row.update({"symbol": candle.symbol, "interval": "1s",
                "window_start_us": candle.window_start_us, "match": "drifted", "drift": 0.02,
                "reproduced": True, "explained": True, "cause_late": 2, "cause_dlq": 0,
                "cause_duplicate": 0})
    return row


def build_archive(root: Path) -> tuple[LocalStore, CandlesSettings]:
    store = LocalStore(str(root))
    settings = load_settings(archive_root=str(root))
    day1 = candles_from_trades(trades(DAY1_US, 120), INTERVALS)
    day2 = candles_from_trades(trades(DAY2_US, 120), INTERVALS)
    for interval in INTERVALS:
        batch = [c for c in day1 if c.interval_us == _us(interval)]
        store.write_bytes(f"{candles_dir('batch', interval, DAY1)}/{SYMBOL}.parquet",
                          parquet(candles_to_table(batch)))
        for day, candles in ((DAY1, day1), (DAY2, [*day2, revision_of(day2)])):
            speed = [c for c in candles if c.interval_us == _us(interval)]
            store.write_bytes(f"{candles_dir('speed', interval, day)}/"
                              f"candles+0+{0:019d}-{99:019d}.h00.parquet",
                              parquet(speed_table(speed)))
    drifted = next(c for c in day1 if c.key == (SYMBOL, 1_000_000, DRIFTED_WINDOW_US))
    report = sample_report(DAY1, "breach", run_id="x", intervals=list(INTERVALS), breached=1)
    ReportFiles.of(store, settings.reports_dir).write(report, parquet(
        pa.Table.from_pylist([drifted_row(drifted)], schema=DRIFTED_SCHEMA)))
    return store, settings


def revision_of(day2: list[Candle]) -> Candle:
    """Revision 1 of day 2's 1 s candle at ``REVISED_WINDOW_US``: a late trade raised its high."""
    candle = next(c for c in day2 if c.key == (SYMBOL, 1_000_000, REVISED_WINDOW_US))
    return dataclasses.replace(candle, high=candle.high + 10**8, revision=1)


def _us(label: str) -> int:
    from candle_core.windows import parse_interval

    return parse_interval(label)
