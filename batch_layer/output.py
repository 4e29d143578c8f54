"""Candle frames as Arrow tables with the contract's ``CANDLE_SCHEMA``, exactly.

Prices are Int64 fixed-point and go to ``decimal128`` as their unscaled values; volume and
notional are Int128 and go via their two 64-bit words (:mod:`storage.arrow_fixed`).
"""

from __future__ import annotations

import polars as pl
import pyarrow as pa

from candle_core.codec import CANDLE_SCHEMA, DECIMALS, PRICE_FIELDS
from candle_core.windows import interval_label
from storage.arrow_fixed import decimal_column, decimal_column_words

TWO_64 = pl.lit(2**64, pl.Int128)


def to_table(candles: pl.DataFrame) -> pa.Table:
    """A candle frame (see :data:`batch_layer.candles.COLUMNS`) as a ``CANDLE_SCHEMA`` table."""
    frame = candles.sort("symbol", "interval_us", "window_start_us")
    columns: dict[str, pa.Array] = {}
    for field in CANDLE_SCHEMA:
        name, type_ = field.name, field.type
        if name == "interval":
            labels = {us: interval_label(us) for us in frame["interval_us"].unique()}
            interval = frame["interval_us"].replace_strict(labels, return_dtype=pl.String)
            columns[name] = pa.array(interval.to_numpy(), pa.string())
        elif name in PRICE_FIELDS:
            columns[name] = decimal_column(frame[name].to_numpy(), type_.precision,
                                           DECIMALS[name])
        elif name in DECIMALS:
            columns[name] = _wide(frame, name, type_.precision, DECIMALS[name])
        else:
            columns[name] = pa.array(frame[name].to_numpy(), type_)
    return pa.table(columns, schema=CANDLE_SCHEMA)


def _wide(frame: pl.DataFrame, name: str, precision: int, scale: int) -> pa.Array:
    words = frame.select(high=(pl.col(name) // TWO_64).cast(pl.Int64),
                         low=(pl.col(name) % TWO_64).cast(pl.UInt64))
    return decimal_column_words(words["low"].to_numpy(), words["high"].to_numpy(),
                                precision, scale)
