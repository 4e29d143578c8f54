"""``candles serve``: the serving layer (HTTP API, event stream and the chart page)."""

from __future__ import annotations

import click

from lambda_candles import logs
from lambda_candles.options import setting_option, settings_from


@click.command("serve")
@setting_option("--bootstrap-servers", "kafka_bootstrap_servers")
@setting_option("--root", "archive_root")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free port).")
@click.option("--ring-hours", default=6.0, show_default=True, type=click.FloatRange(min=0.01),
              help="Hours of final speed candles kept in memory (read back from the candles "
              "topic at start).")
@click.option("--ring-max-bars", default=20_000, show_default=True,
              type=click.IntRange(min=10), help="At most this many candles per symbol and "
              "interval in memory.")
@click.option("--speed-metrics-url", default=None,
              help="The speed layer's /metrics URL, for the status strip (throughput, lag, "
              "late and DLQ rates). Default: the serving process's own figures.")
@click.option("--no-kafka", is_flag=True, help="Serve the archive only (no live tail).")
def serve(kafka_bootstrap_servers: str | None, archive_root: str | None, host: str, port: int,
          ring_hours: float, ring_max_bars: int, speed_metrics_url: str | None,
          no_kafka: bool) -> None:
    """Serve batch-verified candles with the speed layer's tail, live, and the chart page."""
    from serving.app import serve_in_foreground
    from serving.services import ServeOptions

    settings = settings_from(kafka_bootstrap_servers=kafka_bootstrap_servers,
                             archive_root=archive_root)
    logs.configure(settings.log_level, settings.log_format)
    options = ServeOptions(host, port, ring_hours, ring_max_bars, speed_metrics_url,
                           kafka=not no_kafka)
    serve_in_foreground(settings, options, echo=click.echo)
