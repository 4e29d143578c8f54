"""What an operator sees of a running speed layer: /metrics, /healthz and the live topic."""

from __future__ import annotations

import socket
import time
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from candle_core.candle import Candle
from candle_core.codec import decode_candle
from tests.pipeline import Pipeline
from tests.speed_layer.trades import as_records, clean_stream

pytestmark = pytest.mark.kafka


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def scrape(port: int) -> dict[str, float]:
    """Every sample of /metrics as ``name{labels}`` -> value."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}"] = sample.value
    return samples


def test_metrics_health_and_live_candles(kafka_bootstrap: str, tmp_path: Path) -> None:
    pipeline = Pipeline(kafka_bootstrap, partitions=2)
    pipeline.create_topics()
    trades = clean_stream(3_000, seed=5, span_s=30)
    records = as_records(trades)
    records.insert(10, (b"AAPL", b'{"symbol": "AAPL", "trade_id": ', records[10][2]))
    pipeline.produce(records)
    port = free_port()
    process = pipeline.start("speed", "--live", "--metrics-port", str(port),
                             "--max-runtime", "60", log_path=tmp_path / "speed.log")
    try:
        deadline, samples = time.monotonic() + 40, {}
        while time.monotonic() < deadline:
            time.sleep(1)
            try:
                samples = scrape(port)
            except OSError:
                continue
            if samples.get("candles_speed_trades_valid_total{}") == len(trades):
                break
        assert samples.get("candles_speed_messages_consumed_total{}") == len(records), samples
        assert samples["candles_speed_trades_valid_total{}"] == len(trades)
        assert samples["candles_speed_dlq_total{reason=malformed_json}"] == 1
        assert samples["candles_speed_candles_emitted_total{interval=1s}"] > 0
        assert samples["candles_speed_transaction_commit_seconds_count{}"] > 0
        state_bytes = samples["candles_speed_changelog_bytes_total{}"]
        assert samples["candles_speed_window_close_to_commit_seconds_count{}"] > 0
        assert "candles_speed_consumer_lag_messages{partition=0}" in samples
        assert "candles_speed_watermark_lag_seconds{partition=0}" in samples
        health = urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5)
        assert health.status == 200
        live = wait_for_live(pipeline, deadline_s=30)
        assert live, "no in-progress candle was published:\n" + (
            tmp_path / "speed.log").read_text()[-3000:]
    finally:
        process.terminate()
        assert process.wait(timeout=30) == 0
    assert all(c.interval_us == 1_000_000 for c in live)
    # the counter (scraped before the last commits) against the state records on the topic
    written = sum(len(m.value() or b"") for m in pipeline.messages(
        pipeline.settings.topic_speed_state) if b"|rs|" in (m.key() or b""))
    assert 0 < state_bytes <= written


def wait_for_live(pipeline: Pipeline, deadline_s: float) -> list[Candle]:
    """The committed in-progress candles, polled until some appear or the deadline."""
    deadline = time.monotonic() + deadline_s
    live: list[Candle] = []
    while not live and time.monotonic() < deadline:
        live = [decode_candle(m.value() or b"") for m in pipeline.messages(
            pipeline.settings.topic_live)]
        time.sleep(0.5)
    return live
