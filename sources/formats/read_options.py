"""How to read a file beyond its format: the ``candles replay`` flags a reader may need."""

from __future__ import annotations

from dataclasses import dataclass

from sources.formats.csv_columns import ColumnMap
from sources.formats.csv_times import TsUnit


@dataclass(frozen=True)
class ReadOptions:
    """``--assign-ids`` (NDJSON, Parquet, CSV), ``--columns`` and ``--ts-unit`` (CSV)."""

    assign_ids: bool = False
    columns: ColumnMap | None = None
    ts_unit: TsUnit | None = None
