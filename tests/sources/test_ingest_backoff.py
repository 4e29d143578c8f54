"""How long ``candles ingest`` waits: jittered backoff and ``Retry-After`` (pure)."""

from __future__ import annotations

import random
import threading

import pytest
from prometheus_client import CollectorRegistry

from sources.ingest.backoff import Backoff
from sources.ingest.exceptions import FeedRefusedError
from sources.ingest.fetch import Retrier
from sources.ingest.metrics import IngestMetrics

NOW_S = 1_700_000_000.0  # 2023-11-14T22:13:20Z


@pytest.mark.parametrize(("attempt", "low", "high"), [
    (0, 0.25, 0.5),    # first failure: half the base, plus up to half again
    (3, 2.0, 4.0),     # doubles each time
    (10, 15.0, 30.0),  # capped
    (500, 15.0, 30.0),  # a huge attempt count does not overflow
])
def test_backoff_grows_with_jitter_up_to_the_cap(attempt: int, low: float, high: float) -> None:
    rng, backoff = random.Random(1), Backoff(base_s=0.5, cap_s=30.0)
    delays = [backoff.delay_s(attempt, rng) for _ in range(200)]
    assert all(low <= d <= high for d in delays)
    assert len(set(delays)) > 100  # really random: no lock-step retries


@pytest.mark.parametrize(("header", "expected"), [
    ("3", 3.0),                                  # delta-seconds
    (" 1.5 ", 1.5),                              # tolerated: fractional, spaces
    ("Tue, 14 Nov 2023 22:13:30 GMT", 10.0),     # an HTTP date 10 s ahead
    ("Tue, 14 Nov 2023 22:13:00 GMT", 0.0),      # a date in the past: no wait
    ("-4", 0.0),                                 # negative: no wait
    ("100000", 300.0),                           # capped at max_retry_after_s
    ("soon", None),                              # unreadable: use backoff instead
    ("", None),                                  # empty
    (None, None),                                # absent
])
def test_retry_after(header: str | None, expected: float | None) -> None:
    assert Backoff().retry_after_s(header, now_s=lambda: NOW_S) == expected


def test_retrier_counts_and_waits_and_refuses_client_errors() -> None:
    registry, stop = CollectorRegistry(), threading.Event()
    saves: list[int] = []
    retrier = Retrier(Backoff(base_s=0.001, cap_s=0.002), IngestMetrics(registry), stop,
                      before_wait=lambda: saves.append(1))
    retrier.failed_response("u", 429, "0", "")
    retrier.failed_response("u", 503, None, "")
    retrier.dropped("u", "reset")
    assert retrier.attempt == 2 and len(saves) == 3  # the checkpoint is saved before waits

    def value(name: str, **labels: str) -> float:
        return registry.get_sample_value(name, labels) or 0.0

    assert value("candles_ingest_rate_limited_total") == 1
    assert value("candles_ingest_http_errors_total", status="429") == 1
    assert value("candles_ingest_http_errors_total", status="503") == 1
    assert value("candles_ingest_http_errors_total", status="connection") == 1
    with pytest.raises(FeedRefusedError, match="HTTP 404"):
        retrier.failed_response("u", 404, None, "not found")
