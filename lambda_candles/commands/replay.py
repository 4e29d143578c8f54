"""``candles replay FILE``: produce a file of trades into the trades topic.

Formats: project NDJSON or Parquet, typed trades Parquet, Kibot tick files, Binance trades
and aggTrades (csv or the published zip), any venue's CSV mapped with ``--columns`` (see
``sources.formats``); ``--assign-ids`` numbers a tape without trade ids. Messages keep
their arrival time as Kafka timestamp; the producer is idempotent. Ctrl-C or SIGTERM stops
between messages, flushes and prints the summary (a second Ctrl-C aborts at once).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path

import click
from rich.console import Console

from kafka_ops.clients import producer_config
from lambda_candles.options import pace_options, setting_option, settings_from
from sources.exceptions import DeliveryError, SourceOptionError
from sources.formats import FileFormat, open_records
from sources.formats.csv_columns import parse_columns
from sources.formats.csv_times import TsUnit
from sources.formats.read_options import ReadOptions
from sources.loop import LoopPlan, plan_loop
from sources.pacing import Pace, Pacer
from sources.producer import KafkaSink
from sources.records import Record
from sources.replay import replay as replay_records
from sources.reporting import progress_bar, stop_on_signals, summary_table

FLUSH_TIMEOUT_S = 120.0


def pace_from(rate: str, realtime: bool, speed: float | None, max_rate: float | None) -> Pace:
    """The pace the flags ask for (``--rate`` is ``max`` or a number of msgs/s)."""
    if rate != "max":
        try:
            rate_cap = float(rate)
        except ValueError:
            raise SourceOptionError("--rate", f"{rate!r}: use 'max' or msgs/s") from None
        if rate_cap <= 0 or (max_rate is not None and max_rate != rate_cap):
            raise SourceOptionError("--rate", "must be > 0 and agree with --max-rate")
        max_rate = rate_cap
    if realtime and speed is not None and speed != 1.0:
        raise SourceOptionError("--realtime/--speed", "--realtime is --speed 1; give one")
    return Pace(speed=speed if speed is not None else (1.0 if realtime else None),
                max_rate=max_rate)


def passes_from(loop: bool, passes: int | None) -> int | None:
    """How many passes: ``--passes K``, forever with ``--loop``, else one."""
    if passes is not None:
        return passes
    return None if loop else 1


def read_options(assign_ids: bool, columns: str | None, ts_unit: str | None) -> ReadOptions:
    """The reader flags as one :class:`ReadOptions` (``--columns`` parsed and checked)."""
    return ReadOptions(assign_ids, parse_columns(columns) if columns else None,
                       TsUnit(ts_unit) if ts_unit else None)


@click.command("replay")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "file_format", type=click.Choice([f.value for f in FileFormat]),
              default=None, help="Input format; default: detected from the extension, "
              "then from the first line.")
@click.option("--symbol", default=None, help="Symbol of a file that has none: Kibot (default: "
              "file name before '_'), Binance (default: from a published name such as "
              "BTCUSDT-aggTrades-2024-08-09.zip), single-symbol CSV.")
@click.option("--assign-ids", is_flag=True, help="Number the trades of a tape without trade "
              "ids (NDJSON, Parquet, CSV): id = UTC date YYYYMMDD x 10^10 + line, stable "
              "across runs (docs/sources.md).")
@click.option("--columns", default=None, help="--format csv: the column of each field, "
              "symbol=COL,trade_id=COL,ts=COL,price=COL,size=COL[,side=COL]; COL is a header "
              "name or a 1-based number.")
@click.option("--ts-unit", type=click.Choice([unit.value for unit in TsUnit]), default=None,
              help="--format csv: event times in s, ms, us, ns since the epoch, or iso "
              "(ISO 8601 with a UTC offset).")
@pace_options
@click.option("--loop", is_flag=True, help="Replay forever; each pass is shifted in time, "
              "trade ids and price so the stream never repeats (stop with Ctrl-C).")
@click.option("--passes", type=click.IntRange(min=1), default=None,
              help="Replay exactly K shifted passes (like --loop, but ends).")
@setting_option("--bootstrap-servers", "kafka_bootstrap_servers")
@setting_option("--topic", "topic_trades")
@click.option("--quiet", is_flag=True, help="No progress bar and no summary.")
def replay(file: Path, file_format: str | None, symbol: str | None, assign_ids: bool,
           columns: str | None, ts_unit: str | None, rate: str, realtime: bool,
           speed: float | None, max_rate: float | None, loop: bool, passes: int | None,
           quiet: bool, **flags: str | None) -> None:
    """Produce FILE into the trades topic (key = symbol, timestamp = arrival time)."""
    settings = settings_from(**flags)
    chosen = FileFormat(file_format) if file_format else None
    options = read_options(assign_ids, columns, ts_unit)
    pace = pace_from(rate, realtime, speed, max_rate)
    rounds = passes_from(loop, passes)

    def source() -> Iterable[Record]:
        return open_records(file, chosen, symbol, options)

    next(iter(source()), None)  # a bad file or flag fails here, before any broker work
    plan: LoopPlan | None = plan_loop(source()) if rounds != 1 else None
    sink = KafkaSink(producer_config(settings), settings.topic_trades)
    console, stop = Console(stderr=True), threading.Event()
    with stop_on_signals(stop), progress_bar(console, None, disable=quiet) as bar:
        task = bar.add_task(f"replay {file.name}", total=None)
        run = replay_records(source, sink, Pacer(pace, sleep=stop.wait), stop, rounds, plan,
                             on_sent=lambda count: bar.advance(task, count))
        left = sink.flush(FLUSH_TIMEOUT_S)
    failed = sink.counts.failed + left
    if not quiet:
        console.print(summary_table(f"replay {file.name} -> {settings.topic_trades}", {
            "sent": run.sent, "delivered": sink.counts.delivered, "failed": failed,
            "passes": run.passes, "seconds": run.elapsed_s, "msgs/s": run.rate_per_s,
            "stopped early": "yes" if run.stopped else "no",
        }))
    if failed:
        raise DeliveryError(failed, sink.counts.first_error or "not acknowledged in time")
