"""``candles demo``: the main job end to end on embedded defaults."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from candle_core.windows import parse_interval
from kafka_ops.clients import local_kafka_config
from kafka_ops.launcher import LocalKafka
from lambda_candles import logs
from lambda_candles.demo import DemoReport, run_demo
from lambda_candles.options import setting_option, settings_from
from reconciliation.render import render
from serving.app import serve_in_foreground
from serving.services import ServeOptions
from storage.reconcile_report import Verdict


@click.command("demo")
@click.option("--trades", "-n", type=click.IntRange(1_000, 50_000_000), default=200_000,
              show_default=True, help="How many trades to simulate.")
@click.option("--workdir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where the simulated file goes (default: the data dir).")
@click.option("--keep-kafka", is_flag=True,
              help="Leave the local broker running afterwards (`candles kafka stop`).")
@click.option("--source", type=click.Choice(["replay", "http"]), default="replay",
              show_default=True, help="How trades reach Kafka: replay the file, or serve it "
              "as an HTTP tick feed (candles feed serve) read by candles ingest http.")
@click.option("--serve/--no-serve", default=True, show_default=True,
              help="End by serving the chart page (candles serve) until Ctrl-C.")
@click.option("--serve-port", type=click.IntRange(0, 65535), default=8000, show_default=True,
              help="Port of the chart page (0: any free port).")
@setting_option("--bootstrap-servers", "kafka_bootstrap_servers")
def demo(trades: int, workdir: Path | None, keep_kafka: bool, source: str, serve: bool,
         serve_port: int, kafka_bootstrap_servers: str | None) -> None:
    """Run the pipeline on a simulated chaos stream and show what went where.

    Starts a local Kafka broker unless one is configured, creates this run's topics,
    simulates trades with every fault injected, replays them into Kafka, runs the speed
    layer until the stream is drained, and checks its candles against the contract's
    reference implementation; archives everything, recomputes the candles in the batch
    layer, reconciles speed against batch (attributing every drift), loads the verified
    bars into a local DuckDB warehouse (or Snowflake, when configured), and serves the
    chart page until Ctrl-C (--no-serve to stop there).
    """
    settings = settings_from(kafka_bootstrap_servers=kafka_bootstrap_servers)
    logs.configure("WARNING", settings.log_format)
    console = Console(width=None if sys.stdout.isatty() else 120)
    local = None if settings.kafka_bootstrap_servers else LocalKafka(local_kafka_config(settings))
    stop_broker_after = local is not None and not keep_kafka and not local.status().running
    report = run_demo(settings, trades, workdir or settings.data_dir, keep_kafka or serve,
                      lambda line: console.print(f"[bold cyan]>[/] {line}"), source)
    console.print(where_it_went(report))
    verdict = "[green]all exact[/]" if report.exact == report.expected else "[red]MISMATCH[/]"
    console.print(f"speed-layer candles vs the contract reference: {report.exact:,} of "
                  f"{report.expected:,} exact — {verdict}")
    batch_ok = report.batch_exact == report.batch_expected
    verdict = "[green]all exact[/]" if batch_ok else "[red]MISMATCH[/]"
    console.print(f"batch-layer candles vs the contract reference: {report.batch_exact:,} of "
                  f"{report.batch_expected:,} exact — {verdict}")
    for published in report.reconciled:
        render(console, published.report, max_rows=12)
        console.print(f"report: {published.report_uri}")
    for loaded in report.loaded:
        console.print(f"bars of {loaded.date}: {loaded.inserted:,} inserted, "
                      f"{loaded.updated:,} updated, {loaded.unchanged:,} unchanged into "
                      f"{loaded.target} {loaded.where} (verdict {loaded.verdict} recorded)")
    console.print(f"topics: demo-{report.run_id}.*  on {report.bootstrap}\n"
                  f"trades file: {report.trades_file}\nmaster dataset: {report.lake}")
    critical = any(p.result.verdict is Verdict.CRITICAL for p in report.reconciled)
    failed = report.exact != report.expected or not batch_ok or critical
    if serve and report.settings is not None and not failed:
        try:
            serve_in_foreground(report.settings, ServeOptions(port=serve_port, ring_hours=24),
                                echo=console.print)
        finally:
            if stop_broker_after and local is not None:
                local.stop()
    if failed:
        raise SystemExit(1)


def where_it_went(report: DemoReport) -> Table:
    """One table: every record's destination, with counts and step timings."""
    table = Table("step", "what", "count", title=f"demo {report.run_id}: what went where")
    for label, count in sorted(report.simulated.items()):
        table.add_row("simulate", f"records labelled {label}", f"{count:,}")
    table.add_row("replay", "sent to trades", f"{report.replayed:,}")
    speed = report.speed
    table.add_row("speed layer", "consumed", f"{speed.consumed:,}")
    table.add_row("", "valid trades applied", f"{speed.valid:,}")
    table.add_row("", "exact duplicates dropped", f"{speed.duplicates:,}")
    table.add_row("", "late, revised their candles", f"{report.revising:,}")
    table.add_row("", "later than the revision horizon -> trades.late", f"{report.late:,}")
    for reason, count in sorted(report.dlq_by_reason.items()):
        table.add_row("", f"dead letter: {reason}", f"{count:,}")
    for interval, count in sorted(report.candles_by_interval.items(),
                                  key=lambda item: parse_interval(item[0])):
        table.add_row("candles", f"{interval} candles committed", f"{count:,}")
    table.add_row("", "revisions committed (candles emitted again)", f"{report.revisions:,}")
    if report.archive is not None:
        table.add_row("archive", "messages archived", f"{report.archive.consumed:,}")
        for kind, rows in sorted(report.archive.rows.items()):
            table.add_row("", f"{kind} rows", f"{rows:,}")
        table.add_row("", "Parquet files", f"{report.archive.files:,}")
    for summary in report.batch:
        table.add_row("batch layer", f"{summary.date}: trades used", f"{summary.trades_used:,}")
        table.add_row("", f"{summary.date}: duplicates / conflicts dropped",
                      f"{summary.duplicates:,} / {summary.conflicts:,}")
        table.add_row("", f"{summary.date}: candles", f"{sum(summary.candles.values()):,}")
    for step, seconds in report.seconds.items():
        table.add_row("time", step, f"{seconds:.1f} s")
    return table
