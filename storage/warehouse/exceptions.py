"""Errors raised by :mod:`storage.warehouse`; each says what to do next.

A warehouse that did not answer (network, a locked DuckDB file) is transient: run the
load again (a MERGE never applies a row twice). Missing credentials, a missing
reconciliation or an uninitialised warehouse are terminal: something must be done first.
"""

from __future__ import annotations

from candle_core.exceptions import TerminalError, TransientError
from storage.exceptions import StorageError


class WarehouseError(StorageError):
    """Root of every error raised on purpose by :mod:`storage.warehouse`."""


class ReconciliationMissingError(WarehouseError, TerminalError):
    """The range has no reconciliation report, and the load was not forced."""

    def __init__(self, date: str, where: str) -> None:
        self.date, self.where = date, where
        super().__init__(
            f"{date} has not been reconciled (no report at {where}): run "
            f"`candles reconcile --date {date}` first, or pass --force to load the batch "
            "bars with verdict 'unreconciled'")


class IntervalsNotReconciledError(WarehouseError, TerminalError):
    """The report of the range does not cover every interval asked to load."""

    def __init__(self, date: str, where: str, intervals: list[str]) -> None:
        self.date, self.where, self.intervals = date, where, intervals
        names = ",".join(intervals)
        super().__init__(
            f"{date}: intervals {names} were not reconciled (report {where}): run "
            f"`candles reconcile --date {date} --interval {names}` (or without --interval "
            "for all), or pass --force to load them under the report's verdict")


class BadDateError(WarehouseError, TerminalError):
    """A date that is not ``YYYY-MM-DD``."""

    def __init__(self, value: str) -> None:
        self.value = value
        super().__init__(f"--date {value!r}: expected a UTC date as YYYY-MM-DD")


class WarehouseAuthError(WarehouseError, TerminalError):
    """Snowflake credentials are missing, ambiguous or unreadable."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(
            f"Snowflake authentication: {problem}. Set CANDLES_SNOWFLAKE_ACCOUNT, "
            "CANDLES_SNOWFLAKE_USER and either "
            "CANDLES_SNOWFLAKE_PASSWORD, or CANDLES_SNOWFLAKE_PRIVATE_KEY_FILE (or "
            "CANDLES_SNOWFLAKE_PRIVATE_KEY, the PEM text) with "
            "CANDLES_SNOWFLAKE_PRIVATE_KEY_PASSPHRASE if the key is encrypted")


class WarehouseNotInitializedError(WarehouseError, TerminalError):
    """The warehouse has no candle tables yet."""

    def __init__(self, where: str, cause: object) -> None:
        self.where, self.cause = where, cause
        super().__init__(f"warehouse {where} has no candle tables ({cause}): run "
                         "`candles warehouse init` first")


class WarehouseUnavailableError(WarehouseError, TransientError):
    """The warehouse could not be reached or is busy; retrying the load is safe."""

    def __init__(self, where: str, cause: object) -> None:
        self.where, self.cause = where, cause
        super().__init__(f"could not use warehouse {where}: {cause}. Check that it is "
                         "reachable (and, for DuckDB, that no other process holds the file), "
                         "then run the load again (re-running a load is always safe)")


class StageIncompleteError(WarehouseError, TransientError):
    """Fewer bars reached the staging table than were read: nothing was merged."""

    def __init__(self, run_id: str, read: int, staged: int) -> None:
        self.run_id, self.read, self.staged = run_id, read, staged
        super().__init__(f"load {run_id}: {read:,} bars read but {staged:,} staged; nothing "
                         "was merged. Run the load again")


class BadIdentifierError(WarehouseError, TerminalError):
    """A configured Snowflake object name that cannot be used unquoted in DDL."""

    def __init__(self, setting: str, value: str) -> None:
        self.setting, self.value = setting, value
        super().__init__(f"{setting}={value!r}: expected a plain identifier (letters, digits, "
                         "_ and $, not starting with a digit)")


class WarehouseQueryError(WarehouseError, TerminalError):
    """The warehouse rejected a statement (a schema that drifted from the DDL, privileges)."""

    def __init__(self, where: str, statement: str, cause: object) -> None:
        self.where, self.statement, self.cause = where, statement, cause
        first = statement.strip().splitlines()[0][:80] if statement.strip() else "?"
        super().__init__(f"warehouse {where} rejected `{first}...`: {cause}. If the tables "
                         "predate this version, re-run `candles warehouse init`; check the "
                         "role's privileges (CANDLES_SNOWFLAKE_ROLE)")
