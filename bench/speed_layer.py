"""Benchmark: ``candles speed`` against a bare ``consume()`` loop and Quix Streams.

In one run, on one broker (``KAFKA_BOOTSTRAP_SERVERS``, or a local Apache Kafka started
in a temporary directory and stopped at the end):

1. preloads N clean simulated trades (8 symbols, a few hundred per 1 s window) into a fresh
   ``trades`` topic, and the first ``--quix-trades`` of them into a second topic for Quix;
2. measures, each ``--repeats`` times in its own child process (fresh consumer group,
   fresh output topics), reporting the median, every run and the peak RSS:
   (a) a bare ``consume(num_messages=10000)`` loop with the speed layer's librdkafka
       settings; (b) ``candles speed`` end to end, transactions on, checked against the
       contract's reference candles after every run; (c) Quix Streams, a tumbling 1 s
       window folding the same OHLCV with ``reduce``;
3. paces trades at ``--paced-rate`` with event time = wall clock while ``candles speed``
   runs, and reports when each 1 s candle becomes visible to a ``read_committed`` reader,
   beyond ``window_end + allowed_lateness``, plus the layer's own close-to-commit histogram.

Rates count from the moment the first batch is in hand to the moment the last one is
processed (group join, state restore and the idle wait before exit are left out); the
first batch's messages are not counted. Quix Streams runs from its own virtualenv
(``--quix-python`` or ``BENCH_QUIX_PYTHON``): it pins confluent-kafka < 2.13.

    .venv/bin/python bench/speed_layer.py --trades 200000 --repeats 1 --json /tmp/speed.json
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import signal
import sys
import tempfile
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: bench/ must not shadow the speed_layer package
    sys.path[0] = str(Path(__file__).resolve().parents[1])

from bench.common import (
    MIB,
    Child,
    ChildResult,
    free_port,
    histogram_quantile,
    kafka_broker,
    load_average,
    median,
    percentile,
    rate_text,
    run_child,
)

SCRIPT = str(Path(__file__).resolve())
REPO = Path(__file__).resolve().parents[1]
BATCH = 10_000  # consume(num_messages=...) for the bare loop, as the speed layer's default
DEFAULT_QUIX_PYTHON = Path.home() / ".cache/lambda-candles/bench-quix-venv/bin/python"
TARGET_VS_CONSUME, TARGET_VS_QUIX, TARGET_P99_MS = 0.6, 20.0, 250.0
CHILD_TIMEOUT_S = 900.0
COMMIT_METRIC = "candles_speed_transaction_commit_seconds"


# ---- timing shared by the children --------------------------------------------------------

@dataclass
class BatchTimer:
    """Times a consume loop: from the first non-empty batch in hand to the moment the
    batch after the last non-empty one is asked for (i.e. the last batch is processed)."""

    first_at: float = 0.0
    first_count: int = 0
    done_at: float = 0.0
    total: int = 0
    _pending: bool = False

    def called(self, now: float) -> None:
        if self._pending:
            self.done_at, self._pending = now, False

    def returned(self, count: int, now: float) -> None:
        if count:
            if not self.total:
                self.first_at, self.first_count = now, count
            self.total += count
            self._pending = True

    def result(self) -> dict[str, float]:
        seconds = self.done_at - self.first_at
        counted = self.total - self.first_count
        return {"total": self.total, "counted": counted, "seconds": seconds,
                "rate": counted / seconds if seconds > 0 else 0.0}


# ---- child processes ---------------------------------------------------------------------

def child_consume(argv: list[str]) -> None:
    """(a) A bare ``consume()`` loop over the whole topic with a fresh group."""
    ns = _child_parser("bootstrap", "topic", "group", "expect").parse_args(argv)
    from confluent_kafka import Consumer

    from candle_core.settings import load_settings
    from kafka_ops.clients import consumer_config

    settings = load_settings(kafka_bootstrap_servers=ns.bootstrap)
    consumer = Consumer(consumer_config(settings, ns.group, ns.bootstrap))
    consumer.subscribe([ns.topic])
    timer, clock, expect = BatchTimer(), time.perf_counter, int(ns.expect)
    deadline = time.monotonic() + CHILD_TIMEOUT_S
    while timer.total < expect and time.monotonic() < deadline:
        timer.called(clock())
        messages = consumer.consume(BATCH, timeout=1.0)
        timer.returned(len(messages), clock())
    timer.called(clock())
    consumer.close()
    print(json.dumps(timer.result()))


def child_speed(argv: list[str]) -> None:
    """(b) ``candles ARGS`` as the console script runs it, with its consumer's
    ``consume()`` timed (a subclass of confluent's Consumer: two clock reads per batch)."""
    timings, cli_args = argv[0], argv[1:]
    import speed_layer.processor as processor
    from lambda_candles.cli import main as candles_main

    timer, clock = BatchTimer(), time.perf_counter
    base: Any = processor.Consumer

    class TimedConsumer(base):
        def consume(self, num_messages: int = 1, timeout: float = -1) -> list[Any]:
            timer.called(clock())
            messages: list[Any] = super().consume(num_messages, timeout)
            timer.returned(len(messages), clock())
            return messages

    vars(processor)["Consumer"] = TimedConsumer
    sys.argv = ["candles", *cli_args]
    try:
        candles_main()
    finally:
        Path(timings).write_text(json.dumps(timer.result()))


def child_quix(argv: list[str]) -> None:
    """(c) Quix Streams: tumbling 1 s window, OHLCV by ``reduce``; runs in its own venv."""
    ns = _child_parser("bootstrap", "topic", "group", "expect", "out_topic", "state_dir",
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


def child_latency_reader(argv: list[str]) -> None:
    """Paced run: note when each candle becomes visible to a ``read_committed`` reader."""
    ns = _child_parser("bootstrap", "topic", "group").parse_args(argv)
    import msgspec
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    from candle_core.settings import load_settings
    from kafka_ops.clients import consumer_config

    settings = load_settings(kafka_bootstrap_servers=ns.bootstrap)
    consumer = Consumer(consumer_config(settings, ns.group, ns.bootstrap,
                                        **{"fetch.wait.max.ms": 10}))
    numbers = consumer.list_topics(ns.topic, timeout=10).topics[ns.topic].partitions
    consumer.assign([TopicPartition(ns.topic, n, OFFSET_BEGINNING) for n in numbers])
    stopping: list[bool] = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    print("ready", flush=True)
    seen: list[tuple[str, int, int, float, float]] = []
    while not stopping:  # poll(), not consume(n): that waits for n messages or the timeout
        message = consumer.poll(0.05)
        now = time.time()
        if message is not None and message.error() is None:
            wire = msgspec.json.decode(message.value() or b"{}")
            produced_s = message.timestamp()[1] / 1000  # CreateTime: when the layer emitted it
            seen.append((wire["symbol"], wire["interval_us"], wire["window_start_us"],
                         produced_s, now))
    consumer.close()
    print(json.dumps(seen))


def _child_parser(*names: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(add_help=False)
    for name in names:
        parser.add_argument("--" + name.replace("_", "-"), dest=name, required=True)
    return parser


CHILDREN: dict[str, Callable[[list[str]], None]] = {
    "_consume-child": child_consume, "_speed-child": child_speed, "_quix-child": child_quix,
    "_latency-reader": child_latency_reader,
}


# ---- the parent: topics, preload, measurements -----------------------------------------

@dataclass
class Measured:
    """One measurement repeated: every run's rate and peak RSS, and details."""

    name: str
    rates: list[float] = field(default_factory=list)
    peak_rss_bytes: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def median_rate(self) -> float:
        return median(self.rates)

    def add(self, rate: float, child: ChildResult, note: str = "") -> None:
        self.rates.append(rate)
        self.peak_rss_bytes.append(child.peak_rss_bytes)
        if note:
            self.notes.append(note)


class Bench:
    """Everything one benchmark run shares: broker, run id, work dir, the trades."""

    def __init__(self, args: argparse.Namespace, bootstrap: str, workdir: Path) -> None:
        from confluent_kafka.admin import AdminClient

        self.args, self.bootstrap, self.workdir = args, bootstrap, workdir
        self.run_id = f"bench-speed-{uuid.uuid4().hex[:8]}"
        self.trades_topic = f"{self.run_id}.trades"
        self.quix_topic = f"{self.run_id}.quix-trades"
        self.admin = AdminClient({"bootstrap.servers": bootstrap})
        self.trades: list[Any] = []
        self.reference: list[Any] = []
        self.loads: dict[str, float] = {}
        self.info: dict[str, Any] = {}

    def settings(self, prefix: str, trades_topic: str | None = None) -> Any:
        """Settings for one isolated set of output topics (and its own group/instance)."""
        from candle_core.settings import load_settings

        return load_settings(
            kafka_bootstrap_servers=self.bootstrap, topic_trades=trades_topic or self.trades_topic,
            topic_dlq=f"{prefix}.trades.dlq", topic_late=f"{prefix}.trades.late",
            topic_candles=f"{prefix}.candles", topic_live=f"{prefix}.candles.live",
            topic_speed_state=f"{prefix}.speed-state", trades_partitions=self.args.partitions,
            trades_retention_ms=-1, speed_group_id=f"{prefix}.speed", speed_instance_id=prefix,
            metrics_port=0, log_format="json",
        )

    def create_topics(self, settings: Any, extra: Sequence[str] = ()) -> None:
        from kafka_ops.topics import TopicSpec, create_topics, pipeline_topics

        specs = pipeline_topics(settings) + [
            TopicSpec(name, self.args.partitions, {"retention.ms": "-1"}) for name in extra]
        create_topics(self.admin, specs, 1)

    def child_env(self, settings: Any) -> dict[str, str]:
        from candle_core.settings import env_name

        names = ("kafka_bootstrap_servers", "topic_trades", "topic_dlq", "topic_late",
                 "topic_candles", "topic_live", "topic_speed_state", "trades_partitions",
                 "trades_retention_ms", "speed_group_id", "speed_instance_id", "metrics_port",
                 "log_format")
        return {**os.environ, **{env_name(n): str(getattr(settings, n)) for n in names}}

    def note_load(self, phase: str) -> None:
        self.loads[phase] = load_average()

    def cleanup(self) -> None:
        """Delete every topic of this run (ours, and Quix's internal ones)."""
        names = [t for t in self.admin.list_topics(timeout=30).topics if self.run_id in t]
        if names:
            for future in self.admin.delete_topics(names, operation_timeout=60).values():
                future.result()


def preload(bench: Bench) -> None:
    """Simulate the trades, produce them, parse them (for the reference) as the layer does."""
    from candle_core.parsing import TradeParser
    from candle_core.reference import candles_from_trades
    from kafka_ops.clients import producer_config
    from sources.producer import KafkaSink
    from sources.records import kafka_timestamp_ms
    from sources.simulator import SimulationConfig, simulate

    args, settings = bench.args, bench.settings(f"{bench.run_id}.preload")
    bench.create_topics(settings, extra=[bench.quix_topic])
    start_us = (int(time.time()) // 3600 - 1) * 3_600_000_000  # last hour: same windows
    config = SimulationConfig(trades=args.trades, start_us=start_us, seed=args.seed, symbols=8,
                              rate_per_s=args.event_rate,
                              allowed_lateness_us=settings.allowed_lateness_us,
                              max_future_skew_us=settings.max_future_skew_us)
    conf = producer_config(settings, bench.bootstrap)
    sink, quix_sink = KafkaSink(conf, bench.trades_topic), KafkaSink(conf, bench.quix_topic)
    parser, began = TradeParser(settings.max_future_skew_us), time.perf_counter()
    for batch in simulate(config):
        for record in batch.records():
            sink.send(record)
            if len(bench.trades) < args.quix_trades:
                quix_sink.send(record)
            trade = parser.parse(record.value, kafka_timestamp_ms(record.timestamp_us) * 1000)
            if not hasattr(trade, "ts_us"):
                raise SystemExit(f"the simulator made an invalid trade: {trade}")
            bench.trades.append(trade)
    if sink.flush(120) or quix_sink.flush(120) or sink.counts.failed or quix_sink.counts.failed:
        raise SystemExit(f"preload failed: {sink.counts} {quix_sink.counts}")
    bench.info["preload_seconds"] = time.perf_counter() - began
    began = time.perf_counter()
    bench.reference = candles_from_trades(bench.trades, settings.intervals_us)
    bench.info["reference_seconds"] = time.perf_counter() - began
    describe_data(bench, settings)


def describe_data(bench: Bench, settings: Any) -> None:
    import confluent_kafka
    from confluent_kafka import Consumer, TopicPartition

    from kafka_ops.clients import consumer_config

    consumer = Consumer(consumer_config(settings, f"{bench.run_id}.probe", bench.bootstrap))
    sizes = [consumer.get_watermark_offsets(TopicPartition(bench.trades_topic, p), timeout=30)[1]
             for p in range(bench.args.partitions)]
    consumer.close()
    per_interval = Counter(c.interval_us for c in bench.reference)
    trades = bench.trades
    quix_slice = trades[:bench.args.quix_trades]
    bench.info.update({
        "partitions_with_data": sum(1 for s in sizes if s), "messages_per_partition": sizes,
        "event_seconds": (trades[-1].ts_us - trades[0].ts_us) / 1e6,
        "reference_candles": {str(k // 1_000_000) + "s": v for k, v in per_interval.items()},
        "trades_per_1s_candle": len(trades) / max(1, per_interval[1_000_000]),
        "intervals": list(settings.intervals), "allowed_lateness_ms": settings.allowed_lateness_ms,
        "quix_windows": len({(t.symbol, t.ts_us // 1_000_000) for t in quix_slice}),
        "librdkafka": confluent_kafka.libversion()[0], "kafka": kafka_version(),
    })


def kafka_version() -> str:
    """The broker's version if it is the local one this project launches, else unknown."""
    from kafka_ops.maven import DEFAULT_KAFKA_VERSION

    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or os.environ.get(
        "CANDLES_KAFKA_BOOTSTRAP_SERVERS")
    return "external broker" if external else f"Apache Kafka {DEFAULT_KAFKA_VERSION}"


def measure_consume(bench: Bench, run: int, result: Measured) -> None:
    group = f"{bench.run_id}.consume-{run}"
    child = run_child([sys.executable, SCRIPT, "_consume-child", "--bootstrap", bench.bootstrap,
                       "--topic", bench.trades_topic, "--group", group,
                       "--expect", str(len(bench.trades))], timeout_s=CHILD_TIMEOUT_S, cwd=REPO)
    timing = _last_json(child, "bare consume")
    result.add(timing["rate"], child, f"{timing['counted']:,} msgs in {timing['seconds']:.2f} s")


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
    summary = _last_json(child, f"candles speed (log: {log})")
    timing = json.loads(timings.read_text())
    verdict = verify_candles(bench, settings, summary)
    result.add(timing["rate"], child, f"{timing['counted']:,} trades in "
               f"{timing['seconds']:.2f} s, {summary['commits']} commits; {verdict}")


def verify_candles(bench: Bench, settings: Any, summary: dict[str, Any]) -> str:
    from candle_core.codec import decode_candle
    from kafka_ops.reading import read_topic

    candles = [decode_candle(m.value() or b"") for m in read_topic(settings,
                                                                    settings.topic_candles)]
    keys = Counter(c.key for c in candles)
    twice = sum(1 for n in keys.values() if n > 1)
    problems = []
    if summary["consumed"] != len(bench.trades) or summary["valid"] != len(bench.trades):
        problems.append(f"consumed {summary['consumed']} / valid {summary['valid']}")
    if twice:
        problems.append(f"{twice} candles committed more than once")
    if sorted(candles, key=lambda c: c.key) != bench.reference:
        problems.append(f"{len(candles)} candles differ from the reference's "
                        f"{len(bench.reference)}")
    if problems:
        raise SystemExit("WRONG RESULT from candles speed: " + "; ".join(problems))
    return f"{len(candles):,} candles == reference"


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
    timing = _last_json(child, f"Quix Streams (log: {log})")
    bench.info["quix_version"] = timing["version"]
    result.add(timing["rate"], child, f"{timing['counted']:,} trades in {timing['seconds']:.2f}"
               f" s, {timing['candles']:,} of {bench.info['quix_windows']:,} 1 s windows "
               "emitted (the newest stay open)")


def _last_json(child: ChildResult, what: str) -> dict[str, Any]:
    lines = [line for line in child.stdout.splitlines() if line.startswith("{")]
    if child.returncode != 0 or not lines:
        raise SystemExit(f"{what} failed (exit {child.returncode}): {child.stdout[-2000:]}")
    loaded: dict[str, Any] = json.loads(lines[-1])
    return loaded


def quix_available(python: str) -> bool:
    probe = run_child([python, "-c", "import quixstreams"], timeout_s=120)
    return probe.returncode == 0


# ---- the paced run -----------------------------------------------------------------------

@dataclass
class Paced:
    """What the paced run saw."""

    target_rate: float
    sent: int = 0
    achieved_rate: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    emit_delays_ms: list[float] = field(default_factory=list)  # due -> produced by the layer
    expected_candles: int = 0
    missing_candles: int = 0
    histogram: dict[str, Any] = field(default_factory=dict)
    commit_histogram: dict[str, Any] = field(default_factory=dict)
    peak_rss_bytes: int = 0
    consumed: int = 0
    commits_while_producing: int = 0


def paced_run(bench: Bench) -> Paced:
    """``candles speed`` live at ``--paced-rate`` trades/s, event time = wall clock."""
    prefix = f"{bench.run_id}.paced"
    settings = bench.settings(prefix, trades_topic=f"{prefix}.trades")
    bench.create_topics(settings)
    port, logs = free_port(), bench.workdir
    reader = Child([sys.executable, SCRIPT, "_latency-reader", "--bootstrap", bench.bootstrap,
                    "--topic", settings.topic_candles, "--group", f"{prefix}.reader"],
                   log_path=logs / "paced-reader.log", cwd=REPO)
    if reader.readline().strip() != "ready":
        raise SystemExit("the latency reader did not start (see paced-reader.log)")
    env = {**bench.child_env(settings), "CANDLES_METRICS_PORT": str(port)}
    speed = Child([sys.executable, "-m", "lambda_candles", "speed", "--summary-json"], env=env,
                  log_path=logs / "paced-speed.log", cwd=bench.workdir)
    try:
        wait_until_assigned(bench, settings.speed_group_id, port)
        paced = Paced(bench.args.paced_rate)
        first_us, last_us = produce_paced(bench, settings, paced, port)
        time.sleep(1.5)  # the last watermark-closed windows commit; idleness closes at 5 s
        paced.histogram = scrape_histogram(port, "candles_speed_window_close_to_commit_seconds")
        paced.commit_histogram = scrape_histogram(port, COMMIT_METRIC)
    finally:
        speed_child = speed.finish(30, signal.SIGTERM)
        reader_child = reader.finish(30, signal.SIGTERM)
    paced.peak_rss_bytes = speed_child.peak_rss_bytes
    paced.consumed = _last_json(speed_child, "paced candles speed")["consumed"]
    seen = json.loads(reader_child.stdout.splitlines()[-1])
    score_latency(paced, seen, settings.allowed_lateness_us, first_us, last_us)
    return paced


def wait_until_assigned(bench: Bench, group: str, port: int, timeout_s: float = 90) -> None:
    """Until the speed layer answers /healthz and holds every trades partition."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        time.sleep(0.5)
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                pass
            description = bench.admin.describe_consumer_groups([group])[group].result()
        except Exception:  # not up yet: connection refused, group unknown
            continue
        held = sum(len(m.assignment.topic_partitions) for m in description.members)
        if held >= bench.args.partitions:
            return
    raise SystemExit(f"candles speed did not join group {group} within {timeout_s:.0f} s")


def produce_paced(bench: Bench, settings: Any, paced: Paced, port: int) -> tuple[int, int]:
    """Send trade i at wall time t0 + i/rate with event time = that moment; the contents
    (symbol, price, size) come from the preloaded trades, ids are made unique. Values are
    encoded before t0, so the pacing loop costs the 2-core box little more than produce()."""
    from kafka_ops.clients import producer_config
    from sources.producer import KafkaSink

    sink = KafkaSink(producer_config(settings, bench.bootstrap), settings.topic_trades)
    count, step_us = int(paced.target_rate * bench.args.paced_seconds), 1e6 / paced.target_rate
    began = time.perf_counter()
    paced_records(bench.trades, 0, 10_000, step_us)
    encode_s = (time.perf_counter() - began) / 10_000 * count
    t0_us = int((time.time() + 1.5 * encode_s + 1.0) * 1_000_000)
    records = paced_records(bench.trades, t0_us, count, step_us)
    time.sleep(max(0.0, t0_us / 1e6 - time.time()))
    commits_before, sent = scrape_histogram(port, COMMIT_METRIC)["count"], 0
    while sent < count:
        due = min(count, int((time.time() * 1_000_000 - t0_us) / step_us) + 1)
        if due <= sent:
            time.sleep(0.0005)
            continue
        for record in records[sent:due]:
            sink.send(record)
        sent = due
    finished_us = int(time.time() * 1_000_000)
    paced.commits_while_producing = int(scrape_histogram(port, COMMIT_METRIC)["count"]
                                        - commits_before)
    if sink.flush(60) or sink.counts.failed:
        raise SystemExit(f"paced producer failed: {sink.counts}")
    last_us = records[-1].timestamp_us
    paced.sent, paced.achieved_rate = count, count / max(1e-9, (finished_us - t0_us) / 1e6)
    paced.expected_candles = len({
        (r.key, r.timestamp_us - r.timestamp_us % 1_000_000) for r in records
        if r.timestamp_us - r.timestamp_us % 1_000_000 + 1_000_000
        + settings.allowed_lateness_us <= last_us})
    return t0_us, last_us


def paced_records(pool: list[Any], t0_us: int, count: int, step_us: float) -> list[Any]:
    """Records for the paced run: trade i at event time (= arrival) t0 + i * step."""
    from sources.records import trade_record

    return [trade_record(pool[i % len(pool)]._replace(trade_id=i, ts_us=t0_us + int(i * step_us)))
            for i in range(count)]


def score_latency(paced: Paced, seen: list[list[Any]], lateness_us: int, first_us: int,
                  last_us: int) -> None:
    """Latency of each 1 s candle closed by the watermark while trades flowed: when it was
    visible, minus its window end plus allowed lateness (the earliest it may close)."""
    got = 0
    for _symbol, interval_us, start_us, produced_s, visible_s in seen:
        due_us = start_us + interval_us + lateness_us
        if interval_us == 1_000_000 and start_us >= first_us - 1_000_000 and due_us <= last_us:
            paced.latencies_ms.append((visible_s - due_us / 1e6) * 1000)
            paced.emit_delays_ms.append((produced_s - due_us / 1e6) * 1000)
            got += 1
    paced.missing_candles = paced.expected_candles - got


def scrape_histogram(port: int, name: str) -> dict[str, Any]:
    """One histogram from the layer's /metrics, with interpolated p50/p99."""
    from prometheus_client.parser import text_string_to_metric_families

    url = f"http://127.0.0.1:{port}/metrics"
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    buckets: list[tuple[float, float]] = []
    total = count = 0.0
    for family in text_string_to_metric_families(text):
        if family.name != name:
            continue
        for sample in family.samples:
            if sample.name.endswith("_bucket"):
                buckets.append((float(sample.labels["le"]), sample.value))
            elif sample.name.endswith("_sum"):
                total = sample.value
            elif sample.name.endswith("_count"):
                count = sample.value
    buckets.sort()
    return {"count": count, "mean_ms": 1000 * total / count if count else None,
            "p50_ms": 1000 * histogram_quantile(0.5, buckets),
            "p99_ms": 1000 * histogram_quantile(0.99, buckets), "buckets": buckets}


# ---- report ------------------------------------------------------------------------------

def report(bench: Bench, results: dict[str, Measured], paced: Paced | None) -> dict[str, Any]:
    """Print the summary table; return everything as one JSON-able dict."""
    a, b, c = (results.get(k) for k in ("consume", "speed", "quix"))
    ratio_a = b.median_rate / a.median_rate if a and b and a.median_rate else None
    ratio_c = b.median_rate / c.median_rate if c and b and c.median_rate else None
    info = bench.info
    print(f"\nspeed-layer benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, {info['kafka']}, "
          f"librdkafka {info['librdkafka']}, quixstreams {info.get('quix_version', '-')}")
    print(f"{len(bench.trades):,} trades, 8 symbols on {info['partitions_with_data']} of "
          f"{bench.args.partitions} partitions, {info['event_seconds']:.0f} s of event time, "
          f"{info['trades_per_1s_candle']:.0f} trades per 1 s candle; "
          f"reference candles {info['reference_candles']}")
    print(f"\n{'':28}{'median':>10}  {'peak RSS':>9}  runs")
    for item in (a, b, c):
        if item:
            runs = ", ".join(rate_text(r) for r in item.rates)
            rss = max(item.peak_rss_bytes) / MIB
            print(f"{item.name:28}{rate_text(item.median_rate):>10}  {rss:>6.0f} MiB  {runs}")
            for note in item.notes:
                print(f"{'':42}{note}")
    verdicts = {
        "speed_vs_consume": _verdict("(b)/(a)", ratio_a, TARGET_VS_CONSUME, "x"),
        "speed_vs_quix": _verdict("(b)/(c)", ratio_c, TARGET_VS_QUIX, "x"),
    }
    if paced:
        verdicts["p99_latency"] = print_paced(paced)
    print("\nloads (1-min average) by phase: "
          + ", ".join(f"{k} {v:.1f}" for k, v in bench.loads.items()))
    return {"date": datetime.now(UTC).isoformat(), "cores": os.cpu_count(), "info": info,
            "args": vars(bench.args), "results": {k: asdict(v) | {"median": v.median_rate}
                                                  for k, v in results.items()},
            "ratios": {"speed_vs_consume": ratio_a, "speed_vs_quix": ratio_c},
            "targets_met": verdicts, "paced": asdict(paced) if paced else None,
            "loads": bench.loads}


def _verdict(label: str, value: float | None, target: float, unit: str) -> bool | None:
    if value is None:
        print(f"{label}: not measured")
        return None
    met = value >= target
    print(f"{label} = {value:.2f}{unit}  (target >= {target}{unit}: "
          f"{'met' if met else 'NOT met'})")
    return met


def print_paced(paced: Paced) -> bool:
    lat = paced.latencies_ms
    p50, p99 = percentile(lat, 0.5), percentile(lat, 0.99)
    print(f"\npaced: {paced.sent:,} trades at {paced.achieved_rate:,.0f}/s (target "
          f"{paced.target_rate:,.0f}/s), speed layer peak RSS "
          f"{paced.peak_rss_bytes / MIB:.0f} MiB")
    print(f"  1 s candles visible to read_committed, beyond window end + allowed lateness: "
          f"p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {max(lat, default=float('nan')):.0f} ms "
          f"over {len(lat)} candles ({paced.missing_candles} expected ones not seen)")
    emit = paced.emit_delays_ms
    print(f"  of which due -> candle produced by the layer (its CreateTime): p50 "
          f"{percentile(emit, 0.5):.0f} ms, p99 {percentile(emit, 0.99):.0f} ms")
    for what, hist in (("window close -> commit", paced.histogram),
                       ("transaction commit", paced.commit_histogram)):
        if hist.get("count"):
            print(f"  speed layer's {what} histogram: {hist['count']:.0f} observations, "
                  f"mean {hist['mean_ms']:.0f} ms, ~p50 {hist['p50_ms']:.0f} ms, "
                  f"~p99 {hist['p99_ms']:.0f} ms (interpolated in buckets)")
    print(f"  the layer consumed {paced.consumed:,} of the {paced.sent:,} trades sent, and "
          f"committed {paced.commits_while_producing} times while they were sent (every "
          f"{1000 * paced.sent / paced.target_rate / max(1, paced.commits_while_producing):.0f}"
          " ms)")
    met = p99 <= TARGET_P99_MS and paced.missing_candles == 0
    print(f"  p99 target <= {TARGET_P99_MS:.0f} ms: {'met' if met else 'NOT met'}")
    return met


# ---- main --------------------------------------------------------------------------------

def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/speed_layer.py", description=__doc__.split("\n\n")[0],
        epilog="Broker: KAFKA_BOOTSTRAP_SERVERS, else a local Kafka in a temp dir. Quix "
        "Streams interpreter: --quix-python, else BENCH_QUIX_PYTHON, else "
        f"{DEFAULT_QUIX_PYTHON} (python -m venv DIR && DIR/bin/pip install quixstreams).",
    )
    add = parser.add_argument
    add("--trades", type=int, default=2_000_000, help="trades to preload (default 2,000,000)")
    add("--partitions", type=int, default=8, help="partitions of the trades topic (default 8)")
    add("--event-rate", type=float, default=3_000.0,
        help="simulated trades per second of event time, calm rate (default 3000)")
    add("--seed", type=int, default=42, help="simulator seed (default 42)")
    add("--repeats", type=int, default=3, help="runs of (a), (b), (c); median reported")
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
    add("--paced-rate", type=float, default=50_000.0, help="paced trades/s (default 50,000)")
    add("--paced-seconds", type=float, default=20.0, help="paced run length (default 20)")
    add("--skip", default="", help="comma-separated parts to skip: consume,speed,quix,paced")
    add("--json", type=Path, default=None, help="also write all results to this file")
    add("--workdir", type=Path, default=None, help="logs and Quix state (default: temp)")
    add("--keep-topics", action="store_true", help="do not delete this run's topics")
    return parser.parse_args(argv)


def pick_quix_python(args: argparse.Namespace) -> str | None:
    candidates = [args.quix_python] if args.quix_python else [str(DEFAULT_QUIX_PYTHON),
                                                               sys.executable]
    for python in candidates:
        if Path(python).exists() and quix_available(python):
            return python
    print(f"(c) skipped: no interpreter with quixstreams among {candidates}", file=sys.stderr)
    return None


def run(args: argparse.Namespace, bench: Bench) -> dict[str, Any]:
    skip = {part.strip() for part in args.skip.split(",") if part.strip()}
    quix_python = None if "quix" in skip else pick_quix_python(args)
    print(f"preloading {args.trades:,} trades ...", flush=True)
    bench.note_load("start")
    preload(bench)
    print(f"  done in {bench.info['preload_seconds']:.1f} s; reference candles in "
          f"{bench.info['reference_seconds']:.1f} s", flush=True)
    plan: list[tuple[str, str, Callable[[Bench, int, Measured], None]]] = [
        ("consume", "(a) bare consume()", measure_consume),
        ("speed", "(b) candles speed", measure_speed)]
    if quix_python:
        plan.append(("quix", f"(c) Quix ({min(args.quix_trades, args.trades) // 1000}k)",
                     lambda bn, i, m: measure_quix(bn, i, m, quix_python)))
    results = {key: Measured(name) for key, name, _ in plan if key not in skip}
    for run_number in range(args.repeats):
        for key, name, measure in plan:
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


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in CHILDREN:
        CHILDREN[argv[0]](argv[1:])
        return
    args = parse_args(argv)
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


if __name__ == "__main__":
    main()
