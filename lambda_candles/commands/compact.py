"""``candles compact --date D``: merge the date's small archive files, atomically."""

from __future__ import annotations

import json
from dataclasses import asdict

import click
from rich.console import Console

from batch_layer.source import parse_date
from lambda_candles.options import setting_option, settings_from
from storage.compaction import compact_date
from storage.stores import open_store


@click.command("compact")
@click.option("--date", "date", required=True, help="UTC date to compact, YYYY-MM-DD.")
@setting_option("--root", "archive_root")
@setting_option("--target-rows", "compact_target_rows", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def compact(date: str, archive_root: str | None, compact_target_rows: int | None,
            as_json: bool) -> None:
    """Merge small files per partition; no row changes, re-running changes nothing."""
    settings = settings_from(archive_root=archive_root, compact_target_rows=compact_target_rows)
    day = parse_date(date).isoformat()
    with Console(stderr=True).status(f"compacting {day}"):
        summary = compact_date(open_store(settings), day, settings.compact_target_rows)
    if as_json:
        click.echo(json.dumps(asdict(summary)))
        return
    click.echo(f"compact {day}: {summary.merged:,} files merged into {summary.written:,} "
               f"({summary.rows:,} rows) in {summary.directories} directories; "
               f"{summary.deleted:,} superseded files deleted")
