"""``candles demo``: the whole pipeline on embedded defaults, with a report of what went where.

Each run uses its own topic prefix (``demo-<run>``), so runs never see each other's data.
Steps: a Kafka broker (the configured one, or a local one started here), topics, a
simulated chaos stream written to a file and replayed into Kafka, the speed layer until
the input is drained, every output topic read back and checked against the contract's
reference implementation, the archive (the Parquet master dataset, with the speed candles
beside it), the batch layer for every date, and a first speed-versus-batch comparison.
"""

from __future__ import annotations

import io
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import orjson
import pyarrow.parquet as pq
from confluent_kafka.admin import AdminClient
from prometheus_client import CollectorRegistry

from batch_layer.job import run_batch
from batch_layer.summary import BatchSummary
from candle_core.candle import Candle, latest_revisions
from candle_core.codec import candles_from_table, decode_candle
from candle_core.parsing import TradeParser
from candle_core.reference import candles_from_trades
from candle_core.side_outputs import HEADER_REASON, decode_late, header
from candle_core.trade import Trade
from candle_core.windows import interval_label
from kafka_ops.clients import common_config, local_kafka_config, producer_config
from kafka_ops.launcher import LocalKafka
from kafka_ops.liveness import Heartbeat
from kafka_ops.reading import read_topic
from kafka_ops.topics import create_topics, pipeline_topics
from lambda_candles.nightly import load_with_local_init
from lambda_candles.settings import CandlesSettings
from reconciliation.publish import Published, reconcile_and_publish
from sources.chaos import CHAOS_PRESET
from sources.feed import serve_in_thread
from sources.formats import open_records
from sources.ingest import Mode, ingest
from sources.outputs import drain
from sources.pacing import Pace, Pacer
from sources.producer import KafkaSink
from sources.records import kafka_timestamp_ms
from sources.replay import replay
from sources.simulator import SimulationConfig, simulate
from speed_layer.clients import build_clients
from speed_layer.metrics import SpeedMetrics
from speed_layer.processor import SpeedLayer, StopRules
from speed_layer.summary import RunSummary
from storage.archiver import Archiver
from storage.archiver import build_clients as build_archive_clients
from storage.layout import BATCH_SOURCE, candles_dir, date_of
from storage.metrics import ArchiveMetrics
from storage.run_state import ArchiveSummary
from storage.run_state import StopRules as ArchiveStopRules
from storage.sinks import archive_sinks
from storage.store import Store, is_temp
from storage.stores import open_store
from storage.warehouse.loader import LoadResult

TOPIC_FIELDS = ("topic_trades", "topic_dlq", "topic_late", "topic_candles", "topic_live",
                "topic_speed_state")


@dataclass
class DemoReport:
    """What the demo did, step by step, for the closing tables."""

    run_id: str
    bootstrap: str
    trades_file: Path
    simulated: Counter[str] = field(default_factory=Counter)
    replayed: int = 0
    speed: RunSummary = field(default_factory=RunSummary)
    candles_by_interval: Counter[str] = field(default_factory=Counter)
    dlq_by_reason: Counter[str] = field(default_factory=Counter)
    late: int = 0
    revising: int = 0  # late trades inside the revision horizon: they revised candles
    revisions: int = 0  # candle messages with revision > 0
    exact: int = 0
    expected: int = 0
    archive: ArchiveSummary | None = None
    lake: str = ""
    batch: list[BatchSummary] = field(default_factory=list)
    batch_exact: int = 0
    batch_expected: int = 0
    settings: CandlesSettings | None = None  # this run's (topics, archive, warehouse)
    reconciled: list[Published] = field(default_factory=list)
    loaded: list[LoadResult] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class DemoState:
    """What later steps reuse instead of reading or parsing it again."""

    valid_trades: list[Trade]  # the simulated file's valid trades, in offset order
    speed_candles: list[Candle] = field(default_factory=list)  # committed, read once


