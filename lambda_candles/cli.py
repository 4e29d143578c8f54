"""The ``candles`` command: one subcommand per job.

Errors raised on purpose (:class:`CandlesError`) end the program with their message and
exit status 2 (bad config or input) or 3 (transient: try again); nothing else is caught.
"""

from __future__ import annotations

import faulthandler
import os
import signal
import sys

import click

from candle_core.exceptions import CandlesError, TransientError
from lambda_candles.commands import registry


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="lambda-candles")
def cli() -> None:
    """lambda-candles: drift-checked OHLCV candles from Kafka trades.

    Settings come from CLI flags, CANDLES_* environment variables and a .env file, in
    that order; `candles config` shows the effective values.
    """


for command in registry.all_commands():
    cli.add_command(command)


def main() -> None:
    """Console-script entry point. ``kill -USR1 <pid>`` prints every thread's stack to
    stderr (a process that looks stuck tells where it is)."""
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    try:
        status = cli.main(standalone_mode=False)  # a click Exit(n) comes back as n
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except CandlesError as exc:
        click.secho(f"error: {exc}", fg="red", err=True)
        code = 3 if isinstance(exc, TransientError) else 2
        if getattr(exc, "abandon_clients", False):  # closing them could wait forever
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        sys.exit(code)
    if isinstance(status, int) and status:
        sys.exit(status)


if __name__ == "__main__":
    main()
