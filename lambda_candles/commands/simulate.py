"""``candles simulate``: realistic trades with injected faults, to a file or to Kafka.

The output is byte-identical for the same --seed, --start and options (see
``sources.simulator``), so a file, its label sidecar and a Kafka run can be regenerated.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
import numpy as np
from rich.console import Console

from kafka_ops.clients import producer_config
from lambda_candles.options import setting_option, settings_from
from sources.batch import RecordBatch
from sources.chaos import CHAOS_PRESET, ChaosRates
from sources.exceptions import DeliveryError, SourceOptionError
from sources.noise import add_noise
from sources.outputs import base_trades, drain
from sources.producer import KafkaSink
from sources.reporting import progress_bar, stop_on_signals, summary_table
from sources.simulator import SimulationConfig
from sources.simulator import simulate as simulated_batches

US_PER_S = 1_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
RATE = click.FloatRange(0.0, 1.0)
KNOBS = ("malformed", "duplicate", "conflict", "out_of_order", "late", "future")


def parse_start_us(text: str | None) -> int:
    """``--start`` as epoch µs: ISO 8601, no offset = UTC; default: now floored to a minute."""
    if text is None:
        now_s = int(time.time())
        return (now_s - now_s % 60) * US_PER_S
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise SourceOptionError("--start", f"{text!r} is not an ISO 8601 time") from None
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return (aware - EPOCH) // timedelta(microseconds=1)


def chaos_rates(preset: bool, given: dict[str, float | None]) -> ChaosRates:
    """Rates from the flags; ``--chaos`` fills in the ones not given with modest rates."""
    base = CHAOS_PRESET if preset else ChaosRates()
    rates = {knob: getattr(base, knob) if given[knob] is None else given[knob]
             for knob in KNOBS}
    return ChaosRates(**rates)  # type: ignore[arg-type]


@click.command("simulate")
@click.option("-n", "--trades", type=click.IntRange(min=0), default=100_000, show_default=True,
              help="Base trades to generate (duplicate/conflict re-sends come on top).")
@click.option("--symbols", type=click.IntRange(1, 9999), default=8, show_default=True,
              help="Symbols: BTCUSDT, ETHUSDT, SOLUSDT, SHIBUSDT, AAPL, MSFT, BRK.A, EURUSD, "
              "then SIM0009...")
@click.option("--seed", type=int, default=42, show_default=True,
              help="Random seed: same seed + --start + options = byte-identical output.")
@click.option("--start", default=None, help="Event time of the first trade, ISO 8601 (no "
              "offset = UTC). Default: now, floored to the minute (so pass it to reproduce).")
@click.option("--rate", "rate_per_s", type=click.FloatRange(min=0.0, min_open=True),
              default=1000.0, show_default=True,
              help="Mean trades per second of event time when calm (bursts are 8x faster).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to FILE: .ndjson/.jsonl (one message value per line) or .parquet "
              "(columns key, value, timestamp_us).")
@click.option("--to-kafka", is_flag=True, help="Produce to the trades topic instead.")
@click.option("--labels", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the ground truth (offset, label, expected_reason) to FILE "
              "(.ndjson or .parquet).")
@click.option("--chaos", "chaos_preset", is_flag=True, help="Turn every fault on at modest "
              "rates (0.05%-1%); explicit --*-rate flags still win.")
@click.option("--malformed-rate", "malformed", type=RATE, help="Share of base trades replaced "
              "by a record with one known fault (bad JSON, missing field, bad type, ...).")
@click.option("--duplicate-rate", "duplicate", type=RATE,
              help="Share of clean trades re-sent byte for byte a little later.")
@click.option("--conflict-rate", "conflict", type=RATE,
              help="Share of clean trades re-sent later with the same id, another price.")
@click.option("--out-of-order-rate", "out_of_order", type=RATE, help="Share of trades "
              "delayed by less than the allowed lateness (out of order, never late).")
@click.option("--late-rate", "late", type=RATE, help="Share of trades delayed by allowed "
              "lateness + 4..6 s (their 1 s window has closed).")
@click.option("--future-rate", "future", type=RATE, help="Share of trades stamped more than "
              "the max future skew after their arrival (rejected: future_timestamp).")
@setting_option("--allowed-lateness-ms", "allowed_lateness_ms", type=int)
@setting_option("--max-future-skew-ms", "max_future_skew_ms", type=int)
@setting_option("--bootstrap-servers", "kafka_bootstrap_servers")
@setting_option("--topic", "topic_trades")
@click.option("--noise-ratio", type=click.FloatRange(0.0, 0.999), default=0.0,
              show_default=True, help="Share of all messages that are orders and quotes "
              "(type first, skipped by the pipeline before decoding), e.g. 0.98.")
@click.option("--quiet", is_flag=True, help="No progress bar and no summary.")
def simulate(trades: int, symbols: int, seed: int, start: str | None, rate_per_s: float,
             out: Path | None, to_kafka: bool, labels: Path | None, chaos_preset: bool,
             noise_ratio: float, quiet: bool, **flags: float | int | str | None) -> None:
    """Generate realistic trades (random-walk prices on ticks, bursty arrivals, lognormal
    sizes, exact fixed-point values) with optional faults, and their ground truth."""
    if (out is None) == (not to_kafka):
        raise SourceOptionError("--out/--to-kafka", "give exactly one of them")
    given = {knob: flags.pop(knob) for knob in KNOBS}
    settings = settings_from(**flags)
    config = SimulationConfig(
        trades=trades, start_us=parse_start_us(start), seed=seed, symbols=symbols,
        rate_per_s=rate_per_s, chaos=chaos_rates(chaos_preset, given),  # type: ignore[arg-type]
        allowed_lateness_us=settings.allowed_lateness_us,
        max_future_skew_us=settings.max_future_skew_us,
    )
    sink = KafkaSink(producer_config(settings), settings.topic_trades) if to_kafka else None
    console, stop = Console(stderr=True), threading.Event()
    started_s = time.monotonic()
    with stop_on_signals(stop), progress_bar(console, trades, disable=quiet) as bar:
        task = bar.add_task("simulating", total=trades)
        counts = drain(noisy(simulated_batches(config), noise_ratio, seed), out, labels, sink,
                       stop,
                       on_batch=lambda batch: bar.advance(task, base_trades(batch)))
    failed = _flush(sink)
    elapsed_s = time.monotonic() - started_s
    if not quiet:
        total = sum(counts.values())
        rows: dict[str, object] = {"records": total, **dict(sorted(counts.items())),
                                   "seconds": elapsed_s, "records/s": total / elapsed_s}
        if sink is not None:
            rows |= {"delivered": sink.counts.delivered, "failed": failed}
        if stop.is_set():
            rows["stopped early"] = "yes"
        console.print(summary_table(f"simulate -> {out or settings.topic_trades}", rows))
    if sink is not None and failed:
        raise DeliveryError(failed, sink.counts.first_error or "not acknowledged in time")


def noisy(batches: Iterable[RecordBatch], ratio: float, seed: int) -> Iterator[RecordBatch]:
    """The batches with orders and quotes interleaved (unchanged when ``ratio`` is 0)."""
    rng = np.random.default_rng([seed, 98])  # its own stream: trades stay byte-identical
    first_id = 0
    for batch in batches:
        noisy_batch = add_noise(batch, ratio, rng, first_id) if ratio else batch
        first_id += len(noisy_batch) - len(batch)
        yield noisy_batch


def _flush(sink: KafkaSink | None) -> int:
    """Wait for the broker's acknowledgements; failed = errors + still unacknowledged."""
    if sink is None:
        return 0
    left = sink.flush()
    return sink.counts.failed + left
