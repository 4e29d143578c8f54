"""``candles klines check FILE``: do our candles match the exchange's own klines?

Exit status: 0 when every kline with trades equals our batch candle (and no candle lacks
a kline), 1 otherwise, 2 on a bad file or flags, or when the batch has not run on a date
the file covers (the CLI's exit for terminal errors).
"""

from __future__ import annotations

from pathlib import Path

import click

from lambda_candles import logs
from lambda_candles.options import setting_option, settings_from
from reconciliation.klines.check import check_klines
from reconciliation.klines.render import FIRST_SHOWN, render_check
from storage.stores import open_store


@click.group("klines")
def klines() -> None:
    """Exchange klines (Binance's 12-column layout) against our candles."""


@klines.command("check")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--symbol", default=None, help="Symbol of the klines (default: from a published "
              "name such as BTCUSDT-1m-2024-08-09.zip).")
@click.option("--interval", default=None, help="Kline interval (default: from the published "
              "name, else 1m); must be one of the batch intervals (CANDLES_INTERVALS).")
@click.option("--trade-count/--no-trade-count", default=True, show_default=True,
              help="Compare trade counts too. Pass --no-trade-count for candles made from "
              "aggTrades, which count each aggregate trade once.")
@click.option("--show", type=click.IntRange(min=0), default=FIRST_SHOWN, show_default=True,
              help="Differences shown per kind.")
@setting_option("--root", "archive_root")
def check(file: Path, symbol: str | None, interval: str | None, trade_count: bool, show: int,
          archive_root: str | None) -> None:
    """Compare the klines of FILE (csv or zip) with the batch candles of the same windows:
    open, high, low, close, volume and trade count. Exit 0 if all match, 1 if not."""
    settings = settings_from(archive_root=archive_root)
    logs.configure(settings.log_level, settings.log_format)
    result = check_klines(open_store(settings), settings, file, symbol, interval, trade_count)
    for line in render_check(result, show):
        click.echo(line)
    raise click.exceptions.Exit(0 if result.comparison.ok else 1)
