"""``candles kafka start|stop|status``: a real Apache Kafka broker (KRaft) with no Docker."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import click

from kafka_ops.clients import local_kafka_config
from kafka_ops.launcher import LocalKafka
from lambda_candles.options import setting_option, settings_from

F = TypeVar("F", bound=Callable[..., Any])


def _broker(run_dir: str | None, port: int | None, version: str | None) -> LocalKafka:
    settings = settings_from(kafka_run_dir=run_dir, kafka_port=port, kafka_version=version)
    return LocalKafka(local_kafka_config(settings))


def _broker_options(command: F) -> F:
    for decorator in reversed(
        [
            setting_option("--run-dir", "kafka_run_dir"),
            setting_option("--port", "kafka_port", type=int),
            setting_option("--version", "kafka_version"),
        ]
    ):
        command = decorator(command)
    return command


@click.group("kafka")
def kafka() -> None:
    """Run a local single-node Kafka broker for development, demos and tests.

    The first start fetches the Apache Kafka jars from Maven Central with `mvn` into the
    cache directory (about 45 MB); later starts take a few seconds.
    """


@kafka.command("start")
@_broker_options
def start(kafka_run_dir: str | None, kafka_port: int | None, kafka_version: str | None) -> None:
    """Start the broker (or report the one already running) and print its bootstrap."""
    broker = _broker(kafka_run_dir, kafka_port, kafka_version)
    began = time.monotonic()
    bootstrap = broker.start()
    click.echo(f"kafka ready at {bootstrap} ({time.monotonic() - began:.1f} s)")
    click.echo(f"  logs: {broker.log_path}")
    click.echo(f"  use:  export CANDLES_KAFKA_BOOTSTRAP_SERVERS={bootstrap}")


@kafka.command("stop")
@_broker_options
def stop(kafka_run_dir: str | None, kafka_port: int | None, kafka_version: str | None) -> None:
    """Stop the broker (SIGTERM, then SIGKILL after a timeout). Its data is kept."""
    stopped = _broker(kafka_run_dir, kafka_port, kafka_version).stop()
    click.echo("kafka stopped" if stopped else "kafka was not running")


@kafka.command("status")
@_broker_options
def status(kafka_run_dir: str | None, kafka_port: int | None, kafka_version: str | None) -> None:
    """Say whether the broker runs; exit status 1 when it does not."""
    state = _broker(kafka_run_dir, kafka_port, kafka_version).status()
    if not state.running:
        click.echo(f"kafka is not running (run dir {state.run_dir})")
        raise SystemExit(1)
    click.echo(f"kafka {state.version} running, pid {state.pid}, bootstrap {state.bootstrap}")
    click.echo(f"  run dir: {state.run_dir}\n  log:     {state.log_path}")
