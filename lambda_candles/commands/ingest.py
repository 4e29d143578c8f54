"""``candles ingest http URL``: a feed over HTTP into the trades topic, exactly once.

Reads the feed's NDJSON stream or polls its REST endpoint; valid trades go to ``trades``,
invalid records to the DLQ with their reason, through the idempotent producer. 429 waits
out ``Retry-After``; 5xx and dropped connections back off with jitter and resume from the
cursor. ``--checkpoint`` keeps the cursor across restarts (the topic is checked too, so a
crash never duplicates). Counters on ``/metrics`` (``--metrics-port``).
"""

from __future__ import annotations

import threading
from pathlib import Path

import click
from rich.console import Console

from lambda_candles import logs
from lambda_candles.http_server import start_observability
from lambda_candles.options import setting_option, settings_from
from sources.ingest import IngestOptions, Mode
from sources.ingest import ingest as run_ingest
from sources.ingest.backoff import Backoff
from sources.reporting import progress_bar, stop_on_signals, summary_table


@click.group("ingest")
def ingest() -> None:
    """Ingest trades from an external source into the trades topic."""


@ingest.command("http")
@click.argument("url")
@click.option("--mode", type=click.Choice([m.value for m in Mode]), default=Mode.STREAM.value,
              show_default=True, help="stream: follow GET /stream (NDJSON); rest: poll "
              "GET /trades per symbol with from_id paging.")
@click.option("--checkpoint", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="JSON file keeping the resume cursor across restarts (written atomically "
              "after each confirmed flush).")
@click.option("--poll-interval", "poll_interval_s", type=click.FloatRange(min=0.0),
              default=1.0, show_default=True, help="REST: seconds between polling rounds.")
@click.option("--limit", "page_limit", type=click.IntRange(1, 1_000), default=500,
              show_default=True, help="REST: records per page.")
@click.option("--checkpoint-every", type=click.IntRange(min=1), default=10_000,
              show_default=True, help="Flush and save the cursor every N records.")
@click.option("--backoff-base", "backoff_base_s", type=click.FloatRange(min=0.0),
              default=0.5, show_default=True, help="First backoff after a 5xx or a drop (s).")
@click.option("--backoff-cap", "backoff_cap_s", type=click.FloatRange(min=0.0),
              default=30.0, show_default=True, help="Longest backoff (s).")
@setting_option("--bootstrap-servers", "kafka_bootstrap_servers")
@setting_option("--topic", "topic_trades")
@setting_option("--dlq-topic", "topic_dlq")
@setting_option("--metrics-port", "metrics_port", type=int)
@click.option("--quiet", is_flag=True, help="No progress and no summary.")
def http(url: str, mode: str, checkpoint: Path | None, poll_interval_s: float,
         page_limit: int, checkpoint_every: int, backoff_base_s: float, backoff_cap_s: float,
         quiet: bool, **flags: str | int | None) -> None:
    """Ingest the feed at URL (e.g. http://127.0.0.1:8000) until it ends or Ctrl-C."""
    settings = settings_from(**flags)
    logs.configure(settings.log_level, settings.log_format)
    options = IngestOptions(poll_interval_s=poll_interval_s, page_limit=page_limit,
                            checkpoint_every=checkpoint_every,
                            backoff=Backoff(base_s=backoff_base_s, cap_s=backoff_cap_s))
    registry, heartbeat = start_observability(settings.metrics_port, stale_after_s=300.0)
    console, stop = Console(stderr=True), threading.Event()
    with stop_on_signals(stop), progress_bar(console, None, disable=quiet) as bar:
        task = bar.add_task(f"ingest {url}", total=None)

        def advance() -> None:
            heartbeat.beat()
            bar.advance(task, 1)

        run = run_ingest(settings, url, Mode(mode), checkpoint, options, registry, stop, advance)
    if not quiet:
        console.print(summary_table(f"ingest {url} -> {settings.topic_trades}", {
            "trades produced": run.produced, "invalid -> DLQ": run.invalid,
            "already in topic": run.skipped, "cursor (seq)": run.cursor_seq,
            "seconds": run.elapsed_s, "stopped early": "yes" if run.stopped else "no"}))

