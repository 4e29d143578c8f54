"""(b) ``candles speed`` end to end, its ``consume()`` timed, checked after every run."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import run_child
from bench.speed.context import Bench
from bench.speed.data import verify_candles
from bench.speed.shared import CHILD_TIMEOUT_S, SCRIPT, BatchTimer, Measured, last_json
from candle_core.windows import BASE_INTERVAL_US


def child_speed(argv: list[str]) -> None:
    """(b) ``candles ARGS`` as the console script runs it, with its consumer's
    ``consume()`` timed (a subclass of confluent's Consumer: two clock reads per batch)."""
    timings, cli_args = argv[0], argv[1:]
    import speed_layer.clients as clients
    from lambda_candles.cli import main as candles_main

    timer, clock = BatchTimer(), time.perf_counter
    base: Any = clients.Consumer

    class TimedConsumer(base):
        def consume(self, num_messages: int = 1, timeout: float = -1) -> list[Any]:
            timer.called(clock())
            messages: list[Any] = super().consume(num_messages, timeout)
            timer.returned(len(messages), clock())
            return messages

    vars(clients)["Consumer"] = TimedConsumer
    close_seconds = time_the_close()
    sys.argv = ["candles", *cli_args]
    try:
        candles_main()
    finally:
        parts = close_seconds()
        Path(timings).write_text(json.dumps({**timer.result(), "close_parts": parts,
                                             "close_seconds": sum(parts.values())}))


# What a closed candle costs, wherever it is paid: closing the windows a watermark step
# ends (with the rollups and the candle JSON, in C), producing the candles, the state
# records written per commit, and counting the committed candles into the metrics.
CLOSE_PATH = (("speed_layer.engine", "PartitionEngine", "close_due"),
              ("speed_layer.processor", "SpeedLayer", "_emit_closed"),
              ("speed_layer.writer", "TransactionWriter", "_write_changelog"),
              ("speed_layer.writer", "TransactionWriter", "_count_committed"))


def time_the_close() -> Any:
    """Wrap each method of :data:`CLOSE_PATH` in two clock reads; returns a function giving
    the seconds spent in them (outermost calls only: close_due can nest in another)."""
    import importlib

    spent: dict[str, float] = {}
    depth, clock = [0], time.perf_counter

    def timed(name: str, method: Any) -> Any:
        spent[name] = 0.0

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            depth[0] += 1
            began = clock()
            try:
                return method(*args, **kwargs)
            finally:
                depth[0] -= 1
                if not depth[0]:
                    spent[name] += clock() - began
        return wrapper

    for module_name, class_name, method_name in CLOSE_PATH:
        owner = getattr(importlib.import_module(module_name), class_name)
        setattr(owner, method_name, timed(method_name, getattr(owner, method_name)))
    return lambda: dict(spent)


def measure_speed(bench: Bench, run: int, result: Measured) -> None:
    """One ``candles speed`` run over the whole topic; its committed candles must equal the
    reference exactly, each key once."""
    settings = bench.settings(f"{bench.run_id}.speed-{run}")
    bench.create_topics(settings)
    timings = bench.workdir / f"speed-{run}.timings.json"
    log = bench.workdir / f"speed-{run}.log"
    command = [sys.executable, SCRIPT, "_speed-child", str(timings), "speed",
               "--exit-when-idle", str(bench.args.idle_exit), "--summary-json"]
    child = run_child(command, env=bench.child_env(settings), log_path=log,
                      timeout_s=CHILD_TIMEOUT_S, cwd=bench.workdir)
    summary = last_json(child, f"candles speed (log: {log})")
    timing = json.loads(timings.read_text())
    verdict = verify_candles(bench, settings, summary)
    share = timing["in_consume"] / timing["seconds"] if timing["seconds"] > 0 else 0.0
    unit = "messages" if bench.info.get("messages", len(bench.trades)) != len(bench.trades) \
        else "trades"
    base = sum(1 for candle in bench.reference if candle.interval_us == BASE_INTERVAL_US)
    per_candle_us = timing["close_seconds"] / base * 1e6 if base else 0.0
    result.close_us_per_candle.append(per_candle_us)
    result.add(timing["rate"], child, f"{timing['counted']:,} {unit} in "
               f"{timing['seconds']:.2f} s ({share:.0%} of it inside consume()), "
               f"{summary['commits']} commits; closing {base:,} 1 s candles (with "
               f"{len(bench.reference) - base:,} rollups) took {timing['close_seconds']:.2f} s"
               f" = {per_candle_us:.2f} us per 1 s candle ("
               + ", ".join(f"{name} {seconds / base * 1e6:.2f}" if base else name
                           for name, seconds in timing["close_parts"].items())
               + f"); {verdict}")
