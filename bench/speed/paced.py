"""The paced run: ``candles speed`` live at ``--paced-rate`` trades/s, event time = now."""

from __future__ import annotations

import json
import signal
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from bench.common import Child, free_port
from bench.speed.context import Bench
from bench.speed.latency import score_latency, scrape_histogram
from bench.speed.shared import COMMIT_METRIC, REPO, SCRIPT, last_json


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
    paced.consumed = last_json(speed_child, "paced candles speed")["consumed"]
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
