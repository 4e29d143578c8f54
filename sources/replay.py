"""Sending records to a sink: passes, pacing, stop requests and the final count.

Pure orchestration: the source is a callable that opens the records afresh for each pass,
the sink is Kafka (``producer.KafkaSink``) or a list in tests, the pacer decides when,
and ``stop`` (a ``threading.Event`` set by Ctrl-C/SIGTERM) ends the run between messages.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sources.loop import LoopPlan, shift_record
from sources.pacing import Pacer
from sources.producer import Sink
from sources.records import Record

REPORT_EVERY = 1_024  # progress callbacks are batched: one per message would cost more


@dataclass(frozen=True)
class ReplayRun:
    """What happened: messages handed to the sink, passes completed, time taken."""

    sent: int
    passes: int
    elapsed_s: float
    stopped: bool

    @property
    def rate_per_s(self) -> float:
        """Messages per second over the run."""
        return self.sent / self.elapsed_s if self.elapsed_s > 0 else 0.0


def replay(
    source: Callable[[], Iterable[Record]],
    sink: Sink,
    pacer: Pacer,
    stop: threading.Event,
    passes: int | None = 1,
    plan: LoopPlan | None = None,
    on_sent: Callable[[int], None] = lambda _count: None,
) -> ReplayRun:
    """Send ``passes`` passes of ``source`` (``None``: until stopped) to ``sink``."""
    started_s, sent, done = time.monotonic(), 0, 0
    rounds = itertools.count() if passes is None else range(passes)
    try:
        for pass_no in rounds:
            if pass_no > 0 and plan is None:
                raise ValueError("a LoopPlan is needed for more than one pass")
            for record in source():
                out = shift_record(record, pass_no, plan) if plan is not None else record
                if stop.is_set() or not pacer.wait(out.timestamp_us):
                    return ReplayRun(sent, done, time.monotonic() - started_s, True)
                sink.send(out)
                sent += 1
                if sent % REPORT_EVERY == 0:
                    on_sent(REPORT_EVERY)
            done += 1
    finally:
        on_sent(sent % REPORT_EVERY)
    return ReplayRun(sent, done, time.monotonic() - started_s, stop.is_set())
