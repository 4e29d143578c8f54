"""The warehouse load's settings (``candles load``, ``candles warehouse``): see
``kafka_ops.settings``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr

from storage.settings import ArchiveSettings, ReportSettings


class WarehouseSettings(ArchiveSettings, ReportSettings):
    """What ``candles load`` reads: the archive, the reports, and Snowflake or DuckDB."""

    warehouse: Literal["auto", "duckdb", "snowflake"] = Field(
        default="auto", description="Where verified bars are loaded; auto: Snowflake when "
        "CANDLES_SNOWFLAKE_ACCOUNT is set, else the local DuckDB file.",
    )
    warehouse_duckdb_path: Path = Field(
        default=Path("data") / "warehouse.duckdb",
        description="The local DuckDB warehouse file (no Snowflake account configured).",
    )
    snowflake_account: str | None = Field(default=None, description="Snowflake account "
                                          "identifier (orgname-account); unset: DuckDB.")
    snowflake_user: str | None = Field(default=None, description="Snowflake user.")
    snowflake_password: SecretStr | None = Field(
        default=None, description="Snowflake password (or use a key pair).")
    snowflake_private_key_file: Path | None = Field(
        default=None, description="PEM private key file for key-pair (JWT) auth.")
    snowflake_private_key: SecretStr | None = Field(
        default=None, description="PEM private key text for key-pair auth (instead of a file).")
    snowflake_private_key_passphrase: SecretStr | None = Field(
        default=None, description="Passphrase of an encrypted private key.")
    snowflake_role: str = Field(default="CANDLES_LOADER", description="Snowflake role.")
    snowflake_warehouse: str = Field(default="CANDLES_XS",
                                     description="Snowflake virtual warehouse.")
    snowflake_database: str = Field(default="CANDLES", description="Snowflake database.")
    snowflake_host: str | None = Field(
        default=None, description="Snowflake host override (tests: a local fakesnow server).")
    snowflake_port: int | None = Field(default=None, ge=1, le=65535,
                                       description="Snowflake port override.")
    snowflake_protocol: Literal["https", "http"] = Field(
        default="https", description="Snowflake protocol (http only for a local test server).")
