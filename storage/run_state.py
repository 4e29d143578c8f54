"""When the archiver stops, and what it reports when it does."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

Key = tuple[str, int]


@dataclass(frozen=True)
class StopRules:
    """When to stop besides SIGTERM: for tests, the demo and batch-style runs."""

    until_idle_s: float | None = None  # every partition at its end for this long
    max_messages: int | None = None
    max_runtime_s: float | None = None


@dataclass(frozen=True)
class ArchiveSummary:
    """What a run did. ``rows`` counts sealed (committed) chunks; ``pending_rows`` the
    chunks still open at exit, written as partial files that the next run rewrites."""

    consumed: int
    chunks: int
    files: int
    bytes: int
    rows: dict[str, int]
    seconds: float
    pending_rows: dict[str, int] = field(default_factory=dict)


@dataclass
class RunState:
    """Counters and the stop decision of one run."""

    rules: StopRules
    clock: Callable[[], float] = time.monotonic
    stopping: bool = False
    consumed: int = 0
    chunks: int = 0
    files: int = 0
    bytes: int = 0
    rows: Counter[str] = field(default_factory=Counter)
    assigned: set[Key] = field(default_factory=set)
    at_end: set[Key] = field(default_factory=set)
    last_message: float = 0.0
    last_flush: float = 0.0
    started: float = 0.0

    def __post_init__(self) -> None:
        self.started = self.last_message = self.last_flush = self.clock()

    def saw_message(self, key: Key) -> None:
        self.consumed += 1
        self.at_end.discard(key)
        self.last_message = self.clock()

    def sealed(self, files: int, written: int, rows: dict[str, int]) -> None:
        self.chunks += 1
        self.flushed(files, written)
        self.rows.update(rows)

    def flushed(self, files: int, written: int) -> None:
        self.files += files
        self.bytes += written

    def done(self) -> bool:
        rules, now = self.rules, self.clock()
        if self.stopping:
            return True
        if rules.max_messages is not None and self.consumed >= rules.max_messages:
            return True
        if rules.max_runtime_s is not None and now - self.started >= rules.max_runtime_s:
            return True
        return rules.until_idle_s is not None and self._idle(now, rules.until_idle_s)

    def _idle(self, now: float, idle_s: float) -> bool:
        caught_up = bool(self.assigned) and self.assigned <= self.at_end
        return caught_up and now - self.last_message >= idle_s

    def summary(self, pending: dict[str, int] | None = None) -> ArchiveSummary:
        return ArchiveSummary(self.consumed, self.chunks, self.files, self.bytes,
                              dict(self.rows), self.clock() - self.started, pending or {})
