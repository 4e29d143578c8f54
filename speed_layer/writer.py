"""Everything the speed layer produces, inside the current Kafka transaction."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec
from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition

from candle_core.candle import Candle
from candle_core.codec import encode_candle
from candle_core.reasons import Reason
from candle_core.side_outputs import LateTrade, dlq_headers, encode_late
from candle_core.trade import Trade
from speed_layer.changelog import (
    STATE_RECORD_BYTES,
    Position,
    StateLog,
    encode_position,
    position_key,
    state_record_key,
)
from speed_layer.engine import Outcome
from speed_layer.exceptions import TransactionFailedError
from speed_layer.settings import SpeedSettings

if TYPE_CHECKING:
    from speed_layer._hotpath import DeadLetter, Sink
from speed_layer.metrics import SpeedMetrics, observe_many
from speed_layer.partition import PartitionRun
from speed_layer.summary import RunSummary

TXN_TIMEOUT_S = 30.0
RETRY_PAUSE_S = 0.5
# All partials are rewritten (and every earlier state record tombstoned) once the live
# records hold more than this many bytes, or this many per live partial: restore then
# reads about the state's own size, not its history.
SNAPSHOT_AFTER_BYTES = 1024 * 1024
SNAPSHOT_FACTOR = 400


def coordinates(message: Message) -> tuple[str, int, int, int]:
    """Topic, partition, offset and timestamp (ms) of a consumed message."""
    topic, partition, offset = message.topic(), message.partition(), message.offset()
    assert topic is not None and partition is not None and offset is not None
    return topic, partition, offset, message.timestamp()[1]


class TransactionWriter:
    """Produces candles, late trades, dead letters, live candles and changelog records,
    and commits them atomically with the consumer offsets."""

    def __init__(self, producer: Producer, consumer: Consumer, settings: SpeedSettings,
                 metrics: SpeedMetrics, live_interval_s: float | None,
                 clock: Callable[[], float] = time.monotonic, sink: Sink | None = None) -> None:
        self.producer, self.consumer, self.settings, self.metrics = (
            producer, consumer, settings, metrics)
        self.sink = sink
        self.clock = clock
        self.commit_interval_s = settings.speed_commit_interval_ms / 1000
        self.backlog_interval_s = max(settings.speed_backlog_commit_interval_ms / 1000,
                                      self.commit_interval_s)
        self.close_spacing_s = settings.speed_close_commit_spacing_ms / 1000
        self.live_interval_s = live_interval_s
        self.in_transaction = False
        self.candles_waiting = False  # closed candles produced since the last commit
        self.state_bytes = 0  # rollup state records produced (what the changelog costs)
        self._last_commit = 0.0
        self._last_live = 0.0

    def begin(self) -> None:
        self.producer.begin_transaction()
        self.in_transaction = True
        self._last_commit = self.clock()

    def due(self, now: float, backlog: bool = False) -> bool:
        """Time to commit: every commit interval, or every backlog interval while the
        consumer is catching up (a commit costs two broker round trips, ~10 ms here, and a
        candle that is behind by the backlog gains nothing from a 100 ms cadence); at the
        head of the stream also as soon as closed candles wait, at most every close
        spacing (a candle is then visible a commit after the trade that closed it)."""
        return self.seconds_until_due(now, backlog) <= 0

    def seconds_until_due(self, now: float, backlog: bool = False) -> float:
        """How long the loop may wait for input before the next commit is due."""
        interval = self.backlog_interval_s if backlog else self.commit_interval_s
        if self.candles_waiting and not backlog:
            interval = min(interval, self.close_spacing_s)
        return max(0.0, interval - (now - self._last_commit))

    def _produce(self, topic: str, value: bytes | None, key: bytes | None,
                 partition: int | None = None,
                 headers: list[tuple[str, str | bytes | None]] | None = None) -> None:
        kwargs: dict[str, Any] = {"headers": headers} if headers else {}
        if partition is not None:
            kwargs["partition"] = partition
        while True:
            try:
                self.producer.produce(topic, value, key, **kwargs)
                return
            except BufferError:  # local queue full: let deliveries drain, then retry
                self.producer.poll(0.05)

    def dead_letter(self, message: Message, reason: str, detail: str) -> None:
        """The original key and bytes, with why and where as headers."""
        topic, partition, offset, timestamp_ms = coordinates(message)
        headers = dlq_headers(reason, detail, topic, partition, offset, timestamp_ms)
        self._produce(self.settings.topic_dlq, message.value(), message.key(), headers=headers)

    def _through_sink(self, produce: Callable[[list[Any], int], tuple[int, int]],
                      items: list[Any]) -> None:
        """``items`` produced by one of the :class:`Sink`'s methods, waiting for room as
        ``_produce`` does when the local queue is full; any other librdkafka error raises
        the KafkaException ``Producer.produce()`` would."""
        start = 0
        while True:
            start, code = produce(items, start)
            if code == 0:
                return
            if code != KafkaError._QUEUE_FULL:
                raise KafkaException(KafkaError(code, f"Unable to produce message: "
                                                      f"{KafkaError(code).str()}"))
            self.producer.poll(0.05)

    def dead_letters(self, rejects: list[DeadLetter]) -> None:
        """Dead letters the native scanner built, ``(value, key, headers)``, in order."""
        if self.sink is not None:
            self._through_sink(self.sink.dead_letters, rejects)
            return
        produce, topic = self.producer.produce, self.settings.topic_dlq
        for value, key, headers in rejects:
            try:
                produce(topic, value, key, headers=headers)
            except BufferError:
                self._produce(topic, value, key, headers=headers)

    def handle_outcome(self, outcome: Outcome, run: PartitionRun, message: Message,
                       trade: Trade, summary: RunSummary) -> None:
        """Count an applied trade; route one the engine did not apply."""
        if outcome is Outcome.APPLIED:
            summary.valid += 1
        elif outcome is Outcome.REVISED:
            summary.valid += 1
            summary.revising += 1
        elif outcome is Outcome.LATE:
            self._late(run, message, trade)
            summary.late += 1
        elif outcome is Outcome.DUPLICATE:
            summary.duplicates += 1
        else:
            detail = f"trade_id {trade.trade_id} seen before with other content"
            self.dead_letter(message, Reason.CONFLICTING_DUPLICATE, detail)
            summary.dead_letter(Reason.CONFLICTING_DUPLICATE)

    def _late(self, run: PartitionRun, message: Message, trade: Trade) -> None:
        topic, partition, offset, timestamp_ms = coordinates(message)
        late = LateTrade(run.engine.late_by_us(trade.ts_us), run.engine.watermark_us,
                         topic, partition, offset, timestamp_ms,
                         msgspec.Raw(message.value() or b"null"))
        self._produce(self.settings.topic_late, encode_late(late), trade.symbol.encode())

    def emit(self, candles: list[tuple[bytes, bytes]], produced: int = 0) -> int:
        """Produce final candles and revisions, each already its (key = candle key,
        value = JSON) bytes; ``produced`` more went into the sink from C. Returns how many
        candles were emitted in all."""
        if self.sink is not None:
            self._through_sink(self.sink.candles, candles)
        else:
            produce, topic = self.producer.produce, self.settings.topic_candles
            for key, value in candles:
                try:
                    produce(topic, value, key)
                except BufferError:
                    self._produce(topic, value, key)
        if candles or produced:
            self.candles_waiting = True
        return len(candles) + produced

    def release_delivered(self) -> None:
        """Serve the producer's queue without waiting: its error callbacks, and the
        messages the broker acknowledged, which librdkafka queues for a poll to free even
        with ``delivery.report.only.error`` (that only spares the callback; speed_layer/
        clients.py). Left alone they are freed only at the commit's flush, so a backlog's
        500 ms commit interval would hold every candle it produced (docs/speed-layer.md).
        Failed deliveries fail the transaction's commit either way (librdkafka tracks
        them)."""
        self.producer.poll(0)

    def maybe_publish_live(self, partitions: dict[int, PartitionRun], now: float) -> None:
        """The newest in-progress 1 s candle per symbol, at most ``live_max_hz`` a second."""
        if self.live_interval_s is None or now - self._last_live < self.live_interval_s:
            return
        self._last_live = now
        for run in partitions.values():
            newest: dict[str, Candle] = {}
            for candle in run.engine.open_candles():
                if candle.symbol not in newest or candle.window_start_us > \
                        newest[candle.symbol].window_start_us:
                    newest[candle.symbol] = candle
            for symbol, candle in newest.items():
                self._produce(self.settings.topic_live, encode_candle(candle), symbol.encode())

    def commit(self, partitions: dict[int, PartitionRun], begin_next: bool = True) -> None:
        """Write the changelog, send the offsets, commit; then start the next transaction."""
        offsets = []
        for number, run in partitions.items():
            offset = run.commit_offset()
            if offset is None:
                continue  # nothing read and nothing committed yet: nothing to record
            self._write_changelog(number, run, offset)
            offsets.append(TopicPartition(self.settings.topic_trades, number, offset))
        began = self.clock()
        try:
            self._commit_transaction(offsets)
        except KafkaException as exc:
            # The transaction cannot be committed (abortable or fatal: after a broker
            # outage, "not coordinator"). Its outputs never become visible; the windows
            # in memory are past them, so the only exact way on is a restart from the last
            # commit, whose init_transactions aborts this one. Nothing may commit after it.
            self.in_transaction = False
            raise TransactionFailedError(str(exc.args[0])) from exc
        self.in_transaction = False
        self.candles_waiting = False
        done = self.clock()
        self.metrics.commit_latency.observe(done - began)
        self.metrics.last_commit.set_to_current_time()
        self._count_committed(partitions, done)
        if begin_next:
            self.begin()

    def _commit_transaction(self, offsets: list[TopicPartition]) -> None:
        """Send the consumer's offsets into the transaction and commit it: returns once the
        broker acknowledged every message the transaction produced."""
        if offsets:
            self._retrying(lambda: self.producer.send_offsets_to_transaction(
                offsets, self.consumer.consumer_group_metadata(), TXN_TIMEOUT_S))
        self._retrying(lambda: self.producer.commit_transaction(TXN_TIMEOUT_S))

    def _count_committed(self, partitions: dict[int, PartitionRun], done: float) -> None:
        """The candles this commit made visible: by interval, and each one's close to
        commit latency."""
        histogram = self.metrics.close_to_commit
        for run in partitions.values():
            for closed_at, count in run.closed_at:
                observe_many(histogram, done - closed_at, count)
            run.closed_at.clear()
            for label, count in run.engine.table.drain_emitted().items():
                self.metrics.candles.labels(label).inc(count)
            for label, count in run.engine.table.drain_revised().items():
                self.metrics.revisions.labels(label).inc(count)

    def _retrying(self, operation: Callable[[], object]) -> None:
        """Run a transactional call, repeating it while librdkafka says the error is
        retriable (its documented way for ``send_offsets_to_transaction`` and
        ``commit_transaction``), for at most the transaction timeout."""
        deadline = self.clock() + TXN_TIMEOUT_S
        while True:
            try:
                operation()
                return
            except KafkaException as exc:
                error = exc.args[0]
                if not (isinstance(error, KafkaError) and error.retriable()) \
                        or self.clock() >= deadline:
                    raise
                time.sleep(RETRY_PAUSE_S)

    def _write_changelog(self, number: int, run: PartitionRun, low_water: int) -> None:
        """The position, and the rollup partials changed since the last commit as a few
        state records (per commit, not per candle); now and then all of them, which makes
        every earlier record obsolete (tombstoned)."""
        topic = self.settings.topic_speed_state
        engine, log = run.engine, run.state_log
        assert run.processed is not None
        position = Position(run.processed, engine.watermark_us, engine.max_ts_us, low_water)
        self._produce(topic, encode_position(position), position_key(number), partition=number)
        table = engine.table
        self._write_records(number, log, table.take_rollup_delta(STATE_RECORD_BYTES))
        if log.rewrite or log.legacy_keys or log.live_bytes > max(
                SNAPSHOT_AFTER_BYTES, SNAPSHOT_FACTOR * table.state_count()):
            obsolete, log.live, log.live_bytes = log.live, [], 0
            self._write_records(number, log, table.rollup_snapshot(STATE_RECORD_BYTES))
            for record in obsolete:
                self._produce(topic, None, state_record_key(number, record), partition=number)
            for key in log.legacy_keys:
                self._produce(topic, None, key, partition=number)
            log.legacy_keys, log.rewrite = [], False

    def _write_records(self, number: int, log: StateLog, records: list[bytes]) -> None:
        for record in records:
            log.last_record += 1
            self._produce(self.settings.topic_speed_state, record,
                          state_record_key(number, log.last_record), partition=number)
            log.live.append(log.last_record)
            log.live_bytes += len(record)
            self.state_bytes += len(record)
