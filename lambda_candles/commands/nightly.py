"""``candles nightly --date D``: batch -> reconcile -> load, with one screen of summary."""

from __future__ import annotations

import json
import logging
import sys

import click
from rich.console import Console
from rich.table import Table

from candle_core.exceptions import CandlesError, TransientError
from lambda_candles import logs
from lambda_candles.nightly import NightlyRun, push_outcome, run_nightly
from lambda_candles.options import date_option, setting_option, settings_from
from reconciliation.render import VERDICT_STYLE, VERDICT_TEXT
from storage.store import open_store

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
def nightly(date: str, archive_root: str | None, pushgateway_url: str | None, force: bool,
            fail_on_breach: bool, as_json: bool) -> None:
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
    try:
        with console.status(f"nightly {date}") as status:
            run = run_nightly(store, settings, date, force,
                              say=lambda m: status.update(f"nightly {date}: {m}"),
                              started=holder.append)
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
