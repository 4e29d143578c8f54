"""``candles ingest http`` through a real HTTP server on localhost and the real broker.

Every test reads ``trades`` and the DLQ back (read_committed) and checks that each record
of the file arrived exactly once (by the ``candles.feed.seq`` header), valid trades in
``trades`` byte for byte, invalid records in the DLQ with their reason.
"""

from __future__ import annotations

import shutil
import threading
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from pathlib import Path
from typing import Any

import orjson
import pytest
from prometheus_client import CollectorRegistry
from starlette.responses import Response

from candle_core.codec import decode_candle
from candle_core.parsing import TradeParser
from candle_core.reference import candles_from_trades
from candle_core.side_outputs import HEADER_REASON, HEADER_TOPIC, decode_late, header
from candle_core.trade import Rejection, Trade
from kafka_ops.liveness import Heartbeat
from sources.feed.catalog import Catalog
from sources.feed.server import feed_app, run_in_thread, serve_in_thread
from sources.ingest import IngestOptions, Mode, ingest
from sources.ingest.backoff import Backoff
from sources.ingest.checkpoint import HEADER_SEQ
from sources.pacing import Pace
from sources.records import Record, kafka_timestamp_ms
from speed_layer.clients import build_clients
from speed_layer.metrics import SpeedMetrics
from speed_layer.processor import SpeedLayer, StopRules
from tests.pipeline import Pipeline
from tests.sources.test_feed import write_chaos_file

pytestmark = [pytest.mark.kafka, pytest.mark.slow]  # a real broker; 5-10 s each

FAST = IngestOptions(poll_interval_s=0.05, page_limit=200, checkpoint_every=250,
                     backoff=Backoff(base_s=0.05, cap_s=0.2))
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Any, Send], Awaitable[None]]


@pytest.fixture(scope="module")
def chaos(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Record]]:
    path = tmp_path_factory.mktemp("ingest") / "trades.ndjson"
    return path, write_chaos_file(path, trades=2_000, seed=5)


@pytest.fixture
def pipeline(kafka_bootstrap: str) -> Pipeline:
    pipeline = Pipeline(kafka_bootstrap)
    pipeline.create_topics()
    return pipeline


@pytest.fixture
def feed_url(chaos: tuple[Path, list[Record]]) -> Iterator[str]:
    url, stop = serve_in_thread(chaos[0])
    yield url
    stop()


def assert_exactly_once(pipeline: Pipeline, records: list[Record]) -> None:
    """Each record is in trades (valid) or the DLQ (invalid, with reason), exactly once."""
    settings = pipeline.settings
    parser = TradeParser(settings.max_future_skew_us)
    seen: Counter[int] = Counter()
    for topic in (settings.topic_trades, settings.topic_dlq):
        for message in pipeline.messages(topic):
            seq = int(header(message.headers(), HEADER_SEQ) or 0)
            seen[seq] += 1
            record = records[seq - 1]
            assert message.value() == record.value
            verdict = parser.parse(record.value, kafka_timestamp_ms(record.timestamp_us) * 1000)
            if topic == settings.topic_trades:
                assert not isinstance(verdict, Rejection), verdict
                assert message.key() == record.key
            else:
                assert isinstance(verdict, Rejection)
                assert header(message.headers(), HEADER_REASON) == verdict.reason
                assert (header(message.headers(), HEADER_TOPIC) or "").startswith("http://")
    assert set(seen) == set(range(1, len(records) + 1)), "a record is missing"
    assert max(seen.values()) == 1, f"duplicated: {[s for s, n in seen.items() if n > 1]}"


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


@pytest.mark.parametrize("mode", [Mode.STREAM, Mode.REST])
def test_each_shape_delivers_every_record_once(
        mode: Mode, chaos: tuple[Path, list[Record]], feed_url: str, pipeline: Pipeline,
        tmp_path: Path) -> None:
    registry = CollectorRegistry()
    summary = ingest(pipeline.settings, feed_url, mode, tmp_path / "cursor.json", FAST,
                     registry)
    assert summary.produced + summary.invalid == len(chaos[1]) and summary.invalid > 0
    assert not summary.stopped
    assert sample(registry, "candles_ingest_trades_produced_total") == summary.produced
    assert_exactly_once(pipeline, chaos[1])
    again = ingest(pipeline.settings, feed_url, mode, tmp_path / "cursor.json", FAST)
    assert (again.produced, again.invalid) == (0, 0)  # a rerun finds nothing new


def faulty(app: App, script: dict[str, list[tuple[str, int]]]) -> App:
    """Wraps ``app``: each request to a scripted path takes that path's next step —
    ``("429", retry_after_s)``, ``("500", 0)`` or ``("drop", lines)`` (send ``lines``
    whole lines and half of the next, then close the socket) — then behaves normally."""
    steps = {path: list(plan) for path, plan in script.items()}

    async def wrapped(scope: Scope, receive: Any, send: Send) -> None:
        plan = steps.get(scope.get("path", ""))
        if scope["type"] != "http" or not plan:
            await app(scope, receive, send)
            return
        kind, amount = plan.pop(0)
        if kind == "429":
            await Response("slow down", 429, {"Retry-After": str(amount)})(scope, receive, send)
        elif kind == "500":
            await Response("boom", 500)(scope, receive, send)
        else:
            await app(scope, receive, _cut_after(send, amount))

    return wrapped


