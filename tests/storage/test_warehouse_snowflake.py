"""The warehouse load into Snowflake: the real connector over HTTP to a fakesnow server.

The settings point ``CANDLES_SNOWFLAKE_HOST/PORT/PROTOCOL`` at the server, so the code
that connects in production (auth, ``qmark`` binding, array-bound staging INSERTs, the
MERGE, the audit) is the code tested. Not covered here, because fakesnow cannot run it:
the account DDL (roles, warehouses, grants) and the connector's own upload of large
binds to a temporary stage; ``docs/warehouse.md`` lists them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from lambda_candles.settings import CandlesSettings
from storage.stores import open_store
from storage.warehouse.auth import connect_kwargs
from storage.warehouse.bars import BatchBars, read_batch_bars
from storage.warehouse.ddl import account_statements, schema_statements
from storage.warehouse.duckdb_target import DuckDBTarget
from storage.warehouse.exceptions import (
    BadIdentifierError,
    WarehouseAuthError,
    WarehouseNotInitializedError,
)
from storage.warehouse.loader import LoadVerdict, Target, load_bars
from storage.warehouse.snowflake_target import SnowflakeTarget
from tests.storage.fakesnow_server import fakesnow_server, snowflake_env, snowflake_settings
from tests.storage.warehouse_data import (
    DATE,
    batch_candles,
    build_archive,
    run_candles,
    settings_for,
    table_rows,
    warehouse_candles,
    write_report,
)

__all__ = ["fakesnow_server"]  # the server fixture, for every test here
pytestmark = pytest.mark.filterwarnings(  # fakesnow's own use of DuckDB
    "ignore:Arrow output on a DB-API result:UserWarning")
ALL = ["1s", "1m", "5m"]
Server = dict[str, Any]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A few minutes of a clean stream: fakesnow runs array binds row by row."""
    root = tmp_path_factory.mktemp("archive")
    build_archive(root, trades=240, rate_per_s=1.0)
    return root


@pytest.fixture(scope="module")
def bars(archive: Path) -> BatchBars:
    return read_batch_bars(open_store(settings_for(archive)), DATE, ALL)


def initialised(settings: CandlesSettings) -> SnowflakeTarget:
    target = SnowflakeTarget(settings)
    target.apply_schema()
    return target


@pytest.mark.slow
def test_cli_loads_twice_into_an_identical_table(fakesnow_server: Server, archive: Path,
                                                 tmp_path: Path) -> None:
    settings = snowflake_settings(fakesnow_server, archive, reports_dir=f"r/{tmp_path.name}")
    env = {**snowflake_env(settings), "CANDLES_REPORTS_DIR": settings.reports_dir,
           "CANDLES_PUSHGATEWAY_URL": ""}
    write_report(settings, "ok", run_id="rec-sf")
    init = run_candles("warehouse", "init", env=env)
    assert init.returncode == 0, init.stderr
    assert f"snowflake://fakesnow/{settings.snowflake_database} via http://" in init.stdout
    first = run_candles("load", "--date", DATE, "--json", env=env)
    assert first.returncode == 0, first.stderr
    loaded = json.loads(first.stdout)
    target = SnowflakeTarget(settings)
    try:
        assert warehouse_candles(target) == batch_candles(settings, ALL)  # exact
        assert loaded["inserted"] == loaded["rows_read"] > 200
        before = table_rows(target)
        second = run_candles("load", "--date", DATE, "--json", env=env)
        assert second.returncode == 0, second.stderr
        rerun = json.loads(second.stdout)
        assert (rerun["inserted"], rerun["updated"], rerun["unchanged"]) == (
            0, 0, loaded["rows_read"])
        assert table_rows(target) == before
        audit = table_rows(target, "CORE.LOAD_AUDIT")
        assert sorted((row[0], row[1], row[7], row[8], row[9], row[10]) for row in audit) \
            == sorted([(loaded["run_id"], "loaded", loaded["rows_read"], 0, 0, "ok"),
                       (rerun["run_id"], "loaded", 0, 0, loaded["rows_read"], "ok")])
        assert table_rows(target, "RAW.BARS_STAGE") == []
    finally:
        target.close()


