"""Helpers shared by the benchmarks: a broker, child processes with peak RSS, statistics.

Only the standard library at import time: a benchmark's child processes import this module
too, and some run in another virtualenv (Quix Streams pins an older confluent-kafka).
"""

from __future__ import annotations

import contextlib
import math
import os
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

MIB = 1024 * 1024


@contextlib.contextmanager
def kafka_broker(temp_parent: Path | None = None) -> Iterator[tuple[str, bool]]:
    """``(bootstrap, started_here)``: ``KAFKA_BOOTSTRAP_SERVERS`` (or the ``CANDLES_``
    one) if set, else a fresh local Apache Kafka in a temporary run dir, stopped at exit."""
    configured = (os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
                  or os.environ.get("CANDLES_KAFKA_BOOTSTRAP_SERVERS"))
    if configured:
        yield configured, False
        return
    from kafka_ops.launcher import LocalKafka, LocalKafkaConfig

    with tempfile.TemporaryDirectory(prefix="bench-kafka-", dir=temp_parent) as run_dir:
        kafka = LocalKafka(LocalKafkaConfig(run_dir=Path(run_dir), heap_mb=1024))
        bootstrap = kafka.start()
        try:
            yield bootstrap, True
        finally:
            kafka.stop()


@dataclass(frozen=True)
class ChildResult:
    """A finished child process: wall time, its own peak RSS, and what it printed."""

    seconds: float
    peak_rss_bytes: int
    returncode: int
    stdout: str


def vm_hwm_bytes(pid: int | str = "self") -> int | None:
    """Peak RSS of one process (``VmHWM``), or None once it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


class Child:
    """A child process whose peak RSS is sampled from ``/proc/PID/status`` (``VmHWM``).

    Not ``wait4``'s ``ru_maxrss``: a child spawned with vfork (as ``subprocess`` does)
    inherits the parent's high-water mark at exec, so a large parent would hide the
    child's own figure.
    """

    def __init__(self, command: Sequence[str], env: dict[str, str] | None = None,
                 log_path: Path | None = None, cwd: Path | None = None) -> None:
        self.began = time.perf_counter()
        with contextlib.ExitStack() as stack:
            err = stack.enter_context(open(log_path, "a")) if log_path else subprocess.DEVNULL
            self.process = subprocess.Popen(list(command), stdout=subprocess.PIPE, stderr=err,
                                            text=True, env=env, cwd=cwd)
        self.peak_rss_bytes = 0
        self._done = threading.Event()
        threading.Thread(target=self._watch, name="rss-watch", daemon=True).start()

    def _watch(self) -> None:
        while not self._done.is_set():
            peak = vm_hwm_bytes(self.process.pid)
            if peak is None:
                return
            self.peak_rss_bytes = max(self.peak_rss_bytes, peak)
            self._done.wait(0.02)

    def readline(self) -> str:
        """One line of the child's stdout (blocks)."""
        return self.process.stdout.readline() if self.process.stdout else ""

    def finish(self, timeout_s: float = 600.0, stop_signal: int | None = None) -> ChildResult:
        """Wait for the child (after sending it ``stop_signal``, if given); kill it past
        ``timeout_s``; return what it printed and its peak RSS."""
        if stop_signal is not None:
            self.process.send_signal(stop_signal)
        try:
            out, _ = self.process.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, _ = self.process.communicate()
        self._done.set()
        return ChildResult(time.perf_counter() - self.began, self.peak_rss_bytes,
                           self.process.returncode, out or "")


def run_child(command: Sequence[str], env: dict[str, str] | None = None,
              log_path: Path | None = None, timeout_s: float = 600.0,
              cwd: Path | None = None) -> ChildResult:
    """Run ``command`` to completion and measure it (see :class:`Child`)."""
    return Child(command, env, log_path, cwd).finish(timeout_s)


def free_port() -> int:
    """A TCP port nothing listens on right now (for a child's /metrics)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def median(values: Sequence[float]) -> float:
    """The median (the mean of the middle two for an even count)."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) by linear interpolation between closest ranks."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = q * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def histogram_quantile(q: float, buckets: Sequence[tuple[float, float]]) -> float:
    """Prometheus' ``histogram_quantile``: ``buckets`` are cumulative ``(le, count)``
    pairs, ascending, ending with ``+Inf``; linear interpolation inside a bucket."""
    total = buckets[-1][1] if buckets else 0.0
    if total <= 0:
        return math.nan
    rank = q * total
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in buckets:
        if count >= rank:
            if math.isinf(bound):
                return lower_bound  # beyond the last finite bucket: its bound, as Prometheus
            inside = count - lower_count
            share = (rank - lower_count) / inside if inside else 1.0
            return lower_bound + (bound - lower_bound) * share
        lower_bound, lower_count = bound, count
    return lower_bound


def load_average() -> float:
    """The 1-minute load average: other work on a 2-core box skews every figure."""
    return os.getloadavg()[0]


def rate_text(per_s: float) -> str:
    """``1234567.0`` -> ``"1.23M/s"``; ``12345`` -> ``"12.3k/s"``."""
    if math.isnan(per_s):
        return "n/a"
    if per_s >= 1e6:
        return f"{per_s / 1e6:.2f}M/s"
    return f"{per_s / 1e3:.1f}k/s"
