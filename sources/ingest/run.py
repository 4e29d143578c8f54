"""``ingest``: read the feed (stream or REST), validate, produce, checkpoint.

Order of work for every record: skip it if the cursor or the topic already has it,
validate it with :class:`TradeParser` (Kafka timestamp = its arrival time), produce it to
``trades`` or, with its reason, to the DLQ, then advance the in-memory cursor. The cursor
is saved only after a flush confirmed delivery: every ``checkpoint_every`` records, before
every wait (backoff, poll interval) and at the end. See ``docs/sources.md`` for why this
delivers every record exactly once across reconnects, restarts and crashes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import httpx
import msgspec
from prometheus_client import CollectorRegistry

from candle_core.parsing import TradeParser
from candle_core.trade import Rejection
from kafka_ops.clients import producer_config
from sources.exceptions import DeliveryError
from sources.feed.wire import Envelope, decode_page
from sources.ingest.backoff import Backoff
from sources.ingest.checkpoint import (
    Checkpoint,
    Cursor,
    load_checkpoint,
    produced_seqs,
    save_checkpoint,
)
from sources.ingest.fetch import Retrier, fetch, stream_envelopes
from sources.ingest.metrics import IngestMetrics
from sources.ingest.sink import IngestSink
from sources.records import kafka_timestamp_ms
from sources.settings import IngestSettings

US_PER_MS = 1_000


class Mode(StrEnum):
    """The two shapes of the feed."""

    STREAM = "stream"
    REST = "rest"


@dataclass(frozen=True)
class IngestOptions:
    """Tuning knobs (the CLI's flags)."""

    poll_interval_s: float = 1.0
    page_limit: int = 500
    checkpoint_every: int = 10_000
    backoff: Backoff = field(default_factory=Backoff)
    timeout_s: float = 30.0


@dataclass
class IngestSummary:
    """What one run did."""

    produced: int = 0
    invalid: int = 0
    skipped: int = 0
    elapsed_s: float = 0.0
    stopped: bool = False
    cursor_seq: int = 0


class _Run:
    """One ingestion: the cursor, the sink and the bookkeeping shared by both modes."""

    def __init__(self, settings: IngestSettings, url: str, mode: Mode, feed_id: str,
                 checkpoint_path: Path | None, options: IngestOptions,
                 metrics: IngestMetrics, on_record: Callable[[], None]) -> None:
        self.url, self.mode, self.options, self.metrics = url, mode, options, metrics
        self.checkpoint_path, self.on_record = checkpoint_path, on_record
        saved = load_checkpoint(checkpoint_path, feed_id, mode.value)
        self.checkpoint = saved
        topics = (settings.topic_trades, settings.topic_dlq)
        self.cursor = Cursor(saved.seq, dict(saved.ids),
                             produced_seqs(settings, topics, saved.offsets, feed_id))
        self.sink = IngestSink(producer_config(settings), settings.topic_trades,
                               settings.topic_dlq, feed_id, url)
        self.sink.offsets = {t: dict(p) for t, p in saved.offsets.items()}
        self.parser = TradeParser(settings.max_future_skew_us)
        self.summary = IngestSummary()
        self.unsaved = 0

    def take(self, envelope: Envelope) -> None:
        """Produce one envelope unless the topic already has it; advance the cursor."""
        if envelope.seq in self.cursor.skip:
            self.summary.skipped += 1
            self.metrics.skipped.inc()
        else:
            value = envelope.value()
            timestamp_ms = (kafka_timestamp_ms(envelope.arrival_us) if envelope.arrival_us
                            else int(time.time() * 1_000))
            verdict = self.parser.parse(value, timestamp_ms * US_PER_MS)
            rejection = verdict if isinstance(verdict, Rejection) else None
            self.sink.send(envelope, value, timestamp_ms, rejection)
            if rejection is None:
                self.summary.produced += 1
                self.metrics.produced.inc()
            else:
                self.summary.invalid += 1
                self.metrics.invalid.labels(rejection.reason).inc()
            self.on_record()
        self.cursor.seq = max(self.cursor.seq, envelope.seq)
        self.cursor.ids[envelope.symbol] = max(self.cursor.ids.get(envelope.symbol, 0),
                                               envelope.id)
        self.unsaved += 1
        if self.unsaved >= self.options.checkpoint_every:
            self.save()

    def save(self) -> None:
        """Flush, then (only if everything was delivered) save the cursor."""
        if not self.sink.flush():
            raise DeliveryError(self.sink.failed or 1, self.sink.first_error)
        self.unsaved = 0
        if self.checkpoint_path is None:
            return
        offsets = {t: dict(p) for t, p in self.sink.offsets.items()}
        save_checkpoint(self.checkpoint_path, Checkpoint(
            self.checkpoint.feed_id, self.mode.value, self.cursor.seq, dict(self.cursor.ids),
            offsets))


def ingest(settings: IngestSettings, url: str, mode: Mode | str = Mode.STREAM,
           checkpoint: Path | None = None, options: IngestOptions = IngestOptions(),
           registry: CollectorRegistry | None = None, stop: threading.Event | None = None,
           on_record: Callable[[], None] = lambda: None) -> IngestSummary:
    """Ingest the feed at ``url`` until it is complete (a finite feed) or ``stop`` is set."""
    stop = stop or threading.Event()
    metrics = IngestMetrics(registry or CollectorRegistry())
    base = url.rstrip("/")
    started = time.monotonic()
    with httpx.Client(timeout=options.timeout_s) as client:
        retrier = Retrier(options.backoff, metrics, stop)
        info = fetch(client, f"{base}/info", {}, retrier, _decode_info)
        if info is None:
            return IngestSummary(stopped=True)
        run = _Run(settings, base, Mode(mode), info.feed_id, checkpoint, options,
                   metrics, on_record)
        retrier.before_wait = run.save
        if Mode(mode) is Mode.STREAM:
            for envelope in stream_envelopes(client, base, lambda: run.cursor.seq, retrier):
                run.take(envelope)
        else:
            _poll(client, base, run, retrier, stop)
        run.save()
    run.summary.elapsed_s = time.monotonic() - started
    run.summary.stopped = stop.is_set()
    run.summary.cursor_seq = run.cursor.seq
    return run.summary


def _poll(client: httpx.Client, base: str, run: _Run, retrier: Retrier,
          stop: threading.Event) -> None:
    """REST: page through every symbol from its cursor; sleep between rounds; finish after
    a round that started with the feed complete and drained every symbol."""
    limit = run.options.page_limit
    while not stop.is_set():
        listing = fetch(client, f"{base}/symbols", {}, retrier, _decode_listing)
        if listing is None:
            return
        drained = True
        for symbol in listing.symbols:
            page = _page(client, base, run, retrier, symbol, limit)
            if page is None:
                return
            for envelope in page:
                run.take(envelope)
            drained = drained and len(page) < limit
        if listing.complete and drained:
            return
        if drained:
            retrier.before_wait()
            stop.wait(run.options.poll_interval_s)


def _page(client: httpx.Client, base: str, run: _Run, retrier: Retrier, symbol: str,
          limit: int) -> list[Envelope] | None:
    params = {"symbol": symbol, "from_id": run.cursor.ids.get(symbol, 0) + 1, "limit": limit}
    page = fetch(client, f"{base}/trades", params, retrier, decode_page)
    if page is not None:
        retrier.succeeded()
    return page


class _Info(msgspec.Struct):
    feed_id: str


class _Listing(msgspec.Struct):
    symbols: list[str]
    complete: bool


def _decode_info(body: bytes) -> _Info:
    return msgspec.json.decode(body, type=_Info)


def _decode_listing(body: bytes) -> _Listing:
    return msgspec.json.decode(body, type=_Listing)