@pytest.mark.slow
def test_a_new_verdict_updates_every_row_once(fakesnow_server: Server, archive: Path,
                                             bars: BatchBars) -> None:
    target = initialised(snowflake_settings(fakesnow_server, archive))
    try:
        breach = load_bars(target, bars, LoadVerdict("breach", "rec-1"))
        assert (breach.inserted, breach.updated) == (bars.table.num_rows, 0)
        ok = load_bars(target, bars, LoadVerdict("ok", "rec-2"))
        assert (ok.inserted, ok.updated, ok.unchanged) == (0, bars.table.num_rows, 0)
        assert {row[-3:] for row in table_rows(target)} == {("ok", "rec-2", ok.run_id)}
        assert load_bars(target, bars, LoadVerdict("ok", "rec-2")).unchanged == bars.keys
    finally:
        target.close()


def test_an_uninitialised_database_is_a_clear_error(fakesnow_server: Server, archive: Path,
                                                    bars: BatchBars) -> None:
    target = SnowflakeTarget(snowflake_settings(fakesnow_server, archive))
    try:
        with pytest.raises(WarehouseNotInitializedError,
                           match=r"0 of the 3 load tables exist.*`candles warehouse init`"):
            load_bars(target, bars, LoadVerdict("ok", "r"))
    finally:
        target.close()


def rsa_pem(passphrase: str | None) -> tuple[rsa.RSAPrivateKey, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    encryption = (serialization.BestAvailableEncryption(passphrase.encode()) if passphrase
                  else serialization.NoEncryption())
    return key, key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8, encryption)


@pytest.mark.parametrize("form", ["encrypted file", "pem text"])
def test_key_pair_parameters_are_accepted(fakesnow_server: Server, archive: Path,
                                          bars: BatchBars, tmp_path: Path, form: str) -> None:
    passphrase = "correct horse" if form == "encrypted file" else None
    key, pem = rsa_pem(passphrase)
    if form == "encrypted file":
        (tmp_path / "rsa_key.p8").write_bytes(pem)
        auth = {"snowflake_private_key_file": tmp_path / "rsa_key.p8",
                "snowflake_private_key_passphrase": passphrase}
    else:
        auth = {"snowflake_private_key": pem.decode()}
    settings = snowflake_settings(fakesnow_server, archive, auth="key", **auth)
    kwargs = connect_kwargs(settings)
    assert kwargs["authenticator"] == "SNOWFLAKE_JWT" and "password" not in kwargs
    der = serialization.load_der_private_key(kwargs["private_key"], password=None)
    assert der.public_key().public_numbers() == key.public_key().public_numbers()
    # The real connector signs its login JWT with this key; fakesnow accepts any login.
    target = initialised(settings)
    try:
        assert load_bars(target, bars, LoadVerdict("ok", "r")).inserted == bars.table.num_rows
    finally:
        target.close()


@pytest.mark.parametrize(("auth", "message"), [
    ({}, "no password or private key is configured"),                  # nothing set
    ({"snowflake_password": "x", "snowflake_private_key": "pem"},        # two ways at once
     "CANDLES_SNOWFLAKE_PASSWORD and CANDLES_SNOWFLAKE_PRIVATE_KEY are set together"),
    ({"snowflake_private_key": "not a key"}, "passphrase is wrong"),    # garbage PEM
    ({"snowflake_private_key_file": "/nonexistent/k.p8"},               # unreadable file
     "cannot read CANDLES_SNOWFLAKE_PRIVATE_KEY_FILE /nonexistent/k.p8"),
    ({"snowflake_user": "", "snowflake_password": "x"}, "CANDLES_SNOWFLAKE_USER is not set"),
])
def test_auth_problems_name_the_settings(tmp_path: Path, auth: dict[str, Any],
                                         message: str) -> None:
    given = {"snowflake_account": "acme-prod", "snowflake_user": "loader", **auth}
    with pytest.raises(WarehouseAuthError, match=message) as error:
        settings = settings_for(tmp_path, **given)
        connect_kwargs(settings)
    assert "CANDLES_SNOWFLAKE_PRIVATE_KEY_PASSPHRASE" in str(error.value)


