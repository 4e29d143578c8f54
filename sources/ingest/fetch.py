"""Reading the feed over HTTP, in either shape, through failures.

:class:`Retrier` turns a failed request into a wait: ``Retry-After`` on 429, jittered
backoff on 5xx and on dropped or refused connections (the attempt count resets once a
record arrives). Before each wait it calls ``before_wait`` (the runner flushes and saves
its checkpoint there), and every wait ends early on ``stop``. Any other 4xx is terminal.

:func:`stream_envelopes` follows ``GET /stream?after=SEQ`` and reconnects from the cursor
until the end marker; the function :func:`fetch` does one REST request with the same retries.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import httpx
import msgspec

from sources.feed.wire import Envelope, decode_envelope
from sources.ingest.backoff import Backoff
from sources.ingest.exceptions import FeedRefusedError
from sources.ingest.metrics import IngestMetrics

log = logging.getLogger(__name__)
TOO_MANY_REQUESTS = 429
T = TypeVar("T")


class Retrier:
    """Counts failures, waits as the :class:`Backoff` says, and tells when to stop."""

    def __init__(self, backoff: Backoff, metrics: IngestMetrics, stop: threading.Event,
                 before_wait: Callable[[], None] = lambda: None,
                 rng: random.Random | None = None) -> None:
        self.backoff, self.metrics, self.stop = backoff, metrics, stop
        self.before_wait = before_wait
        self.rng = rng or random.Random()
        self.attempt = 0

    def succeeded(self) -> None:
        self.attempt = 0

    def failed_response(self, url: str, status: int, retry_after: str | None,
                        body: str) -> None:
        """Wait after an HTTP error answer (raises on a client error other than 429)."""
        self.metrics.http_errors.labels(str(status)).inc()
        if status == TOO_MANY_REQUESTS:
            self.metrics.rate_limited.inc()
            wait_s = self.backoff.retry_after_s(retry_after)
            log.warning("rate limited by the feed", extra={"url": url, "retry_after": wait_s})
            self._wait(wait_s if wait_s is not None else self._next_delay())
        elif status >= 500:
            log.warning("feed error", extra={"url": url, "status": status})
            self._wait(self._next_delay())
        else:
            raise FeedRefusedError(url, status, body)

    def dropped(self, url: str, problem: str) -> None:
        """Wait after a refused, timed-out or dropped connection."""
        self.metrics.http_errors.labels("connection").inc()
        log.warning("feed connection failed", extra={"url": url, "problem": problem})
        self._wait(self._next_delay())

    def _next_delay(self) -> float:
        delay = self.backoff.delay_s(self.attempt, self.rng)
        self.attempt += 1
        return delay

    def _wait(self, seconds: float) -> None:
        self.before_wait()
        self.stop.wait(seconds)


def fetch(client: httpx.Client, url: str, params: dict[str, Any], retrier: Retrier,
          decode: Callable[[bytes], T]) -> T | None:
    """One GET, retried until it answers 200 (its decoded body) or ``stop`` is set (None).
    A body that does not decode was cut short: that counts as a dropped connection."""
    while not retrier.stop.is_set():
        try:
            response = client.get(url, params=params)
        except httpx.TransportError as exc:
            retrier.dropped(url, repr(exc))
            continue
        if response.status_code == 200:
            try:
                return decode(response.content)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                retrier.dropped(url, f"unreadable body: {exc}")
                continue
        retrier.failed_response(url, response.status_code,
                                response.headers.get("retry-after"), response.text)
    return None


def stream_envelopes(client: httpx.Client, base_url: str, after: Callable[[], int],
                     retrier: Retrier) -> Iterator[Envelope]:
    """Every envelope of the stream from ``after()`` on, reconnecting as needed; returns
    at the end marker or on ``stop``."""
    url = f"{base_url}/stream"
    first = True
    while not retrier.stop.is_set():
        if not first:
            retrier.metrics.reconnects.inc()
        first = False
        try:
            with client.stream("GET", url, params={"after": after()}) as response:
                if response.status_code != 200:
                    response.read()
                    retrier.failed_response(url, response.status_code,
                                            response.headers.get("retry-after"), response.text)
                    continue
                for envelope in _envelopes(response.iter_bytes()):
                    if envelope.end:
                        return
                    retrier.succeeded()
                    yield envelope
                    if retrier.stop.is_set():
                        return
            retrier.dropped(url, "the stream closed without its end marker")
        except (httpx.TransportError, msgspec.DecodeError) as exc:
            retrier.dropped(url, repr(exc))


def _envelopes(chunks: Iterator[bytes]) -> Iterator[Envelope]:
    """Whole lines only: a line cut by a dropped connection is never decoded."""
    pending = b""
    for chunk in chunks:
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            if line.strip():
                yield decode_envelope(line)
