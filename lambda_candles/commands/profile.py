"""``candles profile --date D``: a data-quality report of the master dataset."""

from __future__ import annotations

import json
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from batch_layer.profile import ProfileOptions, profile_date
from lambda_candles.commands.batch import split_symbols
from lambda_candles.options import setting_option, settings_from
from storage.stores import open_store


@click.command("profile")
@click.option("--date", "date", required=True, help="UTC date to profile, YYYY-MM-DD.")
@click.option("--symbols", default=None, help="Comma-separated symbols (default: all).")
@setting_option("--root", "archive_root")
@click.option("--gaps-ms", default="500,5000,30000", show_default=True,
              help="Gap thresholds in ms, comma-separated.")
@click.option("--outlier-pct", type=float, default=5.0, show_default=True,
              help="Flag prices this many % away from the rolling median.")
@click.option("--outlier-window", type=int, default=101, show_default=True,
              help="Trades in the rolling median.")
@click.option("--json-out", type=click.Path(dir_okay=False), default=None,
              help="Also write the full report as JSON to this file.")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON report, not a summary.")
def profile(date: str, symbols: str | None, archive_root: str | None, gaps_ms: str,
            outlier_pct: float, outlier_window: int, json_out: str | None,
            as_json: bool) -> None:
    """Gaps, price outliers, duplicates, conflicts, lateness and invalid records."""
    settings = settings_from(archive_root=archive_root)
    options = ProfileOptions(tuple(int(g) for g in gaps_ms.split(",")), outlier_window,
                             outlier_pct)
    with Console(stderr=True).status(f"profiling {date}"):
        report = profile_date(open_store(settings), settings, date, split_symbols(symbols),
                              options)
    if json_out:
        with open(json_out, "w") as handle:
            json.dump(report, handle, indent=2)
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    Console().print(summary_table(report))
    click.echo(f"duplicates {report['duplicates']:,}, conflicts {report['conflicts']:,}, "
               f"invalid {report['invalid'] or 'none'}")


def summary_table(report: dict[str, Any]) -> Table:
    first = next(iter(report["symbols"].values()))
    gap_labels = list(first["gaps"])
    table = Table("symbol", "trades", *(f">{g}" for g in gap_labels), "longest",
                  "outliers", "late p99", "too late",
                  title=f"master dataset profile {report['date']}")
    for symbol, row in report["symbols"].items():
        longest = max(g["longest_ms"] for g in row["gaps"].values())
        table.add_row(symbol, f"{row['trades']:,}",
                      *(f"{row['gaps'][g]['count']:,}" for g in gap_labels),
                      f"{longest / 1000:.1f} s", f"{row['outliers']['count']:,}",
                      f"{row['lateness']['p99_ms']:.0f} ms",
                      f"{row['lateness']['beyond_allowed']:,}")
    return table
