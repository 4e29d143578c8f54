"""``candles topics create|describe``: the pipeline's topics, idempotently."""

from __future__ import annotations

import click
from confluent_kafka.admin import AdminClient
from rich.console import Console
from rich.table import Table

from kafka_ops.clients import common_config, consumer_config, resolve_bootstrap
from kafka_ops.topics import TopicReport, create_topics, describe_topics, pipeline_topics
from lambda_candles.options import setting_option, settings_from


@click.group("topics")
def topics() -> None:
    """Create or describe the pipeline's Kafka topics."""


@topics.command("create")
@setting_option("--bootstrap-servers", "kafka_bootstrap_servers")
@setting_option("--partitions", "trades_partitions", type=int)
@setting_option("--replication-factor", "replication_factor", type=int)
def create(
    kafka_bootstrap_servers: str | None, trades_partitions: int | None,
    replication_factor: int | None,
) -> None:
    """Create every topic the pipeline uses; existing ones are left as they are."""
    settings = settings_from(
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        trades_partitions=trades_partitions,
        replication_factor=replication_factor,
    )
    admin = AdminClient(common_config(settings))
    reports = create_topics(admin, pipeline_topics(settings), settings.replication_factor)
    _print(reports, f"topics on {resolve_bootstrap(settings)}")


@topics.command("describe")
@setting_option("--bootstrap-servers", "kafka_bootstrap_servers")
def describe(kafka_bootstrap_servers: str | None) -> None:
    """Show partitions, message counts and retention of the pipeline's topics."""
    settings = settings_from(kafka_bootstrap_servers=kafka_bootstrap_servers)
    bootstrap = resolve_bootstrap(settings)
    admin = AdminClient(common_config(settings, bootstrap))
    names = [spec.name for spec in pipeline_topics(settings)]
    conf = consumer_config(settings, "candles-topics-describe", bootstrap)
    _print(describe_topics(admin, conf, names), f"topics on {bootstrap}")


def _print(reports: list[TopicReport], title: str) -> None:
    table = Table("topic", "status", "partitions", "messages", "detail", title=title)
    for r in reports:
        messages = "" if r.messages is None else f"{r.messages:,}"
        table.add_row(r.name, r.status, str(r.partitions), messages, r.detail)
    Console().print(table)
