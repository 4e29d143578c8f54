"""Snowflake connection parameters from the settings: password or key-pair (JWT) auth.

Exactly one way to authenticate must be configured. A private key (a PEM file, or the PEM
text in an environment variable, optionally encrypted) is read here with ``cryptography``
and handed to the connector as unencrypted PKCS#8 DER bytes with
``authenticator="SNOWFLAKE_JWT"``, so a bad key or passphrase fails before any network
call, with a message naming the setting to fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from storage.warehouse.exceptions import WarehouseAuthError
from storage.warehouse.settings import WarehouseSettings

JWT = "SNOWFLAKE_JWT"
DEFAULT_SCHEMA = "CORE"


def connect_kwargs(settings: WarehouseSettings, *, objects: bool = True) -> dict[str, Any]:
    """``snowflake.connector.connect`` arguments; ``objects=False`` omits role, warehouse
    and database (for the account DDL, which creates them)."""
    if not settings.snowflake_account:
        raise WarehouseAuthError("CANDLES_SNOWFLAKE_ACCOUNT is not set")
    if not settings.snowflake_user:
        raise WarehouseAuthError("CANDLES_SNOWFLAKE_USER is not set")
    kwargs: dict[str, Any] = {
        "account": settings.snowflake_account, "user": settings.snowflake_user,
        **credentials(settings), "paramstyle": "qmark", "application": "lambda-candles",
        "session_parameters": {"QUERY_TAG": "lambda-candles", "TIMEZONE": "UTC"},
    }
    if objects:
        kwargs.update(role=settings.snowflake_role, warehouse=settings.snowflake_warehouse,
                      database=settings.snowflake_database, schema=DEFAULT_SCHEMA)
    if settings.snowflake_host:
        kwargs.update(host=settings.snowflake_host, protocol=settings.snowflake_protocol)
    if settings.snowflake_port:
        kwargs["port"] = settings.snowflake_port
    return kwargs


def credentials(settings: WarehouseSettings) -> dict[str, Any]:
    """``{"password": ...}`` or ``{"authenticator": "SNOWFLAKE_JWT", "private_key": DER}``."""
    key_file, key_text = settings.snowflake_private_key_file, settings.snowflake_private_key
    password = settings.snowflake_password
    given = [name for name, value in (("CANDLES_SNOWFLAKE_PASSWORD", password),
                                      ("CANDLES_SNOWFLAKE_PRIVATE_KEY_FILE", key_file),
                                      ("CANDLES_SNOWFLAKE_PRIVATE_KEY", key_text)) if value]
    if not given:
        raise WarehouseAuthError("no password or private key is configured")
    if len(given) > 1:
        raise WarehouseAuthError(f"{' and '.join(given)} are set together; set exactly one")
    if password:
        return {"password": password.get_secret_value()}
    if key_file:
        pem = _read_key_file(key_file)
    else:
        assert key_text
        pem = key_text.get_secret_value().encode()
    passphrase = settings.snowflake_private_key_passphrase
    der = private_key_der(pem, passphrase.get_secret_value() if passphrase else None)
    return {"authenticator": JWT, "private_key": der}


def private_key_der(pem: bytes, passphrase: str | None) -> bytes:
    """A PEM private key (encrypted or not) as unencrypted PKCS#8 DER bytes."""
    try:
        key = serialization.load_pem_private_key(
            pem, password=passphrase.encode() if passphrase else None)
    except TypeError as exc:  # encrypted without a passphrase, or the other way round
        raise WarehouseAuthError(f"private key: {exc}") from None
    except ValueError:
        raise WarehouseAuthError("the private key is not a readable PEM key, or the "
                                 "passphrase is wrong") from None
    if not isinstance(key, RSAPrivateKey | EllipticCurvePrivateKey):
        raise WarehouseAuthError(f"a {type(key).__name__} key cannot sign Snowflake's JWT; "
                                 "use an RSA key (openssl genrsa 2048)")
    return key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _read_key_file(path: Path) -> bytes:
    try:
        return path.expanduser().read_bytes()
    except OSError as exc:
        raise WarehouseAuthError(f"cannot read CANDLES_SNOWFLAKE_PRIVATE_KEY_FILE {path}: "
                                 f"{exc.strerror}") from None
