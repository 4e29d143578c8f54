"""The command: its options, the children it dispatches to, and the run in order."""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import kafka_broker, rate_text
from bench.speed.consume import (
    child_consume,
    child_consume_candles,
    child_consume_produce,
    measure_consume,
    measure_consume_candles,
    measure_consume_produce,
)
from bench.speed.context import Bench
from bench.speed.data import preload
from bench.speed.latency import child_latency_reader
from bench.speed.paced import paced_run
from bench.speed.quix import DEFAULT_QUIX_PYTHON, child_quix, measure_quix, pick_quix_python
from bench.speed.report import report
from bench.speed.shared import Measured
from bench.speed.speed import child_speed, measure_speed, measure_speed_off

CHILDREN: dict[str, Callable[[list[str]], None]] = {
    "_consume-child": child_consume, "_consume-produce-child": child_consume_produce,
    "_consume-candles-child": child_consume_candles,
    "_speed-child": child_speed, "_quix-child": child_quix,
    "_latency-reader": child_latency_reader,
}
WARMUP_RUN = 100  # warm-up runs are numbered from here: their topics and groups are their own


def parse_args(argv: list[str], description: str = "") -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/speed_layer.py", description=description,
        epilog="Broker: KAFKA_BOOTSTRAP_SERVERS, else a local Kafka in a temp dir. Quix "
        "Streams interpreter: --quix-python, else BENCH_QUIX_PYTHON, else "
        f"{DEFAULT_QUIX_PYTHON} (python -m venv DIR && DIR/bin/pip install quixstreams).",
    )
    add = parser.add_argument
    add("--trades", type=int, default=2_000_000, help="trades to preload (default 2,000,000)")
    add("--partitions", type=int, default=8, help="partitions of the trades topic (default 8)")
    add("--event-rate", type=float, default=3_000.0,
        help="simulated trades per second of event time, calm rate (default 3000)")
    add("--symbols", type=int, default=8, help="symbols in the stream (default 8)")
    add("--trades-per-symbol-second", type=float, default=None,
        help="trades per symbol and second of event time (sets --event-rate to "
        "symbols x this): ~450 is a busy crypto pair, 5 a typical listed stock, 0.5 the tail")
    add("--invalid-ratio", type=float, default=0.0,
        help="share of the trades made invalid (e.g. 0.8: a flood of bad records); each "
        "must reach the DLQ, and the report gives records/s against the bare loop")
    add("--invalid-kind", choices=("future", "mixed"), default="future",
        help="what the invalid records are: future-stamped trades (a producer's clock an "
        "hour ahead), or half those and half truncated JSON (default future)")
    add("--late-ratio", type=float, default=0.0,
        help="share of the trades produced late (e.g. 0.01): each is held back until the "
        "stream is --late-delay-s of event time past it; (b) then runs with revisions on "
        "and off (CANDLES_REVISION_HORIZON_MS=0), alternating, and the report gives the ratio")
    add("--late-delay-s", type=float, default=30.0,
        help="how much later in the stream a late trade is produced, in seconds of event "
        "time (default 30: after its window closed, inside the revision horizon)")
    add("--compare-revisions", action="store_true",
        help="run (b) with revisions off too even without late trades")
    add("--candle-floor", action="store_true",
        help="also run (a''): the bare loop producing as many candle-sized messages as the "
        "reference has candles, the floor of any design on this Kafka client")
    add("--seed", type=int, default=42, help="simulator seed (default 42)")
    add("--repeats", type=int, default=3, help="runs of (a), (b), (c); median reported")
    add("--warmup", type=int, default=2,
        help="uncounted runs of (a) and (b) first (default 2): a broker started for the "
        "benchmark compiles its produce and transaction paths (JIT) during its first "
        "minutes, which a long-running broker has long done")
    add("--idle-exit", type=float, default=2.0,
        help="candles speed --exit-when-idle for (b) (not counted in the rate; default 2)")
    add("--quix-trades", type=int, default=100_000, help="trades for Quix (default 100,000)")
    add("--quix-python", default=os.environ.get("BENCH_QUIX_PYTHON", ""),
        help="python of a venv with quixstreams (see below)")
    add("--quix-guarantee", choices=("exactly-once", "at-least-once"), default="exactly-once",
        help="Quix processing guarantee (default exactly-once, like candles speed)")
    add("--quix-commit-interval", type=float, default=None,
        help="Quix commit_interval in seconds (default: candles speed's, 0.1; Quix's own "
        "default is 5)")
    add("--noise-ratio", type=float, default=0.0,
        help="share of the preloaded messages that are orders/quotes (e.g. 0.98): (a) and (b) "
        "then read trades + noise, and the report gives messages/s and trades/s")
    add("--paced-rate", type=float, default=50_000.0, help="paced trades/s (default 50,000)")
    add("--paced-seconds", type=float, default=20.0, help="paced run length (default 20)")
    add("--skip", default="", help="comma-separated parts to skip: consume,speed,quix,paced")
    add("--json", type=Path, default=None, help="also write all results to this file")
    add("--workdir", type=Path, default=None, help="logs and Quix state (default: temp)")
    add("--keep-topics", action="store_true", help="do not delete this run's topics")
    return parser.parse_args(argv)


