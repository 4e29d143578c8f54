"""Where simulated batches go: files (+ label sidecar) or Kafka, with a running count."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

import polars as pl

from sources.batch import RecordBatch
from sources.labels import Label
from sources.producer import Sink
from sources.writers import BatchWriter, LabelsWriter, open_writer

EXTRA_LABELS = (Label.DUPLICATE, Label.CONFLICT, Label.NOISE)  # not base trades


def base_trades(batch: RecordBatch) -> int:
    """How many of a batch's records are base trades (not duplicate/conflict re-sends)."""
    return batch.frame.filter(~pl.col("label").is_in([int(x) for x in EXTRA_LABELS])).height


def drain(
    batches: Iterable[RecordBatch],
    out: Path | None,
    labels: Path | None,
    sink: Sink | None,
    stop: threading.Event,
    on_batch: Callable[[RecordBatch], None] = lambda _batch: None,
) -> Counter[str]:
    """Write every batch to ``out`` and/or send it to ``sink``; label counts of the output.

    Stops between batches (files) or messages (Kafka) when ``stop`` is set.
    """
    writers: list[BatchWriter] = []
    counts: Counter[str] = Counter()
    try:
        if out is not None:
            writers.append(open_writer(out))
        if labels is not None:
            writers.append(LabelsWriter(labels))
        for batch in batches:
            if stop.is_set():
                break
            sent = _send(batch, sink, stop) if sink is not None else len(batch)
            kept = batch if sent == len(batch) else RecordBatch(batch.frame.head(sent))
            for writer in writers:
                writer.write(kept)
            counts.update(kept.label_counts())
            on_batch(kept)
    finally:
        for writer in writers:
            writer.close()
    return counts


def _send(batch: RecordBatch, sink: Sink, stop: threading.Event) -> int:
    sent = 0
    for record in batch.records():
        if stop.is_set():
            break
        sink.send(record)
        sent += 1
    return sent
