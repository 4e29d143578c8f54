"""The one exception root for lambda-candles.

Every package has its own ``exceptions.py`` whose classes derive from these. The type says
whether a caller should retry: :class:`TransientError` (a broker that went away, a busy
warehouse) may succeed later; :class:`TerminalError` (bad config, a contract violation) will
not, and retrying only hides it.
"""

from __future__ import annotations


class CandlesError(Exception):
    """Root of every error raised on purpose by lambda-candles."""


class TransientError(CandlesError):
    """The operation may succeed if retried later, unchanged."""


class TerminalError(CandlesError):
    """Retrying will not help: something must be changed first (config, input, code)."""


class ConfigError(TerminalError):
    """A setting has a value that is not allowed.

    Carries the setting's name, the offending value and what is allowed, so the message
    tells the user exactly what to change.
    """

    def __init__(self, setting: str, value: object, allowed: str) -> None:
        self.setting = setting
        self.value = value
        self.allowed = allowed
        super().__init__(f"invalid setting {setting}={value!r}: {allowed}")


class ContractError(TerminalError):
    """A value breaks the shared candle contract (e.g. a price with too many decimals)."""
