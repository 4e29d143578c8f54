"""Snowflake through ``snowflake-connector-python``: staged by array-bound INSERTs.

Staging is ``executemany`` of one ``INSERT INTO RAW.BARS_STAGE`` per chunk, in one
transaction, with ``qmark`` (server-side) binding: the connector sends a chunk as one array
bind, and above ``CLIENT_STAGE_ARRAY_BINDING_THRESHOLD`` values uploads the binds to a
temporary stage by itself. Decimals are bound as their exact text (``NUMBER(38,16)`` is
parsed by Snowflake, never via a float). See ``docs/warehouse.md`` for why not
``write_pandas`` or PUT + COPY INTO.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

import pyarrow as pa
import snowflake.connector
from snowflake.connector import errors

from storage.warehouse.auth import connect_kwargs
from storage.warehouse.ddl import schema_statements
from storage.warehouse.exceptions import (
    WarehouseAuthError,
    WarehouseError,
    WarehouseQueryError,
    WarehouseUnavailableError,
)
from storage.warehouse.settings import WarehouseSettings

CHUNK_ROWS = 20_000
AUTH_ERRNOS = {390100, 390144, 390101, 390102, 394304}  # bad password or JWT, locked user


class SnowflakeTarget:
    """A :class:`~storage.warehouse.loader.Target` on a Snowflake database."""

    kind = "snowflake"

    def __init__(self, settings: WarehouseSettings, objects: bool = True) -> None:
        if not logging.getLogger().isEnabledFor(logging.DEBUG):
            # the connector logs every request at INFO; keep it for CANDLES_LOG_LEVEL=DEBUG
            logging.getLogger("snowflake.connector").setLevel(logging.WARNING)
        kwargs = connect_kwargs(settings, objects=objects)
        self.where = f"snowflake://{kwargs['account']}/{settings.snowflake_database}"
        if settings.snowflake_host:
            self.where += f" via {kwargs['protocol']}://{kwargs['host']}"
        try:
            self._conn = snowflake.connector.connect(**kwargs)
        except errors.DatabaseError as exc:
            if exc.errno in AUTH_ERRNOS:
                raise WarehouseAuthError(f"{self.where} refused the login: {exc.msg}") from exc
            raise WarehouseUnavailableError(self.where, exc) from exc

    def execute(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            with self._conn.cursor() as cursor:
                cursor.execute(statement, list(params) or None)
                return [tuple(row) for row in cursor.fetchall()]
        except errors.Error as exc:
            raise _wrap(self.where, statement, exc) from exc

    def stage(self, rows: pa.Table) -> None:
        insert = (f"INSERT INTO RAW.BARS_STAGE ({', '.join(rows.column_names)}) "
                  f"VALUES ({', '.join('?' * rows.num_columns)})")
        self.execute("BEGIN")
        try:
            with self._conn.cursor() as cursor:
                for batch in rows.to_batches(max_chunksize=CHUNK_ROWS):
                    cursor.executemany(insert, list(bind_rows(batch)))
            self.execute("COMMIT")
        except errors.Error as exc:
            self._rollback()
            raise _wrap(self.where, insert, exc) from exc
        except BaseException:
            self._rollback()
            raise

    def merge(self, statement: str) -> tuple[int, int]:
        try:
            with self._conn.cursor() as cursor:
                cursor.execute(statement)
                row = cursor.fetchone()
                names = [column.name.lower() for column in cursor.description or []]
        except errors.Error as exc:
            raise _wrap(self.where, statement, exc) from exc
        counts = dict(zip(names, row or (), strict=False))
        return (int(counts.get("number of rows inserted", 0)),
                int(counts.get("number of rows updated", 0)))

    def apply_schema(self) -> list[str]:
        """Create the schemas, tables and views (idempotent); the statements run."""
        statements = schema_statements(self.kind)
        for statement in statements:
            self.execute(statement)
        return statements

    def close(self) -> None:
        self._conn.close()

    def _rollback(self) -> None:
        # the session may be gone (and its transaction with it): nothing more to undo
        with contextlib.suppress(WarehouseError):
            self.execute("ROLLBACK")


def bind_rows(batch: pa.RecordBatch) -> Iterator[tuple[Any, ...]]:
    """A batch's rows as bind values: decimals and dates as exact text, ints as ints."""
    columns = [[_bindable(value) for value in column.to_pylist()] for column in batch.columns]
    return zip(*columns, strict=True)


def _bindable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _wrap(where: str, statement: str, exc: errors.Error) -> Exception:
    if isinstance(exc, errors.OperationalError | errors.InterfaceError):
        return WarehouseUnavailableError(where, exc)
    return WarehouseQueryError(where, statement, exc)
