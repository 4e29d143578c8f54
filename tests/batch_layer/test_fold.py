"""The 1 s fold's pieces: event order, slices cut at window starts, the volume's width."""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from batch_layer.candles import in_event_order, one_second, window_cuts
from candle_core.fixed_point import MAX_SIZE_INT

T0 = 1_767_225_600_000_000
trade_rows = st.lists(st.tuples(st.integers(T0, T0 + 5_000_000), st.integers(1, 10**12),
                                st.integers(1, MAX_SIZE_INT)), min_size=1, max_size=80,
                      unique_by=lambda row: row[1])


def frame(rows: list[tuple[int, int, int]]) -> pl.DataFrame:
    ts, ids, sizes = zip(*rows, strict=True)
    return pl.DataFrame({"trade_id": ids, "ts_us": ts, "price": [7 * i % 1000 + 1 for i in ids],
                         "size": sizes}, schema={c: pl.Int64 for c in ("trade_id", "ts_us",
                                                                       "price", "size")})


@settings(max_examples=100, deadline=None)
@given(trade_rows, st.integers(1, 9))
def test_slices_fold_like_one_piece(rows: list[tuple[int, int, int]], fold_rows: int) -> None:
    """Slicing never splits a window, so the pieces are the whole fold (also with sizes
    large enough to need the Int128 volume)."""
    trades = frame(rows)
    assert one_second(trades, fold_rows).equals(one_second(trades, fold_rows=10**9))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 4_000_000), max_size=60), st.integers(1, 7))
def test_cuts_are_window_starts_about_rows_apart(ts: list[int], rows: int) -> None:
    ts_us = np.array(sorted(ts), dtype=np.int64)
    cuts = window_cuts(ts_us, rows)
    assert cuts[0] == 0 and cuts[-1] == len(ts_us)
    windows = ts_us - ts_us % 1_000_000
    for begin, end in itertools.pairwise(cuts):
        assert begin < end or len(ts_us) == 0
        assert begin == 0 or windows[begin] != windows[begin - 1]  # a window's first trade
        assert end - begin <= rows or len(set(windows[begin:end])) == 1 or \
            windows[end - 1] == windows[begin + rows]  # longer only to finish a window


def test_event_order_breaks_ties_by_trade_id() -> None:
    trades = frame([(T0 + 5, 9, 1), (T0 + 5, 3, 1), (T0 + 1, 7, 1)])
    assert in_event_order(trades)["trade_id"].to_list() == [7, 3, 9]
    ordered = in_event_order(trades)
    assert in_event_order(ordered) is ordered  # already in order: not copied
