"""Fixed-point integers as Arrow ``decimal128`` columns, without a Decimal per value.

A ``decimal128(p, s)`` value is stored as its unscaled 128-bit integer, and a contract
fixed-point integer *is* the unscaled value at its scale. So the column is built by
writing the integers as little-endian 128-bit words: exact, and vectorised. Parity with
:func:`candle_core.codec.trades_to_table` is tested.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np
import pyarrow as pa

if sys.byteorder != "little":  # decimal128 buffers are little-endian
    raise ImportError("storage.arrow_fixed needs a little-endian machine")


def decimal_column(values: Sequence[int] | np.ndarray, precision: int, scale: int) -> pa.Array:
    """Signed 64-bit fixed-point integers as a ``decimal128(precision, scale)`` array."""
    ints = np.asarray(values, dtype=np.int64)
    words = np.empty((len(ints), 2), dtype=np.int64)
    words[:, 0] = ints
    words[:, 1] = ints >> 63  # sign extension into the high word
    return pa.Array.from_buffers(pa.decimal128(precision, scale), len(ints),
                                 [None, pa.py_buffer(words)])


def decimal_column_words(low: np.ndarray, high: np.ndarray, precision: int, scale: int
                         ) -> pa.Array:
    """128-bit fixed-point integers given as their low (uint64) and high (int64) words."""
    words = np.empty((len(low), 2), dtype=np.int64)
    words[:, 0] = np.asarray(low, dtype=np.uint64).view(np.int64)
    words[:, 1] = np.asarray(high, dtype=np.int64)
    return pa.Array.from_buffers(pa.decimal128(precision, scale), len(low),
                                 [None, pa.py_buffer(words)])
