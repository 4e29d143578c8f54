"""Whether a long-running consumer loop is alive, and what happens when it is not.

The loop calls :meth:`Heartbeat.beat` each turn; ``/healthz`` asks :meth:`healthy` (a stuck
loop fails the Kubernetes liveness probe instead of silently holding its partitions). The
:class:`StallWatchdog` does the same without Kubernetes: a client call that never returns
(librdkafka's ``send_offsets_to_transaction`` can wait forever once a static member has
been fenced after a broker outage) ends the process, so that a restart resumes from the
last commit; a stop request (SIGTERM) that the loop does not honour soon ends it too.
Exactly-once does not depend on how the process ends: an open transaction is aborted.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)
STALL_EXIT_CODE = 3  # transient: a restart is expected to succeed


class Heartbeat:
    """The loop calls :meth:`beat`; the health endpoint asks :meth:`healthy`."""

    def __init__(self, stale_after_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.stale_after_s, self._clock = stale_after_s, clock
        self._last = clock()
        self.stop_requested_at: float | None = None

    def beat(self) -> None:
        self._last = self._clock()

    def healthy(self) -> bool:
        return self._clock() - self._last <= self.stale_after_s

    def silent_for(self) -> float:
        """Seconds since the last beat."""
        return self._clock() - self._last

    def stop_requested(self) -> None:
        """The process was asked to stop (SIGTERM): it should be gone soon."""
        if self.stop_requested_at is None:
            self.stop_requested_at = self._clock()


class StallWatchdog:
    """A daemon thread that ends the process when its loop stops beating for ``stall_s``,
    or when a stop request is ``stop_grace_s`` old."""

    def __init__(self, heartbeat: Heartbeat, stall_s: float, stop_grace_s: float,
                 exit: Callable[[int], None] = os._exit, poll_s: float = 1.0) -> None:
        self.heartbeat, self.stall_s, self.stop_grace_s = heartbeat, stall_s, stop_grace_s
        self._exit, self._poll_s = exit, poll_s
        self._stop = threading.Event()

    def start(self) -> StallWatchdog:
        threading.Thread(target=self._watch, name="stall-watchdog", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _watch(self) -> None:
        while not self._stop.wait(self._poll_s):
            reason = self._reason()
            if reason:
                log.error("%s; exiting so that a restart resumes from the last commit", reason)
                for stream in (sys.stdout, sys.stderr):
                    stream.flush()
                self._exit(STALL_EXIT_CODE)
                return

    def _reason(self) -> str | None:
        beat = self.heartbeat
        if beat.silent_for() > self.stall_s:
            return f"the loop made no progress for {beat.silent_for():.0f} s (a Kafka call " \
                   "that does not return)"
        requested = beat.stop_requested_at
        if requested is not None and beat._clock() - requested > self.stop_grace_s:
            return f"still running {self.stop_grace_s:.0f} s after the stop request"
        return None
