"""``candles nightly --date D``: batch -> reconcile -> load, with one screen of summary."""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import asdict, dataclass

import click
from rich.console import Console
from rich.table import Table

from batch_layer.shards import Shard
from batch_layer.summary import BatchSummary
from candle_core.exceptions import CandlesError, TransientError
from lambda_candles import logs
from lambda_candles.nightly import NightlyRun, push_outcome, run_nightly
from lambda_candles.nightly_shards import ShardWait, run_shard, wait_for_shards
from lambda_candles.options import date_option, setting_option, settings_from
from lambda_candles.settings import CandlesSettings
from reconciliation.render import VERDICT_STYLE, VERDICT_TEXT
from storage.store import Store
from storage.stores import open_store

log = logging.getLogger(__name__)
VERDICT_EXIT = {"ok": 0, "breach": 1, "critical": 4}
INTERNAL_ERROR = 5
STATUS_STYLE = {"ok": "green", "failed": "bold red", "skipped": "dim"}


@click.command("nightly")
@date_option()
@setting_option("--root", "archive_root")
@setting_option("--pushgateway", "pushgateway_url")
@click.option("--force", is_flag=True, help="Load even without a reconciliation report "
              "(never needed here: the reconcile stage writes one).")
@click.option("--fail-on-breach", is_flag=True, help="Exit 1 on a breach, 4 on a critical "
              "verdict (the bars are loaded either way).")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
@click.option("--shards", type=click.IntRange(min=1), default=None, help="A sharded run "
              "(a Kubernetes Indexed Job of N+1 pods): --index I < N batches shard I/N "
              "only; --index N waits for the N shards, then reconciles and loads.")
@click.option("--index", "index", type=click.IntRange(min=0), default=None,
              help="With --shards: this pod's completion index, 0..N.")
@click.option("--run", "run_name", default=None, help="With --shards: the run's name, the "
              "same in each of its pods (the Job's name).")
@click.option("--wait-timeout", type=click.FloatRange(min=0), default=3 * 3600.0,
              show_default=True, help="With --index N: seconds to wait for the shards.")
def nightly(date: str, archive_root: str | None, pushgateway_url: str | None, force: bool,
            fail_on_breach: bool, as_json: bool, shards: int | None, index: int | None,
            run_name: str | None, wait_timeout: float) -> None:
    """Batch, reconcile and load one date: what the Kubernetes CronJob runs.

    Exit status: 0 done (whatever the verdict, unless --fail-on-breach), 2 bad input or
    configuration, 3 a transient failure (retry), 1/4 breach/critical with --fail-on-breach,
    5 an internal error (a bug; the traceback is logged).
    """
    settings = settings_from(archive_root=archive_root, pushgateway_url=pushgateway_url)
    logs.configure(settings.log_level, settings.log_format)
    console = Console(stderr=True)
    store = open_store(settings)
    holder: list[NightlyRun] = []
    place = _place(shards, index, run_name)
    if place is not None and place.index < place.count:
        _shard_only(store, settings, date, place, str(run_name), as_json, console)
        return
    try:
        with console.status(f"nightly {date}") as status:
            say = lambda m: status.update(f"nightly {date}: {m}")  # noqa: E731
            batch = None if place is None else (lambda: wait_for_shards(
                store, date, str(run_name), place.count, ShardWait(wait_timeout), say))
            run = run_nightly(store, settings, date, force, say=say,
                              started=holder.append, batch=batch)
    except Exception as exc:
        expected = isinstance(exc, CandlesError)
        code = (3 if isinstance(exc, TransientError) else 2) if expected else INTERNAL_ERROR
        if holder:
            show(holder[0], as_json, code)
            _push(settings.pushgateway_url, holder[0], code)
        if expected:
            raise
        log.exception("nightly %s: internal error (a bug: please report it)", date)
        raise click.exceptions.Exit(INTERNAL_ERROR) from exc
    code = VERDICT_EXIT[run.verdict or "ok"] if fail_on_breach else 0
    show(run, as_json, code)
    _push(settings.pushgateway_url, run, code)
    if code:
        raise click.exceptions.Exit(code)


@dataclass(frozen=True)
class Place:
    """This pod's place in a sharded run: ``index < count`` batches shard ``index``;
    ``index == count`` waits for the ``count`` shards, then reconciles and loads."""

    index: int
    count: int


def _place(shards: int | None, index: int | None, run_name: str | None) -> Place | None:
    """``--shards``/``--index``/``--run`` checked; None for a nightly that is not sharded."""
    if shards is None:
        if index is not None or run_name is not None:
            raise click.UsageError("--index and --run go with --shards")
        return None
    if index is None or not run_name or index > shards:
        raise click.UsageError(f"--shards {shards} needs --index 0..{shards} and --run")
    return Place(index, shards)


def _shard_only(store: Store, settings: CandlesSettings, date: str, place: Place,
                run_name: str, as_json: bool, console: Console) -> None:
    shard = Shard(place.index, place.count)
    try:
        with console.status(f"nightly {date}: shard {shard}") as status:
            summary = run_shard(store, settings, date, shard, run_name,
                                say=lambda m: status.update(f"shard {shard}: {m}"))
    except CandlesError:
        raise
    except Exception as exc:
        log.exception("nightly %s shard %s: internal error (a bug: please report it)",
                      date, shard)
        raise click.exceptions.Exit(INTERNAL_ERROR) from exc
    click.echo(json.dumps(asdict(summary)) if as_json else _shard_line(summary))


def _shard_line(summary: BatchSummary) -> str:
    return (f"nightly {summary.date} shard {summary.shard}: {summary.trades_used:,} trades "
            f"of {len(summary.symbols)} symbols, {summary.files} files in "
            f"{summary.seconds:.2f} s; marked finished")


def _push(url: str | None, run: NightlyRun, code: int) -> None:
    if not url:
        return
    try:
        push_outcome(url, run, code)
    except OSError as exc:  # the run's own outcome matters more than its metrics
        log.error("could not push the nightly outcome to %s: %s", url, exc)


def show(run: NightlyRun, as_json: bool, code: int) -> None:
    """The one-screen summary (or JSON) of a run, finished or failed."""
    if as_json:
        click.echo(json.dumps({
            "date": run.date, "exit_code": code, "verdict": run.verdict,
            "stages": [vars(stage) for stage in run.stages.values()],
            "report": run.reconciled.report_uri if run.reconciled else None,
            "loaded": vars(run.loaded) if run.loaded else None}, indent=2))
        return
    console = Console(width=None if sys.stdout.isatty() else 140)
    table = Table(title=f"nightly {run.date}")
    for name in ("stage", "status", "seconds", "what happened"):
        table.add_column(name, justify="right" if name == "seconds" else "left")
    for stage in run.stages.values():
        table.add_row(stage.name, f"[{STATUS_STYLE[stage.status]}]{stage.status}[/]",
                      f"{stage.seconds:.2f}", stage.detail)
    console.print(table)
    if run.verdict:
        console.print(f"verdict: [{VERDICT_STYLE[run.verdict]}]{run.verdict.upper()}[/] — "
                      f"{VERDICT_TEXT[run.verdict]}")
    if run.reconciled:
        console.print(f"report: {run.reconciled.report_uri}")
    if run.loaded:
        console.print(f"bars: {run.loaded.target} {run.loaded.where} (load run "
                      f"{run.loaded.run_id})")