@pytest.mark.parametrize(("passphrase", "message"), [
    (None, "Password was not given but private key is encrypted"),  # encrypted, none given
    ("wrong", "passphrase is wrong"),                                 # the wrong one
])
def test_encrypted_key_needs_its_passphrase(tmp_path: Path, passphrase: str | None,
                                            message: str) -> None:
    _, pem = rsa_pem("right")
    settings = settings_for(tmp_path, snowflake_account="acme-prod", snowflake_user="loader",
                            snowflake_private_key=pem.decode(),
                            snowflake_private_key_passphrase=passphrase)
    with pytest.raises(WarehouseAuthError, match=message):
        connect_kwargs(settings)


def columns(target: Target, dialect: str) -> list[tuple[Any, ...]]:
    """(table, column, precision, scale) of every column; precision only where scale > 0
    (integers are NUMBER(19,0) in Snowflake and 64-bit BIGINT in DuckDB)."""
    rows = target.execute(
        "SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, NUMERIC_PRECISION, NUMERIC_SCALE "
        "FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA IN ('RAW', 'CORE', 'MART') "
        "ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION")
    return [(f"{s}.{t}", c, p if scale else None, scale or None)
            for s, t, c, p, scale in rows]


def test_duckdb_and_snowflake_hold_the_same_schema_and_rows(
        fakesnow_server: Server, archive: Path, bars: BatchBars, tmp_path: Path) -> None:
    snowflake = initialised(snowflake_settings(fakesnow_server, archive))
    duck = DuckDBTarget(tmp_path / "w.duckdb", create=True)
    duck.apply_schema()
    try:
        assert columns(snowflake, "snowflake") == columns(duck, "duckdb")
        for target in (snowflake, duck):
            load_bars(target, bars, LoadVerdict("critical", "rec-9"))
        without_run = [row[:-1] for row in table_rows(snowflake)]
        assert without_run == [row[:-1] for row in table_rows(duck)]
        view = "SELECT * FROM MART.BARS_1M_5M ORDER BY SYMBOL, INTERVAL, WINDOW_START"
        assert snowflake.execute(view) == duck.execute(view) != []
    finally:
        snowflake.close()
        duck.close()


def test_ddl_files_define_the_same_objects() -> None:
    def objects(dialect: str) -> list[str]:
        return [" ".join(s.split()[:6]) for s in schema_statements(dialect)]

    assert objects("snowflake") == objects("duckdb")
    assert len(objects("duckdb")) == 7


def test_account_ddl_uses_the_configured_names(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, snowflake_user="jane.doe@example.com",
                            snowflake_role="CANDLES_LOADER", snowflake_warehouse="CANDLES_XS",
                            snowflake_database="CANDLES")
    text = "\n".join(account_statements(settings))
    assert "CREATE ROLE IF NOT EXISTS CANDLES_LOADER" in text
    assert 'GRANT ROLE CANDLES_LOADER TO USER "jane.doe@example.com"' in text
    assert "WAREHOUSE_SIZE = XSMALL AUTO_SUSPEND = 60 AUTO_RESUME = TRUE" in text
    assert "GRANT USAGE, CREATE SCHEMA ON DATABASE CANDLES TO ROLE CANDLES_LOADER" in text
    assert "${" not in text
    bad = settings_for(tmp_path, snowflake_user="u", snowflake_role="x; DROP DATABASE y")
    with pytest.raises(BadIdentifierError, match="CANDLES_SNOWFLAKE_ROLE"):
        account_statements(bad)
