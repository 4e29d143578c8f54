"""Vectorised fixed-point -> decimal128 columns equal the contract codec's, exactly."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from candle_core.codec import trades_to_table
from candle_core.fixed_point import MAX_PRICE_INT, MAX_SIZE_INT, to_fixed
from candle_core.trade import Trade
from storage.arrow_fixed import decimal_column, decimal_column_words

prices = st.integers(1, MAX_PRICE_INT)
sizes = st.integers(1, MAX_SIZE_INT)


@given(st.lists(st.tuples(prices, sizes), min_size=1, max_size=50))
def test_decimal_column_equals_codec(values: list[tuple[int, int]]) -> None:
    trades = [Trade("X", i, 0, p, s) for i, (p, s) in enumerate(values)]
    expected = trades_to_table(trades)
    price = decimal_column([p for p, _ in values], 18, 8)
    size = decimal_column([s for _, s in values], 38, 8)
    assert price.equals(expected["price"].combine_chunks())
    assert size.equals(expected["size"].combine_chunks())


@given(st.lists(st.integers(0, 10**38 - 1), min_size=1, max_size=50))  # all of decimal(38)
def test_words_build_any_128_bit_value(values: list[int]) -> None:
    low = np.array([v % 2**64 for v in values], dtype=np.uint64)
    high = np.array([v >> 64 for v in values], dtype=np.int64)
    column = decimal_column_words(low, high, 38, 16)
    assert column.type == pa.decimal128(38, 16)
    assert [to_fixed(d, 16) for d in column.to_pylist()] == values
