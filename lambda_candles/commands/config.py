"""``candles config``: print the effective configuration, secrets masked."""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table

from candle_core.settings import CandlesSettings, masked
from lambda_candles.options import settings_from


@click.command("config")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def config(as_json: bool) -> None:
    """Print the effective configuration (flags > env > .env > defaults), secrets masked."""
    settings = settings_from()
    shown = masked(settings)
    if as_json:
        click.echo(json.dumps(shown, indent=2))
        return
    table = Table("setting", "value", "description", title="lambda-candles configuration")
    for field, info in CandlesSettings.model_fields.items():
        name = f"CANDLES_{field.upper()}"
        table.add_row(name, "" if shown[name] is None else str(shown[name]), info.description)
    Console().print(table)
