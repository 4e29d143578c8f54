"""`candles reconcile` compares the latest revision of each speed candle and counts the
revised ones: older revisions are neither extra candles, nor duplicates, nor drift.

Each lake holds the speed candles as the archive writes them (the archiver's own chunk
code, fed the ``candles`` messages of :mod:`tests.storage.revision_stream`) and the batch
candles as ``candles batch`` writes them; the real ``reconcile`` reads both.
"""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow.parquet as pq
from rich.console import Console

from candle_core.candle import Candle
from candle_core.codec import candles_to_table
from candle_core.reference import candles_from_trades
from lambda_candles.settings import load_settings
from reconciliation.job import Reconciliation, reconcile
from reconciliation.metrics import ReconcileMetrics
from reconciliation.render import render
from reconciliation.report import drifted_parquet, report_of
from storage.candle_rows import CandleRows
from storage.layout import BATCH_SOURCE, candles_dir
from storage.local import LocalStore
from storage.reconcile_report import ReportFiles, Verdict
from tests.storage.offline import archive_offline
from tests.storage.revision_stream import (
    DATE,
    INTERVALS,
    REVISED_1S,
    REVISED_10S,
    SYMBOL,
    TOPIC,
    candle_records,
    late_trades,
    on_time_trades,
    revised_stream,
)


def reconcile_lake(root: Path, speed: list[Candle], batch: list[Candle]) -> Reconciliation:
    """Archive ``speed`` as ``candles`` messages, write ``batch``, reconcile the date."""
    store = LocalStore(root)
    archive_offline(store, candle_records(speed), chunk_offsets=4, topic=TOPIC,
                    rows=CandleRows)
    for label, interval_us in zip(INTERVALS, (1_000_000, 10_000_000), strict=True):
        table = candles_to_table(c for c in batch if c.interval_us == interval_us)
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        store.write_bytes(f"{candles_dir(BATCH_SOURCE, label, DATE)}/{SYMBOL}.parquet",
                          buffer.getvalue())
    return reconcile(store, load_settings(archive_root=str(root)), DATE, list(INTERVALS))


def test_only_the_latest_revision_is_compared_and_revised_candles_are_counted(
        tmp_path: Path) -> None:
    stream = revised_stream()  # revisions 0 and 1 differ from the batch candle; 2 equals it
    result = reconcile_lake(tmp_path, stream.emitted, stream.batch)
    assert result.verdict is Verdict.OK
    assert not result.comparison.differing and not result.comparison.speed_duplicates
    assert result.candles == {"speed": len(stream.batch), "batch": len(stream.batch)}
    assert result.revised == 2
    assert {(g.interval_us, g.revised) for g in result.groups} == {(1_000_000, 1),
                                                                  (10_000_000, 1)}
    report = report_of(result)
    totals = report.totals
    assert totals.compared == totals.exact == len(stream.batch) and totals.revised == 2
    assert totals.drifted == totals.missing_speed == totals.missing_batch == 0
    assert {(g.interval, g.revised) for g in report.groups} == {("1s", 1), ("10s", 1)}
    files = ReportFiles.of(LocalStore(tmp_path), "reports")
    files.write(report, drifted_parquet(result))
    assert files.read(DATE) == report
    console = Console(record=True, width=200)
    render(console, report)
    text = console.export_text()
    assert "revised" in text and "2 speed candles revised" in text
    metrics = ReconcileMetrics()
    metrics.record(result)
    revised = metrics.registry.get_sample_value(
        "candles_reconcile_revised_candles", {"symbol": SYMBOL, "interval": "10s"})
    assert revised == 1


def test_the_latest_revision_is_compared_even_when_an_older_one_matches(
        tmp_path: Path) -> None:
    stream = revised_stream()
    first_late_only = candles_from_trades([*on_time_trades(), late_trades()[0]], INTERVALS)
    result = reconcile_lake(tmp_path, stream.emitted, first_late_only)  # = revision 1
    drifted = {d.key: d for d in result.comparison.differing}
    assert set(drifted) == {REVISED_1S, REVISED_10S}
    latest = {c.key: c for c in stream.emitted if c.revision == 2}
    for key, drift in drifted.items():
        assert drift.speed is not None and drift.speed.high == latest[key].high
        assert drift.speed.low == latest[key].low  # revision 2's values, not 1's
    assert result.candles["speed"] == len(first_late_only) and result.revised == 2
    assert result.verdict is Verdict.CRITICAL  # no archived cause: trades.late is empty


def test_an_emission_archived_twice_is_still_an_exactly_once_violation(
        tmp_path: Path) -> None:
    stream = revised_stream()
    (again,) = [c for c in stream.emitted if c.key == REVISED_1S and c.revision == 2]
    result = reconcile_lake(tmp_path, [*stream.emitted, again], stream.batch)
    assert result.comparison.speed_duplicates == [REVISED_1S]
    assert result.verdict is Verdict.CRITICAL
    assert not result.comparison.differing  # the copy is neither drift nor an extra candle
    assert result.candles["speed"] == len(stream.batch) and result.revised == 2


def test_speed_files_from_before_revisions_reconcile_as_revision_0(tmp_path: Path) -> None:
    stream = revised_stream()
    first = [c for c in stream.emitted if not c.revision]
    result = reconcile_lake(tmp_path, first, first)
    store = LocalStore(tmp_path)
    for label in INTERVALS:  # rewrite each file as the archive wrote it before revisions
        for entry in store.list_files(candles_dir("speed", label, DATE)):
            path = tmp_path / entry.path
            pq.write_table(pq.read_table(path).drop_columns(["revision"]), path)
    again = reconcile(store, load_settings(archive_root=str(tmp_path)), DATE, list(INTERVALS))
    assert again.verdict is result.verdict is Verdict.OK
    assert again.revised == 0 and again.candles == result.candles
    assert report_of(again).totals == report_of(result).totals
