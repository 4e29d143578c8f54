"""The in-memory tail and the fan-out, without a broker (the Kafka edge is in
``test_browser.py``)."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from prometheus_client import CollectorRegistry

from candle_core.candle import Candle, rollup
from candle_core.reference import candles_from_trades
from serving.hub import FINAL, LIVE, Hub
from serving.live import LiveFeed
from serving.metrics import ServeMetrics
from serving.ring import Ring
from serving.settings import ServeSettings
from serving.status import Rates, sums
from tests.serving.archive import DAY2_US, SYMBOL, trades

ONE_S = 1_000_000


def seconds(count: int) -> list[Candle]:
    return candles_from_trades(trades(DAY2_US, count), ["1s"])


def test_the_ring_keeps_the_newest_bars_by_age_and_count() -> None:
    ring = Ring(max_age_us=50 * ONE_S, max_bars=30)
    for candle in seconds(100):
        ring.add(candle)
    kept = ring.series(SYMBOL, ONE_S, 0, 2**62)
    starts = [c.window_start_us for c in kept]
    assert starts[-1] == DAY2_US + 99 * ONE_S  # the newest is always kept
    assert 30 <= len(kept) <= 33 and starts == sorted(starts)  # trimmed in batches of 10%
    assert ring.symbols() == {SYMBOL} and ring.dates(SYMBOL, ONE_S) == {"2026-01-02"}


def revised(candle: Candle, revision: int) -> Candle:
    """The speed layer's re-emission of ``candle`` after a late trade (high moved)."""
    return dataclasses.replace(candle, high=candle.high + revision, revision=revision)


def test_the_ring_holds_the_highest_revision_of_a_window() -> None:
    ring = Ring(max_age_us=3600 * ONE_S, max_bars=1000)
    first, second = seconds(2)
    assert ring.add(first) and ring.add(second)
    assert ring.add(revised(first, 2))       # a revision replaces the first emission
    assert not ring.add(revised(first, 1))   # out of order: never goes back
    assert not ring.add(revised(first, 2))   # redelivered: nothing new
    assert not ring.add(first)               # the tail re-read after a reconnect
    assert ring.series(SYMBOL, ONE_S, 0, 2**62) == [revised(first, 2), second]
    assert len(ring) == 2


def test_the_feed_publishes_a_revision_and_drops_stale_copies() -> None:
    """finals on ``candles``: rev 0, rev 1 (a late trade), rev 0 again (redelivered)::

        subscriber (1s):   final rev 0 -> final rev 1      (the stale copy never arrives)
    """
    metrics = ServeMetrics(CollectorRegistry())

    async def scenario() -> list[dict[str, Any]]:
        ring = Ring(3600 * ONE_S, 1000)
        hub = Hub(ring, metrics)
        subscriber = hub.subscribe(SYMBOL, ONE_S)
        feed = LiveFeed(ServeSettings(), ring, hub.publish, metrics, ring_hours=1.0)
        first = seconds(1)[0]
        feed.handle(FINAL, [first])
        feed.handle(FINAL, [revised(first, 1), first])
        feed.handle(FINAL, [revised(first, 1)])
        return [subscriber.queue.get_nowait() for _ in range(subscriber.queue.qsize())]

    events = asyncio.run(scenario())
    assert [(e["kind"], e["bar"]["revision"]) for e in events] == [(FINAL, 0), (FINAL, 1)]
    assert events[1]["bar"]["window_start_us"] == events[0]["bar"]["window_start_us"]
    assert events[1]["bar"]["plot"]["high"] > events[0]["bar"]["plot"]["high"]
    assert metrics.total("candles_serve_revisions_total") == 1
    assert metrics.total("candles_serve_stale_candles_total") == 2


def test_a_live_event_is_the_in_progress_candle_of_the_subscribers_interval() -> None:
    async def scenario() -> tuple[dict[str, Any], dict[str, Any], int]:
        ring = Ring(3600 * ONE_S, 1000)
        hub = Hub(ring, ServeMetrics(CollectorRegistry()))
        one, ten = hub.subscribe(SYMBOL, ONE_S), hub.subscribe(SYMBOL, 10 * ONE_S)
        other = hub.subscribe("ETHUSDT", ONE_S)
        candles = seconds(4)
        for final in candles[:3]:
            ring.add(final)
        hub.publish(FINAL, candles[:3])
        hub.publish(LIVE, [candles[3]])
        while one.queue.qsize() > 1:
            one.queue.get_nowait()
        return one.queue.get_nowait(), ten.queue.get_nowait(), other.queue.qsize()

    live_1s, live_10s, others = asyncio.run(scenario())
    expected = rollup(seconds(4), 10 * ONE_S)[0]
    assert live_1s["kind"] == LIVE and live_1s["bar"]["window_start_us"] == DAY2_US + 3 * ONE_S
    assert live_10s["kind"] == LIVE and live_10s["bar"]["trade_count"] == expected.trade_count
    assert live_10s["bar"]["interval"] == "10s" and others == 0


def test_status_rates_come_from_successive_counter_readings() -> None:
    now = [0.0]
    rates = Rates(clock=lambda: now[0])
    assert rates.update({"consumed": 100.0}) == {"consumed": 0.0}
    now[0] = 2.0
    assert rates.update({"consumed": 300.0}) == {"consumed": 100.0}
    text = 'a_total{reason="x"} 2\na_total{reason="y"} 3\n'
    assert sums(text)["a_total"] == 5.0
