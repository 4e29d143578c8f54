"""What one batch run read and wrote, and where its time went: filled in by the job
(``batch_layer.job``) and by its background writer (``batch_layer.writer``)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from batch_layer.shards import ALL

STAGES = ("read_dedup", "fold", "write", "write_cpu", "write_wait")


@dataclass
class BatchSummary:
    """What one batch run read and wrote, and where its time went (``stages``, in the
    job's thread but for ``write`` and ``write_cpu``, the writer thread's; the job waits
    for it in ``write_wait``)."""

    date: str
    symbols: list[str]
    shard: str = str(ALL)
    trades_used: int = 0
    duplicates: int = 0
    conflicts: int = 0
    candles: dict[str, int] = field(default_factory=dict)
    files: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # of the whole process (every thread)
    stages: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))

    @contextlib.contextmanager
    def timing(self, stage: str) -> Iterator[None]:
        began = time.perf_counter()
        try:
            yield
        finally:
            self.stages[stage] += time.perf_counter() - began
