"""(c) Quix Streams, a tumbling 1 s window folding the same OHLCV, from its own venv."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import run_child
from bench.speed.context import Bench
from bench.speed.shared import (
    CHILD_TIMEOUT_S,
    SCRIPT,
    BatchTimer,
    Measured,
    child_parser,
    last_json,
)

DEFAULT_QUIX_PYTHON = Path.home() / ".cache/lambda-candles/bench-quix-venv/bin/python"


def pick_quix_python(args: argparse.Namespace) -> str | None:
    candidates = [args.quix_python] if args.quix_python else [str(DEFAULT_QUIX_PYTHON),
                                                               sys.executable]
    for python in candidates:
        if Path(python).exists() and quix_available(python):
            return python
    print(f"(c) skipped: no interpreter with quixstreams among {candidates}", file=sys.stderr)
    return None


def quix_available(python: str) -> bool:
    probe = run_child([python, "-c", "import quixstreams"], timeout_s=120)
    return probe.returncode == 0


def measure_quix(bench: Bench, run: int, result: Measured, python: str) -> None:
    from kafka_ops.clients import consumer_config

    settings = bench.settings(f"{bench.run_id}.quix-{run}")
    knobs = consumer_config(settings, "unused", bench.bootstrap)
    extra = {k: knobs[k] for k in ("fetch.queue.backoff.ms", "queued.min.messages")}
    expect = min(bench.args.quix_trades, len(bench.trades))
    command = [python, SCRIPT, "_quix-child", "--bootstrap", bench.bootstrap,
               "--topic", bench.quix_topic, "--group", f"{bench.run_id}.quix-{run}",
               "--expect", str(expect), "--out-topic", f"{bench.run_id}.quix-{run}.candles",
               "--state-dir", str(bench.workdir / f"quix-state-{run}"),
               "--grace-ms", str(settings.allowed_lateness_ms),
               "--guarantee", bench.args.quix_guarantee, "--consumer-extra", json.dumps(extra),
               "--commit-interval", str(bench.args.quix_commit_interval
                                        or settings.speed_commit_interval_ms / 1000)]
    log = bench.workdir / f"quix-{run}.log"
    child = run_child(command, log_path=log, timeout_s=CHILD_TIMEOUT_S, cwd=bench.workdir)
    timing = last_json(child, f"Quix Streams (log: {log})")
    bench.info["quix_version"] = timing["version"]
    result.add(timing["rate"], child, f"{timing['counted']:,} trades in {timing['seconds']:.2f}"
               f" s, {timing['candles']:,} of {bench.info['quix_windows']:,} 1 s windows "
               "emitted (the newest stay open)")


def child_quix(argv: list[str]) -> None:
    """(c) Quix Streams: tumbling 1 s window, OHLCV by ``reduce``; runs in its own venv."""
    ns = child_parser("bootstrap", "topic", "group", "expect", "out_topic", "state_dir",
                       "grace_ms", "guarantee", "commit_interval", "consumer_extra"
                       ).parse_args(argv)
    import quixstreams
    from quixstreams import Application

    app = Application(
        broker_address=ns.bootstrap, consumer_group=ns.group, auto_offset_reset="earliest",
        processing_guarantee=ns.guarantee, state_dir=ns.state_dir, loglevel="WARNING",
        commit_interval=float(ns.commit_interval),
        consumer_extra_config=json.loads(ns.consumer_extra),
    )
    topic = app.topic(ns.topic, value_deserializer="json",
                      timestamp_extractor=lambda value, _h, _ts, _t: value["ts"] // 1000)
    timer, clock, expect, outputs = BatchTimer(), time.perf_counter, int(ns.expect), [0]

    def arrived(_value: Any) -> None:
        timer.returned(1, clock())
        if timer.total >= expect:
            timer.called(clock())
            app.stop()

    def emitted(_value: Any) -> None:
        outputs[0] += 1

    sdf = app.dataframe(topic).update(arrived)
    sdf = sdf.tumbling_window(duration_ms=1000, grace_ms=int(ns.grace_ms))
    sdf = sdf.reduce(reducer=_quix_fold, initializer=_quix_first).final().update(emitted)
    sdf.to_topic(app.topic(ns.out_topic, value_serializer="json"))
    app.run()
    print(json.dumps({**timer.result(), "candles": outputs[0],
                      "version": quixstreams.__version__}))


def _quix_first(trade: dict[str, Any]) -> dict[str, Any]:
    price, key = float(trade["price"]), [trade["ts"], trade["trade_id"]]
    return {"open": price, "high": price, "low": price, "close": price,
            "volume": float(trade["size"]), "trades": 1, "first": key, "last": key}


def _quix_fold(candle: dict[str, Any], trade: dict[str, Any]) -> dict[str, Any]:
    """Open and close by event time then trade id, as the contract does, not by arrival."""
    price, key = float(trade["price"]), [trade["ts"], trade["trade_id"]]
    if key < candle["first"]:
        candle["open"], candle["first"] = price, key
    if key >= candle["last"]:
        candle["close"], candle["last"] = price, key
    candle["high"] = max(candle["high"], price)
    candle["low"] = min(candle["low"], price)
    candle["volume"] += float(trade["size"])
    candle["trades"] += 1
    return candle
