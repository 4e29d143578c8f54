"""``candles reconcile --date D``: speed candles against batch candles, attributed."""

from __future__ import annotations

import json
import sys

import click
from rich.console import Console

from lambda_candles import logs
from lambda_candles.options import date_option, setting_option, settings_from
from reconciliation.publish import reconcile_and_publish
from reconciliation.render import render
from storage.reconcile_report import Verdict
from storage.stores import open_store

BREACH_EXIT = {Verdict.OK: 0, Verdict.BREACH: 1, Verdict.CRITICAL: 4}


@click.command("reconcile")
@date_option()
@click.option("--interval", "intervals", multiple=True,
              help="Interval(s) to reconcile, repeated or comma-separated (default: every "
              "configured one, CANDLES_INTERVALS).")
@setting_option("--root", "archive_root")
@setting_option("--threshold", "drift_threshold")
@setting_option("--pushgateway", "pushgateway_url")
@click.option("--fail-on-breach", is_flag=True, help="Exit 1 on a breach and 4 on a "
              "critical (unexplained) verdict, instead of 0.")
@click.option("--json", "as_json", is_flag=True, help="Print the report JSON on stdout.")
@click.option("--rows", default=20, show_default=True, help="Groups shown in the table.")
def reconcile(date: str, intervals: tuple[str, ...], archive_root: str | None,
              drift_threshold: str | None, pushgateway_url: str | None, fail_on_breach: bool,
              as_json: bool, rows: int) -> None:
    """Compare the speed layer's candles of a date with the batch layer's, candle by candle.

    Writes report.json and drifted.parquet under <CANDLES_REPORTS_DIR>/reconcile/date=D/,
    pushes the figures to the Pushgateway when one is configured, and prints a summary.
    """
    settings = settings_from(archive_root=archive_root, drift_threshold=drift_threshold,
                             pushgateway_url=pushgateway_url)
    logs.configure(settings.log_level, settings.log_format)
    console = Console(stderr=True)
    store = open_store(settings)
    with console.status(f"reconcile {date}") as status:
        published = reconcile_and_publish(
            store, settings, date, list(intervals) or None,
            progress=lambda m: status.update(f"reconcile {date}: {m}"))
    if as_json:
        click.echo(json.dumps(published.report.to_dict(), indent=2))
    else:
        render(Console(width=None if sys.stdout.isatty() else 140), published.report, rows)
        click.echo(f"report: {published.report_uri}")
        if published.pushed:
            click.echo(f"metrics pushed to {settings.pushgateway_url}")
    if fail_on_breach:
        raise click.exceptions.Exit(BREACH_EXIT[published.result.verdict])
