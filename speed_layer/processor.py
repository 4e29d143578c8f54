"""The speed layer's loop: consume trades, window them, produce candles, exactly once.

Every output of a stretch of input (candles, late trades, dead letters, live candles, the
state changelog) and the consumer offsets go into one Kafka transaction. A crash at any
moment aborts the open transaction; the restarted instance (same ``transactional.id``)
fences the old one, restores its partitions from the changelog, re-reads from the oldest
record of any window it still holds, and carries on as if nothing happened.

No record can stop the loop: the contract's parser refuses hostile values with a reason,
and a record whose handling raises anyway goes to the DLQ as ``internal_error`` with the
exception in its detail, so a restart never meets it again.
"""

from __future__ import annotations

import gc
import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec
from confluent_kafka import Consumer, KafkaException, Message, TopicPartition

from candle_core.exceptions import CandlesError
from candle_core.message_kind import TYPE_PREFIX, non_trade_kind
from candle_core.parsing import TradeParser, native_dead_letters, native_limits
from candle_core.reasons import Reason
from candle_core.trade import Rejection
from kafka_ops.fatal import CLOSE_TIMEOUT_S, close_bounded, is_fatal
from kafka_ops.liveness import Heartbeat
from speed_layer._hotpath import CLOSE, SLOW, Scanner, tune_allocator
from speed_layer.clients import SpeedClients
from speed_layer.engine import Outcome, PartitionEngine
from speed_layer.exceptions import SpeedLayerError
from speed_layer.metrics import SpeedMetrics
from speed_layer.partition import PartitionRun
from speed_layer.settings import SpeedSettings
from speed_layer.summary import MetricsMirror, RunSummary
from speed_layer.writer import TransactionWriter

log = logging.getLogger(__name__)

# Longest wait for input (shorter when a commit is due sooner). consume() returns only once a
# full batch is in or the wait is over, so at the head of the stream this is how long the
# trade that closes windows can wait before their candles are produced. 10 ms instead of
# 50 ms, together with the close commit spacing (TransactionWriter.seconds_until_due), took
# the paced p99 at 1,000 symbols from 193 to 132 ms (docs/benchmarks.md).
MAX_WAIT_S = 0.01
# Each consume() call creates thousands of objects; with the default gen-0 threshold of
# 700 the collector would run many times per batch over long-lived window state.
# Freezing start-up objects and raising the threshold measured 10-20% here
# (docs/benchmarks.md).
GC_THRESHOLDS = (100_000, 50, 100)
MAX_DETAIL_CHARS = 500  # of an internal error's message, in the DLQ header


@dataclass
class StopRules:
    """When to stop besides SIGTERM: for tests, benchmarks and the demo."""

    idle_exit_s: float | None = None  # end of input: after this long with nothing, flush all
    max_runtime_s: float | None = None



