"""Arrow helpers for chunk tables: sort, then cut into runs that each become one file."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import pairwise

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

GROUP_COLUMN = "_group"


def with_group(table: pa.Table, group: np.ndarray) -> pa.Table:
    """``table`` plus a temporary int64 group-key column (see :func:`runs`)."""
    return table.append_column(GROUP_COLUMN, pa.array(group, pa.int64()))


def runs(table: pa.Table, sort_keys: Sequence[str], group_columns: Sequence[str]
         ) -> Iterator[pa.Table]:
    """Sort ``table`` by ``sort_keys`` and yield its runs of equal ``group_columns``.

    ``sort_keys`` must start with the group columns (or with columns that determine
    them), so that each group is one contiguous run. The temporary group column, if any,
    is dropped from the yielded tables.
    """
    if table.num_rows == 0:
        return
    ordered = table.sort_by([(key, "ascending") for key in sort_keys])
    n = ordered.num_rows
    change = np.zeros(max(n - 1, 0), dtype=bool)
    for name in group_columns:
        column = ordered[name].combine_chunks()
        change |= pc.not_equal(column.slice(1), column.slice(0, n - 1)).to_numpy(
            zero_copy_only=False)
    starts = [0, *(np.flatnonzero(change) + 1).tolist(), n]
    if GROUP_COLUMN in ordered.column_names:
        ordered = ordered.drop_columns([GROUP_COLUMN])
    for start, end in pairwise(starts):
        yield ordered.slice(start, end - start)


def constant_column(value: object, count: int, type_: pa.DataType) -> pa.Array:
    """``count`` copies of ``value``."""
    return pa.array([value] * count, type_)
