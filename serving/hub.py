"""Fan-out of candle events to stream subscribers, on the asyncio loop.

The Kafka thread hands each batch to :meth:`Hub.publish` with ``call_soon_threadsafe``.
A subscriber watches one ``(symbol, interval)``: it gets that interval's final candles
(first emissions and revisions, which carry ``revision`` > 0 and replace the bar of the
same window; the ring has already dropped stale copies), and every live (in-progress)
1 s candle of its symbol as the in-progress candle of its interval
(:func:`serving.merge.in_progress`). A slow subscriber loses events, never blocks the
others.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from candle_core.candle import Candle
from serving.merge import SPEED, Bar, in_progress
from serving.metrics import ServeMetrics
from serving.ring import Ring
from serving.wire import bar_wire

QUEUE_SIZE = 1_000
FINAL = "final"
LIVE = "live"


@dataclass(eq=False)
class Subscriber:
    symbol: str
    interval_us: int
    queue: asyncio.Queue[dict[str, Any]] = field(
        default_factory=lambda: asyncio.Queue(QUEUE_SIZE))


class Hub:
    def __init__(self, ring: Ring, metrics: ServeMetrics) -> None:
        self.ring, self.metrics = ring, metrics
        self.subscribers: set[Subscriber] = set()

    def subscribe(self, symbol: str, interval_us: int) -> Subscriber:
        subscriber = Subscriber(symbol, interval_us)
        self.subscribers.add(subscriber)
        self.metrics.stream_clients.set(len(self.subscribers))
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)
        self.metrics.stream_clients.set(len(self.subscribers))

    def publish(self, kind: str, candles: list[Candle]) -> None:
        for candle in candles:
            for subscriber in list(self.subscribers):
                event = self._event(kind, candle, subscriber)
                if event is not None:
                    self._offer(subscriber, event)

    def _event(self, kind: str, candle: Candle, subscriber: Subscriber) -> dict[str, Any] | None:
        if candle.symbol != subscriber.symbol:
            return None
        if kind == FINAL:
            if candle.interval_us != subscriber.interval_us:
                return None
            return {"kind": FINAL, "bar": bar_wire(Bar(candle, SPEED, False))}
        start = candle.window_start_us - candle.window_start_us % subscriber.interval_us
        finals = self.ring.series(candle.symbol, candle.interval_us, start,
                                  candle.window_start_us)
        current = in_progress(finals, candle, subscriber.interval_us)
        return {"kind": LIVE, "bar": bar_wire(Bar(current, SPEED, False))}

    def _offer(self, subscriber: Subscriber, event: dict[str, Any]) -> None:
        try:
            subscriber.queue.put_nowait(event)
            self.metrics.stream_events.labels(event["kind"]).inc()
        except asyncio.QueueFull:
            self.metrics.stream_dropped.inc()
