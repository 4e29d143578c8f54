"""CLI plumbing shared by every subcommand: settings-backed flags and the error boundary.

A flag that overrides a setting is declared with :func:`setting_option`; its ``--help``
text comes from the setting's own description and shows the environment variable, as
``[env: CANDLES_X]``. Commands call :func:`settings_from` once with their flag values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

import click

from lambda_candles.settings import CandlesSettings, env_name, load_settings

F = TypeVar("F", bound=Callable[..., Any])


def setting_option(flag: str, field: str, **kwargs: Any) -> Callable[[F], F]:
    """A click option that overrides setting ``field``; help shows its env variable."""
    info = CandlesSettings.model_fields[field]
    help_text = kwargs.pop("help", None) or info.description or field
    return click.option(
        flag, field, default=None, help=f"{help_text} [env: {env_name(field)}]", **kwargs
    )


def settings_from(**overrides: Any) -> CandlesSettings:
    """Load settings with the given flag overrides (``None`` = flag not given)."""
    return load_settings(**overrides)


def resolve_date(value: str, today: dt.date | None = None) -> str:
    """A ``--date`` value as ``YYYY-MM-DD``: a date, or ``today``/``yesterday`` (UTC), which
    is what a nightly CronJob passes."""
    base = today or dt.datetime.now(dt.UTC).date()
    named = {"today": base, "yesterday": base - dt.timedelta(days=1)}
    if value.lower() in named:
        return named[value.lower()].isoformat()
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise click.BadParameter(f"{value!r} is not YYYY-MM-DD, today or yesterday",
                                 param_hint="--date") from None


def date_option() -> Callable[[F], F]:
    """The ``--date`` option of the per-date jobs (batch, reconcile, load, nightly)."""
    return click.option("--date", "date", required=True,
                        callback=lambda _ctx, _param, value: resolve_date(value),
                        help="UTC date: YYYY-MM-DD, today or yesterday.")


def pace_options(command: F) -> F:
    """``--rate``, ``--realtime``, ``--speed``, ``--max-rate``: how a file is paced, for
    ``candles replay`` and ``candles feed serve`` alike (see ``sources.pacing``)."""
    options = [
        click.option("--rate", default="max", show_default=True, help="'max': as fast as "
                     "possible; a number: at most that many records per second."),
        click.option("--realtime", is_flag=True, help="Pace by the gaps between arrival "
                     "timestamps (recv_ts, else ts), in real time."),
        click.option("--speed", type=click.FloatRange(min=0.0, min_open=True), default=None,
                     help="Pace by timestamps at N x real time (implies --realtime)."),
        click.option("--max-rate", type=click.FloatRange(min=0.0, min_open=True),
                     default=None, help="At most N records per second (combines with "
                     "--speed)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command