def _cut_after(send: Send, lines: int) -> Send:
    sent = [0]

    async def cut(message: Message) -> None:
        if message["type"] != "http.response.body":
            await send(message)
            return
        body: bytes = message.get("body", b"")
        parts = body.split(b"\n")
        room = lines - sent[0]
        if len(parts) - 1 < room:
            sent[0] += len(parts) - 1
            await send(message)
            return
        keep = b"\n".join(parts[:room]) + b"\n" + parts[room][: len(parts[room]) // 2]
        await send({"type": "http.response.body", "body": keep, "more_body": True})
        raise ConnectionAbortedError("dropped mid-stream on purpose")

    return cut


@pytest.mark.parametrize("mode", [Mode.STREAM, Mode.REST])
def test_rate_limits_errors_and_drops_lose_and_duplicate_nothing(
        mode: Mode, chaos: tuple[Path, list[Record]], pipeline: Pipeline) -> None:
    """429 with Retry-After, then 500s, then (stream) drops mid-line, twice."""
    app = faulty(feed_app(Catalog.build(chaos[1], Pace())), {
        "/info": [("500", 0)],
        "/stream": [("429", 1), ("500", 0), ("500", 0), ("drop", 700), ("drop", 1)],
        "/symbols": [("429", 1), ("500", 0)],
        "/trades": [("500", 0), ("500", 0), ("429", 1), ("500", 0)],
    })
    url, stop = run_in_thread(app)  # type: ignore[arg-type]
    registry = CollectorRegistry()
    try:
        summary = ingest(pipeline.settings, url, mode, None, FAST, registry)
    finally:
        stop()
    assert summary.elapsed_s >= 1.0  # Retry-After: 1 was waited out
    assert summary.produced + summary.invalid == len(chaos[1])
    limited = 1 if mode is Mode.STREAM else 2  # REST: one on /symbols, one on /trades
    assert sample(registry, "candles_ingest_rate_limited_total") == limited
    assert sample(registry, "candles_ingest_http_errors_total", status="429") == limited
    assert sample(registry, "candles_ingest_http_errors_total", status="500") >= 3
    if mode is Mode.STREAM:
        assert sample(registry, "candles_ingest_http_errors_total", status="connection") == 2
        assert sample(registry, "candles_ingest_reconnects_total") == 5
    assert_exactly_once(pipeline, chaos[1])


@pytest.mark.parametrize("mode", [Mode.STREAM, Mode.REST])
def test_a_restart_after_a_crash_before_the_checkpoint_duplicates_nothing(
        mode: Mode, chaos: tuple[Path, list[Record]], feed_url: str, pipeline: Pipeline,
        tmp_path: Path) -> None:
    """Run 1 stops after ~1,000 records; its checkpoint is then replaced by the one it had
    saved at ~500 records, as if it had crashed after delivering 500..1,000 but before
    saving. Run 2 must find those in the topics and produce only the rest."""
    cursor, stale = tmp_path / "cursor.json", tmp_path / "stale.json"
    stop, done = threading.Event(), [0]

    def on_record() -> None:
        done[0] += 1
        if done[0] == 600 and cursor.exists():
            shutil.copy(cursor, stale)
        if done[0] >= 1_000:
            stop.set()

    first = ingest(pipeline.settings, feed_url, mode, cursor, FAST, stop=stop,
                   on_record=on_record)
    assert first.stopped and stale.exists()
    shutil.copy(stale, cursor)
    second = ingest(pipeline.settings, feed_url, mode, cursor, FAST)
    assert second.skipped >= 400  # found in the topics, not produced again
    assert first.produced + first.invalid + second.produced + second.invalid == len(chaos[1])
    assert_exactly_once(pipeline, chaos[1])
    cursor.unlink()  # no checkpoint at all: the whole topic is the resume point
    third = ingest(pipeline.settings, feed_url, mode, cursor, FAST)
    assert (third.produced, third.invalid, third.skipped) == (0, 0, len(chaos[1]))


def test_the_cli_ingests_and_prints_a_summary(
        chaos: tuple[Path, list[Record]], feed_url: str, pipeline: Pipeline,
        tmp_path: Path) -> None:
    result = pipeline.run("ingest", "http", feed_url, "--mode", "rest", "--poll-interval",
                          "0.05", "--checkpoint", str(tmp_path / "c.json"))
    assert result.returncode == 0, result.stderr
    assert "trades produced" in result.stderr
    assert_exactly_once(pipeline, chaos[1])


def test_the_speed_layer_makes_the_reference_candles_from_ingested_trades(
        chaos: tuple[Path, list[Record]], feed_url: str, pipeline: Pipeline) -> None:
    """What ``candles demo --source http`` does: feed -> ingest -> speed layer -> candles
    equal to the contract's reference over the file's valid, not-late trades."""
    settings = pipeline.settings
    ingest(settings, feed_url, Mode.STREAM, None, FAST)
    SpeedLayer(settings, build_clients(settings), SpeedMetrics(CollectorRegistry()),
               Heartbeat(60.0), StopRules(idle_exit_s=3.0)).run()
    candles = {c.key: c for c in (decode_candle(m.value() or b"")
                                  for m in pipeline.messages(settings.topic_candles))}
    late = set()
    for message in pipeline.messages(settings.topic_late):
        wire = orjson.loads(bytes(decode_late(message.value() or b"").trade))
        late.add((wire["symbol"], wire["trade_id"]))
    parser = TradeParser(settings.max_future_skew_us)
    valid = [t for t in (parser.parse(r.value, kafka_timestamp_ms(r.timestamp_us) * 1000)
                         for r in chaos[1]) if isinstance(t, Trade)]
    expected = candles_from_trades([t for t in valid if (t.symbol, t.trade_id) not in late],
                                   settings.intervals_us)
    assert expected and all(candles.get(c.key) == c for c in expected)
