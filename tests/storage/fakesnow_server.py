"""A fakesnow server on localhost: the real Snowflake connector speaking HTTP to it.

``fakesnow.server()`` yields the connector's keyword arguments (account ``fakesnow``,
user ``fake``, password ``snow``, host ``127.0.0.1``, a free port, protocol ``http``);
:func:`snowflake_settings` maps them onto the ``CANDLES_SNOWFLAKE_*`` settings, so the
production connection code is the code under test. The server keeps every database in
one shared in-memory DuckDB, so each test uses a database of its own.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lambda_candles.settings import CandlesSettings, env_name, masked
from tests.storage.warehouse_data import settings_for

_DATABASES = itertools.count(1)


@pytest.fixture(scope="session")
def fakesnow_server() -> Iterator[dict[str, Any]]:
    """Connection keyword arguments of a fakesnow server running for the whole session."""
    import fakesnow

    logging.getLogger("fakesnow").setLevel(logging.WARNING)
    with fakesnow.server() as kwargs:
        yield kwargs


def snowflake_settings(server: dict[str, Any], root: Path, auth: str = "password",
                       **overrides: Any) -> CandlesSettings:
    """Settings that point the Snowflake warehouse at ``server`` (a fresh database)."""
    values: dict[str, Any] = {
        "warehouse": "snowflake", "snowflake_account": server["account"],
        "snowflake_user": server["user"], "snowflake_host": server["host"],
        "snowflake_port": server["port"], "snowflake_protocol": server["protocol"],
        "snowflake_database": f"CANDLES_T{next(_DATABASES)}",
    }
    if auth == "password":
        values["snowflake_password"] = server["password"]
    return settings_for(root, **{**values, **overrides})


def snowflake_env(settings: CandlesSettings) -> dict[str, str]:
    """The ``CANDLES_*`` variables a ``candles`` subprocess needs for ``settings``."""
    names = ("archive_root", "intervals", "warehouse", "snowflake_account", "snowflake_user",
             "snowflake_host", "snowflake_port", "snowflake_protocol", "snowflake_database")
    shown = masked(settings)  # every setting as its environment variable's text
    env = {env_name(name): str(shown[env_name(name)]) for name in names}
    if settings.snowflake_password is not None:
        env["CANDLES_SNOWFLAKE_PASSWORD"] = settings.snowflake_password.get_secret_value()
    return env
