"""``candles archive``: the master dataset writer, a member of the ``candles-archive`` group."""

from __future__ import annotations

import json
from dataclasses import asdict

import click

from kafka_ops.liveness import StallWatchdog
from lambda_candles import logs
from lambda_candles.http_server import STALL_EXIT_S, STOP_GRACE_S, start_observability
from lambda_candles.options import setting_option, settings_from
from storage.archiver import Archiver, build_clients
from storage.metrics import ArchiveMetrics
from storage.run_state import StopRules
from storage.sinks import archive_sinks
from storage.stores import open_store


@click.command("archive")
@setting_option("--bootstrap-servers", "kafka_bootstrap_servers")
@setting_option("--root", "archive_root")
@setting_option("--group-id", "archive_group_id")
@setting_option("--instance-id", "archive_instance_id")
@setting_option("--chunk-offsets", "archive_chunk_offsets", type=int)
@setting_option("--flush-interval-ms", "archive_flush_interval_ms", type=int)
@setting_option("--metrics-port", "metrics_port", type=int)
@click.option("--trades-only", is_flag=True, help="Archive trades only, not the speed "
              "layer's candles, late trades and dead letters.")
@click.option("--until-idle", "until_idle_s", type=float, default=None,
              help="Exit once every partition has been at its end for this many seconds "
              "(open chunks are written first). Default: run until SIGTERM.")
@click.option("--max-messages", type=int, default=None, help="Exit after this many messages.")
@click.option("--max-runtime", "max_runtime_s", type=float, default=None,
              help="Exit after this many seconds.")
@click.option("--summary-json", is_flag=True, help="Print the closing summary as JSON.")
def archive(
    kafka_bootstrap_servers: str | None, archive_root: str | None, archive_group_id: str | None,
    archive_instance_id: str | None,
    archive_chunk_offsets: int | None, archive_flush_interval_ms: int | None,
    metrics_port: int | None, trades_only: bool, until_idle_s: float | None,
    max_messages: int | None, max_runtime_s: float | None, summary_json: bool,
) -> None:
    """Write trades (and speed candles) to the Parquet master dataset, exactly once."""
    settings = settings_from(
        kafka_bootstrap_servers=kafka_bootstrap_servers, archive_root=archive_root,
        archive_group_id=archive_group_id, archive_instance_id=archive_instance_id,
        archive_chunk_offsets=archive_chunk_offsets,
        archive_flush_interval_ms=archive_flush_interval_ms, metrics_port=metrics_port,
    )
    logs.configure(settings.log_level, settings.log_format)
    registry, heartbeat = start_observability(settings.metrics_port, stale_after_s=60.0)
    StallWatchdog(heartbeat, stall_s=STALL_EXIT_S, stop_grace_s=STOP_GRACE_S).start()
    store = open_store(settings)
    archiver = Archiver(settings, build_clients(settings), store, ArchiveMetrics(registry),
                        archive_sinks(settings, candles=not trades_only), heartbeat,
                        StopRules(until_idle_s, max_messages, max_runtime_s))
    summary = archiver.run()
    if summary_json:
        click.echo(json.dumps(asdict(summary)))
        return
    click.echo(f"archive {store.root_uri}: {summary.consumed:,} messages in "
               f"{summary.seconds:.1f} s, {summary.chunks:,} chunks committed, "
               f"{summary.files:,} files ({summary.bytes:,} bytes), rows committed "
               f"{summary.rows}, rows in open chunks {summary.pending_rows}")
