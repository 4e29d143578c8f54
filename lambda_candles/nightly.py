"""``candles nightly``: batch -> reconcile -> load for one date, the CronJob's one command.

Each stage runs only if the one before it succeeded, and each is timed. The outcome is
pushed to the Pushgateway as ``job="candles_nightly"``: a success replaces the group; a
failure is added with ``pushadd`` so ``candles_nightly_last_success_timestamp_seconds``
keeps the last good run, which is what the staleness alert watches.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, Gauge, push_to_gateway, pushadd_to_gateway

from batch_layer.job import run_batch
from batch_layer.summary import BatchSummary
from lambda_candles.settings import CandlesSettings
from reconciliation.publish import Published, reconcile_and_publish
from storage.store import Store
from storage.warehouse.job import load_date
from storage.warehouse.loader import LoadResult
from storage.warehouse.targets import open_target, warehouse_kind

NIGHTLY_JOB = "candles_nightly"
STAGES = ("batch", "reconcile", "load")
Say = Callable[[str], None]


@dataclass
class Stage:
    """One stage's outcome, for the summary and the metrics."""

    name: str
    status: str = "skipped"  # ok | failed | skipped
    seconds: float = 0.0
    detail: str = ""


@dataclass
class NightlyRun:
    """Everything one nightly run did, stage by stage."""

    date: str
    stages: dict[str, Stage] = field(default_factory=lambda: {s: Stage(s) for s in STAGES})
    batch: BatchSummary | None = None
    reconciled: Published | None = None
    loaded: LoadResult | None = None

    @property
    def verdict(self) -> str | None:
        return None if self.reconciled is None else self.reconciled.result.verdict.value


def run_nightly(store: Store, settings: CandlesSettings, date: str, force: bool = False,
                say: Say | None = None,
                started: Callable[[NightlyRun], None] | None = None,
                batch: Callable[[], BatchSummary] | None = None) -> NightlyRun:
    """Run the three stages; a stage's exception propagates after it is recorded in the
    run (``started`` receives the run first, so a caller can report a failed one).
    ``batch`` replaces the batch stage (the sharded nightly waits for its shards there)."""
    run = NightlyRun(date)
    if started is not None:
        started(run)
    progress = say or (lambda _message: None)
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("batch", batch or (lambda: run_batch(store, settings, date, progress=progress))),
        ("reconcile", lambda: reconcile_and_publish(store, settings, date, progress=progress)),
        ("load", lambda: load_with_local_init(store, settings, date, force)),
    ]
    for name, action in steps:
        stage = run.stages[name]
        progress(f"{name} {date}")
        began = time.perf_counter()
        try:
            outcome = action()
        except BaseException as exc:
            stage.status, stage.seconds = "failed", time.perf_counter() - began
            stage.detail = f"{type(exc).__name__}: {exc}"
            raise
        stage.status, stage.seconds = "ok", time.perf_counter() - began
        setattr(run, {"batch": "batch", "reconcile": "reconciled", "load": "loaded"}[name],
                outcome)
        stage.detail = describe(name, outcome)
    return run


def load_with_local_init(store: Store, settings: CandlesSettings, date: str,
                         force: bool = False) -> LoadResult:
    """Load the date; a local DuckDB warehouse is created (idempotent DDL) when missing,
    a Snowflake one must have been set up with ``candles warehouse init``."""
    if warehouse_kind(settings) == "duckdb":
        target = open_target(settings, create=True)
        try:
            target.apply_schema()
        finally:
            target.close()
    return load_date(store, settings, date, force=force)


def describe(stage: str, outcome: Any) -> str:
    """A one-line account of what a stage did."""
    if isinstance(outcome, BatchSummary):
        return (f"{outcome.trades_used:,} trades, {sum(outcome.candles.values()):,} candles, "
                f"{outcome.files} files")
    if isinstance(outcome, Published):
        totals = outcome.report.totals
        return (f"verdict {outcome.report.verdict}: {totals.exact:,} of "
                f"{totals.compared:,} exact, {totals.breached:,} over the threshold, "
                f"{totals.unexplained:,} unexplained")
    if isinstance(outcome, LoadResult):
        return (f"{outcome.inserted:,} inserted, {outcome.updated:,} updated, "
                f"{outcome.unchanged:,} unchanged into {outcome.target} {outcome.where}")
    return ""


def push_outcome(gateway_url: str, run: NightlyRun, exit_code: int) -> None:
    """Push the run's outcome (see the module docstring for replace vs add)."""
    registry = CollectorRegistry()
    now = time.time()
    Gauge("candles_nightly_success", "1 if the last nightly run succeeded, else 0.",
          registry=registry).set(int(exit_code == 0))
    Gauge("candles_nightly_exit_code", "Exit status of the last nightly run.",
          registry=registry).set(exit_code)
    Gauge("candles_nightly_last_run_timestamp_seconds", "Unix time the last run ended.",
          registry=registry).set(now)
    durations = Gauge("candles_nightly_stage_duration_seconds", "Wall time of each stage "
                      "of the last run.", ["stage"], registry=registry)
    for stage in run.stages.values():
        durations.labels(stage.name).set(stage.seconds)
    if exit_code == 0:
        Gauge("candles_nightly_last_success_timestamp_seconds", "Unix time the last "
              "successful run ended.", registry=registry).set(now)
        push_to_gateway(gateway_url, job=NIGHTLY_JOB, registry=registry, timeout=10)
    else:
        pushadd_to_gateway(gateway_url, job=NIGHTLY_JOB, registry=registry, timeout=10)
