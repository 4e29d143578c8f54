"""What the parent and its children share: paths, limits, the batch timer, child plumbing."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import ChildResult, median

SCRIPT = str(Path(__file__).resolve().parents[1] / "speed_layer.py")  # children re-run it
REPO = Path(__file__).resolve().parents[2]
BATCH = 10_000  # consume(num_messages=...) for the bare loop, as the speed layer's default
CHILD_TIMEOUT_S = 900.0
COMMIT_METRIC = "candles_speed_transaction_commit_seconds"


@dataclass
class BatchTimer:
    """Times a consume loop: from the first non-empty batch in hand to the moment the
    batch after the last non-empty one is asked for (i.e. the last batch is processed)."""

    first_at: float = 0.0
    first_count: int = 0
    done_at: float = 0.0
    total: int = 0
    in_consume: float = 0.0  # seconds inside consume() within the timed stretch
    _pending: bool = False
    _called_at: float = 0.0

    def called(self, now: float) -> None:
        self._called_at = now
        if self._pending:
            self.done_at, self._pending = now, False

    def returned(self, count: int, now: float) -> None:
        if count:
            if not self.total:
                self.first_at, self.first_count = now, count
            else:
                self.in_consume += now - self._called_at
            self.total += count
            self._pending = True

    def result(self) -> dict[str, float]:
        seconds = self.done_at - self.first_at
        counted = self.total - self.first_count
        return {"total": self.total, "counted": counted, "seconds": seconds,
                "in_consume": self.in_consume,
                "rate": counted / seconds if seconds > 0 else 0.0}


@dataclass
class Measured:
    """One measurement repeated: every run's rate and peak RSS, and details."""

    name: str
    rates: list[float] = field(default_factory=list)
    peak_rss_bytes: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    close_us_per_candle: list[float] = field(default_factory=list)  # (b) only
    cpu_us_per_record: list[float] = field(default_factory=list)  # (b): all its threads

    @property
    def median_rate(self) -> float:
        return median(self.rates)

    def add(self, rate: float, child: ChildResult, note: str = "") -> None:
        self.rates.append(rate)
        self.peak_rss_bytes.append(child.peak_rss_bytes)
        if note:
            self.notes.append(note)


def child_parser(*names: str) -> argparse.ArgumentParser:
    """A child's parser: every name a required ``--name`` option."""
    parser = argparse.ArgumentParser(add_help=False)
    for name in names:
        parser.add_argument("--" + name.replace("_", "-"), dest=name, required=True)
    return parser


def last_json(child: ChildResult, what: str) -> dict[str, Any]:
    """The last JSON line a child printed; stop the benchmark if it failed."""
    lines = [line for line in child.stdout.splitlines() if line.startswith("{")]
    if child.returncode != 0 or not lines:
        raise SystemExit(f"{what} failed (exit {child.returncode}): {child.stdout[-2000:]}")
    loaded: dict[str, Any] = json.loads(lines[-1])
    return loaded
