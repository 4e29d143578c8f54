"""A symbol's outputs written while the next symbol is computed.

Encoding Parquet (zstd, 16-byte decimals for volume and notional) costs about a tenth of
the job. One background thread writes symbol ``k`` while the caller reads and folds symbol
``k + 1``; at most one symbol waits to be written, so memory holds one symbol's candles
more, and the files appear in symbol order. The summary records the writer's busy time
(``stages["write"]``) and CPU time (``stages["write_cpu"]``), and the time the job waited
for it (``stages["write_wait"]``).
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType

import polars as pl

from batch_layer.output import dropped_table, encode_table, to_table
from batch_layer.summary import BatchSummary
from candle_core.windows import interval_label
from storage.layout import BATCH_SOURCE, candles_dir, duplicates_dir
from storage.store import Store


@dataclass(frozen=True)
class SymbolCandles:
    """One symbol's candles of every interval, and the trades dedup dropped."""

    symbol: str
    frames: dict[int, pl.DataFrame]
    dropped: pl.DataFrame


def write_symbol(store: Store, date: str, computed: SymbolCandles) -> tuple[float, float]:
    """The symbol's file of each interval, and its dropped trades (even when none); the
    seconds it took, and the CPU seconds of this thread."""
    began, cpu = time.perf_counter(), time.thread_time()
    for interval_us, frame in computed.frames.items():
        store.write_bytes(f"{candles_dir(BATCH_SOURCE, interval_label(interval_us), date)}/"
                          f"{computed.symbol}.parquet", encode_table(to_table(frame)))
    store.write_bytes(f"{duplicates_dir(date)}/{computed.symbol}.parquet",
                      encode_table(dropped_table(computed.dropped, computed.symbol)))
    return time.perf_counter() - began, time.thread_time() - cpu


class SymbolWriter:
    """``put`` a symbol's outputs; they are written in the background (module docstring).
    A failed write raises from the next ``put`` or at the end of the ``with`` block."""

    def __init__(self, store: Store, summary: BatchSummary) -> None:
        self._store, self._summary = store, summary
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="batch-write")
        self._pending: Future[tuple[float, float]] | None = None

    def __enter__(self) -> SymbolWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        try:
            if kind is None:
                self._wait()
        finally:
            self._thread.shutdown(wait=True)

    def put(self, computed: SymbolCandles) -> None:
        self._wait()
        for interval_us, frame in computed.frames.items():
            label = interval_label(interval_us)
            self._summary.candles[label] = self._summary.candles.get(label, 0) + frame.height
        self._summary.files += len(computed.frames) + 1
        self._pending = self._thread.submit(write_symbol, self._store, self._summary.date,
                                            computed)

    def _wait(self) -> None:
        if self._pending is None:
            return
        with self._summary.timing("write_wait"):
            busy, cpu = self._pending.result()
        self._summary.stages["write"] += busy
        self._summary.stages["write_cpu"] += cpu
        self._pending = None
