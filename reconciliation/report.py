"""A reconciliation as files: the typed report (``report.json``: figures and verdict) and
``drifted.parquet`` (one row per candle that is not an exact match); both are written by
:meth:`storage.reconcile_report.ReportFiles.write`."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from candle_core.windows import interval_label
from reconciliation.attribution import CAUSES
from reconciliation.drift import FIELDS, CandleDrift
from reconciliation.job import Reconciliation
from reconciliation.summary import GroupSummary
from storage.layout import US_PER_DAY
from storage.reconcile_report import (
    CandleRef,
    GroupReport,
    ReconcileReport,
    ReportRange,
    Totals,
    WorstCandle,
)

WORST_IN_REPORT = 20


def iso_us(ts_us: int) -> str:
    moment = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=ts_us)
    return moment.isoformat().replace("+00:00", "Z")


def report_of(result: Reconciliation) -> ReconcileReport:
    """The typed report of ``result`` (see docs/reconciliation.md for every key)."""
    start_us = (dt.date.fromisoformat(result.date) - dt.date(1970, 1, 1)).days * US_PER_DAY
    groups = result.groups
    worst = sorted((d for g in groups for d in g.worst), key=lambda d: (-d.drift, d.key))
    report = ReconcileReport(
        run_id="",
        date=result.date,
        range=ReportRange(iso_us(start_us), iso_us(start_us + US_PER_DAY)),
        intervals=result.intervals,
        threshold=format(Decimal(result.threshold.numerator) / result.threshold.denominator,
                         "f"),
        verdict=result.verdict,
        generated_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        seconds=round(result.seconds, 3),
        candles=result.candles,
        totals=Totals(
            compared=sum(g.compared for g in groups),
            exact=sum(g.exact for g in groups),
            drifted=sum(g.drifted for g in groups),
            missing_speed=sum(g.missing_speed for g in groups),
            missing_batch=sum(g.missing_batch for g in groups),
            breached=result.breached,
            unexplained=result.unexplained,
            speed_duplicates=len(result.comparison.speed_duplicates),
            revised=result.revised,
        ),
        attributed={cause: sum(g.attributed[cause] for g in groups) for cause in CAUSES},
        evidence=result.evidence,
        groups=[_group(g) for g in groups],
        worst=[_candle(d, result) for d in worst[:WORST_IN_REPORT]],
        speed_duplicates=[_key(key) for key in result.comparison.speed_duplicates],
    )
    return report.with_content_id()


def _group(group: GroupSummary) -> GroupReport:
    return GroupReport(
        symbol=group.symbol, interval=interval_label(group.interval_us),
        compared=group.compared, exact=group.exact, drifted=group.drifted,
        missing_speed=group.missing_speed, missing_batch=group.missing_batch,
        breached=group.breaches, unexplained=group.unexplained,
        attributed=group.attributed, max_candle_drift=group.max_candle_drift,
        max_drift=group.max_drift, p99_drift=group.p99_drift, revised=group.revised)


def _key(key: tuple[str, int, int]) -> CandleRef:
    return CandleRef(symbol=key[0], interval=interval_label(key[1]),
                     window_start=iso_us(key[2]), window_start_us=key[2])


def _candle(drift: CandleDrift, result: Reconciliation) -> WorstCandle:
    attribution = result.attributions.get(drift.key)
    key = _key(drift.key)
    return WorstCandle(
        symbol=key.symbol, interval=key.interval, window_start=key.window_start,
        window_start_us=key.window_start_us, match=drift.match.value,
        drift=float(drift.drift),
        by_field={name: float(value) for name, value in drift.by_field.items()},
        causes=attribution.causes if attribution else dict.fromkeys(CAUSES, 0),
        reproduced=attribution.reproduced if attribution else None,
        explained=bool(attribution and attribution.explained))


def drifted_table(result: Reconciliation) -> pa.Table:
    """Every candle that is not an exact match, with its drift, causes and both sides."""
    rows = []
    for drift in result.comparison.differing:
        row = _candle(drift, result)
        flat: dict[str, Any] = {key: getattr(row, key) for key in (
            "symbol", "interval", "window_start_us", "match", "drift", "reproduced",
            "explained")}
        flat |= {f"drift_{name}": row.by_field[name] for name in FIELDS}
        flat |= {f"cause_{cause}": row.causes[cause] for cause in CAUSES}
        for side, candle in (("speed", drift.speed), ("batch", drift.batch)):
            for name in (*FIELDS, "trade_count"):
                value = None if candle is None else getattr(candle, name)
                flat[f"{side}_{name}"] = Decimal(value) if name == "volume" and value else value
        rows.append(flat)
    return pa.Table.from_pylist(rows, schema=DRIFTED_SCHEMA)


_INT_SIDES = [pa.field(f"{side}_{name}", pa.decimal128(38, 0) if name == "volume" else pa.int64())
              for side in ("speed", "batch") for name in (*FIELDS, "trade_count")]
DRIFTED_SCHEMA = pa.schema([
    pa.field("symbol", pa.string()), pa.field("interval", pa.string()),
    pa.field("window_start_us", pa.int64()), pa.field("match", pa.string()),
    pa.field("drift", pa.float64()), pa.field("reproduced", pa.bool_()),
    pa.field("explained", pa.bool_()),
    *(pa.field(f"drift_{name}", pa.float64()) for name in FIELDS),
    *(pa.field(f"cause_{cause}", pa.int64()) for cause in CAUSES),
    *_INT_SIDES,
])
"""Side values are the contract's fixed-point integers (8 decimals; volume as decimal(38,0)
because it can exceed int64)."""


def drifted_parquet(result: Reconciliation) -> bytes:
    """:func:`drifted_table` as the bytes of ``drifted.parquet``."""
    buffer = io.BytesIO()
    pq.write_table(drifted_table(result), buffer, compression="zstd")
    return buffer.getvalue()
