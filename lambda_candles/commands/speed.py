"""``candles speed``: the speed layer, a member of the ``candles-speed`` consumer group."""

from __future__ import annotations

import json

import click

from kafka_ops.liveness import StallWatchdog
from lambda_candles import logs
from lambda_candles.http_server import STALL_EXIT_S, STOP_GRACE_S, start_observability
from lambda_candles.options import setting_option, settings_from
from speed_layer.clients import build_clients
from speed_layer.metrics import SpeedMetrics
from speed_layer.processor import SpeedLayer, StopRules


@click.command("speed")
@setting_option("--bootstrap-servers", "kafka_bootstrap_servers")
@setting_option("--instance-id", "speed_instance_id")
@setting_option("--group-id", "speed_group_id")
@setting_option("--allowed-lateness-ms", "allowed_lateness_ms", type=int)
@setting_option("--idle-timeout-ms", "idle_timeout_ms", type=int)
@setting_option("--revision-horizon-ms", "revision_horizon_ms", type=int)
@setting_option("--commit-interval-ms", "speed_commit_interval_ms", type=int)
@setting_option("--backlog-commit-interval-ms", "speed_backlog_commit_interval_ms", type=int)
@setting_option("--metrics-port", "metrics_port", type=int)
@click.option("--live", is_flag=True, help="Also publish in-progress candles to the live topic.")
@click.option("--exit-when-idle", "idle_exit_s", type=float, default=None,
              help="Exit once no trade arrived for this many seconds and every window is "
              "flushed (for demos and batch-style runs). Default: run until SIGTERM.")
@click.option("--max-runtime", "max_runtime_s", type=float, default=None,
              help="Exit after this many seconds.")
@click.option("--summary-json", is_flag=True, help="Print the closing summary as JSON.")
def speed(
    kafka_bootstrap_servers: str | None, speed_instance_id: str | None,
    speed_group_id: str | None, allowed_lateness_ms: int | None, idle_timeout_ms: int | None,
    revision_horizon_ms: int | None, speed_commit_interval_ms: int | None,
    speed_backlog_commit_interval_ms: int | None,
    metrics_port: int | None, live: bool,
    idle_exit_s: float | None, max_runtime_s: float | None, summary_json: bool,
) -> None:
    """Consume trades, emit final candles exactly once (SIGTERM finishes the transaction)."""
    settings = settings_from(
        kafka_bootstrap_servers=kafka_bootstrap_servers, speed_instance_id=speed_instance_id,
        speed_group_id=speed_group_id, allowed_lateness_ms=allowed_lateness_ms,
        idle_timeout_ms=idle_timeout_ms, revision_horizon_ms=revision_horizon_ms,
        speed_commit_interval_ms=speed_commit_interval_ms,
        speed_backlog_commit_interval_ms=speed_backlog_commit_interval_ms,
        metrics_port=metrics_port,
    )
    logs.configure(settings.log_level, settings.log_format)
    registry, heartbeat = start_observability(settings.metrics_port, stale_after_s=30.0)
    StallWatchdog(heartbeat, stall_s=STALL_EXIT_S, stop_grace_s=STOP_GRACE_S).start()
    layer = SpeedLayer(settings, build_clients(settings), SpeedMetrics(registry), heartbeat,
                       StopRules(idle_exit_s, max_runtime_s), live=live)
    summary = layer.run()
    if summary_json:
        click.echo(json.dumps(summary.__dict__))
        return
    rate = summary.consumed / summary.seconds if summary.seconds else 0.0
    click.echo(f"speed layer: {summary.consumed:,} records in {summary.seconds:.1f} s "
               f"({rate:,.0f}/s), {summary.candles:,} candles (revisions included), "
               f"{summary.revising:,} late trades revised them, {summary.late:,} late, "
               f"{summary.duplicates:,} duplicates, {summary.dlq:,} dead letters "
               f"{summary.by_reason}, {summary.commits:,} commits")
