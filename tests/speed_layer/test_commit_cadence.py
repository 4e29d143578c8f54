"""When the speed layer commits: every commit interval at the head of the stream, every
backlog interval while it catches up (pure timing logic; the broker tests cover the rest)."""

from __future__ import annotations

from typing import Any

import pytest

from lambda_candles.settings import load_settings
from speed_layer.writer import TransactionWriter


def writer(**settings: Any) -> TransactionWriter:
    unused: Any = None  # the cadence needs no producer, consumer or metrics
    return TransactionWriter(unused, unused, load_settings(**settings), unused, None)


def test_the_head_of_the_stream_commits_every_commit_interval() -> None:
    w = writer(speed_commit_interval_ms=100, speed_backlog_commit_interval_ms=500)
    w._last_commit = 0.0
    assert not w.due(0.099)
    assert w.due(0.1)
    assert w.seconds_until_due(0.04) == pytest.approx(0.06)


def test_a_backlog_commits_every_backlog_interval() -> None:
    w = writer(speed_commit_interval_ms=100, speed_backlog_commit_interval_ms=500)
    w._last_commit = 0.0
    assert not w.due(0.3, backlog=True)
    assert w.due(0.5, backlog=True)
    assert w.seconds_until_due(0.3, backlog=True) == pytest.approx(0.2)


def test_the_backlog_interval_is_never_shorter_than_the_commit_interval() -> None:
    w = writer(speed_commit_interval_ms=800, speed_backlog_commit_interval_ms=500)
    w._last_commit = 0.0
    assert not w.due(0.6, backlog=True)
    assert w.due(0.8, backlog=True)


def test_closed_candles_at_the_head_are_committed_after_the_close_spacing() -> None:
    w = writer(speed_commit_interval_ms=100, speed_close_commit_spacing_ms=20)
    w._last_commit = 0.0
    assert not w.due(0.03)  # nothing closed yet: the interval holds
    w.candles_waiting = True
    assert not w.due(0.019)
    assert w.due(0.02)
    assert w.seconds_until_due(0.005) == pytest.approx(0.015)


def test_closed_candles_in_a_backlog_wait_for_the_backlog_interval() -> None:
    w = writer(speed_commit_interval_ms=100, speed_backlog_commit_interval_ms=500,
               speed_close_commit_spacing_ms=20)
    w._last_commit = 0.0
    w.candles_waiting = True
    assert not w.due(0.3, backlog=True)
    assert w.due(0.5, backlog=True)


def test_a_close_spacing_above_the_interval_commits_on_the_interval_only() -> None:
    w = writer(speed_commit_interval_ms=100, speed_close_commit_spacing_ms=100)
    w._last_commit = 0.0
    w.candles_waiting = True
    assert not w.due(0.099)
    assert w.due(0.1)


def test_emitting_candles_marks_them_waiting_until_the_commit() -> None:
    class Producer:
        def __init__(self) -> None:
            self.sent: list[tuple[str, bytes, bytes]] = []

        def produce(self, topic: str, value: bytes, key: bytes) -> None:
            self.sent.append((topic, value, key))

    unused: Any = None
    producer = Producer()
    w = TransactionWriter(producer, unused, load_settings(), unused, None)  # type: ignore[arg-type]
    assert w.emit([]) == 0 and not w.candles_waiting
    assert w.emit([(b"AAPL|1s|0", b"{}")]) == 1 and w.candles_waiting
    assert producer.sent == [("candles", b"{}", b"AAPL|1s|0")]
