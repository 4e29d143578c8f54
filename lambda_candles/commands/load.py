"""``candles load --date D``: the date's batch bars into the warehouse, verdict recorded."""

from __future__ import annotations

import json
from dataclasses import asdict

import click
from rich.console import Console

from batch_layer.source import parse_date
from lambda_candles import logs
from lambda_candles.options import date_option, setting_option, settings_from
from storage.stores import open_store
from storage.warehouse.job import UNRECONCILED, load_date
from storage.warehouse.loader import LoadResult


@click.command("load")
@date_option()
@click.option("--interval", "interval", multiple=True, help="Interval(s) to load, repeated or "
              "comma-separated (default: every configured interval, CANDLES_INTERVALS).")
@click.option("--force", is_flag=True, help="Load a date that has no reconciliation report "
              "(its verdict is recorded as 'unreconciled').")
@setting_option("--root", "archive_root")
@setting_option("--warehouse", "warehouse", type=click.Choice(["auto", "duckdb", "snowflake"]))
@setting_option("--duckdb-path", "warehouse_duckdb_path")
@setting_option("--pushgateway", "pushgateway_url")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def load(date: str, interval: tuple[str, ...], force: bool, archive_root: str | None,
         warehouse: str | None, warehouse_duckdb_path: str | None,
         pushgateway_url: str | None, as_json: bool) -> None:
    """MERGE the date's verified batch bars into the warehouse; re-running changes nothing.

    A date without a reconciliation report is refused unless --force; a breached one is
    loaded with its verdict (the batch bars are the truth, the drift is the speed layer's).
    """
    settings = settings_from(archive_root=archive_root, warehouse=warehouse,
                             warehouse_duckdb_path=warehouse_duckdb_path,
                             pushgateway_url=pushgateway_url)
    logs.configure(settings.log_level, settings.log_format)
    day = parse_date(date).isoformat()
    with Console(stderr=True).status(f"load {day}") as status:
        result = load_date(open_store(settings), settings, day, force, interval,
                           progress=lambda message: status.update(f"load {day}: {message}"))
    if as_json:
        click.echo(json.dumps(asdict(result)))
        return
    summary(result)


def summary(r: LoadResult) -> None:
    """One screen: where, what the MERGE did, the verdict, the time per stage."""
    reconcile = f" (reconcile run {r.reconcile_run_id})" if r.reconcile_run_id else ""
    click.echo(f"load {r.date} -> {r.target} {r.where}\n"
               f"  run      {r.run_id}\n"
               f"  bars     {r.rows_read:,} read from {r.symbols} symbols, intervals "
               f"{','.join(r.intervals)}\n"
               f"  merge    {r.inserted:,} inserted, {r.updated:,} updated, "
               f"{r.unchanged:,} unchanged\n"
               f"  verdict  {r.verdict}{reconcile}\n"
               f"  time     {r.total_seconds:.2f} s (read {r.read_seconds:.2f}, stage "
               f"{r.stage_seconds:.2f}, merge {r.merge_seconds:.2f})")
    if r.verdict == UNRECONCILED:
        click.secho("loaded without a reconciliation (--force): run `candles reconcile "
                    f"--date {r.date}`, then load again to record its verdict",
                    fg="yellow", err=True)
