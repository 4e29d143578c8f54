"""``candles archive``: consume topics into the master dataset, exactly once.

The Kafka Connect S3 sink's scheme: messages are cut into offset-aligned chunks
(:mod:`storage.chunks`); a chunk's files get deterministic names and are written
atomically; its end offset is committed only after its last file is in place. A crash
re-reads at most one chunk per partition and rewrites the same files with the same bytes,
so nothing is lost and nothing is doubled. Open chunks are also written (unsealed, not
committed) every ``archive_flush_interval_ms`` and at exit, so quiet partitions show up.
"""

from __future__ import annotations

import logging
import signal
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from confluent_kafka import (
    TIMESTAMP_NOT_AVAILABLE,
    Consumer,
    KafkaError,
    KafkaException,
    TopicPartition,
)
from confluent_kafka import Message as KafkaMessage

from kafka_ops.clients import consumer_config
from kafka_ops.fatal import CLOSE_TIMEOUT_S, FatalErrorWatch, close_bounded, is_fatal
from kafka_ops.liveness import Heartbeat
from storage.chunks import ChunkRows, OpenChunk, chunk_index
from storage.exceptions import ArchiveCommitError, OffsetOrderError
from storage.manifest import ensure_layout
from storage.metrics import ArchiveMetrics
from storage.rows import Message
from storage.run_state import ArchiveSummary, RunState, StopRules
from storage.settings import ArchiveSettings
from storage.store import Store
from storage.writer import ChunkWriter

log = logging.getLogger(__name__)
Key = tuple[str, int]
COMMIT_PATIENCE_S = 120.0
RETRIABLE_COMMIT_CODES = frozenset({KafkaError._WAIT_COORD, KafkaError._TRANSPORT,
                                    KafkaError._TIMED_OUT, KafkaError.REQUEST_TIMED_OUT,
                                    KafkaError.COORDINATOR_NOT_AVAILABLE,
                                    KafkaError.NOT_COORDINATOR,
                                    KafkaError.COORDINATOR_LOAD_IN_PROGRESS})


@dataclass
class ArchiveClients:
    """What the archiver talks to Kafka with, built once per process."""

    consumer: Any  # confluent_kafka.Consumer, or a test's stand-in
    fatal: FatalErrorWatch


def build_clients(settings: ArchiveSettings) -> ArchiveClients:
    """A consumer in the archive group (static membership), watched for fatal errors."""
    fatal = FatalErrorWatch("archiver")
    overrides: dict[str, Any] = {"enable.partition.eof": True, "error_cb": fatal,
                                 "group.instance.id": settings.archive_instance_id}
    consumer = Consumer(consumer_config(settings, settings.archive_group_id, **overrides))
    return ArchiveClients(consumer, fatal)


