"""The local warehouse: one DuckDB file with the Snowflake schema and the same MERGE.

Staging goes through Arrow (DuckDB scans the table in place, decimals stay exact). DuckDB's
MERGE reports one total, so the statement runs with ``RETURNING merge_action`` and the
actions are counted. A load creates the file and its schema if they are missing (a local
file has no DBA). One process at a time may write the file; another gets a clear "try
again" error.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from storage.warehouse.ddl import schema_statements
from storage.warehouse.exceptions import (
    WarehouseNotInitializedError,
    WarehouseQueryError,
    WarehouseUnavailableError,
)
from storage.warehouse.statements import READY, READY_TABLES

_STAGE_VIEW = "candles_stage_rows"


class DuckDBTarget:
    """A :class:`~storage.warehouse.loader.Target` on a DuckDB file."""

    kind = "duckdb"

    def __init__(self, path: Path, create: bool = False) -> None:
        self.path = path.absolute()
        self.where = str(self.path)
        if not create and not self.path.exists():
            raise WarehouseNotInitializedError(self.where, "no such file")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = duckdb.connect(self.where)
        except (OSError, duckdb.IOException) as exc:
            raise WarehouseUnavailableError(self.where, exc) from exc

    def execute(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return self._conn.execute(statement, list(params)).fetchall()
        except duckdb.Error as exc:
            raise _wrap(self.where, statement, exc) from exc

    def stage(self, rows: pa.Table) -> None:
        self._conn.register(_STAGE_VIEW, rows)
        try:
            self.execute(f"INSERT INTO RAW.BARS_STAGE BY NAME SELECT * FROM {_STAGE_VIEW}")
        finally:
            self._conn.unregister(_STAGE_VIEW)

    def merge(self, statement: str) -> tuple[int, int]:
        try:
            actions = self._conn.sql(f"{statement} RETURNING merge_action") \
                .to_arrow_table().column(0)
        except duckdb.Error as exc:
            raise _wrap(self.where, statement, exc) from exc
        counts = {str(row["values"]): int(row["counts"])
                  for row in pc.value_counts(actions).to_pylist()}
        return counts.get("INSERT", 0), counts.get("UPDATE", 0)

    def apply_schema(self) -> list[str]:
        """Create the schemas, tables and views (idempotent); the statements run."""
        statements = schema_statements(self.kind)
        for statement in statements:
            self.execute(statement)
        return statements

    def ensure_schema(self) -> bool:
        """Apply the schema if its tables are missing (a local file needs no DBA); True if
        it was applied."""
        if self.execute(READY)[0][0] == READY_TABLES:
            return False
        self.apply_schema()
        return True

    def close(self) -> None:
        self._conn.close()


def _wrap(where: str, statement: str, exc: duckdb.Error) -> Exception:
    if isinstance(exc, duckdb.IOException | duckdb.TransactionException):
        return WarehouseUnavailableError(where, exc)
    return WarehouseQueryError(where, statement, exc)
