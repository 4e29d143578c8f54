"""CLI plumbing shared by every subcommand: settings-backed flags and the error boundary.

A flag that overrides a setting is declared with :func:`setting_option`; its ``--help``
text comes from the setting's own description and shows the environment variable, as
``[env: CANDLES_X]``. Commands call :func:`settings_from` once with their flag values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from candle_core.settings import CandlesSettings, env_name, load_settings

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
