"""The load's SQL, one text for both warehouses (Snowflake and DuckDB accept the same).

The MERGE deduplicates the run's staged rows on the key first (a retried insert may
have staged a row twice), inserts new keys, and updates a matched row only when a value
differs: a re-run updates nothing, so the table stays byte-identical and ``LOAD_RUN_ID``
keeps naming the run that last changed each row.
"""

from __future__ import annotations

import re

from storage.warehouse.bars import BAR_COLUMNS, KEY

_RUN_ID = re.compile(r"[0-9a-f]{32}")
_VALUES = [name for name in BAR_COLUMNS if name not in KEY]

READY = ("SELECT COUNT(*) FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA || '.' || TABLE_NAME "
         "IN ('RAW.BARS_STAGE', 'CORE.BARS', 'CORE.LOAD_AUDIT')")
READY_TABLES = 3

AUDIT_START = (
    "INSERT INTO CORE.LOAD_AUDIT (RUN_ID, STATUS, RANGE_START, RANGE_END, INTERVALS, SYMBOLS, "
    "ROWS_READ, VERDICT, RECONCILE_RUN_ID, FORCED, STARTED_AT, READ_SECONDS) "
    "VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
AUDIT_FINISH = (
    "UPDATE CORE.LOAD_AUDIT SET STATUS = ?, ROWS_INSERTED = ?, ROWS_UPDATED = ?, "
    "ROWS_UNCHANGED = ?, FINISHED_AT = ?, STAGE_SECONDS = ?, MERGE_SECONDS = ?, "
    "TOTAL_SECONDS = ?, ERROR = ? WHERE RUN_ID = ?")
STAGED_KEYS = ("SELECT COUNT(*) FROM (SELECT DISTINCT SYMBOL, INTERVAL, WINDOW_START_US "
               "FROM RAW.BARS_STAGE WHERE LOAD_RUN_ID = ?) AS k")
DROP_STAGE = "DELETE FROM RAW.BARS_STAGE WHERE LOAD_RUN_ID = ? OR STAGED_US < ?"
"""Removes the run's staged rows, and any a killed run left behind (staged long ago)."""


def merge_sql(run_id: str) -> str:
    """The MERGE of run ``run_id``'s staged rows into ``CORE.BARS``.

    The run id is inlined (a MERGE with bound parameters is not portable); it must be a
    32-digit hex id, so nothing else can reach the SQL.
    """
    if not _RUN_ID.fullmatch(run_id):
        raise ValueError(f"not a load run id: {run_id!r}")
    on = " AND ".join(f"t.{name} = s.{name}" for name in KEY)
    changed = " OR ".join(f"t.{name} IS DISTINCT FROM s.{name}" for name in _VALUES)
    updates = ", ".join(f"{name} = s.{name}" for name in (*_VALUES, "LOAD_RUN_ID"))
    inserted = (*BAR_COLUMNS, "LOAD_RUN_ID")
    return (
        f"MERGE INTO CORE.BARS AS t USING ("
        f"SELECT * FROM RAW.BARS_STAGE WHERE LOAD_RUN_ID = '{run_id}' "
        f"QUALIFY ROW_NUMBER() OVER (PARTITION BY {', '.join(KEY)} "
        f"ORDER BY LAST_TS_US DESC, TRADE_COUNT DESC, LAST_TRADE_ID DESC) = 1) AS s "
        f"ON {on} "
        f"WHEN MATCHED AND ({changed}) THEN UPDATE SET {updates} "
        f"WHEN NOT MATCHED THEN INSERT ({', '.join(inserted)}) "
        f"VALUES ({', '.join(f's.{name}' for name in inserted)})")
