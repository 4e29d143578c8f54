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