def run(args: argparse.Namespace, bench: Bench) -> dict[str, Any]:
    skip = {part.strip() for part in args.skip.split(",") if part.strip()}
    quix_python = None if "quix" in skip else pick_quix_python(args)
    print(f"preloading {args.trades:,} trades ...", flush=True)
    bench.note_load("start")
    preload(bench)
    print(f"  done in {bench.info['preload_seconds']:.1f} s; reference candles in "
          f"{bench.info['reference_seconds']:.1f} s", flush=True)
    if bench.delayed:
        print(f"  {len(bench.delayed):,} trades produced {args.late_delay_s:g} s late "
              f"({bench.info['never_produced']:,} held past the end, never produced)",
              flush=True)
    plan: list[tuple[str, str, Callable[[Bench, int, Measured], None]]] = [
        ("consume", "(a) bare consume()", measure_consume)]
    if bench.info.get("invalid"):
        plan.append(("floor", "(a') consume + write back", measure_consume_produce))
    if args.candle_floor:
        plan.append(("candle_floor", "(a'') consume + candles", measure_consume_candles))
    if args.late_ratio or args.compare_revisions:
        plan += [("speed", "(b) candles speed, revisions on", measure_speed),
                 ("speed_off", "(b0) revisions off", measure_speed_off)]
    else:
        plan.append(("speed", "(b) candles speed", measure_speed))
    if quix_python:
        plan.append(("quix", f"(c) Quix ({min(args.quix_trades, args.trades) // 1000}k)",
                     lambda bn, i, m: measure_quix(bn, i, m, quix_python)))
    results = {key: Measured(name) for key, name, _ in plan if key not in skip}
    warm = [step for step in plan if step[0] in ("consume", "speed") and step[0] in results]
    for round_number in range(args.warmup):
        for _key, name, measure in warm:
            print(f"{name}, warm-up {round_number + 1}/{args.warmup} (not counted) ...",
                  flush=True)
            scratch = Measured(name)
            measure(bench, WARMUP_RUN + round_number, scratch)
            print(f"  {rate_text(scratch.rates[-1])}", flush=True)
        bench.note_load(f"warm-up {round_number + 1}")
    bench.info["warmup_runs"] = args.warmup if warm else 0
    for run_number in range(args.repeats):
        for key, name, measure in alternate(plan, run_number):
            if key in results:
                print(f"{name}, run {run_number + 1}/{args.repeats} ...", flush=True)
                measure(bench, run_number, results[key])
                print(f"  {rate_text(results[key].rates[-1])}: {results[key].notes[-1]}",
                      flush=True)
        bench.note_load(f"run {run_number + 1}")
    paced = None
    if "paced" not in skip:
        print(f"paced run: {args.paced_rate:,.0f} trades/s for {args.paced_seconds:.0f} s ...",
              flush=True)
        paced = paced_run(bench)
        bench.note_load("paced")
    return report(bench, results, paced)


def alternate(plan: list[Any], run_number: int) -> list[Any]:
    """The plan of one repeat: revisions on then off in even repeats, off then on in odd
    ones, so that neither always runs after the other."""
    keys = [step[0] for step in plan]
    if run_number % 2 and "speed_off" in keys:
        on, off = keys.index("speed"), keys.index("speed_off")
        plan = list(plan)
        plan[on], plan[off] = plan[off], plan[on]
    return plan


def main(argv: list[str] | None = None, description: str = "") -> None:
    """Run a child if ``argv`` names one, else the benchmark; ``description`` heads --help."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in CHILDREN:
        CHILDREN[argv[0]](argv[1:])
        return
    args = parse_args(argv, description)
    with tempfile.TemporaryDirectory(prefix="bench-speed-") as temp, \
            kafka_broker() as (bootstrap, started):
        workdir = args.workdir or Path(temp)
        workdir.mkdir(parents=True, exist_ok=True)
        bench = Bench(args, bootstrap, workdir)
        bench.info["broker"] = "local Apache Kafka (temp dir)" if started else bootstrap
        try:
            everything = run(args, bench)
        finally:
            if not args.keep_topics and not started:
                bench.cleanup()
            del bench  # its clients, before the broker stops under them
            gc.collect()
    if args.json:
        args.json.write_text(json.dumps(everything, indent=2, default=str))
        print(f"\nwrote {args.json}")
