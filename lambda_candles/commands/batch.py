"""``candles batch --date D``: recompute the date's candles from the master dataset."""

from __future__ import annotations

import json
from dataclasses import asdict

import click
from rich.console import Console

from batch_layer.job import run_batch
from batch_layer.shards import ALL, parse_shard
from lambda_candles import logs
from lambda_candles.options import setting_option, settings_from
from storage.stores import open_store


def split_symbols(value: str | None) -> list[str] | None:
    """``"AAPL, MSFT"`` -> ``["AAPL", "MSFT"]``; None or empty -> None (every symbol)."""
    if not value:
        return None
    return [part.strip() for part in value.split(",") if part.strip()] or None


@click.command("batch")
@click.option("--date", "date", required=True, help="UTC date to compute, YYYY-MM-DD.")
@click.option("--symbols", default=None, help="Comma-separated symbols (default: every "
              "symbol of the date). Other symbols' files are not even listed.")
@click.option("--shard", default=None, metavar="I/N", help="Only the symbols of shard I of "
              "N (0 <= I < N; a hash of the symbol, docs/master-dataset.md): N runs with "
              "I = 0..N-1 write, between them, exactly the files of one run without it.")
@setting_option("--root", "archive_root")
@setting_option("--intervals", "intervals")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def batch(date: str, symbols: str | None, shard: str | None, archive_root: str | None,
          intervals: str | None, as_json: bool) -> None:
    """Exact candles of every interval for one date -> candles/source=batch/..., and the
    trades dropped as duplicates -> duplicates/..."""
    part = parse_shard(shard) if shard else ALL
    settings = settings_from(archive_root=archive_root, intervals=intervals)
    logs.configure(settings.log_level, settings.log_format)
    console = Console(stderr=True)
    with console.status(f"batch {date}") as status:
        summary = run_batch(open_store(settings), settings, date, split_symbols(symbols),
                            part, progress=lambda m: status.update(f"batch {date}: {m}"))
    if as_json:
        click.echo(json.dumps(asdict(summary)))
        return
    rate = summary.trades_used / summary.seconds if summary.seconds else 0.0
    where = "" if part == ALL else f" (shard {part})"
    click.echo(f"batch {date}{where}: {summary.trades_used:,} trades ({rate:,.0f}/s) from "
               f"{len(summary.symbols)} symbols, {summary.duplicates:,} duplicates and "
               f"{summary.conflicts:,} conflicts dropped; candles {summary.candles}; "
               f"{summary.files} files in {summary.seconds:.2f} s")
