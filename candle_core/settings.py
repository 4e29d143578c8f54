"""Moved out of the contract: each component declares its settings in its own layer and
``lambda_candles.settings`` combines them (docs/configuration.md, docs/architecture.md).

This alias is all that is left, for the benchmark scripts under ``bench/`` that still
import ``candle_core.settings``; no package imports it (import-linter's "protected"
contract fails if one does). Delete it, and its ``ignore_imports`` line in pyproject.toml,
once they import ``lambda_candles.settings``.
"""

from lambda_candles.settings import CandlesSettings, env_name, load_settings, masked

__all__ = ["CandlesSettings", "env_name", "load_settings", "masked"]
