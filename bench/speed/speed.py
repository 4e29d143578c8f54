"""(b) ``candles speed`` end to end, its ``consume()`` timed, checked after every run."""

from __future__ import annotations

import json
import resource
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

    def usage() -> tuple[float, int]:
        """The process's CPU seconds (all threads) and page faults (minor: a page's first
        touch, which the kernel zeroes) so far."""
        self_usage = resource.getrusage(resource.RUSAGE_SELF)
        return self_usage.ru_utime + self_usage.ru_stime, self_usage.ru_minflt

    usage_at = {"first": (0.0, 0), "done": (0.0, 0)}  # at both ends of the counted batches
    base: Any = clients.Consumer

    class TimedConsumer(base):
        def consume(self, num_messages: int = 1, timeout: float = -1) -> list[Any]:
            done_at, usage_now = timer.done_at, usage()
            timer.called(clock())
            if timer.done_at != done_at:
                usage_at["done"] = usage_now
            messages: list[Any] = super().consume(num_messages, timeout)
            started, usage_now = timer.total, usage()
            timer.returned(len(messages), clock())
            if not started and timer.total:
                usage_at["first"] = usage_now
            return messages

    vars(clients)["Consumer"] = TimedConsumer
    close_seconds = time_methods(CLOSE_PATH)
    commit_seconds = time_methods(COMMIT_PATH)
    sys.argv = ["candles", *cli_args]
    try:
        candles_main()
    finally:
        parts = close_seconds()
        commits = commit_seconds()
        (cpu_first, faults_first), (cpu_done, faults_done) = usage_at["first"], usage_at["done"]
        Path(timings).write_text(json.dumps({**timer.result(), "close_parts": parts,
                                             "close_seconds": sum(parts.values()),
                                             "commit_seconds": sum(commits.values()),
                                             "cpu_seconds": cpu_done - cpu_first,
                                             "page_faults": faults_done - faults_first}))


# What a closed candle costs, wherever it is paid: closing the windows a watermark step
# ends (with the rollups and the candle JSON, in C), producing the candles, the state
# records written per commit, and counting the committed candles into the metrics.
CLOSE_PATH = (("speed_layer.engine", "PartitionEngine", "close_due"),
              ("speed_layer.processor", "SpeedLayer", "_emit_closed"),
              ("speed_layer.writer", "TransactionWriter", "_write_changelog"),
              ("speed_layer.writer", "TransactionWriter", "_count_committed"))
# What the loop waits for at each commit: the broker's acknowledgement of everything the
# transaction produced, then its end (the loop does nothing else meanwhile).
COMMIT_PATH = (("speed_layer.writer", "TransactionWriter", "_commit_transaction"),)


def time_methods(path: tuple[tuple[str, str, str], ...]) -> Any:
    """Wrap each method of ``path`` in two clock reads; returns a function giving the
    seconds spent in them (outermost calls only: close_due can nest in another)."""
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

    for module_name, class_name, method_name in path:
        owner = getattr(importlib.import_module(module_name), class_name)
        setattr(owner, method_name, timed(method_name, getattr(owner, method_name)))
    return lambda: dict(spent)


def measure_speed(bench: Bench, run: int, result: Measured, revisions: bool = True) -> None:
    """One ``candles speed`` run over the whole topic; its committed candles must equal the
    reference exactly, each key once (each revision once, with late trades). With
    ``revisions`` off, ``CANDLES_REVISION_HORIZON_MS=0``: late trades go to trades.late."""
    from lambda_candles.settings import env_name

    tag = f"speed-{run}" if revisions else f"speed-off-{run}"
    settings = bench.settings(f"{bench.run_id}.{tag}")
    bench.create_topics(settings)
    timings = bench.workdir / f"{tag}.timings.json"
    log = bench.workdir / f"{tag}.log"
    command = [sys.executable, SCRIPT, "_speed-child", str(timings), "speed",
               "--exit-when-idle", str(bench.args.idle_exit), "--summary-json"]
    env = bench.child_env(settings)
    if not revisions:
        env[env_name("revision_horizon_ms")] = "0"
    child = run_child(command, env=env, log_path=log, timeout_s=CHILD_TIMEOUT_S,
                      cwd=bench.workdir)
    summary = last_json(child, f"candles speed (log: {log})")
    timing = json.loads(timings.read_text())
    verdict = verify_candles(bench, settings, summary, revisions)
    share = timing["in_consume"] / timing["seconds"] if timing["seconds"] > 0 else 0.0
    unit = "messages" if bench.info.get("messages", len(bench.trades)) != len(bench.trades) \
        else "trades"
    base = sum(1 for candle in bench.reference if candle.interval_us == BASE_INTERVAL_US)
    per_candle_us = timing["close_seconds"] / base * 1e6 if base else 0.0
    result.close_us_per_candle.append(per_candle_us)
    result.cpu_us_per_record.append(timing["cpu_seconds"] / max(1, timing["counted"]) * 1e6)
    result.add(timing["rate"], child, f"{timing['counted']:,} {unit} in "
               f"{timing['seconds']:.2f} s ({share:.0%} of it inside consume()), CPU "
               f"{result.cpu_us_per_record[-1]:.2f} us a record, "
               f"{timing['page_faults'] / max(1, timing['counted']):.3f} page faults a record, "
               f"{summary['commits']} commits ({summary.get('state_bytes', 0) / 1e6:.1f} MB "
               f"of rollup state records); closing {base:,} 1 s candles (with "
               f"{len(bench.reference) - base:,} rollups) took {timing['close_seconds']:.2f} s"
               f" = {per_candle_us:.2f} us per 1 s candle ("
               + ", ".join(f"{name} {seconds / base * 1e6:.2f}" if base else name
                           for name, seconds in timing["close_parts"].items())
               + f"); waiting for {summary['commits']} commits took "
               f"{timing['commit_seconds']:.2f} s; {verdict}")


def measure_speed_off(bench: Bench, run: int, result: Measured) -> None:
    """(b) with revisions off (``CANDLES_REVISION_HORIZON_MS=0``): the same-run baseline."""
    measure_speed(bench, run, result, revisions=False)
