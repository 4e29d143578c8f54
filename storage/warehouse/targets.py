"""Which warehouse a process writes: Snowflake when an account is configured, else DuckDB."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from storage.warehouse.duckdb_target import DuckDBTarget
from storage.warehouse.settings import WarehouseSettings

if TYPE_CHECKING:
    from storage.warehouse.snowflake_target import SnowflakeTarget

AUDIT_COLUMNS = ("RUN_ID", "STATUS", "RANGE_START", "RANGE_END", "INTERVALS", "SYMBOLS",
                 "ROWS_READ", "ROWS_INSERTED", "ROWS_UPDATED", "ROWS_UNCHANGED", "VERDICT",
                 "RECONCILE_RUN_ID", "FORCED", "STARTED_AT", "FINISHED_AT", "READ_SECONDS",
                 "STAGE_SECONDS", "MERGE_SECONDS", "TOTAL_SECONDS", "ERROR")


def warehouse_kind(settings: WarehouseSettings) -> str:
    """``"snowflake"`` or ``"duckdb"``: ``auto`` means Snowflake iff an account is set."""
    if settings.warehouse == "auto":
        return "snowflake" if settings.snowflake_account else "duckdb"
    return settings.warehouse


def open_target(settings: WarehouseSettings, create: bool = False
                ) -> DuckDBTarget | SnowflakeTarget:
    """A connection to the configured warehouse (``create``: a new DuckDB file is fine;
    Snowflake objects are never created here, see ``candles warehouse init``)."""
    if warehouse_kind(settings) == "snowflake":
        from storage.warehouse.snowflake_target import SnowflakeTarget  # the connector is big

        return SnowflakeTarget(settings)
    return DuckDBTarget(settings.warehouse_duckdb_path, create=create)


def recent_audit(target: DuckDBTarget | SnowflakeTarget, limit: int = 20
                 ) -> list[dict[str, Any]]:
    """The latest ``limit`` ``LOAD_AUDIT`` rows, newest first."""
    rows = target.execute(f"SELECT {', '.join(AUDIT_COLUMNS)} FROM CORE.LOAD_AUDIT "
                          f"ORDER BY STARTED_AT DESC, RUN_ID LIMIT {int(limit)}")
    return [dict(zip(AUDIT_COLUMNS, row, strict=True)) for row in rows]
