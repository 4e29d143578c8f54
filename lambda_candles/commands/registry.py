"""The list of subcommands. Each lives in its own module under ``lambda_candles.commands``."""

from __future__ import annotations

import importlib

import click

# module name -> attribute holding the click command or group
_COMMANDS = {
    "config": "config",
    "kafka": "kafka",
    "topics": "topics",
    "speed": "speed",
    "simulate": "simulate",
    "replay": "replay",
    "feed": "feed",
    "ingest": "ingest",
    "demo": "demo",
    "archive": "archive",
    "batch": "batch",
    "compact": "compact",
    "profile": "profile",
    "reconcile": "reconcile",
    "klines": "klines",
    "warehouse": "warehouse",
    "load": "load",
    "nightly": "nightly",
    "serve": "serve",
}


def all_commands() -> list[click.Command]:
    """Import each command module and return its command object."""
    commands = []
    for module_name, attribute in _COMMANDS.items():
        module = importlib.import_module(f"lambda_candles.commands.{module_name}")
        commands.append(getattr(module, attribute))
    return commands
