"""How long to wait before the next request: ``Retry-After`` on 429, jittered exponential
backoff on 5xx and dropped connections. Pure maths; the clock and randomness are injected.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Waits grow as ``base_s * 2**attempt`` up to ``cap_s``, each with "equal jitter"
    (half fixed, half random) so many clients never retry in lock-step."""

    base_s: float = 0.5
    cap_s: float = 30.0
    max_retry_after_s: float = 300.0

    def delay_s(self, attempt: int, rng: random.Random) -> float:
        """The wait after the ``attempt``-th consecutive failure (0-based)."""
        ceiling = min(self.cap_s, self.base_s * 2 ** min(attempt, 32))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)

    def retry_after_s(self, header: str | None,
                      now_s: Callable[[], float] = time.time) -> float | None:
        """A ``Retry-After`` value (seconds, or an HTTP date) as seconds to wait, capped at
        ``max_retry_after_s``; None if absent or unreadable."""
        if header is None or not header.strip():
            return None
        text = header.strip()
        try:
            seconds = float(text)
        except ValueError:
            try:
                seconds = email.utils.parsedate_to_datetime(text).timestamp() - now_s()
            except (TypeError, ValueError):
                return None
        if seconds != seconds:  # NaN
            return None
        return min(max(seconds, 0.0), self.max_retry_after_s)
