"""Orders and quotes interleaved with the trades: what real market-data streams look like.

``--noise-ratio 0.98`` makes 98% of the messages non-trades. Each noise message follows the
rule of :mod:`candle_core.message_kind` (``{"type":"order"...`` or ``{"type":"quote"...``
first), carries a symbol of the batch and an arrival time within the batch's span, and is
labelled :attr:`~sources.labels.Label.NOISE`. Trades keep their relative order, so the
trades of a noisy stream give exactly the candles of the same trades alone.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from sources.batch import SCHEMA, RecordBatch
from sources.labels import Label

KINDS = ("order", "quote")


def noise_count(trades: int, ratio: float) -> int:
    """How many noise messages make ``ratio`` of ``trades + noise`` noise."""
    if not 0 <= ratio < 1:
        raise ValueError(f"noise ratio {ratio} must be in [0, 1)")
    return round(trades * ratio / (1 - ratio))


def add_noise(batch: RecordBatch, ratio: float, rng: np.random.Generator,
              first_id: int = 0) -> RecordBatch:
    """``batch`` with noise messages interleaved by arrival time (trades stay in order)."""
    frame = batch.frame
    count = noise_count(frame.height, ratio)
    if not count or not frame.height:
        return batch
    times = frame["timestamp_us"]
    low, high = int(times.min()), int(times.max()) + 1  # type: ignore[arg-type]
    picks = rng.integers(0, frame.height, count)
    noise = pl.DataFrame({
        "key": frame["key"].gather(picks),
        "kind": pl.Series(np.array(KINDS)[rng.integers(0, len(KINDS), count)]),
        "id": np.arange(first_id, first_id + count, dtype=np.int64),
        "price": rng.integers(1, 10**6, count),
        "timestamp_us": np.sort(rng.integers(low, high, count)),
    }).select(
        "key",
        pl.concat_str(pl.lit('{"type":"'), "kind", pl.lit('","symbol":"'), "key",
                      pl.lit('","id":'), pl.col("id").cast(pl.Utf8),
                      pl.lit(',"side":"buy","price":"'), pl.col("price").cast(pl.Utf8),
                      pl.lit('.25","size":"1"}')).alias("value"),
        "timestamp_us",
        pl.lit(int(Label.NOISE), pl.UInt8).alias("label"),
        pl.lit(None, pl.Utf8).alias("reason"),
    )
    merged = pl.concat([frame.cast(SCHEMA), noise.cast(SCHEMA)])  # type: ignore[arg-type]
    return RecordBatch(merged.sort("timestamp_us", maintain_order=True))
