"""Kafka -> asyncio: the serving process's consumers of ``candles`` and ``candles.live``.

One daemon thread owns two ``read_committed`` consumers that assign partitions directly
(no group membership, no commits: every serving replica reads the same tail). Final
candles are read from ``ring_hours`` ago by message time (the ring's tail), live ones from
the end. Each batch goes to the ring (finals) and to the hub on the event loop.

``candles`` is keyed by candle (``candle_message_key``), so a window's revisions share a
partition and arrive in order; a re-read after a reconnect still repeats older ones, which
the ring drops (:func:`serving.merge.supersedes`) before they reach a subscriber.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable

from confluent_kafka import OFFSET_END, Consumer, Message, TopicPartition

from candle_core.candle import Candle
from candle_core.codec import decode_candle
from kafka_ops.clients import consumer_config
from serving.hub import FINAL, LIVE
from serving.metrics import ServeMetrics
from serving.ring import Ring
from serving.settings import ServeSettings

log = logging.getLogger(__name__)
Publish = Callable[[str, list[Candle]], None]
LAG_EVERY_S = 2.0


class LiveFeed:
    def __init__(self, settings: ServeSettings, ring: Ring, publish: Publish,
                 metrics: ServeMetrics, ring_hours: float) -> None:
        self.settings, self.ring, self.publish, self.metrics = settings, ring, publish, metrics
        self.ring_hours = ring_hours
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="serve-kafka", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _consumer(self, topic: str, start_ms: int | None) -> Consumer:
        group = f"candles-serve-{uuid.uuid4().hex[:8]}"  # never joined: partitions assigned
        consumer = Consumer(consumer_config(self.settings, group))
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        wanted = [TopicPartition(topic, p, start_ms if start_ms is not None else OFFSET_END)
                  for p in partitions]
        if start_ms is not None:
            wanted = consumer.offsets_for_times(wanted, timeout=10)
        consumer.assign(wanted)
        return consumer

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._consume()
            except Exception:  # a broker outage costs delay, never the process
                log.exception("serving consumer failed; retrying in 2 s")
                self._stop.wait(2.0)

    def _consume(self) -> None:
        start_ms = int((time.time() - self.ring_hours * 3600) * 1000)
        finals = self._consumer(self.settings.topic_candles, start_ms)
        live = self._consumer(self.settings.topic_live, None)
        next_lag = 0.0
        try:
            while not self._stop.is_set():
                self._deliver(FINAL, finals.consume(2_000, timeout=0.05))
                self._deliver(LIVE, live.consume(2_000, timeout=0.0))
                if time.monotonic() >= next_lag:
                    self.metrics.consumer_lag.set(lag(finals))
                    self.metrics.ring_candles.set(len(self.ring))
                    next_lag = time.monotonic() + LAG_EVERY_S
        finally:
            finals.close()
            live.close()

    def _deliver(self, kind: str, messages: list[Message]) -> None:
        candles = []
        for message in messages:
            if message.error() is not None:
                log.warning("consumer error: %s", message.error())
                continue
            try:
                candles.append(decode_candle(message.value() or b""))
            except Exception:
                log.warning("undecodable candle", extra={"topic": message.topic(),
                            "partition": message.partition(), "offset": message.offset()})
        self.handle(kind, candles)

    def handle(self, kind: str, candles: list[Candle]) -> None:
        """Hold final candles in the ring and publish what is news: every final candle the
        ring took (a first emission or a higher revision; a copy the ring already held at
        the same or a higher revision is dropped) and each symbol's newest live update."""
        if not candles:
            return
        self.metrics.consumed.labels(kind).inc(len(candles))
        if kind == FINAL:
            held = [candle for candle in candles if self.ring.add(candle)]
            self.metrics.revisions.inc(sum(1 for candle in held if candle.revision))
            self.metrics.stale.inc(len(candles) - len(held))
            candles = held
        else:
            candles = newest_per_symbol(candles)
        if candles:
            self.publish(kind, candles)


def newest_per_symbol(candles: list[Candle]) -> list[Candle]:
    """The last live update of each symbol in a batch (older ones are superseded)."""
    newest: dict[str, Candle] = {}
    for candle in candles:
        newest[candle.symbol] = candle
    return list(newest.values())


def lag(consumer: Consumer) -> int:
    """Messages between the consumer's positions and the partitions' high watermarks."""
    total = 0
    for position in consumer.position(consumer.assignment()):
        if position.offset < 0:
            continue
        _, high = consumer.get_watermark_offsets(position, timeout=1, cached=False)
        total += max(0, high - position.offset)
    return total
