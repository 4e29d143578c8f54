"""The warehouse DDL: SQL files shipped in this package, rendered and split into statements.

``ddl/snowflake/account.sql`` creates the role, the XS warehouse and the database (an
administrator's job, once); ``ddl/<dialect>/schema.sql`` creates the RAW, CORE and MART
schemas, their tables and the MART view (the loader role's job, idempotent). Files are read
with :mod:`importlib.resources`, so they work from a wheel as from a checkout.
"""

from __future__ import annotations

import re
from importlib import resources
from string import Template

from storage.warehouse.exceptions import BadIdentifierError
from storage.warehouse.settings import WarehouseSettings

DIALECTS = ("duckdb", "snowflake")
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")


def sql_text(dialect: str, name: str) -> str:
    """The raw text of ``ddl/<dialect>/<name>.sql``."""
    return resources.files("storage.warehouse").joinpath("ddl", dialect, f"{name}.sql") \
        .read_text(encoding="utf-8")


def split_statements(text: str) -> list[str]:
    """The statements of a SQL file: ``--`` comment lines dropped, split at ``;``.

    Our DDL files hold no ``;`` inside strings or identifiers, so a plain split is exact.
    """
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]


def schema_statements(dialect: str) -> list[str]:
    """The statements creating the schemas, tables and views (idempotent)."""
    return split_statements(sql_text(dialect, "schema"))


def account_statements(settings: WarehouseSettings) -> list[str]:
    """Snowflake's role, warehouse, database and grants, named from ``settings``."""
    names = {
        "ROLE": identifier("CANDLES_SNOWFLAKE_ROLE", settings.snowflake_role),
        "WAREHOUSE": identifier("CANDLES_SNOWFLAKE_WAREHOUSE", settings.snowflake_warehouse),
        "DATABASE": identifier("CANDLES_SNOWFLAKE_DATABASE", settings.snowflake_database),
        "USER": user_identifier(settings.snowflake_user or ""),
    }
    return split_statements(Template(sql_text("snowflake", "account")).substitute(names))


def identifier(setting: str, value: str) -> str:
    """``value`` if it is a plain (unquoted) identifier, else :class:`BadIdentifierError`."""
    if not _PLAIN.fullmatch(value):
        raise BadIdentifierError(setting, value)
    return value


def user_identifier(user: str) -> str:
    """A user name for DDL: plain names as they are, others (e-mail style) double-quoted."""
    if not user:
        raise BadIdentifierError("CANDLES_SNOWFLAKE_USER", user)
    if _PLAIN.fullmatch(user):
        return user
    return '"' + user.replace('"', '""') + '"'