class SpeedLayer:
    """One consumer-group member. Build it, then call :meth:`run`."""

    def __init__(
        self,
        settings: SpeedSettings,
        clients: SpeedClients,
        metrics: SpeedMetrics,
        heartbeat: Heartbeat,
        stop_rules: StopRules | None = None,
        live: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings, self.metrics, self.heartbeat = settings, metrics, heartbeat
        self.stop_rules = stop_rules or StopRules()
        self.clock = clock
        self.parser = TradeParser(settings.max_future_skew_us)
        self.scanner = Scanner(Message, native_limits(settings.max_future_skew_us),
                               native_dead_letters())
        self.scanner.use_sink(clients.sink)  # its dead letters straight to the producer
        self.partitions: dict[int, PartitionRun] = {}
        self.summary = RunSummary()
        self._mirror = MetricsMirror(metrics)
        self._stopping = False
        self._last_input = clock()
        self._consumer, self._producer = clients.consumer, clients.producer
        self._restore = clients.restore
        self._fatal = clients.fatal
        live_interval_s = (1 / settings.live_max_hz) if live else None
        self.writer = TransactionWriter(self._producer, self._consumer, settings, metrics,
                                        live_interval_s, clock, clients.sink)

    def stop(self, *_: object) -> None:
        """Ask the loop to finish its transaction and exit (SIGTERM/SIGINT handler)."""
        self._stopping = True
        self.heartbeat.stop_requested()

    def run(self) -> RunSummary:
        """Process until stopped; commit what was done; return the summary."""
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        # glibc's fastbins off, freed memory kept for reuse: see speed_layer/native/module.c
        if not tune_allocator(self.settings.speed_memory_keep_mb << 20):
            log.info("the C library refused mallopt() (not glibc?): its allocator is left as "
                     "it is")
        began = self.clock()
        self._producer.init_transactions(30)
        self._consumer.subscribe([self.settings.topic_trades], on_assign=self._on_assign,
                                 on_revoke=self._on_revoke, on_lost=self._on_lost)
        self.writer.begin()
        self._last_input = self.clock()
        saved_thresholds = gc.get_threshold()
        gc.collect()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)
        batch_size, backlog = self.settings.speed_batch_size, False
        try:
            while not self._stopping and not self._time_is_up(began):
                if self._input_ended():
                    self._flush_all()
                    break
                wait_s = min(MAX_WAIT_S, self.writer.seconds_until_due(self.clock(), backlog))
                messages = self._consumer.consume(batch_size, wait_s)
                self._fatal.check()  # fenced or fatal: nothing may be committed any more
                now = self.clock()
                backlog = len(messages) == batch_size  # more is waiting: catching up
                if messages:
                    self._last_input = now
                    self._process(messages, now)
                    self.writer.release_delivered()
                self._close_idle(now)
                self.writer.maybe_publish_live(self.partitions, now)
                if self.writer.due(now, backlog):
                    self._commit()
                self.heartbeat.beat()
            self._commit(begin_next=False)
        finally:
            if self._fatal.error is None:  # after a fatal error, close() can wait forever
                close_bounded(self._consumer, CLOSE_TIMEOUT_S)
            gc.set_threshold(*saved_thresholds)
            gc.unfreeze()
        self.summary.seconds = self.clock() - began
        return self.summary

    def _time_is_up(self, began: float) -> bool:
        limit = self.stop_rules.max_runtime_s
        return limit is not None and self.clock() - began >= limit

    def _input_ended(self) -> bool:
        """Nothing arrived since the last message or assignment for ``idle_exit_s``, and
        every partition has been read to its end (a slow fetch is not an end of input)."""
        limit = self.stop_rules.idle_exit_s
        if limit is None or not self.partitions or self.clock() - self._last_input < limit:
            return False
        return all(self._caught_up(number, run) for number, run in self.partitions.items())

    def _flush_all(self) -> None:
        """Treat idleness as the end of a bounded stream: close every window that holds
        data, as a final watermark would. The changelog keeps that watermark, so a later
        run on the same group treats trades for those windows as late, and only those."""
        now = self.clock()
        for run in self.partitions.values():
            run.engine.advance_to(run.engine.end_of_input_watermark_us())
            self._emit_closed(run, now)

    def _process(self, messages: list[Any], now: float) -> None:
        """The hot path: the native scanner handles the common case of every message (skip
        an order or quote, fold a trade in the canonical shape) and hands the rest back one
        at a time, in offset order, to :meth:`_process_one`; it also stops whenever the
        watermark reaches a window end, so closing happens exactly where it would per
        record."""
        scan, take_rejects, partitions = self.scanner.scan, self.scanner.take_rejects, \
            self.partitions
        cursors = {number: run.cursor for number, run in partitions.items()}
        index, count = 0, len(messages)
        while index < count:
            index, why, number = scan(messages, index, cursors, now)
            if (rejects := take_rejects()) is not None:  # dead letters made natively, in order
                self.writer.dead_letters(rejects)
            if why == SLOW:
                self._process_guarded(messages[index], now)
                index += 1
            elif why == CLOSE:
                run = partitions[number]
                run.engine.close_due()
        consumed, valid, skipped, dead = self.scanner.drain()
        summary = self.summary
        summary.consumed += consumed
        summary.valid += valid
        for kind, skips in skipped.items():
            summary.skip(kind, skips)
        for reason, letters in dead.items():
            summary.dead_letter(reason, letters)
        for run in partitions.values():
            self._emit_closed(run, now)

    def _process_guarded(self, message: Any, now: float) -> None:
        """:meth:`_process_one`, with a record whose handling raises set aside as
        ``internal_error`` instead of crashing: a restart would meet it again, forever.
        Kafka errors and the speed layer's own are not about one record; they propagate."""
        try:
            self._process_one(message, now)
        except (KafkaException, CandlesError):
            raise
        except Exception as exc:  # one bad record must not stop the loop
            self._internal_error(message, exc)

    def _process_one(self, message: Any, now: float) -> None:
        """One message the scanner did not handle, by the contract's Python code: consumer
        errors, records to reject or to diagnose, late trades, duplicates, conflicts, and
        values outside the scanner's canonical shape. ``message`` is a confluent Message,
        typed Any: one without error always has a partition, an offset and a timestamp."""
        if message.error() is not None:
            self._message_error(message)
            return
        run = self.partitions.get(message.partition())
        if run is None:
            return  # a partition revoked while this batch was in flight
        summary = self.summary
        offset = message.offset()
        value = message.value() or b""
        replaying = run.replaying(offset)
        if value.startswith(TYPE_PREFIX) and (kind := non_trade_kind(value)) is not None:
            if not replaying:  # an order or quote: skipped, never decoded
                summary.consumed += 1
                summary.skip(kind)
            run.handled(offset)
            return
        _, timestamp_ms = message.timestamp()
        result = self.parser.parse(value, timestamp_ms * 1000)
        if replaying:
            run.replay(result, offset)
            run.handled(offset)
            return
        summary.consumed += 1
        if isinstance(result, Rejection):
            self.writer.dead_letter(message, result.reason, result.detail)
            summary.dead_letter(result.reason)
        else:
            outcome = run.engine.add(result, offset)
            if outcome is Outcome.APPLIED:
                summary.valid += 1
            else:
                self.writer.handle_outcome(outcome, run, message, result, summary)
        run.handled(offset, now)

    def _internal_error(self, message: Any, exc: Exception) -> None:
        """Dead-letter the record whose handling raised, with the exception, and go on."""
        run = self.partitions.get(message.partition())
        offset = message.offset()
        log.error("internal error on a record; sent to the DLQ as internal_error",
                  exc_info=exc, extra={"partition": message.partition(), "offset": offset})
        if run is None:
            return
        if not run.replaying(offset):
            detail = f"{type(exc).__name__}: {exc}"[:MAX_DETAIL_CHARS]
            self.writer.dead_letter(message, Reason.INTERNAL_ERROR, detail)
            self.summary.dead_letter(Reason.INTERNAL_ERROR)
        run.handled(offset)

    def _emit_closed(self, run: PartitionRun, now: float) -> None:
        """Produce what the partition's watermark closed since the last call (the candles
        the engine did not produce itself), and count all of them."""
        candles, produced = run.take_closed(now)
        if candles or produced:
            self.summary.candles += self.writer.emit(candles, produced)

    def _close_idle(self, now: float) -> None:
        timeout_us = self.settings.idle_timeout_us
        for number, run in self.partitions.items():
            idle_for_us = int((now - run.last_seen) * 1_000_000)
            if idle_for_us < timeout_us or run.flushed() or not self._caught_up(number, run):
                continue
            run.engine.advance_to(run.engine.idle_watermark_us(idle_for_us, timeout_us))
            self._emit_closed(run, now)

    def _watermarks(self, number: int) -> tuple[int, int] | None:
        """The partition's (low, high) offsets as of the last fetch (None before one)."""
        partition = TopicPartition(self.settings.topic_trades, number)
        try:
            low, high = self._consumer.get_watermark_offsets(partition, cached=True)
        except KafkaException:
            return None
        return None if high < 0 else (int(low), int(high))

    def _high_watermark(self, number: int) -> int | None:
        offsets = self._watermarks(number)
        return None if offsets is None else offsets[1]

    def _caught_up(self, number: int, run: PartitionRun) -> bool:
        """No backlog: everything there is has been read. A partition with records still
        to read, a replay not finished included, is slow, not idle."""
        offsets = self._watermarks(number)
        if offsets is None:
            return False
        low, high = offsets
        position = run.position
        return high <= low if position is None else high <= position

    def _commit(self, begin_next: bool = True) -> None:
        # A fenced consumer's offsets would never be accepted: sending them can wait forever
        self._fatal.check()
        now = self.clock()
        for run in self.partitions.values():  # nothing closed may miss its transaction
            self._emit_closed(run, now)
        self.writer.commit(self.partitions, begin_next=begin_next)
        self.summary.commits += 1
        self.summary.state_bytes = self.writer.state_bytes
        self._mirror.sync(self.summary)
        self._update_gauges()

    def _update_gauges(self) -> None:
        runs = self.partitions
        ids = sum(r.engine.dedup_ids() for r in runs.values())
        partials = sum(r.engine.rollup_partials() for r in runs.values())
        self.metrics.open_windows.set(sum(r.engine.open_windows() for r in runs.values()))
        self.metrics.dedup_ids.set(ids)
        self.metrics.rollup_partials.set(partials)
        self.metrics.state_entries.set(ids + partials)
        wall_us = time.time() * 1_000_000
        for number, run in runs.items():
            if run.engine.max_ts_us > 0:
                lag_s = (wall_us - run.engine.watermark_us) / 1_000_000
                self.metrics.watermark_lag.labels(str(number)).set(lag_s)
            high = self._high_watermark(number)
            if high is not None and run.position is not None:
                self.metrics.consumer_lag.labels(str(number)).set(max(0, high - run.position))

    def _message_error(self, message: Message) -> None:
        error = message.error()
        if error is not None and is_fatal(error):
            self._fatal(error)
            self._fatal.check()
        log.warning("consumer error", extra={"error": str(error)})

    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        numbers = [tp.partition for tp in partitions]
        states = self._restore(numbers)
        legacy = [n for n, state in states.items()
                  if state.position is not None and state.position.low_water is None]
        committed = self._committed(legacy) if legacy else {}
        settings = self.settings
        for number, state in states.items():
            engine = PartitionEngine(settings.intervals_us, settings.allowed_lateness_us,
                                     settings.dedup_horizon_us, settings.revision_horizon_us,
                                     self.writer.sink)
            run = PartitionRun.restored(engine, state, self.clock(), committed.get(number))
            self.partitions[number] = run
            position = state.position
            log.info("partition restored", extra={
                "partition": number, "rollups": engine.rollup_partials(),
                "position": None if position is None else msgspec.structs.asdict(position),
                # state of an older build or of other intervals: the next commit rewrites it
                "state_rewrite": run.state_log.rewrite})
        self._last_input = self.clock()

    def _committed(self, numbers: list[int]) -> dict[int, int]:
        """The group's committed offsets (for state written before the changelog held them)."""
        topic = self.settings.topic_trades
        found = self._consumer.committed([TopicPartition(topic, n) for n in numbers], 60)
        return {tp.partition: tp.offset for tp in found if tp.offset >= 0}

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        if self.writer.in_transaction:
            self._commit()
        for tp in partitions:
            self.partitions.pop(tp.partition, None)
            self.metrics.forget_partition(tp.partition)
        log.info("partitions revoked", extra={"partitions": [tp.partition for tp in partitions]})

    def _on_lost(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        raise SpeedLayerError(
            f"partitions {[tp.partition for tp in partitions]} were lost (session timeout?); "
            "exiting so a restart resumes from the last commit"
        )
