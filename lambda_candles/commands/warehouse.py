"""``candles warehouse``: create the warehouse schema, print its DDL, show the load audit."""

from __future__ import annotations

import json

import click

from lambda_candles.options import setting_option, settings_from
from storage.warehouse.ddl import DIALECTS, account_statements, schema_statements
from storage.warehouse.targets import open_target, recent_audit, warehouse_kind

_WAREHOUSE = click.Choice(["auto", "duckdb", "snowflake"])


@click.group("warehouse")
def warehouse() -> None:
    """The warehouse the verified bars are loaded into (Snowflake, or a DuckDB file)."""


@warehouse.command("init")
@click.option("--account-objects", is_flag=True, help="Snowflake only: first create the role, "
              "the XS warehouse and the database, with grants (needs a user with the "
              "SECURITYADMIN and SYSADMIN roles).")
@setting_option("--warehouse", "warehouse", type=_WAREHOUSE)
@setting_option("--duckdb-path", "warehouse_duckdb_path")
def init(account_objects: bool, warehouse: str | None,
         warehouse_duckdb_path: str | None) -> None:
    """Create the RAW, CORE and MART schemas, tables and view (idempotent)."""
    settings = settings_from(warehouse=warehouse, warehouse_duckdb_path=warehouse_duckdb_path)
    kind = warehouse_kind(settings)
    if account_objects:
        if kind != "snowflake":
            raise click.UsageError("--account-objects is for Snowflake (set "
                                   "CANDLES_SNOWFLAKE_ACCOUNT); DuckDB has no accounts")
        from storage.warehouse.snowflake_target import SnowflakeTarget

        admin = SnowflakeTarget(settings, objects=False)
        try:
            for statement in account_statements(settings):
                admin.execute(statement)
        finally:
            admin.close()
    target = open_target(settings, create=True)
    try:
        applied = target.apply_schema()
    finally:
        target.close()
    click.echo(f"warehouse init: {target.kind} {target.where}: {len(applied)} statements "
               "applied (RAW.BARS_STAGE, CORE.BARS, CORE.LOAD_AUDIT, MART.BARS_1M_5M)")


@warehouse.command("ddl")
@click.option("--dialect", type=click.Choice(DIALECTS), default=None,
              help="SQL dialect (default: the configured warehouse's).")
@click.option("--account-objects", is_flag=True,
              help="Print Snowflake's role, warehouse and database DDL instead.")
def ddl(dialect: str | None, account_objects: bool) -> None:
    """Print the DDL `init` applies, for review or for a DBA to run."""
    settings = settings_from()
    statements = (account_statements(settings) if account_objects
                  else schema_statements(dialect or warehouse_kind(settings)))
    click.echo(";\n\n".join(statements) + ";")


@warehouse.command("audit")
@click.option("--limit", type=click.IntRange(1, 10_000), default=10, show_default=True,
              help="How many runs to show, newest first.")
@setting_option("--warehouse", "warehouse", type=_WAREHOUSE)
@setting_option("--duckdb-path", "warehouse_duckdb_path")
@click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON lines.")
def audit(limit: int, warehouse: str | None, warehouse_duckdb_path: str | None,
          as_json: bool) -> None:
    """The latest LOAD_AUDIT rows: one per `candles load` run."""
    settings = settings_from(warehouse=warehouse, warehouse_duckdb_path=warehouse_duckdb_path)
    target = open_target(settings)
    try:
        rows = recent_audit(target, limit)
    finally:
        target.close()
    for row in rows:
        if as_json:
            click.echo(json.dumps(row, default=str))
            continue
        click.echo(f"{row['STARTED_AT']} {row['RUN_ID']} {row['STATUS']:<8} "
                   f"{row['RANGE_START']} {row['VERDICT']:<12} read {row['ROWS_READ']:,} "
                   f"inserted {row['ROWS_INSERTED'] or 0:,} updated {row['ROWS_UPDATED'] or 0:,} "
                   f"unchanged {row['ROWS_UNCHANGED'] or 0:,} in {row['TOTAL_SECONDS'] or 0} s"
                   + (f" error: {row['ERROR']}" if row["ERROR"] else ""))