class Archiver:
    """One member of the archive consumer group. Build it, then call :meth:`run`."""

    def __init__(self, settings: ArchiveSettings, clients: ArchiveClients, store: Store,
                 metrics: ArchiveMetrics, sinks: dict[str, Callable[[], ChunkRows]],
                 heartbeat: Heartbeat, stop_rules: StopRules | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings, self.store, self.metrics, self.sinks = settings, store, metrics, sinks
        self.heartbeat, self.clock = heartbeat, clock
        self.size = settings.archive_chunk_offsets
        self.writer = ChunkWriter(store, metrics)
        self.open: dict[Key, OpenChunk] = {}
        self.state = RunState(stop_rules or StopRules(), clock)
        self.consumer, self.fatal = clients.consumer, clients.fatal

    def stop(self, *_: object) -> None:
        """Finish the current batch, write open chunks and exit (SIGTERM/SIGINT)."""
        self.state.stopping = True
        self.heartbeat.stop_requested()

    def run(self) -> ArchiveSummary:
        ensure_layout(self.store, self.size)
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        self.consumer.subscribe(list(self.sinks), on_assign=self._on_assign,
                                on_revoke=self._on_revoke, on_lost=self._on_revoke)
        flush_every_s = self.settings.archive_flush_interval_ms / 1000
        pending: Counter[str] = Counter()
        try:
            while not self.state.done():
                batch = self.consumer.consume(self.settings.archive_batch_size, timeout=0.2)
                self.heartbeat.beat()
                self._handle(batch)
                self.fatal.check()
                if self.clock() - self.state.last_flush >= flush_every_s:
                    self._flush_open()
            self._flush_open()
            for chunk in self.open.values():  # before close(): its revoke drops them
                pending.update(chunk.rows.counts())
        finally:
            if self.fatal.error is None:  # after a fatal error, close() can wait forever
                close_bounded(self.consumer, CLOSE_TIMEOUT_S)
        return self.state.summary(dict(pending))

    def _handle(self, batch: list[KafkaMessage]) -> None:
        for message in batch:
            error = message.error()
            if error is None:
                self._route(message)
            elif error.code() == KafkaError._PARTITION_EOF:
                self.state.at_end.add((message.topic() or "", message.partition() or 0))
            elif is_fatal(error):
                self.fatal(error)
                self.fatal.check()
            else:
                log.warning("consumer error: %s", error)

    def _route(self, message: KafkaMessage) -> None:
        topic, partition, offset = message.topic() or "", message.partition() or 0, \
            message.offset() or 0
        key = (topic, partition)
        index = chunk_index(offset, self.size)
        chunk = self.open.get(key)
        if chunk is not None and index != chunk.index:
            if index < chunk.index:
                raise OffsetOrderError(topic, partition, offset, chunk.first)
            self._seal(chunk)
            chunk = None
        if chunk is None:
            chunk = self.open[key] = OpenChunk(topic, partition, index, self.size,
                                               self.sinks[topic]())
        ts_type, ts_ms = message.timestamp()
        chunk.add(Message(offset, -1 if ts_type == TIMESTAMP_NOT_AVAILABLE else ts_ms,
                          message.key(), message.value(), _headers(message)))
        self.state.saw_message(key)
        self.metrics.consumed.inc()
        self.metrics.commit_lag.labels(topic, str(partition)).set(offset + 1 - chunk.first)

    def _seal(self, chunk: OpenChunk) -> None:
        """Write the complete chunk, then commit its end offset (never before)."""
        result = self.writer.write(chunk, sealed=True)
        self._commit(TopicPartition(chunk.topic, chunk.partition, chunk.end))
        self.state.sealed(result.files, result.bytes, chunk.rows.counts())
        for kind, count in chunk.rows.counts().items():
            self.metrics.rows.labels(kind).inc(count)
        self.metrics.chunks.inc()
        self.metrics.last_commit.set_to_current_time()
        del self.open[(chunk.topic, chunk.partition)]

    def _commit(self, tp: TopicPartition) -> None:
        """Commit a sealed chunk's end offset; a broker that is away (no coordinator, a
        timeout) is waited for, up to ``COMMIT_PATIENCE_S``, before giving up."""
        deadline = self.clock() + COMMIT_PATIENCE_S
        while True:
            try:
                self.consumer.commit(offsets=[tp], asynchronous=False)
                return
            except KafkaException as exc:
                error = exc.args[0] if exc.args else None
                retriable = isinstance(error, KafkaError) and (
                    error.retriable() or error.code() in RETRIABLE_COMMIT_CODES)
                if not retriable or self.clock() >= deadline:
                    raise ArchiveCommitError(tp.topic, tp.partition, tp.offset,
                                             str(exc)) from exc
                log.warning("commit of %s[%d] at %d failed (%s); retrying", tp.topic,
                            tp.partition, tp.offset, error)
                time.sleep(1.0)
                self.heartbeat.beat()

    def _flush_open(self) -> None:
        for chunk in self.open.values():
            if chunk.dirty:
                result = self.writer.write(chunk, sealed=False)
                self.state.flushed(result.files, result.bytes)
        self.state.last_flush = self.clock()

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self.state.assigned.update((tp.topic, tp.partition) for tp in partitions)
        log.info("assigned %s", [f"{tp.topic}[{tp.partition}]" for tp in partitions])

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Drop revoked partitions' open chunks unwritten: the next owner re-reads them
        from the committed chunk start and writes the same files."""
        for tp in partitions:
            self.open.pop((tp.topic, tp.partition), None)
            self.state.assigned.discard((tp.topic, tp.partition))
            self.state.at_end.discard((tp.topic, tp.partition))


def _headers(message: KafkaMessage) -> tuple[tuple[str, bytes | None], ...]:
    """The message's headers as ``(name, bytes)`` pairs (values are bytes on the wire)."""
    pairs = message.headers() or []
    items = pairs.items() if isinstance(pairs, dict) else pairs
    return tuple((name, value.encode() if isinstance(value, str) else value)
                 for name, value in items)
