"""One load run: the batch bars of a date into ``CORE.BARS``, with its ``LOAD_AUDIT`` row.

::

    audit row 'running' -> stage (RAW.BARS_STAGE, this run's id) -> count staged keys
      -> MERGE (dedup, insert new, update changed) -> audit row 'loaded' -> drop stage
                                     any failure -> audit row 'failed' (best effort)

The MERGE is one atomic statement, so a crash leaves ``CORE.BARS`` either untouched or
fully merged; re-running then reports 0 inserted and 0 updated. The same flow runs on
Snowflake and DuckDB behind :class:`Target`.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import pyarrow as pa

from storage.warehouse import statements as sql
from storage.warehouse.bars import BatchBars, stage_rows
from storage.warehouse.exceptions import StageIncompleteError, WarehouseNotInitializedError

log = logging.getLogger(__name__)
STAGE_TTL_US = 86_400_000_000  # staged rows older than this belong to a killed run


class Target(Protocol):
    """A warehouse the loader can write: Snowflake or the local DuckDB file."""

    kind: str
    where: str

    def execute(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement (``?`` placeholders) in autocommit; its rows, if any."""

    def stage(self, rows: pa.Table) -> None:
        """Insert ``rows`` (``RAW.BARS_STAGE`` columns) into ``RAW.BARS_STAGE``."""

    def merge(self, statement: str) -> tuple[int, int]:
        """Run the MERGE; ``(rows inserted, rows updated)``."""


@dataclass(frozen=True)
class LoadVerdict:
    """What the reconciliation of the range concluded (``unreconciled`` when forced)."""

    verdict: str
    reconcile_run_id: str | None = None
    forced: bool = False


@dataclass
class LoadResult:
    """What one load run did; the same figures as its ``LOAD_AUDIT`` row."""

    run_id: str
    date: str
    target: str
    where: str
    intervals: list[str]
    symbols: int
    rows_read: int
    inserted: int
    updated: int
    unchanged: int
    verdict: str
    reconcile_run_id: str | None
    forced: bool
    started_at: str
    read_seconds: float
    stage_seconds: float
    merge_seconds: float
    total_seconds: float


def utc_text(epoch_s: float) -> str:
    """A UTC timestamp literal both warehouses parse (``YYYY-MM-DD HH:MM:SS.ffffff``)."""
    return dt.datetime.fromtimestamp(epoch_s, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def check_ready(target: Target) -> None:
    """:class:`WarehouseNotInitializedError` unless the candle tables exist."""
    found = target.execute(sql.READY)[0][0]
    if found != sql.READY_TABLES:
        raise WarehouseNotInitializedError(target.where, f"{found} of the 3 load tables exist")


def load_bars(target: Target, bars: BatchBars, verdict: LoadVerdict,
              clock: Callable[[], float] = time.time) -> LoadResult:
    """MERGE ``bars`` into ``CORE.BARS`` with ``verdict`` on each row; audit the run."""
    check_ready(target)
    began, started = time.perf_counter(), clock()
    result = LoadResult(uuid.uuid4().hex, bars.date, target.kind, target.where,
                        list(bars.intervals), bars.symbols, bars.table.num_rows, 0, 0, 0,
                        verdict.verdict, verdict.reconcile_run_id, verdict.forced,
                        utc_text(started), bars.seconds, 0.0, 0.0, 0.0)
    target.execute(sql.AUDIT_START, (
        result.run_id, bars.date, bars.date, ",".join(bars.intervals), result.symbols,
        result.rows_read, verdict.verdict, verdict.reconcile_run_id, verdict.forced,
        result.started_at, _seconds(bars.seconds)))
    try:
        _stage_and_merge(target, bars, verdict, result, int(started * 1e6))
    except BaseException as exc:
        result.total_seconds = bars.seconds + time.perf_counter() - began
        _best_effort(target, "record the failure", sql.AUDIT_FINISH,
                     _finish_params(result, "failed", clock(), str(exc)[:2000]))
        raise
    finally:
        _best_effort(target, "drop the staged rows", sql.DROP_STAGE,
                     (result.run_id, int(clock() * 1e6) - STAGE_TTL_US))
    result.total_seconds = bars.seconds + time.perf_counter() - began
    target.execute(sql.AUDIT_FINISH, _finish_params(result, "loaded", clock(), None))
    return result


def _stage_and_merge(target: Target, bars: BatchBars, verdict: LoadVerdict, result: LoadResult,
                     staged_us: int) -> None:
    began = time.perf_counter()
    target.stage(stage_rows(bars, result.run_id, staged_us, verdict.verdict,
                            verdict.reconcile_run_id))
    staged, expected = target.execute(sql.STAGED_KEYS, (result.run_id,))[0][0], bars.keys
    if staged != expected:
        raise StageIncompleteError(result.run_id, expected, staged)
    result.stage_seconds = time.perf_counter() - began
    began = time.perf_counter()
    result.inserted, result.updated = target.merge(sql.merge_sql(result.run_id))
    result.merge_seconds = time.perf_counter() - began
    result.unchanged = expected - result.inserted - result.updated


def _finish_params(result: LoadResult, status: str, finished: float,
                   error: str | None) -> tuple[Any, ...]:
    return (status, result.inserted, result.updated, result.unchanged, utc_text(finished),
            _seconds(result.stage_seconds), _seconds(result.merge_seconds),
            _seconds(result.total_seconds), error, result.run_id)


def _seconds(value: float) -> str:
    return f"{value:.3f}"


def _best_effort(target: Target, what: str, statement: str, params: Sequence[Any]) -> None:
    try:
        target.execute(statement, params)
    except Exception as exc:  # the original outcome matters more than this clean-up
        log.warning("load: could not %s: %s", what, exc)