@contextmanager
def broker(settings: CandlesSettings, keep: bool, say: Callable[[str], None]) -> Iterator[str]:
    """The configured broker, or a local one (stopped afterwards unless ``keep``)."""
    if settings.kafka_bootstrap_servers:
        yield settings.kafka_bootstrap_servers
        return
    local = LocalKafka(local_kafka_config(settings))
    already = local.status().running
    say("starting a local Kafka broker (the first run fetches its jars with mvn) ...")
    bootstrap = local.start()
    try:
        yield bootstrap
    finally:
        if not keep and not already:
            local.stop()


def isolated(settings: CandlesSettings, bootstrap: str, run_id: str) -> CandlesSettings:
    """Settings whose topics, group and transactional id belong to this run only."""
    update: dict[str, object] = {name: f"demo-{run_id}.{getattr(settings, name)}"
                                 for name in TOPIC_FIELDS}
    update |= {"kafka_bootstrap_servers": bootstrap, "speed_group_id": f"demo-{run_id}",
               "speed_instance_id": f"demo-{run_id}", "archive_group_id": f"demo-{run_id}-a",
               "archive_instance_id": f"demo-{run_id}"}
    return settings.model_copy(update=update)


def run_demo(settings: CandlesSettings, trades: int, workdir: Path, keep_kafka: bool,
             say: Callable[[str], None], source: str = "replay") -> DemoReport:
    """Run every step; ``say`` reports progress lines. ``source``: ``replay`` (the file
    straight into Kafka) or ``http`` (the file served as a tick feed and ingested)."""
    run_id = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    with broker(settings, keep_kafka, say) as bootstrap:
        settings = isolated(settings, bootstrap, run_id)
        run_dir = workdir / f"demo-{run_id}"
        settings = settings.model_copy(update={
            "archive_root": str(run_dir / "lake"),
            "warehouse_duckdb_path": run_dir / "warehouse.duckdb"})
        report = DemoReport(run_id, bootstrap, workdir / f"demo-{run_id}" / "trades.parquet")
        report.settings = settings
        create_topics(AdminClient(common_config(settings)), pipeline_topics(settings),
                      settings.replication_factor)
        timed(report, "simulate", lambda: _simulate(settings, trades, report), say)
        if source == "http":
            timed(report, "feed -> ingest", lambda: _ingest_http(settings, report), say)
        else:
            timed(report, "replay", lambda: _replay(settings, report), say)
        timed(report, "speed layer", lambda: _speed(settings, report), say)
        state = DemoState(_valid_trades(settings, report.trades_file))
        timed(report, "verify", lambda: _verify(settings, report, state), say)
        timed(report, "archive", lambda: _archive(settings, report), say)
        timed(report, "batch layer", lambda: _batch(settings, report, state), say)
        timed(report, "reconcile + load", lambda: _reconcile_and_load(settings, report), say)
    return report


def timed(report: DemoReport, step: str, action: Callable[[], None],
          say: Callable[[str], None]) -> None:
    say(f"{step} ...")
    began = time.monotonic()
    action()
    report.seconds[step] = time.monotonic() - began


def _simulate(settings: CandlesSettings, trades: int, report: DemoReport) -> None:
    now_s = int(time.time())
    start_us = (now_s - now_s % 60) * 1_000_000 - trades * 1_000  # ends about now
    config = SimulationConfig(trades=trades, start_us=start_us, seed=7, rate_per_s=1_000.0,
                              chaos=CHAOS_PRESET,
                              allowed_lateness_us=settings.allowed_lateness_us,
                              max_future_skew_us=settings.max_future_skew_us)
    report.trades_file.parent.mkdir(parents=True, exist_ok=True)
    report.simulated = drain(simulate(config), report.trades_file, None, None,
                             threading.Event())


def _replay(settings: CandlesSettings, report: DemoReport) -> None:
    sink = KafkaSink(producer_config(settings), settings.topic_trades)
    run = replay(lambda: open_records(report.trades_file), sink,
                 Pacer(Pace(), lambda _s: False), threading.Event())
    if sink.flush() or sink.counts.failed:
        raise RuntimeError(f"replay: {sink.counts.failed} records not delivered")
    report.replayed = run.sent


def _ingest_http(settings: CandlesSettings, report: DemoReport) -> None:
    """The trades file as an HTTP tick feed (``candles feed serve``), read by
    ``candles ingest http``: valid trades to ``trades``, invalid records to the DLQ."""
    url, stop = serve_in_thread(report.trades_file)
    try:
        summary = ingest(settings, url, Mode.STREAM)
    finally:
        stop()
    report.replayed = summary.produced + summary.invalid


