"""When to send each message: as fast as possible, in (scaled) real time, or rate-capped.

The maths is pure (:meth:`Pace.due_s`); :class:`Pacer` applies it with an injected clock
and an interruptible sleep (a ``threading.Event.wait``), so Ctrl-C / SIGTERM never waits
out a long gap between two trades.

* ``speed``: message *i* is due ``(t_i - t_0) / speed`` seconds after the start, where
  ``t`` is its arrival timestamp (recv_ts, else ts); a timestamp that goes backwards is
  due at once. ``speed=1`` is real time.
* ``max_rate``: message *i* is due no earlier than ``i / max_rate`` seconds after start.
* Both: the later of the two. Neither: always due (``--rate max``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

US_PER_S = 1_000_000
MIN_SLEEP_S = 0.001  # below this, sleeping costs more than it saves


@dataclass(frozen=True)
class Pace:
    """How fast to replay: ``speed`` (x real time) and/or ``max_rate`` (msgs/s)."""

    speed: float | None = None
    max_rate: float | None = None

    def due_s(self, index: int, timestamp_us: int, first_timestamp_us: int) -> float:
        """Seconds after the start at which message ``index`` (0-based) may be sent."""
        due = 0.0
        if self.speed:
            due = max(due, (timestamp_us - first_timestamp_us) / US_PER_S / self.speed)
        if self.max_rate:
            due = max(due, index / self.max_rate)
        return due

    @property
    def unpaced(self) -> bool:
        """True for ``--rate max``: never wait."""
        return not (self.speed or self.max_rate)


class Pacer:
    """Waits until each message is due. ``sleep(s)`` returns True to stop waiting early."""

    def __init__(self, pace: Pace, sleep: Callable[[float], bool],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.pace = pace
        self._sleep = sleep
        self._clock = clock
        self._start_s: float | None = None
        self._first_us = 0
        self._index = 0

    def wait(self, timestamp_us: int) -> bool:
        """Block until the next message (stamped ``timestamp_us``) is due; False if the
        sleep was interrupted (stop requested)."""
        if self._start_s is None:
            self._start_s, self._first_us = self._clock(), timestamp_us
        due_s = self.pace.due_s(self._index, timestamp_us, self._first_us)
        self._index += 1
        if self.pace.unpaced:
            return True
        ahead_s = self._start_s + due_s - self._clock()
        return not (ahead_s >= MIN_SLEEP_S and self._sleep(ahead_s))