def _speed(settings: CandlesSettings, report: DemoReport) -> None:
    layer = SpeedLayer(settings, build_clients(settings), SpeedMetrics(CollectorRegistry()),
                       Heartbeat(60.0), StopRules(idle_exit_s=3.0))
    report.speed = layer.run()


def _verify(settings: CandlesSettings, report: DemoReport, state: DemoState) -> None:
    messages = read_topic(settings, settings.topic_candles)
    emitted = [decode_candle(m.value() or b"") for m in messages]
    candles = state.speed_candles = list(latest_revisions(emitted).values())
    report.candles_by_interval = Counter(interval_label(c.interval_us) for c in candles)
    report.revisions = sum(1 for c in emitted if c.revision > 0)
    report.revising = report.speed.revising
    report.dlq_by_reason = Counter(header(m.headers(), HEADER_REASON) or "?"
                                   for m in read_topic(settings, settings.topic_dlq))
    late = {_late_key(m.value() or b"") for m in read_topic(settings, settings.topic_late)}
    report.late = len(late)
    valid = state.valid_trades
    expected = candles_from_trades([t for t in valid if (t.symbol, t.trade_id) not in late],
                                   settings.intervals_us)
    mine = {c.key: replace(c, revision=0) for c in candles}  # the latest revision of each
    report.expected = len(expected)
    report.exact = sum(1 for c in expected if mine.get(c.key) == c)


def _archive(settings: CandlesSettings, report: DemoReport) -> None:
    store = open_store(settings)
    archiver = Archiver(settings, build_archive_clients(settings), store,
                        ArchiveMetrics(CollectorRegistry()),
                        archive_sinks(settings, candles=True), Heartbeat(60.0),
                        ArchiveStopRules(until_idle_s=2.0))
    report.archive = archiver.run()
    report.lake = store.root_uri


def _batch(settings: CandlesSettings, report: DemoReport, state: DemoState) -> None:
    """Every date the stream touched; then what the batch layer wrote vs the reference,
    and speed vs batch."""
    store = open_store(settings)
    trades = state.valid_trades
    batch_candles = []
    for date in sorted({date_of(t.ts_us) for t in trades}):
        report.batch.append(run_batch(store, settings, date))
        batch_candles.extend(_written_batch_candles(store, settings, date))
    expected = candles_from_trades(trades, settings.intervals_us)
    mine = {c.key: c for c in batch_candles}
    report.batch_expected = len(expected)
    report.batch_exact = sum(1 for c in expected if mine.get(c.key) == c)


def _reconcile_and_load(settings: CandlesSettings, report: DemoReport) -> None:
    """What ``candles nightly`` does after the batch layer, for every date of the run."""
    store = open_store(settings)
    for summary in report.batch:
        report.reconciled.append(reconcile_and_publish(store, settings, summary.date))
        report.loaded.append(load_with_local_init(store, settings, summary.date))


def _written_batch_candles(store: Store, settings: CandlesSettings, date: str
                           ) -> list[Candle]:
    """Read back the batch candles of ``date`` as written, every interval."""
    candles: list[Candle] = []
    for interval_us in settings.intervals_us:
        directory = candles_dir(BATCH_SOURCE, interval_label(interval_us), date)
        for entry in store.list_files(directory):
            if not is_temp(entry.name):
                data = store.read_bytes(entry.path) or b""
                candles.extend(candles_from_table(pq.read_table(io.BytesIO(data))))
    return candles


def _valid_trades(settings: CandlesSettings, trades_file: Path) -> list[Trade]:
    """The simulated file's valid trades, in arrival (offset) order."""
    parser = TradeParser(settings.max_future_skew_us)
    parsed = (parser.parse(r.value, kafka_timestamp_ms(r.timestamp_us) * 1000)
              for r in open_records(trades_file))
    return [t for t in parsed if isinstance(t, Trade)]


def _late_key(value: bytes) -> tuple[str, int]:
    wire = orjson.loads(bytes(decode_late(value).trade))
    return wire["symbol"], wire["trade_id"]
